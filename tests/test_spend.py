"""The spend meter and COURSE_SPEND_CAP_USD, through the real SDK.

Offline clients talk to the emulator through the meter; custom answers come from
``httpx2.MockTransport``; the real-key path is tested against the emulator served over
HTTP on 127.0.0.1, so the SDK's real network stack (with gzip) runs through the meter too.
Every wait is bounded: a gate that never opens fails the test within seconds.
"""

from __future__ import annotations

import asyncio
import gc
import gzip
import json
import threading
import time
import warnings
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx2
import openai
import pytest

from helpers import _spend as spend
from helpers._offline import REASONING_TOKENS, USAGE_EXTENSION, OfflineAPI
from helpers.client import get_client, offline_client
from helpers.models import DEFAULT_MODEL, MODELS
from helpers.pricing import estimate_cost, usage_cost, usd
from helpers.tokens import count_message_tokens, count_tokens

CAP = spend.CAP_VARIABLE
URL = "https://offline.invalid/v1"
HELLO = [{"role": "user", "content": "Hello! What is a token?"}]
OVERHEAD = MODELS[DEFAULT_MODEL].rules.completion_overhead


@pytest.fixture(autouse=True)
def fresh_meter(monkeypatch, tmp_path):
    # No cap unless a test sets one, and no .env of the developer's: run from an empty folder.
    monkeypatch.delenv(CAP, raising=False)
    monkeypatch.delenv(spend.BUDGET_VARIABLE, raising=False)  # set only in the live check's kernels
    monkeypatch.chdir(tmp_path)
    spend.reset()
    yield
    spend.reset()


def sdk(transport: httpx2.BaseTransport, **kwargs) -> openai.OpenAI:
    return openai.OpenAI(
        api_key="sk-test", base_url=URL, http_client=openai.DefaultHttpx2Client(transport=transport), **kwargs
    )


def capped(api: OfflineAPI, cap: float | None, **kwargs) -> openai.OpenAI:
    """The SDK on the emulator behind a SpendTransport with ``cap``."""
    return sdk(spend.SpendTransport(api.transport(), cap=cap), **kwargs)


def ask(client, **params):
    return client.chat.completions.create(**{"model": DEFAULT_MODEL, "messages": HELLO, **params})


def streamed(client, **params):
    """Stream a reply to the end; return its text and its usage (None without include_usage)."""
    text, usage = [], None
    for chunk in ask(client, stream=True, **params):
        usage = chunk.usage or usage
        text.extend(c.delta.content or "" for c in chunk.choices)
    return "".join(text), usage


def worst(**params) -> float:
    return spend.worst_case({"model": DEFAULT_MODEL, "messages": HELLO, **params}).cost


