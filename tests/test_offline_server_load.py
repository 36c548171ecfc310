"""The served offline model under load: a real server on 127.0.0.1 (a free port, a subprocess),
sent at most 20 large bodies and 200 small requests, each part bounded in time, then stopped.

It proves that while 5 MB requests arrive, small requests still answer within 100 ms (p99); that
a body over the limit gets the API-shaped 413 without being read into memory; that the server's
memory stays flat under a stream of large bodies; that every path answers 401 without a key; and
that a success never reports 0 requests remaining."""

from __future__ import annotations

import http.client
import json
import os
import statistics
import sys
import threading
import time

import pytest

pytest.importorskip("uvicorn", reason="pip install -r requirements-dev.txt")
pytest.importorskip("starlette", reason="pip install -r requirements-dev.txt")
psutil = pytest.importorskip("psutil", reason="pip install -r requirements-dev.txt")

from processes import HOST, free_port, running  # noqa: E402

from helpers import DEFAULT_MODEL  # noqa: E402

# processes.HOST, 127.0.0.1, is the only address this test sends to.
KEY = {"Authorization": "Bearer offline", "Content-Type": "application/json"}
MB = 2**20
# The server here allows 40 requests a minute (the real default is 5,000), so that the small
# requests below go far past the limit and the rate-limit headers reach their floor.
RATE_LIMIT = 40
SERVE = (
    "import sys; import helpers._offline.api as api; "
    f"api.RATE_LIMIT_REQUESTS = {RATE_LIMIT}; "
    "from helpers._offline.server import main; sys.exit(main(sys.argv[1:]))"
)
# 5 MB of English: about 1.4 million tokens, past the model's context window, so each one is
# read, parsed and counted in full before its 400.
LARGE = json.dumps(
    {"model": DEFAULT_MODEL, "messages": [{"role": "user", "content": "hello world, how are you? " * 200_000}]}
).encode()
SMALL = json.dumps({"model": DEFAULT_MODEL, "messages": [{"role": "user", "content": "hi"}]}).encode()


def call(port: int, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
    """One request on a new connection: (status, headers, parsed JSON body)."""
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers if headers is not None else KEY)
        response = connection.getresponse()
        data = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, json.loads(data)
    finally:
        connection.close()


@pytest.fixture(scope="module")
def server():
    port = free_port()
    with running(
        [sys.executable, "-c", SERVE, "serve", "--host", HOST, "--port", str(port)],
        lambda: call(port, "POST", "/v1/chat/completions", SMALL),  # also loads the tokenizer
        env={**os.environ, "COURSE_OFFLINE_SEED": "1", "COURSE_OFFLINE_DELAY": "0"},
    ) as proc:
        yield port, proc


def test_small_requests_keep_flowing_while_large_ones_arrive(server):
    port, _ = server
    large: list[tuple[float, float, int, str]] = []  # (start, end, status, code)
    done = threading.Event()
    deadline = time.monotonic() + 60

    def send_large() -> None:
        while not done.is_set() and len(large) < 20 and time.monotonic() < deadline:
            start = time.monotonic()
            status, _, body = call(port, "POST", "/v1/chat/completions", LARGE)
            large.append((start, time.monotonic(), status, body["error"]["code"]))

    senders = [threading.Thread(target=send_large, daemon=True) for _ in range(2)]
    for sender in senders:
        sender.start()
    time.sleep(0.3)  # the first large bodies are on their way
    small: list[tuple[float, float]] = []
    remaining: list[int] = []
    try:
        for i in range(200):
            if time.monotonic() > deadline or not any(s.is_alive() for s in senders):
                break
            start = time.monotonic()
            if i % 2:
                status, _, _ = call(port, "GET", "/v1/models")
            else:
                status, headers, _ = call(port, "POST", "/v1/chat/completions", SMALL)
                remaining.append(int(headers["x-ratelimit-remaining-requests"]))
            small.append((start, time.monotonic()))
            assert status == 200
            time.sleep(0.01)
    finally:
        done.set()
        for sender in senders:
            sender.join(timeout=60)
    assert large and all((status, code) == (400, "context_length_exceeded") for *_, status, code in large)
    # Only the small requests made while a large one was being read or counted.
    during = [end - start for start, end in small if any(a < end and start < b for a, b, *_ in large)]
    p99 = statistics.quantiles(during, n=100)[98] if len(during) > 1 else float("inf")
    assert p99 < 0.1, f"p99 {p99 * 1000:.0f} ms over {len(during)} small requests during large ones"
    assert len(during) >= 100, f"only {len(during)} small requests overlapped a large one"
    # Every one of them succeeded, and none said 0 remaining: past the limit, it stays at 1.
    assert len(remaining) > RATE_LIMIT and min(remaining) == 1 and remaining[-1] == 1


