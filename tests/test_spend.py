"""The spend meter and COURSE_SPEND_CAP_USD, through the real SDK.

Offline clients talk to the emulator through the meter; the real-key path is tested
against the emulator served over HTTP on 127.0.0.1, so the SDK's real network stack
(with gzip) runs through the meter too.
"""

from __future__ import annotations

import gzip
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx2
import openai
import pytest

from helpers import spend
from helpers.client import get_client, offline_client
from helpers.models import DEFAULT_MODEL, MODELS
from helpers.offline import OfflineAPI
from helpers.pricing import estimate_cost, usage_cost
from helpers.tokens import count_tokens

CAP = spend.CAP_VARIABLE
HELLO = [{"role": "user", "content": "Hello! What is a token?"}]


@pytest.fixture(autouse=True)
def fresh_meter(monkeypatch, tmp_path):
    # No cap unless a test sets one, and no .env of the developer's: run from an empty folder.
    monkeypatch.delenv(CAP, raising=False)
    monkeypatch.chdir(tmp_path)
    spend.reset()
    yield
    spend.reset()


def ask(client, **params):
    return client.chat.completions.create(**{"model": DEFAULT_MODEL, "messages": HELLO, **params})


def streamed(client, **params):
    """Stream a reply to the end; return its text and its usage (None without include_usage)."""
    text, usage = [], None
    for chunk in ask(client, stream=True, **params):
        usage = chunk.usage or usage
        text.extend(c.delta.content or "" for c in chunk.choices)
    return "".join(text), usage


def test_each_call_is_priced_at_its_own_model():
    client = offline_client(OfflineAPI(seed=0))
    replies = [ask(client), ask(client, n=2), ask(client, model="gpt-4o-2024-08-06"),
               client.chat.completions.create(model="gpt-6-astra", messages=HELLO)]
    costs = [c.cost for c in spend.charges()]
    assert costs == pytest.approx([usage_cost(r.model, r.usage) for r in replies])
    assert [c.priced_as for c in spend.charges()] == [DEFAULT_MODEL, DEFAULT_MODEL, "gpt-4o", "gpt-6-astra"]
    assert len(set(costs)) == 4
    # reasoning tokens are part of completion_tokens and bill as output
    assert replies[3].usage.completion_tokens_details.reasoning_tokens > 0
    assert spend.charges()[3].completion_tokens == replies[3].usage.completion_tokens
    assert not any(c.estimated for c in spend.charges())


def test_meter_equals_sum_of_usage_costs_exactly():
    client = offline_client(OfflineAPI(seed=0))
    replies = [ask(client), ask(client, max_completion_tokens=5), client.chat.completions.create(
        model="gpt-5.4-nano", messages=HELLO + [{"role": "assistant", "content": "A piece of text."},
                                                {"role": "user", "content": "Tell me more"}])]
    assert spend.spent() == pytest.approx(sum(usage_cost(r.model, r.usage) for r in replies), rel=1e-12)
    summary = spend.summary()
    assert summary["calls"] == 3
    assert summary["prompt_tokens"] == sum(r.usage.prompt_tokens for r in replies)
    assert summary["completion_tokens"] == sum(r.usage.completion_tokens for r in replies)


def test_streams_with_include_usage_are_metered_from_the_usage_chunk():
    client = offline_client(OfflineAPI(seed=0))
    _, usage = streamed(client, stream_options={"include_usage": True})
    assert usage is not None
    (charge,) = spend.charges()
    assert not charge.estimated
    assert spend.spent() == pytest.approx(usage_cost(DEFAULT_MODEL, usage))


def test_streams_without_usage_are_estimated_with_tiktoken():
    # gpt-4o reports nothing but its text, so the estimate is exact.
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