def wait_for(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


# ---------------------------------------------------------------- metering


def test_each_call_is_priced_at_its_own_model():
    client = offline_client(OfflineAPI(seed=0))
    replies = [
        ask(client),
        ask(client, n=2),
        ask(client, model="gpt-4o-2024-08-06"),
        client.chat.completions.create(model="gpt-6-astra", messages=HELLO),
    ]
    costs = [c.cost for c in spend.charges()]
    assert costs == pytest.approx([usage_cost(r.model, r.usage) for r in replies])
    assert [c.priced_as for c in spend.charges()] == [DEFAULT_MODEL, DEFAULT_MODEL, "gpt-4o", "gpt-6-astra"]
    assert len(set(costs)) == 4
    # reasoning tokens are part of completion_tokens and bill as output
    assert replies[3].usage.completion_tokens_details.reasoning_tokens > 0
    assert spend.charges()[3].completion_tokens == replies[3].usage.completion_tokens
    assert not any(c.estimated for c in spend.charges())
    assert spend.reserved() == 0


def test_meter_equals_sum_of_usage_costs_exactly():
    client = offline_client(OfflineAPI(seed=0))
    replies = [
        ask(client),
        ask(client, max_completion_tokens=5),
        client.chat.completions.create(
            model="gpt-5.4-nano",
            messages=HELLO
            + [{"role": "assistant", "content": "A piece of text."}, {"role": "user", "content": "Tell me more"}],
        ),
    ]
    assert spend.spent() == pytest.approx(sum(usage_cost(r.model, r.usage) for r in replies), rel=1e-12)
    summary = spend.summary()
    assert summary["calls"] == 3 and summary["reserved_usd"] == 0
    assert summary["prompt_tokens"] == sum(r.usage.prompt_tokens for r in replies)
    assert summary["completion_tokens"] == sum(r.usage.completion_tokens for r in replies)


def offline_answer(**params) -> httpx2.Response:
    """The offline model's HTTP answer to a chat request, without the SDK or the meter."""
    body = {"model": DEFAULT_MODEL, "messages": HELLO, **params}
    request = httpx2.Request("POST", f"{URL}/chat/completions", json=body, headers={"authorization": "Bearer k"})
    return OfflineAPI(seed=0).handle(request)


TOLD_CASES = [
    {},
    {"n": 2},
    {"max_completion_tokens": 5},
    {"model": "gpt-4o", "logprobs": True, "top_logprobs": 2},
    {"model": "gpt-4o-2024-08-06", "messages": [{"role": "user", "content": "토큰이 뭐예요?"}]},
    {  # this model calls functions only without reasoning
        "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}],
        "tool_choice": "required",
        "reasoning_effort": "none",
    },
]


@pytest.mark.parametrize("params", TOLD_CASES)
def test_an_offline_json_reply_tells_the_meter_what_its_body_says(params):
    """The offline model hands the meter (model, usage) with each JSON reply instead of having
    it parse the body again: what it tells must be what the body says, and price the same."""
    response = offline_answer(**params)
    assert response.status_code == 200, response.content
    data = json.loads(response.content)
    told = response.extensions[USAGE_EXTENSION]
    assert told == (data["model"], data["usage"])
    call = spend._Call(None)
    assert call.charge(response.content, False, told=told) == call.charge(response.content, False)


def test_errors_and_streams_tell_the_meter_nothing():
    assert USAGE_EXTENSION not in offline_answer(n=0).extensions  # a 400
    assert USAGE_EXTENSION not in offline_answer(stream=True).extensions  # read as they pass


def test_what_a_transport_tells_is_used_and_a_bad_telling_is_charged_its_reservation():
    data = json.loads(offline_answer().content)

    def telling(usage):
        extensions = {USAGE_EXTENSION: (DEFAULT_MODEL, usage)}
        return spend.SpendTransport(
            httpx2.MockTransport(lambda _: httpx2.Response(200, json=data, extensions=extensions))
        )

    ask(sdk(telling({"prompt_tokens": 1000, "completion_tokens": 0})))
    assert spend.charges()[-1].prompt_tokens == 1000  # what was told, not what the body says
    # A usage that is no usage is charged the reservation with a warning, like a body that cannot
    # be read: the meter never breaks a call.
    with pytest.warns(spend.SpendWarning, match="charged its reservation"):
        ask(sdk(telling({"prompt_tokens": "many"})))
    assert spend.charges()[-1].cost == pytest.approx(worst())


def test_cache_writes_are_charged():
    usage = {
        "prompt_tokens": 5000,
        "completion_tokens": 100,
        "total_tokens": 5100,
        "prompt_tokens_details": {"cached_tokens": 1000, "cache_write_tokens": 3000},
    }

    def handler(request):
        return httpx2.Response(
            200,
            json={
                "id": "c",
                "object": "chat.completion",
                "created": 0,
                "model": DEFAULT_MODEL,
                "usage": usage,
                "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "x"}}],
            },
        )

    ask(sdk(spend.SpendTransport(httpx2.MockTransport(handler))))
    (charge,) = spend.charges()
    assert (charge.cached_tokens, charge.cache_write_tokens) == (1000, 3000)
    assert charge.cost == pytest.approx(usage_cost(DEFAULT_MODEL, usage))
    assert charge.cost > estimate_cost(DEFAULT_MODEL, 5000, 100, 1000)  # writes cost more than plain input here
    assert spend.summary()["cache_write_tokens"] == 3000


def test_streams_with_include_usage_are_metered_from_the_usage_chunk():
    client = offline_client(OfflineAPI(seed=0))
    _, usage = streamed(client, stream_options={"include_usage": True})
    assert usage is not None
    (charge,) = spend.charges()
    assert not charge.estimated
    assert spend.spent() == pytest.approx(usage_cost(DEFAULT_MODEL, usage))


def test_streams_without_usage_are_counted_with_tiktoken():
    # gpt-4o reports nothing but its text, so the count is exact.
    client = offline_client(OfflineAPI(seed=0))
    text, usage = streamed(client, model="gpt-4o")
    assert usage is None and text
    (charge,) = spend.charges()
    assert charge.estimated and charge.priced_as == "gpt-4o"
    # The emulator counts like the API: the same request with include_usage says what it really cost.
    spend.reset()
    _, real = streamed(client, model="gpt-4o", stream_options={"include_usage": True})
    assert (charge.prompt_tokens, charge.completion_tokens) == (real.prompt_tokens, real.completion_tokens)
    assert charge.cost == pytest.approx(usage_cost("gpt-4o", real))


@pytest.mark.parametrize("effort", [None, "none", "low", "high"])
def test_a_reasoning_stream_without_usage_is_charged_its_hidden_tokens(effort):
    # No stream shows reasoning tokens: the meter adds REASONING_TOKENS at the effort in force
    # and the family's completion overhead, the figures the offline model reports.
    client = offline_client(OfflineAPI(seed=0))
    params = {} if effort is None else {"reasoning_effort": effort}
    text, _ = streamed(client, **params)
    (charge,) = spend.charges()
    spend.reset()
    _, real = streamed(client, stream_options={"include_usage": True}, **params)
    hidden = REASONING_TOKENS[effort or MODELS[DEFAULT_MODEL].rules.default_effort]
    assert real.completion_tokens_details.reasoning_tokens == hidden
    assert charge.estimated and charge.prompt_tokens == real.prompt_tokens
    assert charge.completion_tokens == count_tokens(text, DEFAULT_MODEL) + hidden + OVERHEAD == real.completion_tokens
    assert charge.cost == pytest.approx(usage_cost(DEFAULT_MODEL, real))


def reply_without_usage(content: str, finish: str = "stop"):
    """A transport answering every chat request with ``content`` and no usage."""

    def handler(request):
        body = json.loads(request.content)
        return httpx2.Response(
            200,
            json={
                "id": "c",
                "object": "chat.completion",
                "created": 0,
                "model": body["model"],
                "choices": [
                    {"index": 0, "finish_reason": finish, "message": {"role": "assistant", "content": content}}
                ],
            },
        )

    return spend.SpendTransport(httpx2.MockTransport(handler))


TEXT = "A token is a piece of a word, about four characters of English text."


def test_a_json_reply_without_usage_is_charged_from_counted_tokens():
    ask(sdk(reply_without_usage(TEXT)), model="gpt-4o")
    ask(sdk(reply_without_usage(TEXT)), reasoning_effort="high")
    ask(sdk(reply_without_usage(TEXT[:12], finish="length")), max_completion_tokens=50)
    plain, reasoning, cut = spend.charges()
    assert all(c.estimated for c in (plain, reasoning, cut))
    assert plain.prompt_tokens == count_message_tokens(HELLO, "gpt-4o")
    assert plain.completion_tokens == count_tokens(TEXT, "gpt-4o")
    assert plain.cost == pytest.approx(estimate_cost("gpt-4o", plain.prompt_tokens, plain.completion_tokens))
    assert reasoning.completion_tokens == count_tokens(TEXT, DEFAULT_MODEL) + REASONING_TOKENS["high"] + OVERHEAD
    assert cut.completion_tokens == 50  # cut by the limit: its whole budget was used
    assert spend.spent() == pytest.approx(
        sum(estimate_cost(c.priced_as, c.prompt_tokens, c.completion_tokens) for c in (plain, reasoning, cut))
    )


def test_a_stream_left_half_way_is_charged_for_what_arrived():
    client = offline_client(OfflineAPI(seed=0))
    stream = ask(client, stream=True, messages=[{"role": "user", "content": "a long reply please"}])
    arrived = [next(iter(stream)), next(iter(stream))]
    assert spend.reserved() > 0
    stream.close()
    assert spend.reserved() == 0
    (charge,) = spend.charges()
    seen = "".join(c.choices[0].delta.content or "" for c in arrived)
    # an unfinished choice: what arrived, plus the reasoning done before it (no overhead)
    assert charge.estimated and charge.prompt_tokens > 0
    assert charge.completion_tokens == count_tokens(seen, DEFAULT_MODEL) + REASONING_TOKENS["medium"]


def test_a_garbage_collected_stream_settles():
    client = offline_client(OfflineAPI(seed=0))
    stream = ask(client, stream=True, model="gpt-4o")
    next(iter(stream))
    unread = ask(client, stream=True, model="gpt-4o")
    assert spend.reserved() == pytest.approx(2 * spend.worst_case({"model": "gpt-4o", "messages": HELLO}).cost)
    del stream, unread
    gc.collect()
    assert spend.reserved() == 0
    half, nothing = spend.charges()
    assert half.completion_tokens == 0 and half.prompt_tokens == count_message_tokens(HELLO, "gpt-4o")  # "" so far
    assert nothing.prompt_tokens == half.prompt_tokens and nothing.completion_tokens == 0


def test_with_raw_and_streaming_response_are_metered_and_capped():
    api = OfflineAPI(seed=0)
    client = capped(api, cap=None)
    raw = client.chat.completions.with_raw_response.create(model=DEFAULT_MODEL, messages=HELLO)
    with client.chat.completions.with_streaming_response.create(
        model=DEFAULT_MODEL, messages=HELLO, stream=True, stream_options={"include_usage": True}
    ) as response:
        assert spend.reserved() > 0  # headers are in, the body is not: still reserved
        lines = [json.loads(line[5:]) for line in response.iter_lines() if line.startswith("data: {")]
    assert spend.reserved() == 0
    first, second = spend.charges()
    assert first.cost == pytest.approx(usage_cost(DEFAULT_MODEL, raw.parse().usage))
    assert second.cost == pytest.approx(usage_cost(DEFAULT_MODEL, lines[-1]["usage"])) and not second.estimated

    refusing = capped(api, cap=0.0)
    with pytest.raises(openai.RateLimitError):
        refusing.chat.completions.with_raw_response.create(model=DEFAULT_MODEL, messages=HELLO)
    with pytest.raises(openai.RateLimitError):
        with refusing.chat.completions.with_streaming_response.create(model=DEFAULT_MODEL, messages=HELLO):
            pass
    assert len(api.requests) == 2


def test_no_cap_means_no_limit():
    api = OfflineAPI(seed=0)
    client = offline_client(api)
    for _ in range(5):
        ask(client)
    assert len(api.requests) == 5 and spend.spent() > 0


# ---------------------------------------------------------------- the live check's budget

BUDGET = spend.BUDGET_VARIABLE


def test_without_the_live_budget_a_call_reserves_the_models_whole_output():
    api = OfflineAPI(seed=0)
    # A cap that one call's worst case (the model's 128,000 output tokens) passes: refused.
    with pytest.raises(openai.RateLimitError, match="up to 128,000 completion tokens"):
        ask(capped(api, cap=worst() / 2))
    ask(capped(api, cap=None))
    assert "max_completion_tokens" not in api.requests[-1]  # sent as the cell wrote it


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "streamed"])
def test_the_live_budget_is_sent_and_reserved_for_calls_that_name_none(monkeypatch, stream):
    monkeypatch.setenv(BUDGET, "4096")
    api = OfflineAPI(seed=0)
    cap = worst(max_completion_tokens=4096) * 1.01  # far below the unlimited worst case
    assert cap < worst() / 10
    client = capped(api, cap=cap)
    held = []
    reply = ask(client, stream=stream)
    if stream:
        for _ in reply:
            held.append(spend.reserved())
    assert api.requests[-1]["max_completion_tokens"] == 4096
    assert not stream or held[0] == pytest.approx(worst(max_completion_tokens=4096))
    # A cell's own limit (either name) is kept as it is.
    spend.reset()
    ask(client, max_completion_tokens=50)
    ask(client, model="gpt-4o-mini", max_tokens=40)
    assert api.requests[-2]["max_completion_tokens"] == 50
    assert api.requests[-1]["max_tokens"] == 40 and "max_completion_tokens" not in api.requests[-1]
    # Never more than the model's own maximum (gpt-4o-mini: 16,384).
    monkeypatch.setenv(BUDGET, "100000")
    ask(capped(api, cap=None), model="gpt-4o-mini")
    assert api.requests[-1]["max_completion_tokens"] == MODELS["gpt-4o-mini"].max_output_tokens


