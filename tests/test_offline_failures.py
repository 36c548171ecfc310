"""Simulated failures of the offline model, seen through the real openai SDK: each answers with the
API's status, error class, body and headers; the SDK retries what lesson 06 says it retries, waits
what it says it waits, and gives up on a slow reply when the client's timeout runs out. The last
part runs lesson 06's exercise checks against wrong answers: each must fail."""

from __future__ import annotations

import asyncio
import signal
import time
import types
from pathlib import Path

import httpx2
import openai
import openai._base_client
import pytest

from helpers import DEFAULT_MODEL, OfflineAPI, offline_client
from helpers._connect import OFFLINE_KEY
from helpers._offline import MARKER

HELLO = [{"role": "user", "content": "Hello"}]
QUOTA_MESSAGE = (
    "You exceeded your current quota, please check your plan and billing details. For more "
    "information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/"
    "api-errors."
)
LESSON = Path(__file__).resolve().parents[1] / "notebooks" / "07_errors_and_retries.ipynb"


class HeaderLog(OfflineAPI):
    """An OfflineAPI that also keeps the headers of every request, to see what the SDK resent."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.headers: list[httpx2.Headers] = []

    def handle(self, request: httpx2.Request) -> httpx2.Response:
        self.headers.append(request.headers)
        return super().handle(request)


@pytest.fixture
def api() -> HeaderLog:
    return HeaderLog()


@pytest.fixture
def sleeps(monkeypatch) -> list[float]:
    """The SDK's waits between retries, recorded instead of slept (its time.sleep only)."""
    waited: list[float] = []
    fake = types.SimpleNamespace(sleep=waited.append, time=time.time)
    monkeypatch.setattr(openai._base_client, "time", fake)
    return waited


def ask(client: openai.OpenAI, **params):
    return client.chat.completions.create(model=DEFAULT_MODEL, messages=HELLO, **params)


def failure(client: openai.OpenAI, **params) -> openai.APIError:
    with pytest.raises(openai.APIError) as info:
        ask(client, **params)
    return info.value


# ---------------------------------------------------------------- what each failure looks like


@pytest.mark.parametrize(
    "kind,error_class,status,code,type_",
    [
        ("invalid_api_key", openai.AuthenticationError, 401, "invalid_api_key", "invalid_request_error"),
        ("rate_limit", openai.RateLimitError, 429, "rate_limit_exceeded", "requests"),
        ("insufficient_quota", openai.RateLimitError, 429, "insufficient_quota", "insufficient_quota"),
        ("server_error", openai.InternalServerError, 500, None, "server_error"),
        ("overloaded", openai.InternalServerError, 503, None, "server_error"),
    ],
)
def test_each_failure_is_the_api_s_error(api, kind, error_class, status, code, type_):
    api.fail_next(kind)
    err = failure(offline_client(api, max_retries=0))
    assert type(err) is error_class
    assert (err.status_code, err.code, err.type) == (status, code, type_)
    assert err.body["message"] == err.message.removeprefix(f"Error code: {status} - ")
    assert err.request_id and err.request_id == err.response.headers["x-request-id"]
    assert ask(offline_client(api, max_retries=0)).choices  # only the next request failed


def test_insufficient_quota_is_worded_as_the_api_and_gives_no_time_to_wait(api):
    api.fail_next("insufficient_quota")
    err = failure(offline_client(api, max_retries=0))
    assert err.body == {
        "message": QUOTA_MESSAGE,
        "type": "insufficient_quota",
        "param": None,
        "code": "insufficient_quota",
    }
    assert not {"retry-after", "retry-after-ms"} & set(err.response.headers)  # waiting does not help


def test_a_rate_limit_says_when_to_try_again(api):
    api.fail_next("rate_limit")
    err = failure(offline_client(api, max_retries=0))
    headers = err.response.headers
    assert (headers["retry-after-ms"], headers["retry-after"]) == ("20", "1")
    assert headers["x-ratelimit-remaining-requests"] == "0"
    assert headers["x-ratelimit-limit-requests"] in err.message  # the message quotes the limit
    assert "try again in 20ms" in err.message and DEFAULT_MODEL in err.message


def test_the_503_names_its_request_id(api):
    api.fail_next("overloaded")
    err = failure(offline_client(api, max_retries=0))
    assert f"request ID {err.request_id} " in err.message


def test_the_simulate_header_takes_every_new_kind(api):
    client = offline_client(api, max_retries=0)
    for kind, status in [("insufficient_quota", 429), ("overloaded", 503)]:
        assert failure(client, extra_headers={"x-offline-simulate": kind}).status_code == status
    start = time.perf_counter()
    assert ask(client, extra_headers={"x-offline-simulate": "slow:0.05"}).choices
    assert time.perf_counter() - start >= 0.05


