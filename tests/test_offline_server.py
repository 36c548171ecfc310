"""`python -m helpers._offline serve`: the offline model as a real HTTP server on 127.0.0.1,
called with the real SDK (plain and streamed), then stopped. Bounded in time."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx2
import openai
import pytest

pytest.importorskip("uvicorn", reason="pip install -r requirements-dev.txt")
pytest.importorskip("starlette", reason="pip install -r requirements-dev.txt")

from helpers import DEFAULT_MODEL  # noqa: E402
from helpers._offline import MARKER  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    port = free_port()
    env = {**os.environ, "COURSE_OFFLINE_SEED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "helpers._offline", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx2.get(f"{url}/models", timeout=1)
                break
            except httpx2.TransportError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the server did not start: {proc.stdout.read()}") from None
                time.sleep(0.1)
        yield url, port, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


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
        [sys.executable, "-m", "helpers._offline", "serve", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0 and "127.0.0.1" in out.stdout and "--port" in out.stdout
