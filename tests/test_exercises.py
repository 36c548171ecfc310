"""Every exercise check in a lesson fails on plausible wrong answers and passes the stored solution.

Each lesson in ``PROBES`` is executed offline in a kernel (as tools/run_notebooks.py does). Its worked
solutions are markdown (so Run All never runs them): their fenced python is run next in the same kernel,
then extra cells hand its ``check_exercise_N`` functions wrong answers a learner might write, and the
solutions. A check that says "Correct" to a wrong answer teaches the
wrong thing, so each wrong answer is its own test. A lesson with checks but no probes fails;
a lesson without exercises must be named, with the reason, in ``NO_EXERCISES``.
"""

from __future__ import annotations

import functools
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from test_lesson_rules import solution_blocks

from tools.offline_env import apply

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
CHECK_DEF = re.compile(r"^def check_exercise_(\d+)\(", re.M)
CHECK_CALL = re.compile(r"check_exercise_(\d+)\(")
MARKER = "@@verdict@@"  # a probe cell prints one line starting with this, then its verdict as JSON


@dataclass(frozen=True)
class Probe:
    """One answer handed to a check: ``setup`` builds it in the kernel, ``verdict`` calls the check."""

    name: str
    verdict: str
    setup: str = ""
    right: bool = False  # True for the worked solution: the check must say "Correct"


def right(name: str, verdict: str) -> Probe:
    return Probe(name, verdict, right=True)


def wrong(name: str, verdict: str, setup: str = "") -> Probe:
    return Probe(name, verdict, setup)


LESSON_00 = [
    right("ex1 solution", "check_exercise_1(quiet_offline_client_solution, solution_1)"),
    right("ex2 solution", "check_exercise_2(mask_solution)"),
    right("ex3 solution", "check_exercise_3(gpt_6_models_solution)"),
    # get_client() is offline in the tests too, but not on a computer with a key: the check sets one.
    wrong("ex1 plain get_client()", "check_exercise_1(lambda: get_client(quiet=True), solution_1)"),
    wrong("ex1 banner printed", "check_exercise_1(lambda: get_client(offline=True), solution_1)"),
    wrong("ex1 typed-in reply", "check_exercise_1(quiet_offline_client_solution, '[offline] A token is a word.')"),
    wrong(
        "ex1 reply to another question",
        "check_exercise_1(quiet_offline_client_solution, other)",
        "other = quiet_offline_client_solution().chat.completions.create(model=DEFAULT_MODEL, "
        "messages=[{'role': 'user', 'content': 'Hello'}]).choices[0].message.content",
    ),
    wrong("ex2 short keys shown", "check_exercise_2(lambda key: f'{key[:3]}...{key[-2:]}')"),
    wrong("ex2 always stars", "check_exercise_2(lambda key: '***')"),
    wrong("ex2 four characters", "check_exercise_2(lambda key: '***' if len(key) <= 8 else f'{key[:4]}...{key[-2:]}')"),
    wrong("ex3 unsorted", "check_exercise_3([m.id for m in client.models.list() if m.id.startswith('gpt-6')])"),
    wrong(
        "ex3 misses gpt-6.x",
        "check_exercise_3(sorted(m.id for m in client.models.list() if m.id.startswith('gpt-6-')))",
    ),
    wrong("ex3 every model", "check_exercise_3(sorted(m.id for m in client.models.list()))"),
]

