"""Probes for lesson 07's checks (helpers/practice/l07.py): the worked solutions, and answers a
learner might write that must not pass. The lesson's kernel provides openai, time, RETRYABLE,
backoff, and the unfilled ``classify`` and ``call_with_retries``."""

from probes import right, wrong


def retrier(name: str, caught: str, give_up: str) -> str:
    """A learner's ``call_with_retries`` named ``name``: the usual loop with a deadline and
    backoff, catching ``caught`` and raising when ``give_up`` holds."""
    return (
        f"def {name}(call, budget):\n"
        "    deadline = time.monotonic() + budget\n"
        "    attempt = 0\n"
        "    while True:\n"
        "        try:\n"
        "            return call()\n"
        f"        except {caught}:\n"
        "            wait = backoff(attempt)\n"
        f"            if {give_up}:\n"
        "                raise\n"
        "            time.sleep(wait)\n"
        "            attempt += 1"
    )


OVER_BUDGET = "time.monotonic() + wait > deadline"

PROBES = [
    right("ex1 solution", "ex.check_1(classify_solution)"),
    right("ex2 solution", "ex.check_2(call_with_retries_solution)"),
    wrong("ex1 left unfilled", "ex.check_1(classify)"),
    wrong("ex1 the result, not the function", "ex.check_1(None)"),
    wrong(
        "ex1 every 429 is a retry",
        "ex.check_1(by_class)",
        "def by_class(error):\n"
        "    if isinstance(error, openai.AuthenticationError):\n"
        "        return 'fix the key'\n"
        "    if isinstance(error, RETRYABLE):\n"
        "        return 'retry'\n"
        "    return 'fix the request'",
    ),
    wrong("ex1 retry everything", "ex.check_1(lambda error: 'retry')"),
    wrong(
        "ex1 a timeout is the request's fault",
        "ex.check_1(timeout_is_bad_request)",
        "def timeout_is_bad_request(error):\n"
        "    if isinstance(error, openai.APITimeoutError):\n"
        "        return 'fix the request'\n"
        "    return classify_solution(error)",
    ),
    wrong(
        "ex1 a lost connection is the request's fault",
        "ex.check_1(status_only)",
        "def status_only(error):\n"
        "    if not isinstance(error, openai.APIStatusError):\n"
        "        return 'fix the request'\n"
        "    return classify_solution(error)",
    ),
    wrong(
        "ex1 a wrong key counts as a bad request",
        "ex.check_1(no_key_case)",
        "def no_key_case(error):\n"
        "    if isinstance(error, openai.AuthenticationError):\n"
        "        return 'fix the request'\n"
        "    return classify_solution(error)",
    ),
    wrong("ex2 left unfilled", "ex.check_2(call_with_retries)"),
    wrong("ex2 never retries", "ex.check_2(lambda call, budget: call())"),
    wrong("ex2 retries a 400", "ex.check_2(everything)", retrier("everything", "openai.APIError", OVER_BUDGET)),
    wrong("ex2 retries insufficient_quota", "ex.check_2(quota_too)", retrier("quota_too", "RETRYABLE", OVER_BUDGET)),
    wrong(
        "ex2 a timeout is not retried",
        "ex.check_2(no_timeouts)",
        retrier(
            "no_timeouts",
            "(openai.RateLimitError, openai.InternalServerError) as error",
            f"error.code == 'insufficient_quota' or {OVER_BUDGET}",
        ),
    ),
    wrong(
        "ex2 ignores the budget",
        "ex.check_2(endless)",
        "def endless(call, budget):\n"
        "    attempt = 0\n"
        "    while True:\n"
        "        try:\n"
        "            return call()\n"
        "        except RETRYABLE as error:\n"
        "            if error.code == 'insufficient_quota':\n"
        "                raise\n"
        "            time.sleep(backoff(attempt))\n"
        "            attempt += 1",
    ),
    wrong(
        "ex2 retries without waiting",
        "ex.check_2(hammer)",
        "def hammer(call, budget):\n"
        "    deadline = time.monotonic() + budget\n"
        "    while True:\n"
        "        try:\n"
        "            return call()\n"
        "        except RETRYABLE as error:\n"
        "            if error.code == 'insufficient_quota' or time.monotonic() > deadline:\n"
        "                raise",
    ),
    wrong(
        "ex2 returns None when the budget runs out",
        "ex.check_2(gives_none)",
        "def gives_none(call, budget):\n"
        "    try:\n"
        "        return call_with_retries_solution(call, budget)\n"
        "    except openai.InternalServerError:\n"
        "        return None",
    ),
]
