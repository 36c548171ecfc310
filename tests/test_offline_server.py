"""`python -m helpers._offline serve`: the offline model as a real HTTP server on 127.0.0.1,
called with the real SDK (plain and streamed), then stopped. Bounded in time. Also the parts
that keep it responsive, in process: the body limit, long prompts counted in pieces, the
request log bounded in bytes and the rate-limit headers. (Under load: test_offline_server_load.py.)"""

import asyncio
import random
import socket
import subprocess
from pathlib import Path

import httpx2
import openai
import pytest

pytest.importorskip("uvicorn", reason="pip install -r requirements-dev.txt")
pytest.importorskip("starlette", reason="pip install -r requirements-dev.txt")

from processes import SERVE, offline_model_served  # noqa: E402

from helpers import DEFAULT_MODEL, OfflineAPI, count_message_tokens, encoding_for  # noqa: E402
from helpers._offline import MARKER, RequestLog  # noqa: E402
from helpers._offline import api as offline_api  # noqa: E402
from helpers._offline import request as offline_request  # noqa: E402
from helpers._offline import server as offline_server  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def server():
    """The served offline model: (url, port, process)."""
    with offline_model_served(COURSE_OFFLINE_SEED="1") as served:
        yield served


def test_the_sdk_talks_to_the_served_model(server):
    url, _, _ = server
    client = openai.OpenAI(base_url=url, api_key="any-key", max_retries=0, timeout=10)
    assert DEFAULT_MODEL in [m.id for m in client.models.list()]
    plain = client.chat.completions.create(
        model=DEFAULT_MODEL, messages=[{"role": "user", "content": "hi"}], reasoning_effort="none", temperature=0
    )
    assert plain.choices[0].message.content.startswith(MARKER) and plain.usage.total_tokens > 0
    chunks = list(
        client.chat.completions.create(
            model=DEFAULT_MODEL,
            messages=[{"role": "user", "content": "hi"}],
            reasoning_effort="none",
            temperature=0,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == plain.choices[0].message.content
    assert chunks[-1].usage == plain.usage
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model=DEFAULT_MODEL, messages=[])
    assert info.value.code == "empty_array" and info.value.request_id.startswith("req_")


def test_it_binds_only_the_loopback_address_by_default(server):
    _, port, proc = server
    assert proc.poll() is None
    addresses = {info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)}
    for address in addresses - {"127.0.0.1", "127.0.1.1"}:  # another interface of this machine
        with socket.socket() as s:
            s.settimeout(1)
            assert s.connect_ex((address, port)) != 0, f"reachable on {address}"