def test_a_body_over_the_limit_is_refused_with_a_413(server):
    port, _ = server
    status, headers, body = call(port, "POST", "/v1/chat/completions", b"x" * (9 * MB))
    assert status == 413 and headers["x-request-id"].startswith("req_")
    error = body["error"]
    assert (error["type"], error["param"], error["code"]) == ("invalid_request_error", None, "request_too_large")
    assert "at most 8 MB" in error["message"] and "9,437,184 bytes" in error["message"]
    assert "--max-body-mb" in error["message"]
    # Without a Content-Length (chunked), the server stops reading at the limit.
    chunks = (b"x" * MB for _ in range(9))
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        connection.request("POST", "/v1/chat/completions", body=chunks, headers=KEY, encode_chunked=True)
        response = connection.getresponse()
        assert response.status == 413
        assert "more than that" in json.loads(response.read())["error"]["message"]
    finally:
        connection.close()
    # Just under the limit, a body is read and answered by the model.
    status, _, body = call(port, "POST", "/v1/chat/completions", b" " * (8 * MB - 1))
    assert status == 400 and "could not parse the JSON body" in body["error"]["message"]


def test_memory_stays_flat_under_a_stream_of_large_bodies(server):
    port, proc = server
    process = psutil.Process(proc.pid)
    # 6 MB of Korean and English for a model that does not exist: parsed, kept in the request
    # log, then refused (404). Before the log was bounded in bytes, each one added about 7 MB.
    text = "안녕하세요 hello " * 300_000
    logged = json.dumps({"model": "gpt-99", "messages": [{"role": "user", "content": text}]}, ensure_ascii=False)
    logged = logged.encode()
    over = b"x" * (12 * MB)
    for _ in range(3):  # warm up: the log fills to its byte limit
        assert call(port, "POST", "/v1/chat/completions", logged)[0] == 404
    before = process.memory_info().rss
    deadline = time.monotonic() + 60
    for i in range(16):
        assert time.monotonic() < deadline
        assert call(port, "POST", "/v1/chat/completions", logged if i % 2 else over)[0] == (404 if i % 2 else 413)
    grown = (process.memory_info().rss - before) / MB
    # Here it grows by about 7 MB, once; before, 8 logged bodies added about 56 MB.
    assert grown < 24, f"the server grew by {grown:.0f} MB over 8 large bodies and 8 over the limit"


@pytest.mark.parametrize(
    "method,path",
    [
        ("GET", "/v1/models"),
        ("GET", "/v1/models/" + DEFAULT_MODEL),
        ("POST", "/v1/chat/completions"),
        ("GET", "/v1/nope"),
    ],
)
def test_every_path_answers_401_without_a_key(server, method, path):
    port, _ = server
    body = SMALL if method == "POST" else None
    for headers in ({"Content-Type": "application/json"}, {"Authorization": "Bearer "}):
        status, response_headers, answer = call(port, method, path, body, headers)
        assert status == 401 and response_headers["x-request-id"].startswith("req_"), answer
        assert answer["error"]["message"].startswith("You didn't provide an API key.")
        assert (answer["error"]["type"], answer["error"]["code"]) == ("invalid_request_error", None)
    assert call(port, method, path, body)[0] != 401  # any key will do