LESSON_01 = [
    right("ex1 solution", "check_exercise_1(ex1_messages_solution, ex1_response_solution)"),
    right("ex2 solution", "check_exercise_2(ex2_response_solution, is_complete_solution)"),
    right("ex3 solution", "check_exercise_3(ex3_params_solution)"),
    right("ex4 solution", "check_exercise_4(safe_ask_solution)"),
    wrong(
        "ex1 system prompt in English",
        "check_exercise_1(msgs, client.chat.completions.create(model=DEFAULT_MODEL, messages=msgs))",
        "msgs = [{'role': 'system', 'content': 'Always answer in Korean.'}, "
        "{'role': 'user', 'content': 'What is a token?'}]",
    ),
    wrong(
        "ex1 question in Korean",
        "check_exercise_1(msgs, client.chat.completions.create(model=DEFAULT_MODEL, messages=msgs))",
        "msgs = [{'role': 'system', 'content': '항상 한국어로 대답해.'}, {'role': 'user', 'content': '토큰이 뭐야?'}]",
    ),
    wrong(
        "ex1 reply text, not the response",
        "check_exercise_1(ex1_messages_solution, ex1_response_solution.choices[0].message.content)",
    ),
    wrong("ex2 reply not cut", "check_exercise_2(ask('Hi!', reasoning_effort='none'), is_complete_solution)"),
    wrong("ex2 always complete", "check_exercise_2(ex2_response_solution, lambda response: True)"),
    wrong(
        "ex2 judges by the text",
        "check_exercise_2(ex2_response_solution, lambda response: bool(response.choices[0].message.content))",
    ),
    wrong("ex3 temperature alone", "check_exercise_3({'temperature': 0})"),
    wrong("ex3 no reasoning_effort", "check_exercise_3({'temperature': 0, 'stop': ['.']})"),
    wrong("ex3 low effort", "check_exercise_3({'reasoning_effort': 'low', 'temperature': 0, 'stop': ['.']})"),
    wrong("ex3 no stop", "check_exercise_3({'reasoning_effort': 'none', 'temperature': 0})"),
    wrong("ex3 temperature 1", "check_exercise_3({'reasoning_effort': 'none', 'temperature': 1, 'stop': ['.']})"),
    wrong(
        "ex3 token limit instead of stop",
        "check_exercise_3({'reasoning_effort': 'none', 'temperature': 0, 'max_completion_tokens': 12})",
    ),
    wrong(
        "ex4 lets the error through",
        "check_exercise_4(unsafe)",
        "def unsafe(question, **params):\n    return ask(question, **params).choices[0].message.content",
    ),
    wrong(
        "ex4 names the code, not the param",
        "check_exercise_4(by_code)",
        "def by_code(question, **params):\n"
        "    try:\n"
        "        return ask(question, **params).choices[0].message.content\n"
        "    except openai.BadRequestError as error:\n"
        "        return f'Invalid request: {error.code}'",
    ),
    wrong(
        "ex4 returns the response",
        "check_exercise_4(whole)",
        "def whole(question, **params):\n"
        "    try:\n"
        "        return ask(question, **params)\n"
        "    except openai.BadRequestError as error:\n"
        "        return f'Invalid request: {error.param}'",
    ),
]