def test_the_live_budget_reaches_async_and_real_clients(monkeypatch, server):
    url, served = server
    monkeypatch.setenv(BUDGET, "2048")
    monkeypatch.delenv("COURSE_OFFLINE")
    client = get_client(api_key="sk-test-not-a-real-key-123", base_url=url, quiet=True, timeout=10)
    ask(client)
    assert served.requests[-1]["max_completion_tokens"] == 2048

    async def main():
        api = OfflineAPI(seed=0)
        client = async_sdk(spend.AsyncSpendTransport(async_offline(api)))
        await client.chat.completions.create(model=DEFAULT_MODEL, messages=HELLO)
        await client.close()
        return api

    assert run(main()).requests[-1]["max_completion_tokens"] == 2048


@pytest.mark.parametrize("bad", ["0", "-5", "lots", "1.5"])
def test_a_live_budget_that_is_not_a_number_of_tokens_is_refused(monkeypatch, bad):
    monkeypatch.setenv(BUDGET, bad)
    with pytest.raises(ValueError, match=f"{BUDGET} must be a whole number of tokens"):
        get_client(offline=True, quiet=True)


# ---------------------------------------------------------------- the worst case


def test_the_reservation_is_prompt_plus_budget_at_the_dearer_prompt_price():
    prompt = count_message_tokens(HELLO, DEFAULT_MODEL)
    info = MODELS[DEFAULT_MODEL]
    estimate = spend.worst_case({"model": DEFAULT_MODEL, "messages": HELLO})
    assert (estimate.prompt_tokens, estimate.completion_tokens, estimate.n) == (prompt, info.max_output_tokens, 1)
    # gpt-6 bills cache writes above plain input: the worst case prices the prompt as writes
    assert estimate.cost == pytest.approx(
        estimate_cost(DEFAULT_MODEL, prompt, info.max_output_tokens, cache_write_tokens=prompt)
    )
    assert worst(max_completion_tokens=100) == pytest.approx(
        estimate_cost(DEFAULT_MODEL, prompt, 100, cache_write_tokens=prompt)
    )
    assert worst(max_completion_tokens=100, n=3) == pytest.approx(
        estimate_cost(DEFAULT_MODEL, prompt, 300, cache_write_tokens=prompt)
    )
    assert spend.worst_case({"model": "gpt-4o", "messages": HELLO, "max_tokens": 7}).completion_tokens == 7
    assert spend.worst_case({"model": DEFAULT_MODEL, "messages": HELLO}).effort == "medium"