def test_serve_help_names_the_default_host():
    out = subprocess.run(
        [*SERVE, "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0 and "127.0.0.1" in out.stdout and "--port" in out.stdout
    assert "--max-body-mb" in out.stdout and "413" in out.stdout


def post(served, content: bytes, headers: dict | None = None) -> httpx2.Response:
    """One request to an ASGI app, in process."""

    async def send() -> httpx2.Response:
        transport = httpx2.ASGITransport(app=served)
        async with httpx2.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            return await client.post(
                "/v1/chat/completions", content=content, headers=headers or {"Authorization": "Bearer offline"}
            )

    return asyncio.run(send())


def test_the_body_limit_is_set_by_max_body_mb(monkeypatch):
    import uvicorn

    served = []
    # Bind and serve are the server's; only the app and its address are looked at here.
    monkeypatch.setattr(uvicorn.Config, "bind_socket", lambda config: None)
    monkeypatch.setattr(uvicorn.Server, "run", lambda server, sockets=None: served.append(server.config))
    assert offline_server.main(["serve", "--max-body-mb", "0.5"]) == 0
    assert offline_server.main(["serve"]) == 0
    half, default = (config.app for config in served)
    assert served[0].host == "127.0.0.1"
    body = b'{"model": "%s", "messages": [{"role": "user", "content": "%s"}]}' % (
        DEFAULT_MODEL.encode(),
        b"a " * 300_000,
    )
    refused = post(half, body)
    assert refused.status_code == 413 and refused.json()["error"]["code"] == "request_too_large"
    assert "at most 0.5 MB (524,288 bytes)" in refused.json()["error"]["message"]
    assert "--max-body-mb 1" in refused.json()["error"]["message"]  # twice the limit in force
    assert post(default, body).status_code == 200


@pytest.mark.parametrize("value", ["0", "-3", "lots", "5000"])
def test_a_bad_body_limit_is_refused(value, capsys):
    with pytest.raises(SystemExit) as info:
        offline_server.main(["serve", "--max-body-mb", value])
    assert info.value.code == 2 and "megabytes from 0 to 1024" in capsys.readouterr().err


def test_a_request_without_a_key_is_refused_before_its_body_is_read():
    api = OfflineAPI(seed=0)
    body = b'{"model": "%s", "messages": [{"role": "user", "content": "hi"}]}' % DEFAULT_MODEL.encode()
    for headers in ({}, {"Authorization": "Bearer"}, {"Authorization": "  "}):
        refused = post(offline_server.app(api), body, {"x": "y", **headers})
        assert refused.status_code == 401 and refused.json()["error"]["message"].startswith("You didn't provide")
    assert api.requests == []
    assert post(offline_server.app(api), body).status_code == 200 and len(api.requests) == 1


def test_long_fields_are_counted_in_pieces_with_the_same_total(monkeypatch):
    monkeypatch.setattr(offline_request, "PIECE", 40)
    words = ["hello", "Seoul", "날씨는", "it's", "don't", "123", "4567", "naïve", "🙂", "--", "...", "IBM", "½"]
    gaps = [" ", "  ", "\n", " \n", ". ", ", ", "\n\n", "\t", "", "\r\n"]
    rng = random.Random(7)
    cut = 0
    for name in ("gpt-4o", DEFAULT_MODEL, "gpt-4"):  # o200k_base and cl100k_base
        enc = encoding_for(name)
        for _ in range(300):
            text = "".join(rng.choice(words) + rng.choice(gaps) for _ in range(rng.randint(5, 60)))
            pieces = offline_request._pieces(text)
            cut += len(pieces) - 1
            assert "".join(pieces) == text
            assert sum(len(enc.encode_ordinary(p)) for p in pieces) == len(enc.encode_ordinary(text)), text
            messages = [{"role": "system", "content": text}, {"role": "assistant", "content": text, "name": "bo"}]
            assert offline_request.message_tokens(messages, name) == count_message_tokens(messages, name)
    assert cut > 1000  # the texts were really cut
    assert offline_request._pieces("x" * 100) == ["x" * 100]  # nowhere to cut: counted whole


def test_the_request_log_is_bounded_in_bytes():
    def body(i: int) -> dict:
        return {"messages": [{"role": "user", "content": f"{i:02} " + "x" * 3000}]}

    log = RequestLog(size=50, max_bytes=int(3.5 * offline_api._weight(body(0))))  # room for three
    for i in range(20):
        log.append(body(i))
    assert len(log) == 3 and log[-1]["messages"][0]["content"].startswith("19 ")  # the newest stay
    log.append({"messages": [{"role": "user", "content": "y" * 50_000}]})
    assert len(log) == 1 and log[0]["messages"][0]["content"] == "y" * 50_000  # the newest, however large
    log.clear()  # changed another way than append: weighed again
    for i in range(4):
        log.append(body(i))
    assert len(log) == 3 and log[0]["messages"][0]["content"].startswith("01 ")
    counted = RequestLog(size=50)  # the default byte bound: only the count matters here
    for i in range(60):
        counted.append({"turn": i})
    assert len(counted) == 50 and counted[0] == {"turn": 10}


def test_a_success_never_says_0_requests_remaining(monkeypatch):
    monkeypatch.setattr(offline_api, "RATE_LIMIT_REQUESTS", 5)
    api = OfflineAPI(seed=0)
    body = b'{"model": "%s", "messages": [{"role": "user", "content": "hi"}]}' % DEFAULT_MODEL.encode()
    seen = []
    for _ in range(8):
        reply = api.reply("POST", "/v1/chat/completions", {"authorization": "Bearer offline"}, body)
        assert reply.status == 200 and reply.headers["x-ratelimit-limit-requests"] == "5"
        seen.append(reply.headers["x-ratelimit-remaining-requests"])
    assert seen == ["4", "3", "2", "1", "1", "1", "1", "1"]


def test_a_busy_port_is_named_and_no_banner_claims_the_server_runs():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [*SERVE, "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    assert "Offline model on" not in result.stdout and f"127.0.0.1:{port}" in result.stderr
    assert "--port" in result.stderr