LESSON_02 = [
    right("ex1 solution", "check_exercise_1(ex1_messages_solution)"),
    right("ex2 solution", "check_exercise_2(ask_with_history_solution)"),
    right("ex3 solution", "check_exercise_3(trim_solution)"),
    wrong("ex1 question alone", "check_exercise_1([question])"),
    wrong("ex1 question first", "check_exercise_1([question, *earlier])"),
    wrong("ex1 question left out", "check_exercise_1([*earlier])"),
    wrong(
        "ex2 reply not kept",
        "check_exercise_2(no_reply)",
        "def no_reply(messages, text):\n"
        "    messages.append({'role': 'user', 'content': text})\n"
        "    return reply_to(messages)",
    ),
    wrong(
        "ex2 sends only the new message",
        "check_exercise_2(stateless)",
        "def stateless(messages, text):\n"
        "    reply = reply_to([{'role': 'user', 'content': text}])\n"
        "    messages += [{'role': 'user', 'content': text}, {'role': 'assistant', 'content': reply}]\n"
        "    return reply",
    ),
    wrong(
        "ex2 builds a copy",
        "check_exercise_2(copying)",
        "def copying(messages, text):\n"
        "    history = [*messages, {'role': 'user', 'content': text}]\n"
        "    reply = reply_to(history)\n"
        "    history.append({'role': 'assistant', 'content': reply})\n"
        "    return reply",
    ),
    wrong("ex3 drops the system prompt", "check_exercise_3(lambda messages, keep: messages[-keep:])"),
    wrong(
        "ex3 keep=0 keeps everything",
        "check_exercise_3(lambda messages, keep: messages[:1] + messages[1:][-keep:])",
    ),
    wrong(
        "ex3 changes the list",
        "check_exercise_3(in_place)",
        "def in_place(messages, keep):\n    del messages[1 : max(len(messages) - keep, 1)]\n    return messages",
    ),
]
LESSON_03 = [
    right("ex1 solution", "check_exercise_1(reply_and_usage_solution)"),
    right("ex2 solution", "check_exercise_2(first_characters_solution)"),
    right("ex3 solution", "check_exercise_3(stream_turn_solution)"),
    wrong(
        "ex1 crashes on the usage chunk",
        "check_exercise_1(lambda chunks: (''.join(c.choices[0].delta.content or '' for c in chunks), "
        "chunks[-1].usage))",
    ),
    wrong(
        "ex1 no usage",
        "check_exercise_1(lambda chunks: (''.join(c.choices[0].delta.content or '' for c in chunks if c.choices), "
        "None))",
    ),
    wrong(
        "ex1 usage of the first chunk",
        "check_exercise_1(lambda chunks: (''.join(c.choices[0].delta.content or '' for c in chunks if c.choices), "
        "chunks[0].usage))",
    ),
    wrong(
        "ex1 None joined as text",
        "check_exercise_1(lambda chunks: (''.join(str(c.choices[0].delta.content) for c in chunks if c.choices), "
        "chunks[-1].usage))",
    ),
    wrong(
        "ex2 break without closing",
        "check_exercise_2(unclosed)",
        "def unclosed(client, messages, n):\n"
        "    text = ''\n"
        "    stream = client.chat.completions.create(model=DEFAULT_MODEL, messages=messages, stream=True)\n"
        "    for chunk in stream:\n"
        "        if chunk.choices and chunk.choices[0].delta.content:\n"
        "            text += chunk.choices[0].delta.content\n"
        "            if len(text) >= n:\n"
        "                break\n"
        "    return text",
    ),
    wrong(
        "ex2 reads it all, then cuts",
        "check_exercise_2(read_all)",
        "def read_all(client, messages, n):\n"
        "    stream = client.chat.completions.create(model=DEFAULT_MODEL, messages=messages, stream=True)\n"
        "    return ''.join(c.choices[0].delta.content or '' for c in stream if c.choices)[:n]",
    ),
    wrong(
        "ex2 not streamed",
        "check_exercise_2(whole)",
        "def whole(client, messages, n):\n"
        "    reply = client.chat.completions.create(model=DEFAULT_MODEL, messages=messages)\n"
        "    return reply.choices[0].message.content[:n]",
    ),
    wrong(
        "ex2 first piece only",
        "check_exercise_2(first_piece)",
        "def first_piece(client, messages, n):\n"
        "    with client.chat.completions.create(model=DEFAULT_MODEL, messages=messages, stream=True) as stream:\n"
        "        for chunk in stream:\n"
        "            if chunk.choices and chunk.choices[0].delta.content:\n"
        "                return chunk.choices[0].delta.content",
    ),
    wrong(
        "ex3 stale reply in the history",
        "check_exercise_3(stale)",
        # assistant_message is left in the kernel by section 8, as in the bug the lesson shows
        "def stale(client, messages, text):\n"
        "    messages.append({'role': 'user', 'content': text})\n"
        "    pieces = []\n"
        "    for chunk in client.chat.completions.create(model=DEFAULT_MODEL, messages=messages, stream=True):\n"
        "        if chunk.choices and chunk.choices[0].delta.content:\n"
        "            print(chunk.choices[0].delta.content, end='')\n"
        "            pieces.append(chunk.choices[0].delta.content)\n"
        "    messages.append({'role': 'assistant', 'content': assistant_message})\n"
        "    return ''.join(pieces)",
    ),
    wrong(
        "ex3 reply not kept",
        "check_exercise_3(forgetful)",
        "def forgetful(client, messages, text):\n"
        "    messages.append({'role': 'user', 'content': text})\n"
        "    return stream_turn_solution(client, list(messages), text)",
    ),
    wrong(
        "ex3 nothing printed",
        "check_exercise_3(silent)",
        "def silent(client, messages, text):\n"
        "    messages.append({'role': 'user', 'content': text})\n"
        "    stream = client.chat.completions.create(model=DEFAULT_MODEL, messages=messages, stream=True)\n"
        "    reply = ''.join(c.choices[0].delta.content or '' for c in stream if c.choices)\n"
        "    messages.append({'role': 'assistant', 'content': reply})\n"
        "    return reply",
    ),
]

LESSON_04 = [
    right("ex1 solution", "check_exercise_1(tokens_for_solution)"),
    right("ex2 solution", "check_exercise_2(prompt_estimate_solution)"),
    right("ex3 solution", "check_exercise_3(count_nfc_solution)"),
    wrong("ex1 characters, not tokens", "check_exercise_1(lambda text, model: len(text))"),
    wrong(
        "ex1 hard-coded cl100k_base",
        "check_exercise_1(lambda text, model: len(tiktoken.get_encoding('cl100k_base').encode(text)))",
    ),
    wrong(
        "ex1 hard-coded o200k_base",
        "check_exercise_1(lambda text, model: len(tiktoken.get_encoding('o200k_base').encode(text)))",
    ),
    # tiktoken knows no gpt-6 name yet: the KeyError must come back as advice, not a crash.
    wrong(
        "ex1 tiktoken alone on a gpt-6 name",
        "check_exercise_1(lambda text, model: len(tiktoken.encoding_for_model(model).encode(text)))",
    ),
    wrong(
        "ex1 counts a whole request",
        "check_exercise_1(lambda text, model: count_message_tokens([{'role': 'user', 'content': text}], model))",
    ),
    wrong(
        "ex2 reply priming forgotten",
        "check_exercise_2(unprimed)",
        "def unprimed(messages, model):\n"
        "    return sum(3 + count_tokens(m['role'], model) + count_tokens(m['content'], model) for m in messages)",
    ),
    # Right for gpt-4.1, the check's first case: it must fail on gpt-6-luna, which primes with 2.
    wrong(
        "ex2 priming always 3",
        "check_exercise_2(primed_with_3)",
        "def primed_with_3(messages, model):\n"
        "    total = 3\n"
        "    for m in messages:\n"
        "        total += 3 + count_tokens(m['role'], model) + count_tokens(m['content'], model)\n"
        "    return total",
    ),
    wrong(
        "ex2 roles not counted",
        "check_exercise_2(no_roles)",
        "def no_roles(messages, model):\n"
        "    return rules_for(model).reply_priming + sum(3 + count_tokens(m['content'], model) for m in messages)",
    ),
    wrong(
        "ex2 content alone",
        "check_exercise_2(lambda messages, model: sum(count_tokens(m['content'], model) for m in messages))",
    ),
    wrong("ex3 not normalized", "check_exercise_3(lambda text, model: count_tokens(text, model))"),
    wrong(
        "ex3 NFKC instead of NFC",
        "check_exercise_3(lambda text, model: count_tokens(unicodedata.normalize('NFKC', text), model))",
    ),
    wrong(
        "ex3 NFD instead of NFC",
        "check_exercise_3(lambda text, model: count_tokens(unicodedata.normalize('NFD', text), model))",
    ),
    wrong(
        "ex3 characters after NFC",
        "check_exercise_3(lambda text, model: len(unicodedata.normalize('NFC', text)))",
    ),
]