@pytest.mark.parametrize("value", ["slow:abc", "slow:-1", "slow:nan", "slow:1000", "rate_limit:2", "meltdown"])
def test_a_bad_simulate_value_is_a_400_and_a_value_error(api, value):
    err = failure(offline_client(api, max_retries=0), extra_headers={"x-offline-simulate": value})
    assert isinstance(err, openai.BadRequestError) and "x-offline-simulate" in err.message
    with pytest.raises(ValueError):
        api.fail_next(value)
    assert api.pending == []


# ---------------------------------------------------------------- what the SDK retries, and how long it waits


@pytest.mark.parametrize("kind", ["rate_limit", "server_error", "overloaded"])
def test_the_sdk_retries_rate_limits_and_server_errors(api, sleeps, kind):
    api.fail_next(kind, 2)
    raw = offline_client(api, max_retries=2).chat.completions.with_raw_response.create(
        model=DEFAULT_MODEL, messages=HELLO
    )
    assert raw.retries_taken == 2 and raw.parse().choices[0].message.content.startswith(MARKER)
    assert len(api.requests) == 3 and api.requests[0] == api.requests[2]  # the same body, sent again
    assert [h["x-stainless-retry-count"] for h in api.headers] == ["0", "1", "2"]
    if kind == "rate_limit":
        assert sleeps == [0.02, 0.02]  # the server's retry-after-ms, not the SDK's own backoff
    else:  # no retry-after: 0.5 s, then 1 s, each cut by up to 25 % at random
        assert 0.375 <= sleeps[0] <= 0.5 and 0.75 <= sleeps[1] <= 1.0


def test_the_sdk_gives_up_after_max_retries(api, sleeps):
    api.fail_next("rate_limit", 5)
    err = failure(offline_client(api, max_retries=2))
    assert isinstance(err, openai.RateLimitError) and len(api.requests) == 3 and len(sleeps) == 2
    assert api.pending == ["rate_limit"] * 2


@pytest.mark.parametrize(
    "params,error_class",
    [
        ({"temperature": 3, "reasoning_effort": "none"}, openai.BadRequestError),
        ({"model": "gpt-6-lnua"}, openai.NotFoundError),
        ({"extra_headers": {"x-offline-simulate": "invalid_api_key"}}, openai.AuthenticationError),
    ],
)
def test_the_sdk_does_not_retry_what_a_retry_cannot_fix(api, sleeps, params, error_class):
    client = offline_client(api, max_retries=2)
    with pytest.raises(error_class):
        client.chat.completions.create(**{"model": DEFAULT_MODEL, "messages": HELLO, **params})
    assert len(api.headers) == 1 and sleeps == []


def test_the_sdk_retries_insufficient_quota_too(api, sleeps):
    # It looks only at the status and the headers, never at the error code: lesson 06 warns about it.
    api.fail_next("insufficient_quota", 3)
    err = failure(offline_client(api, max_retries=2))
    assert err.code == "insufficient_quota" and len(api.headers) == 3
    assert 0.375 <= sleeps[0] <= 0.5 and 0.75 <= sleeps[1] <= 1.0  # its own backoff: no retry-after


@pytest.mark.parametrize(
    "status,headers,tries",
    [
        (500, {"x-should-retry": "false"}, 1),  # the server's word beats the status
        (400, {"x-should-retry": "true"}, 3),
        (429, {"retry-after": "121"}, 1),  # asked to wait over two minutes: the SDK raises at once
        (429, {"retry-after": "120"}, 3),
        (408, {}, 3),
        (409, {}, 3),
        (422, {}, 1),
    ],
)
def test_the_sdk_s_retry_rules(sleeps, status, headers, tries):
    """The rules lesson 06 states, checked against the SDK itself with a bare mock server."""
    seen = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return httpx2.Response(status, headers=headers, json={"error": {"message": "x", "type": "t"}})

    client = openai.OpenAI(
        api_key=OFFLINE_KEY,
        base_url="https://mock.invalid/v1",
        max_retries=2,
        http_client=openai.DefaultHttpx2Client(transport=httpx2.MockTransport(handler)),
    )
    with pytest.raises(openai.APIStatusError):
        ask(client)
    assert len(seen) == tries


# ---------------------------------------------------------------- slow replies and timeouts


def test_a_slow_reply_trips_a_shorter_timeout(api):
    api.fail_next("slow:0.5")
    start = time.perf_counter()
    err = failure(offline_client(api, max_retries=0), timeout=0.05)
    assert type(err) is openai.APITimeoutError and isinstance(err, openai.APIConnectionError)
    assert isinstance(err.__cause__, httpx2.ReadTimeout)
    assert 0.05 <= time.perf_counter() - start < 0.4  # gave up at the timeout, not after the reply


def test_a_slow_reply_within_the_timeout_arrives(api):
    api.fail_next("slow:0.05")
    start = time.perf_counter()
    assert ask(offline_client(api, max_retries=0, timeout=2)).choices[0].message.content.startswith(MARKER)
    assert time.perf_counter() - start >= 0.05


