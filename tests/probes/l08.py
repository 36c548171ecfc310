"""Probes for lesson 08's checks (helpers/practice/l08.py): the worked solutions, and answers a
learner might write that must not pass. The lesson's kernel provides json, MODEL, NO_THINKING,
FUNCTIONS, the unfilled ``answer_1`` and ``ask``, and the solutions ``answer_1_solution`` and
``ask_solution``."""

from probes import Probe, right, wrong

# The body of a tool loop as a learner writes it, with one thing changed in each probe.
TOOL_LINE = "            history.append({'role': 'tool', 'tool_call_id': call.id, 'content': json.dumps(result)})\n"
ROUND = (
    "        reply = client.chat.completions.create(\n"
    "            model=MODEL, messages=history, tools=tools, **NO_THINKING\n"
    "        )\n"
    "        message = reply.choices[0].message\n"
    "        if not message.tool_calls:\n"
    "            return message.content\n"
    "        calls = [call.model_dump() for call in message.tool_calls]\n"
    "        history.append({'role': 'assistant', 'content': None, 'tool_calls': calls})\n"
    "        for call in message.tool_calls:\n"
    "            result = functions[call.function.name](**json.loads(call.function.arguments))\n"
) + TOOL_LINE
START = "    history = [{'role': 'user', 'content': question}]\n"


def loop(name: str, round_: str = ROUND, head: str = "    for _ in range(max_rounds):\n", tail: str = "") -> str:
    """A learner's ``ask`` named ``name``: the usual loop with one part swapped."""
    return f"def {name}(client, question, tools, functions, max_rounds=5):\n{START}{head}{round_}{tail}"


RAISE = "    raise RuntimeError('no answer')\n"


def swapped(label: str, name: str, old: str, new: str) -> Probe:
    """Exercise 2's wrong answer ``label``: a learner's ``ask`` named ``name``, the usual loop
    with ``old`` in each round written as ``new``, raising RuntimeError after max_rounds."""
    assert old in ROUND, f"{label}: {old!r} is not in the loop"  # else the probe is the solution
    return wrong(label, f"ex.check_2({name})", loop(name, ROUND.replace(old, new)) + RAISE)


SCHEMA_WITH = (
    "def with_field(key, spec):\n"
    "    properties = {**answer_1_solution['properties'], key: spec}\n"
    "    return {**answer_1_solution, 'properties': properties}"
)

PROBES = [
    right("ex1 solution", "ex.check_1(answer_1_solution)"),
    right("ex2 solution", "ex.check_2(ask_solution)"),
    # Exercise 1: a strict schema for a contact.
    wrong("ex1 left unfilled", "ex.check_1(answer_1)"),
    wrong(
        "ex1 additionalProperties missing",
        "ex.check_1({k: v for k, v in answer_1_solution.items() if k != 'additionalProperties'})",
    ),
    wrong("ex1 phone not required", "ex.check_1({**answer_1_solution, 'required': ['name', 'email']})"),
    wrong("ex1 phone not nullable", "ex.check_1(with_field('phone', {'type': 'string'}))", SCHEMA_WITH),
    wrong("ex1 name nullable", "ex.check_1(with_field('name', {'type': ['string', 'null']}))", SCHEMA_WITH),
    wrong("ex1 name of any type", "ex.check_1(with_field('name', {}))", SCHEMA_WITH),
    wrong("ex1 email an integer", "ex.check_1(with_field('email', {'type': 'integer'}))", SCHEMA_WITH),
    wrong(
        "ex1 an extra company field",
        "ex.check_1(with_field('company', {'type': 'string'}))",
        SCHEMA_WITH,
    ),
    wrong("ex1 the schema of one field", "ex.check_1({'type': 'string'})"),
    # Exercise 2: the tool loop.
    wrong("ex2 left unfilled", "ex.check_2(ask)"),
    wrong("ex2 the result, not the function", "ex.check_2(None)"),
    wrong("ex2 ignores max_rounds", "ex.check_2(unbounded)", loop("unbounded", head="    while True:\n")),
    wrong("ex2 returns None after max_rounds", "ex.check_2(quiet)", loop("quiet", tail="    return None\n")),
    swapped(
        "ex2 answers only the first call",
        "first_only",
        "for call in message.tool_calls:",
        "for call in message.tool_calls[:1]:",
    ),
    swapped("ex2 returns the tool's result", "stops_early", TOOL_LINE, "            return json.dumps(result)\n"),
    swapped(
        "ex2 no assistant message",
        "no_assistant",
        "        history.append({'role': 'assistant', 'content': None, 'tool_calls': calls})\n",
        "",
    ),
    swapped("ex2 str() of the result", "as_str", "'content': json.dumps(result)", "'content': str(result)"),
    swapped(
        "ex2 the lesson's FUNCTIONS, not the argument",
        "globals_only",
        "functions[call.function.name]",
        "FUNCTIONS[call.function.name]",
    ),
    swapped("ex2 no tools in the request", "no_tools", "tools=tools, ", ""),
    swapped("ex2 reasoning left on", "thinking", ", **NO_THINKING", ""),
    swapped(
        "ex2 tool_calls read without a check",
        "always_calls",
        "        if not message.tool_calls:\n            return message.content\n",
        "",
    ),
]