# A cost function that moves to the long-context tier one token too early (at, not above, 272,000).
AT_THRESHOLD = (
    "def at_threshold(model, prompt_tokens, completion_tokens):\n"
    "    price = PRICING[model]\n"
    "    tier = price['long_context']\n"
    "    in_x = out_x = 1.0\n"
    "    if tier is not None and prompt_tokens >= tier.threshold:\n"
    "        in_x, out_x = tier.input_multiplier, tier.output_multiplier\n"
    "    return prompt_tokens / 1e6 * price['input'] * in_x + completion_tokens / 1e6 * price['output'] * out_x"
)


# One round of lesson 07's tool loop (ask, then run each tool it calls), as the wrong answers to
# exercise 3 write it: they differ only in how many rounds they allow.
TOOL_ROUND = (
    "        message = client.chat.completions.create(\n"
    "            model=MODEL, messages=history, tools=TOOLS, **NO_THINKING\n"
    "        ).choices[0].message\n"
    "        if not message.tool_calls:\n"
    "            return message.content\n"
    "        history.append({'role': 'assistant', 'content': message.content, "
    "'tool_calls': [c.model_dump() for c in message.tool_calls]})\n"
    "        for call in message.tool_calls:\n"
    "            result = FUNCTIONS[call.function.name](**json.loads(call.function.arguments))\n"
    "            history.append({'role': 'tool', 'tool_call_id': call.id, 'content': json.dumps(result)})"
)