def test_the_reservation_counts_content_parts_and_tools():
    parts = [
        {"role": "user", "content": [{"type": "text", "text": "Hello! "}, {"type": "text", "text": "What is a token?"}]}
    ]
    base = spend.worst_case({"model": DEFAULT_MODEL, "messages": HELLO}).prompt_tokens
    assert spend.worst_case({"model": DEFAULT_MODEL, "messages": parts}).prompt_tokens == base
    image = [
        {"role": "user", "content": HELLO[0]["content"]},
        {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://x.invalid/cat.png"}}]},
    ]
    assert spend.worst_case({"model": DEFAULT_MODEL, "messages": image}).prompt_tokens > base + 5
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]
    assert spend.worst_case({"model": DEFAULT_MODEL, "messages": HELLO, "tools": tools}).prompt_tokens > base + 10


def test_the_reservation_applies_the_long_context_tier():
    long = [{"role": "user", "content": "hello " * 280_000}]
    estimate = spend.worst_case({"model": DEFAULT_MODEL, "messages": long, "max_completion_tokens": 1000})
    assert estimate.prompt_tokens > MODELS[DEFAULT_MODEL].long_context.threshold
    info = MODELS[DEFAULT_MODEL]
    untiered = (estimate.prompt_tokens * info.cache_write_price + 1000 * info.output_price) / 1e6
    assert estimate.cost == pytest.approx(
        (estimate.prompt_tokens * info.cache_write_price * 2 + 1000 * info.output_price * 1.5) / 1e6
    )
    assert estimate.cost > 1.9 * untiered


# ---------------------------------------------------------------- the cap


def test_cap_zero_refuses_without_sending(monkeypatch):
    monkeypatch.setenv(CAP, "0")
    api = OfflineAPI(seed=0)
    client = offline_client(api)
    started = time.perf_counter()
    with pytest.raises(openai.RateLimitError) as caught:
        ask(client)
    assert time.perf_counter() - started < 0.5, "refusals must not be retried with back-off"
    assert api.requests == [], "a refused call must not reach the API"
    error = caught.value
    assert error.status_code == 429
    assert error.code == "insufficient_quota" and error.type == "insufficient_quota"
    assert error.response.headers["x-should-retry"] == "false"
    assert f"{CAP}=0" in error.body["message"] and "was not sent" in error.body["message"]
    assert spend.reserved() == 0 and spend.charges() == []


