"""Probes for lesson 02's checks (helpers/practice/l02.py): the worked solutions, and answers a
learner might plausibly write that are wrong."""

from probes import right, wrong

PROBES = [
    right("ex1 solution", "ex.check_1(answer_1_solution)"),
    right("ex2 solution", "ex.check_2(safe_ask_solution)"),
    wrong("ex1 still None", "ex.check_1(answer_1)"),
    wrong("ex1 temperature alone", "ex.check_1({'temperature': 0})"),
    wrong("ex1 no reasoning_effort", "ex.check_1({'temperature': 0, 'stop': ['.']})"),
    wrong("ex1 low effort", "ex.check_1({'reasoning_effort': 'low', 'temperature': 0, 'stop': ['.']})"),
    wrong("ex1 no stop", "ex.check_1({'reasoning_effort': 'none', 'temperature': 0})"),
    wrong("ex1 temperature 1", "ex.check_1({'reasoning_effort': 'none', 'temperature': 1, 'stop': ['.']})"),
    wrong(
        "ex1 token limit instead of stop",
        "ex.check_1({'reasoning_effort': 'none', 'temperature': 0, 'max_completion_tokens': 12})",
    ),
    wrong("ex1 the model named too", "ex.check_1({'model': DEFAULT_MODEL, 'temperature': 0, 'stop': ['.']})"),
    wrong("ex1 a list of pairs", "ex.check_1([('reasoning_effort', 'none'), ('temperature', 0)])"),
    wrong("ex2 still unwritten", "ex.check_2(safe_ask)"),
    wrong(
        "ex2 lets the error through",
        "ex.check_2(unsafe)",
        "def unsafe(question, **params):\n    return reply(question, **params)",
    ),
    wrong(
        "ex2 names the code, not the param",
        "ex.check_2(by_code)",
        "def by_code(question, **params):\n"
        "    try:\n"
        "        return reply(question, **params)\n"
        "    except openai.BadRequestError as error:\n"
        "        return f'Invalid request: {error.code}'",
    ),
    wrong(
        "ex2 returns the response",
        "ex.check_2(whole)",
        "def whole(question, **params):\n"
        "    try:\n"
        "        return ask(question, **params)\n"
        "    except openai.BadRequestError as error:\n"
        "        return f'Invalid request: {error.param}'",
    ),
    wrong(
        "ex2 always says temperature",
        "ex.check_2(fixed)",
        "def fixed(question, **params):\n"
        "    try:\n"
        "        return reply(question, **params)\n"
        "    except openai.BadRequestError:\n"
        "        return 'Invalid request: temperature'",
    ),
]