LESSON_05 = [
    right("ex1 solution", "check_exercise_1(call_cost_solution)"),
    right("ex2 solution", "check_exercise_2(monthly_budget_solution)"),
    right("ex3 solution", "check_exercise_3(usage_usd_solution)"),
    # product_formula is the lesson's own copy of the course notes' mistake.
    wrong("ex1 product of the costs", "check_exercise_1(product_formula)"),
    wrong(
        "ex1 not divided by 1M",
        "check_exercise_1(per_token)",
        "def per_token(model, prompt_tokens, completion_tokens):\n"
        "    price = PRICING[model]\n"
        "    tier = price['long_context']\n"
        "    in_x = out_x = 1.0\n"
        "    if tier is not None and prompt_tokens > tier.threshold:\n"
        "        in_x, out_x = tier.input_multiplier, tier.output_multiplier\n"
        "    return prompt_tokens * price['input'] * in_x + completion_tokens * price['output'] * out_x",
    ),
    wrong(
        "ex1 no long-context tier",
        "check_exercise_1(untiered)",
        "def untiered(model, prompt_tokens, completion_tokens):\n"
        "    price = PRICING[model]\n"
        "    return prompt_tokens / 1_000_000 * price['input'] + completion_tokens / 1_000_000 * price['output']",
    ),
    # Right on every case but the one at exactly 272,000 prompt tokens.
    wrong(
        "ex1 tier from the threshold on",
        "check_exercise_1(at_threshold)",
        AT_THRESHOLD,
    ),
    wrong(
        "ex1 tier on the input only",
        "check_exercise_1(input_tier)",
        "def input_tier(model, prompt_tokens, completion_tokens):\n"
        "    price = PRICING[model]\n"
        "    tier = price['long_context']\n"
        "    in_x = 1.0\n"
        "    if tier is not None and prompt_tokens > tier.threshold:\n"
        "        in_x = tier.input_multiplier\n"
        "    return prompt_tokens / 1e6 * price['input'] * in_x + completion_tokens / 1e6 * price['output']",
    ),
    # The lesson warns against this one: the tier prices the whole request, not the tokens above it.
    wrong(
        "ex1 tier on the tokens above only",
        "check_exercise_1(above_only)",
        "def above_only(model, prompt_tokens, completion_tokens):\n"
        "    price = PRICING[model]\n"
        "    tier = price['long_context']\n"
        "    if tier is None or prompt_tokens <= tier.threshold:\n"
        "        return prompt_tokens / 1_000_000 * price['input'] + completion_tokens / 1_000_000 * price['output']\n"
        "    extra = prompt_tokens - tier.threshold\n"
        "    return (\n"
        "        tier.threshold / 1_000_000 * price['input']\n"
        "        + extra / 1_000_000 * price['input'] * tier.input_multiplier\n"
        "        + completion_tokens / 1_000_000 * price['output'] * tier.output_multiplier\n"
        "    )",
    ),
    wrong(
        "ex2 one day, not a month",
        "check_exercise_2(lambda model, p, c, calls_per_day, days=30: estimate_cost(model, p, c) * calls_per_day)",
    ),
    wrong(
        "ex2 always 30 days",
        "check_exercise_2(lambda model, p, c, calls_per_day, days=30: estimate_cost(model, p, c) * calls_per_day * 30)",
    ),
    wrong(
        "ex2 product of the costs",
        "check_exercise_2(lambda model, p, c, calls_per_day, days=30: "
        "product_formula(model, p, c) * calls_per_day * days)",
    ),
    wrong(
        "ex2 no long-context tier",
        "check_exercise_2(untiered_month)",
        "def untiered_month(model, prompt_tokens, completion_tokens, calls_per_day, days=30):\n"
        "    price = PRICING[model]\n"
        "    per_call = prompt_tokens / 1e6 * price['input'] + completion_tokens / 1e6 * price['output']\n"
        "    return per_call * calls_per_day * days",
    ),
    wrong(
        "ex2 tier from the threshold on",
        "check_exercise_2(lambda model, p, c, calls_per_day, days=30: "
        "at_threshold(model, p, c) * calls_per_day * days)",
        # at_threshold prices a prompt of exactly 272,000 tokens in the tier, one token too early
        AT_THRESHOLD,
    ),
    wrong(
        "ex2 a formatted string",
        "check_exercise_2(lambda model, p, c, calls_per_day, days=30: "
        "f'${estimate_cost(model, p, c) * calls_per_day * days:,.2f}')",
    ),
    wrong(
        "ex3 reasoning tokens counted twice",
        "check_exercise_3(reasoning_twice)",
        "def reasoning_twice(model, usage):\n"
        "    price = PRICING[model]\n"
        "    cached = usage['prompt_tokens_details']['cached_tokens']\n"
        "    output = usage['completion_tokens'] + usage['completion_tokens_details']['reasoning_tokens']\n"
        "    return (\n"
        "        (usage['prompt_tokens'] - cached) / 1_000_000 * price['input']\n"
        "        + cached / 1_000_000 * price['cached_input']\n"
        "        + output / 1_000_000 * price['output']\n"
        "    )",
    ),
    wrong(
        "ex3 cached tokens at full price",
        "check_exercise_3(full_price)",
        "def full_price(model, usage):\n"
        "    price = PRICING[model]\n"
        "    return usage['prompt_tokens'] / 1_000_000 * price['input'] + "
        "usage['completion_tokens'] / 1_000_000 * price['output']",
    ),
    wrong(
        "ex3 cached tokens free",
        "check_exercise_3(cached_free)",
        "def cached_free(model, usage):\n"
        "    price = PRICING[model]\n"
        "    fresh = usage['prompt_tokens'] - usage['prompt_tokens_details']['cached_tokens']\n"
        "    return fresh / 1_000_000 * price['input'] + usage['completion_tokens'] / 1_000_000 * price['output']",
    ),
    wrong(
        "ex3 cached tokens billed twice",
        "check_exercise_3(cached_twice)",
        "def cached_twice(model, usage):\n"
        "    price = PRICING[model]\n"
        "    cached = usage['prompt_tokens_details']['cached_tokens']\n"
        "    return (\n"
        "        usage['prompt_tokens'] / 1_000_000 * price['input']\n"
        "        + cached / 1_000_000 * price['cached_input']\n"
        "        + usage['completion_tokens'] / 1_000_000 * price['output']\n"
        "    )",
    ),
]

