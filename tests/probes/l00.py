"""Probes for lesson 00's checks (helpers/practice/l00.py): the worked solutions, and the wrong
answers a learner plausibly writes first."""

from __future__ import annotations

from probes import right, wrong

PROBES = [
    right("ex1 solution", "ex.check_1(quiet_offline_client_solution)"),
    right("ex2 solution", "ex.check_2(mask_solution)"),
    right("ex3 solution", "ex.check_3(gpt_6_models_solution)"),
    # get_client() is offline in the tests too, but not on a computer with a key: the check sets one.
    wrong("ex1 plain get_client()", "ex.check_1(lambda: get_client(quiet=True))"),
    wrong("ex1 banner printed", "ex.check_1(lambda: get_client(offline=True))"),
    wrong("ex1 the client, not the function", "ex.check_1(quiet_offline_client_solution())"),
    wrong("ex1 returns nothing", "ex.check_1(lambda: None)"),
    wrong(
        "ex1 prints its own line",
        "ex.check_1(noisy)",
        "def noisy():\n    print('made a client')\n    return get_client(offline=True, quiet=True)",
    ),
    wrong("ex2 short keys shown", "ex.check_2(lambda key: f'{key[:3]}...{key[-2:]}')"),
    wrong("ex2 always stars", "ex.check_2(lambda key: '***')"),
    wrong("ex2 four characters", "ex.check_2(lambda key: '***' if len(key) <= 8 else f'{key[:4]}...{key[-2:]}')"),
    wrong("ex2 under 8, not up to 8", "ex.check_2(lambda key: '***' if len(key) < 8 else f'{key[:3]}...{key[-2:]}')"),
    wrong("ex2 the string, not the function", "ex.check_2(mask_solution('sk-abcdefghij'))"),
    wrong("ex3 unsorted", "ex.check_3([m.id for m in client.models.list() if m.id.startswith('gpt-6')])"),
    wrong(
        "ex3 misses gpt-6.x",
        "ex.check_3(sorted(m.id for m in client.models.list() if m.id.startswith('gpt-6-')))",
    ),
    wrong("ex3 every model", "ex.check_3(sorted(m.id for m in client.models.list()))"),
    wrong(
        "ex3 model objects",
        "ex.check_3(sorted((m for m in client.models.list() if m.id.startswith('gpt-6')), key=str))",
    ),
    wrong("ex3 a generator", "ex.check_3(m.id for m in client.models.list() if m.id.startswith('gpt-6'))"),
]