def test_a_call_that_could_pass_the_cap_is_refused_and_told_what_fits():
    api = OfflineAPI(seed=0)
    room = worst(max_completion_tokens=1000)
    client = capped(api, cap=room * 1.2)
    ask(client, max_completion_tokens=1000)  # fits: sent, and settled below its reservation
    assert 0 < spend.spent() < room and spend.reserved() == 0
    with pytest.raises(openai.RateLimitError) as caught:
        ask(client, max_completion_tokens=1000)  # spent + this worst case would pass the cap
    assert len(api.requests) == 1
    message = caught.value.body["message"]
    assert usd(room) in message and usd(spend.spent()) in message
    assert "1,000 completion tokens" in message and f"{CAP}=" in message
    fits = int(message.split("max_completion_tokens=")[1].split(" ")[0].replace(",", ""))
    assert 0 < fits < 1000
    ask(client, max_completion_tokens=fits)  # the advice works
    assert len(api.requests) == 2
    assert spend.spent() <= room * 1.2


def test_refusal_once_the_cap_is_reached_names_what_was_spent():
    spend.record(spend.Charge("gpt-4o", "gpt-4o", 1000, 1000, 0, 0.0123, False))
    with pytest.raises(
        openai.RateLimitError,
        match=r"Course spend cap reached: this call was not sent; this kernel has spent about \$0\.0123, of "
        r"COURSE_SPEND_CAP_USD=0\.01\. To go on, raise COURSE_SPEND_CAP_USD",
    ):
        ask(sdk(spend.SpendTransport(OfflineAPI().transport(), cap=0.01, cap_text="0.01")))


def test_reset_lets_calls_through_again():
    api = OfflineAPI(seed=0)
    client = capped(api, cap=worst(max_completion_tokens=1000) * 1.2)
    ask(client, max_completion_tokens=1000)
    with pytest.raises(openai.RateLimitError):
        ask(client, max_completion_tokens=1000)
    spend.reset()
    ask(client, max_completion_tokens=1000)
    assert len(api.requests) == 2


def test_eight_threads_under_a_cap_spend_at_most_the_cap():
    # The case: 8 concurrent calls under a $0.20 cap. The gate holds every request that
    # reaches the transport until all 8 threads have been admitted or refused, so each sees the
    # others' reservations: 3 worst cases of $0.064 fit, a 4th would pass the cap.
    api = OfflineAPI(seed=0)
    entered, refused, replies = [], [], []
    gate = threading.Event()

    def handler(request):
        entered.append(request)
        assert gate.wait(10), "gate never opened"
        return api.handle(request)

    client = sdk(spend.SpendTransport(httpx2.MockTransport(handler), cap=0.20, cap_text="0.20"))

    def call():
        try:
            replies.append(ask(client))
        except openai.RateLimitError as error:
            refused.append(error)

    threads = [threading.Thread(target=call) for _ in range(8)]
    for thread in threads:
        thread.start()
    wait_for(lambda: len(entered) + len(refused) == 8)
    assert spend.reserved() == pytest.approx(3 * worst())
    gate.set()
    for thread in threads:
        thread.join(10)
    assert not any(thread.is_alive() for thread in threads)
    assert (len(replies), len(refused)) == (3, 5)
    assert len(entered) == len(api.requests) == 3, "refused calls must never reach the transport"
    assert all(
        f"{CAP}=0.20" in e.body["message"] and "reserved by calls still running" in e.body["message"] for e in refused
    )
    assert spend.spent() <= 0.20 and spend.reserved() == 0
    assert spend.spent() == pytest.approx(sum(usage_cost(r.model, r.usage) for r in replies))


def test_open_streams_hold_their_reservations():
    api = OfflineAPI(seed=0)
    each = worst(max_completion_tokens=1000)
    client = capped(api, cap=each * 2.5)
    first, second = (ask(client, stream=True, max_completion_tokens=1000) for _ in range(2))
    assert spend.reserved() == pytest.approx(2 * each)
    with pytest.raises(openai.RateLimitError, match="reserved by calls still running"):
        ask(client, stream=True, max_completion_tokens=1000)
    assert len(api.requests) == 2
    list(first)  # read to the end: settled at its real cost, far below the reservation
    assert spend.reserved() == pytest.approx(each) and len(spend.charges()) == 1
    third = ask(client, stream=True, max_completion_tokens=1000)
    second.close()
    third.close()
    assert spend.reserved() == 0 and len(spend.charges()) == 3 and len(api.requests) == 3
    assert spend.spent() <= each * 2.5


def test_n_counts_every_choice():
    api = OfflineAPI(seed=0)
    one = worst(max_completion_tokens=100)
    assert worst(max_completion_tokens=100, n=3) > 2.9 * one
    client = capped(api, cap=2 * one)
    with pytest.raises(openai.RateLimitError, match=r"× n=3.*or a smaller n"):
        ask(client, max_completion_tokens=100, n=3)
    assert api.requests == []
    reply = ask(client, max_completion_tokens=100)
    assert spend.spent() == pytest.approx(usage_cost(DEFAULT_MODEL, reply.usage))
    # streamed without usage, every choice is counted: the same as the usage the emulator reports
    spend.reset()
    free = offline_client(OfflineAPI(seed=0))
    streamed(free, n=2)
    streamed(free, n=2, stream_options={"include_usage": True})
    counted, real = spend.charges()
    assert counted.estimated and not real.estimated
    assert (counted.prompt_tokens, counted.completion_tokens) == (real.prompt_tokens, real.completion_tokens)
    assert counted.completion_tokens > 2 * (REASONING_TOKENS["medium"] + OVERHEAD)