def test_a_per_request_timeout_beats_the_client_s_and_with_options_copies(api):
    client = offline_client(api, max_retries=0, timeout=5)
    api.fail_next("slow:0.5")
    assert isinstance(failure(client, timeout=0.05), openai.APITimeoutError)
    impatient = client.with_options(timeout=0.05)
    api.fail_next("slow:0.5")
    assert isinstance(failure(impatient), openai.APITimeoutError)
    assert client.timeout == 5 and impatient.timeout == 0.05  # with_options left the original alone


def test_the_sdk_retries_a_timeout(api, sleeps):
    api.fail_next("slow:0.5")  # only the first attempt is slow
    raw = offline_client(api, max_retries=1, timeout=0.05).chat.completions.with_raw_response.create(
        model=DEFAULT_MODEL, messages=HELLO
    )
    assert raw.retries_taken == 1 and len(sleeps) == 1


def test_a_slow_stream_times_out_before_its_first_chunk(api):
    api.fail_next("slow:0.5")
    err = failure(offline_client(api, max_retries=0), timeout=0.05, stream=True)
    assert isinstance(err, openai.APITimeoutError)


def test_the_async_client_times_out_too(api):
    client = openai.AsyncOpenAI(
        api_key=OFFLINE_KEY,
        base_url="https://offline.invalid/v1",
        max_retries=0,
        http_client=openai.DefaultAsyncHttpx2Client(transport=api.async_transport()),
    )

    async def call():
        return await client.chat.completions.create(model=DEFAULT_MODEL, messages=HELLO, timeout=0.05)

    api.fail_next("slow:0.5")
    with pytest.raises(openai.APITimeoutError):
        asyncio.run(call())
    api.fail_next("slow:0.02")
    assert asyncio.run(call()).choices


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs SIGALRM")
def test_a_slow_reply_can_be_interrupted(api):
    """Kernel > Interrupt (Ctrl-C) stops a slow offline reply at once, as it stops a real wait."""

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, interrupt)
    api.fail_next("slow:30")
    start = time.perf_counter()
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.05)
        with pytest.raises(KeyboardInterrupt):
            ask(offline_client(api, max_retries=0, timeout=60))
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert time.perf_counter() - start < 2


# ---------------------------------------------------------------- scripted and seeded failures


def test_a_script_plays_in_order(api):
    client = offline_client(api, max_retries=0)
    api.script(429, 429, 500, 200, "insufficient_quota")
    assert api.pending == ["rate_limit", "rate_limit", "server_error", "ok", "insufficient_quota"]
    outcomes = []
    for _ in range(6):
        try:
            ask(client)
            outcomes.append(200)
        except openai.APIStatusError as err:
            outcomes.append(err.status_code)
    assert outcomes == [429, 429, 500, 200, 429, 200]
    assert api.pending == []


def test_a_script_with_an_unknown_outcome_queues_nothing(api):
    with pytest.raises(ValueError, match="418"):
        api.script(429, 418)
    with pytest.raises(ValueError, match="rate_limit"):
        api.script("rate-limit")
    assert api.pending == []


def test_a_header_does_not_use_up_the_script(api):
    client = offline_client(api, max_retries=0)
    api.script(500)
    assert ask(client, extra_headers={"x-offline-simulate": "ok"}).choices
    assert api.pending == ["server_error"]


def outcomes_of(api: OfflineAPI, n: int) -> list[bool]:
    client = offline_client(api, max_retries=0)
    results = []
    for _ in range(n):
        try:
            ask(client)
            results.append(True)
        except openai.RateLimitError:
            results.append(False)
    return results


def test_flaky_fails_at_its_rate_and_repeats_with_its_seed():
    runs = []
    for seed in (1, 1, 2):
        api = OfflineAPI()
        api.flaky(0.3, seed=seed)
        runs.append(outcomes_of(api, 40))
    assert runs[0] == runs[1] and runs[0] != runs[2]
    assert 4 <= runs[0].count(False) <= 20  # about 30 % of 40


def test_queued_failures_come_before_flaky_ones_and_clear_stops_both():
    api = OfflineAPI()
    api.flaky(1.0, kind="rate_limit")
    api.script(200)
    assert outcomes_of(api, 2) == [True, False]
    api.clear_failures()
    assert outcomes_of(api, 3) == [True] * 3
    with pytest.raises(ValueError):
        api.flaky(1.5)


def test_a_stream_cut_keeps_what_arrived_and_a_retry_gets_it_all(api):
    client = offline_client(api, max_retries=0)
    params = {"reasoning_effort": "none", "temperature": 0}
    api.fail_next("stream_error")
    pieces = []
    with pytest.raises(openai.APIError) as info:
        for chunk in ask(client, stream=True, **params):
            pieces.append(chunk.choices[0].delta.content or "")
    assert not isinstance(info.value, openai.APIStatusError)  # the status was 200: the error came in the stream
    full = "".join(c.choices[0].delta.content or "" for c in ask(client, stream=True, **params) if c.choices)
    assert pieces and full.startswith("".join(pieces)) and len("".join(pieces)) < len(full)