def test_a_reasoning_stream_without_usage_is_estimated_from_its_visible_text():
    # A stream carries no reasoning tokens: without include_usage the meter counts what it
    # can see, so it is low by the hidden tokens (reasoning, and the family's few extra ones).
    client = offline_client(OfflineAPI(seed=0))
    text, _ = streamed(client)
    (charge,) = spend.charges()
    spend.reset()
    _, real = streamed(client, stream_options={"include_usage": True})
    hidden = real.completion_tokens_details.reasoning_tokens + MODELS[DEFAULT_MODEL].rules.completion_overhead
    assert real.completion_tokens_details.reasoning_tokens > 0
    assert charge.estimated and charge.prompt_tokens == real.prompt_tokens
    assert charge.completion_tokens == count_tokens(text, DEFAULT_MODEL) == real.completion_tokens - hidden
    assert charge.cost == pytest.approx(estimate_cost(DEFAULT_MODEL, charge.prompt_tokens, charge.completion_tokens))
    assert charge.cost < usage_cost(DEFAULT_MODEL, real)


def test_a_stream_left_half_way_is_metered_for_what_arrived():
    client = offline_client(OfflineAPI(seed=0))
    stream = client.chat.completions.create(model=DEFAULT_MODEL, stream=True,
                                            messages=[{"role": "user", "content": "a long reply please"}])
    next(iter(stream))
    next(iter(stream))
    stream.close()
    (charge,) = spend.charges()
    assert charge.estimated and charge.prompt_tokens > 0


def test_no_cap_means_no_limit():
    api = OfflineAPI(seed=0)
    client = offline_client(api)
    for _ in range(5):
        ask(client)
    assert len(api.requests) == 5 and spend.spent() > 0


@pytest.mark.parametrize("cap", ["0", "0.00001"])
def test_cap_refuses_the_next_call_without_sending_it(monkeypatch, cap):
    monkeypatch.setenv(CAP, cap)
    api = OfflineAPI(seed=0)
    client = offline_client(api)
    if cap != "0":
        ask(client)  # under the cap: goes through and crosses it
        assert len(api.requests) == 1
    sent = len(api.requests)
    started = time.perf_counter()
    with pytest.raises(openai.RateLimitError) as caught:
        ask(client)
    assert time.perf_counter() - started < 0.5, "refusals must not be retried with back-off"
    assert len(api.requests) == sent, "a refused call must not reach the API"
    error = caught.value
    assert error.status_code == 429
    assert error.code == "insufficient_quota" and error.type == "insufficient_quota"
    assert error.response.headers["x-should-retry"] == "false"
    message = error.body["message"]
    assert message.startswith("Course spend cap reached")
    assert f"{CAP}={cap}" in message
    assert spend.usd(spend.spent()) in message
    assert "Raise the cap (or unset it)" in message


def test_refusal_names_what_was_spent(monkeypatch):
    spend.record(spend.Charge("gpt-4o", "gpt-4o", 1000, 1000, 0, 0.0123, False))
    monkeypatch.setenv(CAP, "0.01")
    with pytest.raises(openai.RateLimitError, match=r"spent about \$0\.0123, over COURSE_SPEND_CAP_USD=0\.01\."):
        ask(offline_client(OfflineAPI()))


def test_raising_the_cap_or_resetting_lets_calls_through(monkeypatch):
    monkeypatch.setenv(CAP, "0")
    client = offline_client(OfflineAPI(seed=0))
    with pytest.raises(openai.RateLimitError):
        ask(client)
    monkeypatch.setenv(CAP, "5")
    ask(client)
    monkeypatch.delenv(CAP)
    ask(client)


def test_get_client_offline_is_metered_and_capped(monkeypatch, capsys):
    monkeypatch.setenv(CAP, "0")
    client = get_client(offline=True)
    assert "Spend cap: COURSE_SPEND_CAP_USD=0" in capsys.readouterr().out
    with pytest.raises(openai.RateLimitError):
        ask(client)
    monkeypatch.delenv(CAP)
    ask(get_client(offline=True, quiet=True))
    assert len(spend.charges()) == 1


def test_cap_can_come_from_dotenv(monkeypatch, tmp_path):
    monkeypatch.delenv("COURSE_IGNORE_DOTENV")  # the test settings switch .env off
    (tmp_path / ".env").write_text(f"{CAP}=0\n")
    with pytest.raises(openai.RateLimitError):
        ask(get_client(offline=True, quiet=True))
    monkeypatch.setenv(CAP, "1")  # the environment wins over .env
    ask(get_client(offline=True, quiet=True))