def unknown_model_transport(count: list, lookup: int = 200, served: tuple[str, ...] = ("mistral-small",)):
    """A compatible server that serves ``served`` (models outside the table) and prices nothing.
    ``lookup``: its answer to GET /models/{a model it does not serve}."""

    def handler(request):
        count.append(request)
        if request.method == "GET":
            name = request.url.path.rsplit("/", 1)[1]
            if name in served:
                return httpx2.Response(200, json={"id": name, "object": "model", "created": 0, "owned_by": "me"})
            return httpx2.Response(lookup, text="Not Found")  # a page, not the API's error shape
        return httpx2.Response(
            200,
            json={
                "id": "c",
                "object": "chat.completion",
                "created": 0,
                "model": json.loads(request.content)["model"],
                "usage": {"prompt_tokens": 1000, "completion_tokens": 500, "total_tokens": 1500},
                "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "hi"}}],
            },
        )

    return httpx2.MockTransport(handler)


def test_a_served_model_without_a_price_is_refused_under_a_cap():
    sent = []
    client = sdk(spend.SpendTransport(unknown_model_transport(sent), cap=100.0))
    with pytest.raises(openai.RateLimitError, match=r"'mistral-small' has no price in helpers/models\.py \(the server"):
        ask(client, model="mistral-small")
    # Only the free question was asked: GET /v1/models/mistral-small, with the request's key.
    assert [(r.method, r.url.path) for r in sent] == [("GET", "/v1/models/mistral-small")]
    assert sent[0].headers["authorization"] == "Bearer sk-test"
    assert spend.charges() == [] and spend.reserved() == 0


@pytest.mark.parametrize("lookup", [500, 404, 405])
def test_a_model_the_server_cannot_tell_about_is_refused_under_a_cap(lookup):
    # A server without GET /models/{id} (a plain 404 page, 405) or a failing one: nothing is sent.
    sent = []
    client = sdk(spend.SpendTransport(unknown_model_transport(sent, lookup), cap=100.0), max_retries=0)
    with pytest.raises(openai.RateLimitError, match=r"'gpt-6-lnua' \(did you mean 'gpt-6-luna'\?\) has no price"):
        ask(client, model="gpt-6-lnua")
    assert [r.method for r in sent] == ["GET"] and spend.charges() == []


def test_a_key_refused_while_asking_about_a_model_is_the_apis_401():
    sent = []

    def handler(request):
        sent.append(request.method)
        error = {"message": "Incorrect API key provided: sk-test.", "type": "invalid_request_error"}
        return httpx2.Response(401, json={"error": {**error, "param": None, "code": "invalid_api_key"}})

    client = sdk(spend.SpendTransport(httpx2.MockTransport(handler), cap=1.0), max_retries=0)
    with pytest.raises(openai.AuthenticationError, match="Incorrect API key") as caught:
        ask(client, model="gpt-6-lnua")
    assert caught.value.code == "invalid_api_key" and sent == ["GET"]


def misspelled(client, stream: bool):
    return ask(client, model="gpt-6-lnua", stream=stream)


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "streamed"])
@pytest.mark.parametrize("cap", [None, 100.0, 0.0], ids=["no cap", "cap", "cap 0"])
def test_a_misspelled_model_is_the_apis_404_with_or_without_a_cap(cap, stream):
    api, caught = OfflineAPI(seed=0), None
    try:
        misspelled(capped(api, cap=cap), stream)
    except openai.NotFoundError as error:  # what a learner's except clause catches
        caught = error
    assert caught is not None and caught.status_code == 404 and caught.code == "model_not_found"
    assert caught.body["message"] == "The model `gpt-6-lnua` does not exist or you do not have access to it."
    assert caught.body == {
        "message": caught.body["message"],
        "type": "invalid_request_error",
        "param": None,
        "code": "model_not_found",
    }
    # With a cap the completion is never sent (the server was only asked about the model).
    assert len(api.requests) == (1 if cap is None else 0)
    assert spend.charges() == [] and spend.reserved() == 0


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "streamed"])
@pytest.mark.parametrize("cap", [None, 100.0], ids=["no cap", "cap"])
def test_async_a_misspelled_model_is_the_apis_404_with_or_without_a_cap(cap, stream):
    async def main():
        api = OfflineAPI(seed=0)
        client = async_sdk(spend.AsyncSpendTransport(async_offline(api), cap=cap))
        try:
            await client.chat.completions.create(model="gpt-6-lnua", messages=HELLO, stream=stream)
        except openai.NotFoundError as error:
            return error, api
        finally:
            await client.close()

    caught, api = run(main())
    assert caught.code == "model_not_found" and "`gpt-6-lnua` does not exist" in caught.body["message"]
    assert len(api.requests) == (1 if cap is None else 0) and spend.charges() == []


def test_async_a_served_model_without_a_price_is_refused_under_a_cap():
    sent = []

    async def main():
        transport = unknown_model_transport(sent)  # MockTransport answers async requests too
        client = async_sdk(spend.AsyncSpendTransport(transport, cap=100.0))
        try:
            await client.chat.completions.create(model="mistral-small", messages=HELLO)
        finally:
            await client.close()

    with pytest.raises(openai.RateLimitError, match="has no price"):
        run(main())
    assert [r.method for r in sent] == ["GET"]


def test_a_model_without_a_price_is_recorded_unpriced_without_a_cap():
    sent = []
    client = sdk(spend.SpendTransport(unknown_model_transport(sent)))
    with pytest.warns(spend.SpendWarning, match="no price for model 'llama-3-8b'.*recorded at \\$0"):
        ask(client, model="llama-3-8b")
    (charge,) = spend.charges()
    assert charge.priced_as is None and charge.cost == 0
    assert (charge.prompt_tokens, charge.completion_tokens) == (1000, 500)
    assert spend.summary()["unpriced_calls"] == 1 and len(sent) == 1