LESSON_06 = [
    right("ex1 solution", "check_exercise_1(classify_solution)"),
    right("ex2 solution", "check_exercise_2(call_with_retries_solution)"),
    right("ex3 solution", "check_exercise_3(tight_timeout_solution)"),
    wrong(
        "ex1 every 429 is a retry",
        "check_exercise_1(by_class)",
        "def by_class(error):\n"
        "    if isinstance(error, openai.AuthenticationError):\n"
        "        return 'fix the key'\n"
        "    if isinstance(error, RETRYABLE):\n"
        "        return 'retry'\n"
        "    return 'fix the request'",
    ),
    wrong("ex1 retry everything", "check_exercise_1(lambda error: 'retry')"),
    wrong(
        "ex1 a lost connection is the request's fault",
        "check_exercise_1(no_connection)",
        "def no_connection(error):\n"
        "    if isinstance(error, openai.APIConnectionError):\n"
        "        return 'fix the request'\n"
        "    return classify_solution(error)",
    ),
    wrong("ex2 never retries", "check_exercise_2(lambda call, budget: call())"),
    wrong(
        "ex2 retries a 400",
        "check_exercise_2(everything)",
        "def everything(call, budget):\n"
        "    for _ in range(5):\n"
        "        try:\n"
        "            return call()\n"
        "        except openai.APIError:\n"
        "            time.sleep(0.01)\n"
        "    return call()",
    ),
    wrong(
        "ex2 retries insufficient_quota",
        "check_exercise_2(quota_too)",
        "def quota_too(call, budget):\n"
        "    deadline = time.monotonic() + budget\n"
        "    while True:\n"
        "        try:\n"
        "            return call()\n"
        "        except RETRYABLE:\n"
        "            if time.monotonic() + 0.05 > deadline:\n"
        "                raise\n"
        "            time.sleep(0.05)",
    ),
    wrong(
        "ex2 ignores the budget",
        "check_exercise_2(endless)",
        "def endless(call, budget):\n"
        "    while True:\n"
        "        try:\n"
        "            return call()\n"
        "        except RETRYABLE as error:\n"
        "            if error.code == 'insufficient_quota':\n"
        "                raise\n"
        "            time.sleep(0.05)",
    ),
    wrong("ex3 zero", "check_exercise_3(0)"),
    wrong("ex3 longer than the slow reply", "check_exercise_3(1)"),
    wrong("ex3 a string", "check_exercise_3('0.1')"),
]

# A tool loop's first request, shared by the ex3 probes below that go wrong after it.
FIRST_REQUEST = (
    "def first_reply(client, question):\n"
    "    history = [{'role': 'user', 'content': question}]\n"
    "    reply = client.chat.completions.create(model=MODEL, messages=history, tools=TOOLS, **NO_THINKING)\n"
    "    return history, reply.choices[0].message\n"
)

# Exercise 2's schema with another schema for name, for the ex2 probes below.
WITH_NAME = (
    "def with_name(name):\n"
    "    return {**solution_contact_schema, 'properties': {**solution_contact_schema['properties'], 'name': name}}"
)

