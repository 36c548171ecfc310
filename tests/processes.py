"""The processes tests start, written once: a server on a free port of 127.0.0.1 (the served
offline model, ``python -m helpers._offline serve``, or another command), always stopped at the
end, and a course tool run as a learner runs it, in a Python of its own.

Used by tests/test_doctor.py, test_live_check.py, test_offline_server.py and
test_offline_server_load.py.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

import httpx2
import pytest

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
SERVE = [sys.executable, "-m", "helpers._offline", "serve"]
START_SECONDS = 30  # a server that does not answer by then has failed to start


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running(command: list[str], ready: Callable[[], object], env: dict[str, str] | None = None) -> Iterator:
    """Start ``command`` in the course folder, call ``ready()`` until it no longer fails to
    connect (OSError, httpx2.TransportError), and yield the process; stop it at the end,
    whatever happens. A server that exits first fails with what it wrote on stderr."""
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            try:
                ready()
                break
            except (OSError, httpx2.TransportError):
                if proc.poll() is not None:
                    raise RuntimeError(f"the server did not start: {proc.stderr.read()}") from None
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the server did not answer within {START_SECONDS} s") from None
                time.sleep(0.1)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


class Served(NamedTuple):
    url: str  # the base URL, http://127.0.0.1:PORT/v1
    port: int
    proc: subprocess.Popen


@contextlib.contextmanager
def offline_model_served(**settings: str) -> Iterator[Served]:
    """``python -m helpers._offline serve`` on a free port, up and answering; ``settings`` are
    added to its environment (e.g. ``COURSE_OFFLINE_SEED="1"``)."""
    port = free_port()
    url = f"http://{HOST}:{port}/v1"
    with running(
        [*SERVE, "--port", str(port)],
        lambda: httpx2.get(f"{url}/models", timeout=1, trust_env=False),  # any answer: it is up
        env={**os.environ, **settings},
    ) as proc:
        yield Served(url, port, proc)


@pytest.fixture
def served_offline_model() -> Iterator[str]:
    """The served offline model for one test; yields its base URL."""
    with offline_model_served() as served:
        yield served.url


def learner_env(key: str, base_url: str, unset: tuple[str, ...] = ()) -> dict[str, str]:
    """This environment as a learner with ``key`` and OPENAI_BASE_URL ``base_url`` has it: not
    offline, no .env read, the local server reached without a proxy, output in UTF-8; the
    settings named in ``unset`` left out too."""
    env = {k: v for k, v in os.environ.items() if k not in ("COURSE_OFFLINE", *unset)}
    env.update(
        OPENAI_API_KEY=key,
        OPENAI_BASE_URL=base_url,
        COURSE_IGNORE_DOTENV="1",
        NO_PROXY=HOST,
        no_proxy=HOST,
        PYTHONIOENCODING="utf-8",
    )
    return env


def run_tool(module: str, *args: str, env: dict[str, str], cwd: Path = ROOT, timeout: float = 60):
    """``python -m module args`` in ``cwd``, as a learner runs a course tool: its output as text."""
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        encoding="utf-8",
    )