def test_a_shut_down_model_reserves_only_its_prompt_and_gets_its_404():
    # The API answers a retired model with a 404, which costs nothing: a small cap lets it through.
    assert MODELS["o4-mini"].retired
    estimate = spend.worst_case({"model": "o4-mini", "messages": HELLO})
    assert estimate.completion_tokens == 0
    assert estimate.cost == pytest.approx(estimate_cost("o4-mini", estimate.prompt_tokens, 0))
    api = OfflineAPI(seed=0)
    with pytest.raises(openai.NotFoundError, match="deprecated"):
        ask(capped(api, cap=0.001), model="o4-mini")
    assert len(api.requests) == 1 and spend.spent() == 0 and spend.reserved() == 0


def test_a_cap_is_an_amount():
    for bad in ("abc", "-1", "nan", "inf"):
        with pytest.raises(ValueError, match="must be an amount in US dollars"):
            spend.parse_cap(bad)
    for bad in (-1, float("nan"), float("inf"), "0.5"):
        with pytest.raises(ValueError, match="must be an amount"):
            spend.SpendTransport(OfflineAPI().transport(), cap=bad)


def test_a_cap_function_that_fails_refuses():
    # Older callers pass a function read before each request; one that cannot read the cap
    # refuses the call rather than spend unguarded.
    def broken():
        return spend.parse_cap("abc")

    api = OfflineAPI()
    with pytest.raises(openai.RateLimitError, match="must be an amount"):
        ask(sdk(spend.SpendTransport(api.transport(), cap=broken)))
    assert api.requests == []


@pytest.mark.parametrize("bad", ["abc", "-1"])
def test_get_client_rejects_a_cap_that_is_not_an_amount(monkeypatch, bad):
    monkeypatch.setenv(CAP, bad)
    with pytest.raises(ValueError, match="must be an amount in US dollars"):
        get_client(offline=True, quiet=True)


def test_get_client_offline_is_metered_and_capped(monkeypatch):
    monkeypatch.setenv(CAP, "0")
    with pytest.raises(openai.RateLimitError):
        ask(get_client(offline=True, quiet=True))
    monkeypatch.delenv(CAP)
    ask(get_client(offline=True, quiet=True))
    assert len(spend.charges()) == 1


def test_errors_cost_nothing_and_listing_models_is_never_refused():
    api = OfflineAPI(seed=0)
    client = capped(api, cap=1.0, max_retries=0)
    api.fail_next("server_error")
    with pytest.raises(openai.InternalServerError):
        ask(client)
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="gpt-3.5-turbo", messages=HELLO)  # retired: a 404
    with warnings.catch_warnings():
        warnings.simplefilter("error", spend.SpendWarning)  # a typo's 404 costs nothing: no warning either
        with pytest.raises(openai.NotFoundError):
            capped(api, cap=None).chat.completions.create(model="gpt-6-lnua", messages=HELLO)
    assert spend.spent() == 0 and spend.reserved() == 0 and spend.charges() == []
    assert DEFAULT_MODEL in [m.id for m in capped(api, cap=0.0).models.list()]


def test_a_transport_failure_releases_the_reservation():
    def handler(request):
        raise httpx2.ConnectError("no route", request=request)

    with pytest.raises(openai.APIConnectionError):
        ask(sdk(spend.SpendTransport(httpx2.MockTransport(handler), cap=1.0), max_retries=0))
    assert spend.reserved() == 0 and spend.charges() == []


def test_a_broken_stream_does_not_break_the_call_and_costs_its_prompt():
    def handler(request):
        return httpx2.Response(
            200,
            headers={"content-type": "text/event-stream"},
            content=iter([b"data: {not json\n\n", b"data: [DONE]\n\n"]),
        )

    http = httpx2.Client(transport=spend.SpendTransport(httpx2.MockTransport(handler)))
    body = {"model": "gpt-4o", "messages": HELLO}
    assert http.post(f"{URL}/chat/completions", json=body).status_code == 200
    (charge,) = spend.charges()
    assert charge.completion_tokens == 0 and charge.prompt_tokens == count_message_tokens(HELLO, "gpt-4o")
    # a 200 that is no completion at all (a captive portal's page) costs nothing
    spend.reset()
    page = httpx2.MockTransport(lambda request: httpx2.Response(200, html="<html>Sign in to the Wi-Fi</html>"))
    assert httpx2.Client(transport=spend.SpendTransport(page)).post(f"{URL}/chat/completions", json=body).is_success
    assert spend.charges() == [] and spend.reserved() == 0


def test_summary_is_plain_data():
    ask(offline_client(OfflineAPI(seed=0)))
    json.dumps(spend.summary())


# ---------------------------------------------------------------- async clients


def async_offline(api: OfflineAPI, gate: Callable | None = None) -> httpx2.MockTransport:
    """The emulator for httpx2.AsyncClient: its streamed bodies handed out as async iterators."""

    async def handler(request):
        if gate is not None:
            await gate(request)
        response = api.handle(request)
        if isinstance(response.stream, httpx2.AsyncByteStream):
            return response

        async def body():
            for chunk in response.stream:
                yield chunk

        headers = {k: v for k, v in response.headers.items() if k not in ("content-length", "transfer-encoding")}
        return httpx2.Response(response.status_code, headers=headers, content=body())

    return httpx2.MockTransport(handler)


def async_sdk(transport: httpx2.AsyncBaseTransport, **kwargs) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(
        api_key="sk-test", base_url=URL, http_client=openai.DefaultAsyncHttpx2Client(transport=transport), **kwargs
    )


def run(coroutine):
    return asyncio.run(asyncio.wait_for(coroutine, 10))