LESSON_07 = [
    right("ex1 solution", "check_exercise_1(solution_tool_message)"),
    right("ex2 solution", "check_exercise_2(solution_contact_schema)"),
    right("ex3 solution", "check_exercise_3(solution_ask)"),
    wrong(
        "ex1 no tool_call_id",
        "check_exercise_1(lambda call, result: {'role': 'tool', "
        "'content': result if isinstance(result, str) else json.dumps(result)})",
    ),
    wrong(
        "ex1 the function's name as the id",
        "check_exercise_1(lambda call, result: {'role': 'tool', 'tool_call_id': call.function.name, "
        "'content': result if isinstance(result, str) else json.dumps(result)})",
    ),
    # `message` is left in the kernel by section 7: its first call's id answers another call.
    wrong(
        "ex1 the id of the lesson's call",
        "check_exercise_1(lambda call, result: {'role': 'tool', 'tool_call_id': message.tool_calls[0].id, "
        "'content': result if isinstance(result, str) else json.dumps(result)})",
    ),
    wrong(
        "ex1 str() of the dict",
        "check_exercise_1(lambda call, result: {'role': 'tool', 'tool_call_id': call.id, 'content': str(result)})",
    ),
    wrong(
        "ex1 the string JSON-encoded too",
        "check_exercise_1(lambda call, result: {'role': 'tool', 'tool_call_id': call.id, "
        "'content': json.dumps(result)})",
    ),
    wrong(
        "ex1 an assistant message",
        "check_exercise_1(lambda call, result: {'role': 'assistant', 'tool_call_id': call.id, "
        "'content': result if isinstance(result, str) else json.dumps(result)})",
    ),
    wrong(
        "ex2 additionalProperties missing",
        "check_exercise_2({k: v for k, v in solution_contact_schema.items() if k != 'additionalProperties'})",
    ),
    wrong(
        "ex2 phone not required",
        "check_exercise_2({**solution_contact_schema, 'required': ['name', 'email']})",
    ),
    wrong(
        "ex2 phone not nullable",
        "check_exercise_2({**solution_contact_schema, 'properties': "
        "{'name': {'type': 'string'}, 'email': {'type': 'string'}, 'phone': {'type': 'string'}}})",
    ),
    wrong(
        "ex2 every field nullable",
        "check_exercise_2({**solution_contact_schema, 'properties': "
        "{key: {'type': ['string', 'null']} for key in ('name', 'email', 'phone')}})",
    ),
    wrong(
        "ex2 name an integer",
        "check_exercise_2(with_name({'type': 'integer'}))",
        WITH_NAME,
    ),
    wrong(
        "ex2 name of any type",
        "check_exercise_2(with_name({}))",
        WITH_NAME,
    ),
    wrong(
        "ex2 name nullable",
        "check_exercise_2(with_name({'type': ['string', 'null']}))",
        WITH_NAME,
    ),
    wrong(
        "ex3 ignores max_rounds",
        "check_exercise_3(unbounded)",
        "def unbounded(client, question, max_rounds=5):\n"
        "    history = [{'role': 'user', 'content': question}]\n"
        "    while True:\n" + TOOL_ROUND,
    ),
    wrong(
        "ex3 returns None after max_rounds",
        "check_exercise_3(quiet_limit)",
        "def quiet_limit(client, question, max_rounds=5):\n"
        "    history = [{'role': 'user', 'content': question}]\n"
        "    for _ in range(max_rounds):\n" + TOOL_ROUND + "\n    return None",
    ),
    wrong(
        "ex3 stops at the tool result",
        "check_exercise_3(stops_early)",
        FIRST_REQUEST + "\n\n"
        "def stops_early(client, question, max_rounds=5):\n"
        "    history, message = first_reply(client, question)\n"
        "    if not message.tool_calls:\n"
        "        return message.content\n"
        "    for call in message.tool_calls:\n"
        "        result = FUNCTIONS[call.function.name](**json.loads(call.function.arguments))\n"
        "    return json.dumps(result)",
    ),
    wrong(
        "ex3 tools never run",
        "check_exercise_3(lambda client, question, max_rounds=5: first_reply(client, question)[1].content)",
        FIRST_REQUEST,
    ),
    wrong(
        "ex3 crashes without tool calls",
        "check_exercise_3(always_tools)",
        FIRST_REQUEST + "\n\n"
        "def always_tools(client, question, max_rounds=5):\n"
        "    history, message = first_reply(client, question)\n"
        "    history.append({'role': 'assistant', 'content': None, "
        "'tool_calls': [c.model_dump() for c in message.tool_calls]})\n"
        "    for call in message.tool_calls:\n"
        "        result = FUNCTIONS[call.function.name](**json.loads(call.function.arguments))\n"
        "        history.append({'role': 'tool', 'tool_call_id': call.id, 'content': json.dumps(result)})\n"
        "    reply = client.chat.completions.create(model=MODEL, messages=history, tools=TOOLS, **NO_THINKING)\n"
        "    return reply.choices[0].message.content",
    ),
    wrong(
        "ex3 calls get_weather directly",
        "check_exercise_3(direct)",
        FIRST_REQUEST + "\n\n"
        "def direct(client, question, max_rounds=5):\n"
        "    history, message = first_reply(client, question)\n"
        "    if not message.tool_calls:\n"
        "        return message.content\n"
        "    history.append({'role': 'assistant', 'content': None, "
        "'tool_calls': [c.model_dump() for c in message.tool_calls]})\n"
        "    for call in message.tool_calls:\n"
        "        result = get_weather(**json.loads(call.function.arguments))\n"
        "        history.append({'role': 'tool', 'tool_call_id': call.id, 'content': json.dumps(result)})\n"
        "    reply = client.chat.completions.create(model=MODEL, messages=history, tools=TOOLS, **NO_THINKING)\n"
        "    return reply.choices[0].message.content",
    ),
]


# Lesson file -> (extra set-up run once after the lesson's cells, probes).
PROBES: dict[str, tuple[str, list[Probe]]] = {
    "00_setup.ipynb": ("", LESSON_00),
    "01_basic_call.ipynb": ("", LESSON_01),
    "02_multi_turn_chat.ipynb": ("", LESSON_02),
    "03_streaming.ipynb": ("", LESSON_03),
    "04_tokens.ipynb": ("", LESSON_04),
    "05_cost.ipynb": ("", LESSON_05),
    "06_errors_and_retries.ipynb": ("", LESSON_06),
    "07_structured_outputs_and_tools.ipynb": ("", LESSON_07),
}

# Lessons that have no exercises on purpose, with the reason the coverage test reports when it skips them.
NO_EXERCISES: dict[str, str] = {
    "08_wrap_up.ipynb": "the wrap-up page sums up the course and has no exercises to probe",
}


