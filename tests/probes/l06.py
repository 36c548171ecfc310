"""Probes for lesson 06 · Cost (helpers/practice/l06.py): each check gets its worked
solution and the wrong answers a learner is likely to write."""

from probes import right, wrong

# The lecture's formula: the input cost times the output cost.
PRODUCT = (
    "def product_cost(model, prompt_tokens, completion_tokens):\n"
    "    price = PRICING[model]\n"
    "    return (prompt_tokens / 1e6 * price['input']) * (completion_tokens / 1e6 * price['output'])"
)

# A cost by hand that forgets the long-context tier.
UNTIERED = (
    "def untiered(model, prompt_tokens, completion_tokens):\n"
    "    price = PRICING[model]\n"
    "    return prompt_tokens / 1e6 * price['input'] + completion_tokens / 1e6 * price['output']"
)

# A cost by hand that moves to the long-context tier one token too early (at, not above, 272,000).
AT_THRESHOLD = (
    "def at_threshold(model, prompt_tokens, completion_tokens):\n"
    "    price = PRICING[model]\n"
    "    tier = price['long_context']\n"
    "    in_x = out_x = 1.0\n"
    "    if tier is not None and prompt_tokens >= tier.threshold:\n"
    "        in_x, out_x = tier.input_multiplier, tier.output_multiplier\n"
    "    return prompt_tokens / 1e6 * price['input'] * in_x + completion_tokens / 1e6 * price['output'] * out_x"
)

MONTH = "lambda model, p, c, calls_per_day, days=30: "

PROBES = [
    right("ex1 solution", "ex.check_1(monthly_budget_solution)"),
    wrong("ex1 unfinished", "ex.check_1(monthly_budget)"),
    wrong("ex1 not a function", "ex.check_1(42.0)"),
    wrong("ex1 one day, not a month", f"ex.check_1({MONTH}estimate_cost(model, p, c) * calls_per_day)"),
    wrong("ex1 always 30 days", f"ex.check_1({MONTH}estimate_cost(model, p, c) * calls_per_day * 30)"),
    wrong(
        "ex1 product of the costs",
        f"ex.check_1({MONTH}product_cost(model, p, c) * calls_per_day * days)",
        PRODUCT,
    ),
    # Right on every case but the prompt above the long-context threshold.
    wrong(
        "ex1 no long-context tier",
        f"ex.check_1({MONTH}untiered(model, p, c) * calls_per_day * days)",
        UNTIERED,
    ),
    # Right on every case but the prompt of exactly the threshold.
    wrong(
        "ex1 tier from the threshold on",
        f"ex.check_1({MONTH}at_threshold(model, p, c) * calls_per_day * days)",
        AT_THRESHOLD,
    ),
    wrong(
        "ex1 a formatted string",
        f"ex.check_1({MONTH}f'${{estimate_cost(model, p, c) * calls_per_day * days:,.2f}}')",
    ),
    right("ex2 solution", "ex.check_2(usage_usd_solution)"),
    wrong("ex2 unfinished", "ex.check_2(usage_usd)"),
    wrong(
        "ex2 reasoning tokens counted twice",
        "ex.check_2(reasoning_twice)",
        "def reasoning_twice(model, usage):\n"
        "    price = PRICING[model]\n"
        "    cached = usage['prompt_tokens_details']['cached_tokens']\n"
        "    output = usage['completion_tokens'] + usage['completion_tokens_details']['reasoning_tokens']\n"
        "    return (\n"
        "        (usage['prompt_tokens'] - cached) / 1e6 * price['input']\n"
        "        + cached / 1e6 * price['cached_input']\n"
        "        + output / 1e6 * price['output']\n"
        "    )",
    ),
    wrong(
        "ex2 cached tokens at full price",
        "ex.check_2(full_price)",
        "def full_price(model, usage):\n"
        "    price = PRICING[model]\n"
        "    return usage['prompt_tokens'] / 1e6 * price['input'] + usage['completion_tokens'] / 1e6 * price['output']",
    ),
    wrong(
        "ex2 cached tokens free",
        "ex.check_2(cached_free)",
        "def cached_free(model, usage):\n"
        "    price = PRICING[model]\n"
        "    fresh = usage['prompt_tokens'] - usage['prompt_tokens_details']['cached_tokens']\n"
        "    return fresh / 1e6 * price['input'] + usage['completion_tokens'] / 1e6 * price['output']",
    ),
    wrong(
        "ex2 cached tokens not taken out of the input",
        "ex.check_2(cached_added)",
        "def cached_added(model, usage):\n"
        "    price = PRICING[model]\n"
        "    cached = usage['prompt_tokens_details']['cached_tokens']\n"
        "    return (\n"
        "        usage['prompt_tokens'] / 1e6 * price['input']\n"
        "        + cached / 1e6 * price['cached_input']\n"
        "        + usage['completion_tokens'] / 1e6 * price['output']\n"
        "    )",
    ),
    wrong(
        "ex2 not divided by 1M",
        "ex.check_2(per_token)",
        "def per_token(model, usage):\n"
        "    price = PRICING[model]\n"
        "    cached = usage['prompt_tokens_details']['cached_tokens']\n"
        "    return (\n"
        "        (usage['prompt_tokens'] - cached) * price['input']\n"
        "        + cached * price['cached_input']\n"
        "        + usage['completion_tokens'] * price['output']\n"
        "    )",
    ),
]
