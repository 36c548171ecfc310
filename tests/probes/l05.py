"""Probes for lesson 05 · Tokens (helpers/practice/l05.py): each check gets its worked
solution and the wrong answers a learner is likely to write."""

from probes import right, wrong

PROBES = [
    right("ex1 solution", "ex.check_1(tokens_for_solution)"),
    wrong("ex1 unfinished", "ex.check_1(tokens_for)"),
    wrong("ex1 not a function", "ex.check_1(None)"),
    wrong("ex1 characters, not tokens", "ex.check_1(lambda text, model: len(text))"),
    # The lecture's mistake: one encoding named for every model.
    wrong(
        "ex1 hard-coded cl100k_base",
        "ex.check_1(lambda text, model: len(tiktoken.get_encoding('cl100k_base').encode(text)))",
    ),
    # Right for every model of the check but the retired gpt-3.5-turbo.
    wrong(
        "ex1 hard-coded o200k_base",
        "ex.check_1(lambda text, model: len(tiktoken.get_encoding('o200k_base').encode(text)))",
    ),
    # tiktoken knows no gpt-6 name yet: its KeyError must come back as advice, not a crash.
    wrong(
        "ex1 tiktoken alone on a gpt-6 name",
        "ex.check_1(lambda text, model: len(tiktoken.encoding_for_model(model).encode(text)))",
    ),
    wrong(
        "ex1 counts a whole request",
        "ex.check_1(lambda text, model: count_message_tokens([{'role': 'user', 'content': text}], model))",
    ),
    wrong("ex1 returns text", "ex.check_1(lambda text, model: str(count_tokens(text, model)))"),
    right("ex2 solution", "ex.check_2(prompt_estimate_solution)"),
    wrong("ex2 unfinished", "ex.check_2(prompt_estimate)"),
    wrong(
        "ex2 reply priming forgotten",
        "ex.check_2(unprimed)",
        "def unprimed(messages, model):\n"
        "    return sum(3 + count_tokens(m['role'], model) + count_tokens(m['content'], model) for m in messages)",
    ),
    # Right for gpt-4.1, the check's first case: it must fail on gpt-6-luna, which primes with 2.
    wrong(
        "ex2 priming always 3",
        "ex.check_2(primed_with_3)",
        "def primed_with_3(messages, model):\n"
        "    total = 3\n"
        "    for m in messages:\n"
        "        total += 3 + count_tokens(m['role'], model) + count_tokens(m['content'], model)\n"
        "    return total",
    ),
    wrong(
        "ex2 roles not counted",
        "ex.check_2(no_roles)",
        "from helpers.tokens import rules_for\n\n"
        "def no_roles(messages, model):\n"
        "    return rules_for(model).reply_priming + sum(3 + count_tokens(m['content'], model) for m in messages)",
    ),
    wrong(
        "ex2 content alone",
        "ex.check_2(lambda messages, model: sum(count_tokens(m['content'], model) for m in messages))",
    ),
    wrong(
        "ex2 the whole helper on another model",
        "ex.check_2(lambda messages, model: count_message_tokens(messages, 'gpt-4o'))",
    ),
]