def probe_cell(probe: Probe) -> nbformat.NotebookNode:
    """A cell that builds the answer, runs the check and prints its verdict on one marked line."""
    source = (
        f"{probe.setup}\n"
        f"import json as _json\n"
        f"_verdict = {probe.verdict}\n"
        f"print({MARKER!r} + _json.dumps({probe.name!r}) + {MARKER!r} + _json.dumps(_verdict))"
    )
    return nbformat.v4.new_code_cell(source)


def verdicts_of(cell: nbformat.NotebookNode) -> tuple[str, str] | str:
    """(probe name, verdict) from a probe cell's output, or the error it raised."""
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            return f"{output['ename']}: {output['evalue']}"
        for line in output.get("text", "").splitlines():
            if line.startswith(MARKER):
                name, verdict = line[len(MARKER) :].split(MARKER, 1)
                return json.loads(name), json.loads(verdict)
    return "the probe printed no verdict"


@functools.cache
def run_lesson(filename: str) -> dict[str, str]:
    """Execute the lesson and its probes in one kernel; return each probe's verdict (or error)."""
    apply(os.environ)  # the kernel inherits the offline settings, as in tools/run_notebooks.py
    path = NOTEBOOKS / filename
    setup, probes = PROBES[filename]
    nb = nbformat.read(path, as_version=4)
    lesson_cells = len(nb.cells)
    solutions = solution_blocks(nb)
    assert solutions, f"{filename}: no ```python blocks after its Solutions heading to run"
    nb.cells += [nbformat.v4.new_code_cell(code) for _, code in solutions]
    if setup:
        nb.cells.append(nbformat.v4.new_code_cell(setup))
    first_probe = len(nb.cells)
    nb.cells += [probe_cell(p) for p in probes]
    # allow_errors: a probe that raises is reported as that probe's failure, not as a crash of all.
    client = NotebookClient(
        nb, timeout=60, kernel_name="python3", allow_errors=True, resources={"metadata": {"path": str(path.parent)}}
    )
    client.execute()
    errors = [
        f"cell {i}: {o['ename']}: {o['evalue']}"
        for i, cell in enumerate(nb.cells[:first_probe])
        for o in cell.get("outputs", [])
        if o.get("output_type") == "error"
    ]
    assert not errors, f"{filename} failed before its probes ran ({lesson_cells} lesson cells): {errors}"
    results = {}
    for probe, cell in zip(probes, nb.cells[first_probe:], strict=True):
        found = verdicts_of(cell)
        results[probe.name] = found[1] if isinstance(found, tuple) and found[0] == probe.name else f"[probe] {found}"
    return results


CASES = [
    pytest.param(filename, probe, id=f"{filename[:2]}: {probe.name}")
    for filename, (_, probes) in PROBES.items()
    for probe in probes
]


@pytest.mark.parametrize(("filename", "probe"), CASES)
def test_check_judges_the_answer(filename: str, probe: Probe):
    if not (NOTEBOOKS / filename).exists():
        pytest.skip(f"{filename} is not in notebooks/")
    verdict = run_lesson(filename)[probe.name]
    assert not verdict.startswith("[probe]"), f"the probe itself failed: {verdict}"
    if probe.right:
        assert verdict.startswith("Correct"), f"the solution is refused: {verdict}"
    else:
        assert "Correct" not in verdict, f"a wrong answer ({probe.name}) is accepted: {verdict}"
        assert verdict.startswith(("Not yet", "Not quite")), f"unexpected verdict: {verdict}"


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")), ids=lambda p: p.name)
def test_every_check_is_probed(path: Path):
    """Each check in a lesson has its solution and at least two wrong answers in PROBES. Only the
    lessons in NO_EXERCISES may have no checks, and they are skipped with their reason."""
    sources = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")
    checks = set(CHECK_DEF.findall(sources))
    if path.name in NO_EXERCISES:
        assert not checks, (
            f"{path.name} has exercise checks {sorted(checks)} now: remove it from NO_EXERCISES and add its probes"
        )
        pytest.skip(f"{path.name}: {NO_EXERCISES[path.name]}")
    assert checks, f"{path.name} defines no check_exercise_N: add exercises, or name it in NO_EXERCISES with a reason"
    assert path.name in PROBES, f"{path.name}: its exercise checks have no probes: add a LESSON_NN table to PROBES"
    probes = PROBES[path.name][1]
    for number in sorted(checks):
        mine = [p for p in probes if CHECK_CALL.search(p.verdict).group(1) == number]
        assert any(p.right for p in mine), f"check_exercise_{number} of {path.name}: no solution probe"
        assert sum(not p.right for p in mine) >= 2, f"check_exercise_{number} of {path.name}: under two wrong answers"