def test_async_clients_are_metered():
    async def main():
        client = async_sdk(spend.AsyncSpendTransport(async_offline(OfflineAPI(seed=0))))
        reply = await client.chat.completions.create(model=DEFAULT_MODEL, messages=HELLO)
        usage = None
        async for chunk in await client.chat.completions.create(
            model=DEFAULT_MODEL, messages=HELLO, stream=True, stream_options={"include_usage": True}
        ):
            usage = chunk.usage or usage
        text = []
        async for chunk in await client.chat.completions.create(model="gpt-4o", messages=HELLO, stream=True):
            text.extend(c.delta.content or "" for c in chunk.choices)
        half = await client.chat.completions.create(model=DEFAULT_MODEL, messages=HELLO, stream=True)
        await half.__anext__()
        assert spend.reserved() > 0
        await half.close()
        await client.close()
        return reply, usage, "".join(text)

    reply, usage, text = run(main())
    plain, streamed_, counted, half = spend.charges()
    assert plain.cost == pytest.approx(usage_cost(DEFAULT_MODEL, reply.usage))
    assert streamed_.cost == pytest.approx(usage_cost(DEFAULT_MODEL, usage)) and not streamed_.estimated
    assert counted.estimated and counted.completion_tokens == count_tokens(text, "gpt-4o") > 0
    assert half.estimated and half.prompt_tokens == reply.usage.prompt_tokens
    assert spend.reserved() == 0


def test_async_concurrent_calls_are_capped():
    entered, refused, replies = [], [], []

    async def main():
        opened = asyncio.Event()

        async def gate(request):
            entered.append(request)
            await asyncio.wait_for(opened.wait(), 5)

        api = OfflineAPI(seed=0)
        client = async_sdk(spend.AsyncSpendTransport(async_offline(api, gate), cap=0.20, cap_text="0.20"))

        async def call(stream: bool):
            try:
                if stream:
                    reply = await client.chat.completions.create(model=DEFAULT_MODEL, messages=HELLO, stream=True)
                    replies.append([chunk async for chunk in reply])
                else:
                    replies.append(await client.chat.completions.create(model=DEFAULT_MODEL, messages=HELLO))
            except openai.RateLimitError as error:
                refused.append(error)

        async def opener():
            while len(entered) + len(refused) < 8:
                await asyncio.sleep(0.005)
            assert spend.reserved() == pytest.approx(3 * worst())
            opened.set()

        await asyncio.gather(opener(), *(call(stream=i % 2 == 1) for i in range(8)))
        await client.close()
        return api

    api = run(main())
    assert (len(replies), len(refused)) == (3, 5)
    assert len(entered) == len(api.requests) == 3
    assert spend.spent() <= 0.20 and spend.reserved() == 0 and len(spend.charges()) == 3
    assert all("was not sent" in e.body["message"] for e in refused)


# ---------------------------------------------------------------- the real-key path


class _Handler(BaseHTTPRequestHandler):
    """Serves the offline emulator over real HTTP, gzipping JSON when asked, as OpenAI does."""

    api = OfflineAPI(seed=0)
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # keep test output clean
        pass

    def do_GET(self):
        self.answer()

    def do_POST(self):
        self.answer()

    def answer(self):
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        request = httpx2.Request(self.command, f"http://test{self.path}", headers=dict(self.headers), content=body)
        response = self.api.handle(request)
        self.send_response(response.status_code)
        streamed = "event-stream" in response.headers.get("content-type", "")
        for name, value in response.headers.items():
            if name not in ("content-length", "transfer-encoding", "content-encoding"):
                self.send_header(name, value)
        if streamed:
            self.send_header("transfer-encoding", "chunked")
            self.end_headers()
            for piece in response.iter_bytes():
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
            return
        payload = response.read()
        if "gzip" in self.headers.get("accept-encoding", ""):
            payload = gzip.compress(payload)
            self.send_header("content-encoding", "gzip")
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@pytest.fixture
def server(monkeypatch):
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    _Handler.api = OfflineAPI(seed=0)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.timeout = 5
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/v1", _Handler.api
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def test_real_key_client_is_metered_over_http(server, monkeypatch):
    url, api = server
    monkeypatch.delenv("COURSE_OFFLINE")
    client = get_client(api_key="sk-test-not-a-real-key-123", base_url=url, quiet=True, timeout=10)
    assert isinstance(client, openai.OpenAI)
    reply = ask(client)  # JSON, gzip-compressed on the wire
    assert reply.choices[0].message.content.startswith("[offline]")
    _, usage = streamed(client, stream_options={"include_usage": True})
    text, _ = streamed(client)
    assert text
    first, second, third = spend.charges()
    assert first.cost == pytest.approx(usage_cost(DEFAULT_MODEL, reply.usage))
    assert second.cost == pytest.approx(usage_cost(DEFAULT_MODEL, usage)) and not second.estimated
    # The same reply streamed without usage: counted, hidden tokens at the offline figures.
    assert third.estimated and third.prompt_tokens == usage.prompt_tokens
    assert third.completion_tokens == usage.completion_tokens
    assert len(api.requests) == 3 and spend.reserved() == 0

    monkeypatch.setenv(CAP, f"{spend.spent() + worst() / 2:.8f}")
    capped_client = get_client(api_key="sk-test-not-a-real-key-123", base_url=url, quiet=True, timeout=10)
    with pytest.raises(openai.RateLimitError, match="was not sent"):
        ask(capped_client)
    with pytest.raises(openai.NotFoundError, match="`gpt-6-lnua` does not exist"):
        ask(capped_client, model="gpt-6-lnua")  # a typo: the server's 404, under the cap too
    assert len(api.requests) == 3