@pytest.mark.parametrize("bad", ["abc", "-1", "nan", "inf"])
def test_a_cap_that_is_not_an_amount_is_an_error(monkeypatch, bad):
    monkeypatch.setenv(CAP, bad)
    with pytest.raises(ValueError, match="must be an amount in US dollars"):
        get_client(offline=True, quiet=True)
    # A client made before the value went bad refuses rather than spends unguarded.
    monkeypatch.delenv(CAP)
    client = get_client(offline=True, quiet=True)
    monkeypatch.setenv(CAP, bad)
    with pytest.raises(openai.RateLimitError, match="must be an amount"):
        ask(client)


def test_errors_cost_nothing_and_listing_models_is_never_refused(monkeypatch):
    api = OfflineAPI(seed=0)
    client = offline_client(api, max_retries=0)
    api.fail_next("server_error")
    with pytest.raises(openai.InternalServerError):
        ask(client)
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="no-such-model", messages=HELLO)
    assert spend.spent() == 0
    monkeypatch.setenv(CAP, "0")
    assert DEFAULT_MODEL in [m.id for m in client.models.list()]


def test_unknown_models_are_priced_as_the_default_model_with_a_warning():
    usage = {"prompt_tokens": 1000, "completion_tokens": 500, "total_tokens": 1500}
    with pytest.warns(spend.SpendWarning, match="no price for model 'llama-3-8b'"):
        charge = spend.charge_for_usage("llama-3-8b", usage)
    assert charge.priced_as == DEFAULT_MODEL
    assert charge.cost == pytest.approx(usage_cost(DEFAULT_MODEL, usage))


def test_a_broken_response_is_not_metered_and_does_not_break_the_call():
    def handler(request):
        return httpx2.Response(200, headers={"content-type": "text/event-stream"},
                               content=iter([b"data: {not json\n\n", b"data: [DONE]\n\n"]))

    http = httpx2.Client(transport=spend.SpendTransport(httpx2.MockTransport(handler)))
    assert http.post("https://x.invalid/v1/chat/completions", json={"model": DEFAULT_MODEL}).status_code == 200
    assert spend.spent() == 0


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
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/v1", _Handler.api
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def test_real_key_client_is_metered_over_http(server, monkeypatch, capsys):
    url, api = server
    monkeypatch.delenv("COURSE_OFFLINE")
    client = get_client(api_key="sk-test-not-a-real-key-123", base_url=url)
    out = capsys.readouterr().out
    assert f"the server at {url}" in out and "sk-test-not" not in out
    assert isinstance(client, openai.OpenAI)
    reply = ask(client)  # JSON, gzip-compressed on the wire
    assert reply.choices[0].message.content.startswith("[offline]")
    _, usage = streamed(client, stream_options={"include_usage": True})
    text, _ = streamed(client)
    assert text
    first, second, third = spend.charges()
    assert first.cost == pytest.approx(usage_cost(DEFAULT_MODEL, reply.usage))
    assert second.cost == pytest.approx(usage_cost(DEFAULT_MODEL, usage)) and not second.estimated
    # The same reply streamed without usage: counted from its text, without the hidden tokens.
    hidden = usage.completion_tokens_details.reasoning_tokens + MODELS[DEFAULT_MODEL].rules.completion_overhead
    assert third.estimated and third.prompt_tokens == usage.prompt_tokens
    assert third.completion_tokens == count_tokens(text, DEFAULT_MODEL) == usage.completion_tokens - hidden
    assert third.cost == pytest.approx(estimate_cost(DEFAULT_MODEL, third.prompt_tokens, third.completion_tokens))
    assert len(api.requests) == 3

    monkeypatch.setenv(CAP, f"{spend.spent() / 2:.8f}")
    with pytest.raises(openai.RateLimitError, match="Course spend cap reached"):
        ask(client)
    assert len(api.requests) == 3


def test_real_client_keeps_proxies_from_the_environment(monkeypatch):
    monkeypatch.delenv("COURSE_OFFLINE")
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    client = get_client(api_key="sk-test-not-a-real-key-123", quiet=True)
    transports = list(client._client._mounts.values()) + [client._client._transport]
    assert transports and all(isinstance(t, spend.SpendTransport) for t in transports if t is not None)
    assert len(client._client._mounts) >= 1, "the proxy route was lost"


def test_summary_is_plain_data():
    ask(offline_client(OfflineAPI(seed=0)))
    json.dumps(spend.summary())
