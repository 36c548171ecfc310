"""`python3 course.py doctor` (tools/doctor.py): offline, against a local OpenAI-compatible
server (a good key, a wrong key, a server missing models), the date checks with an
injected day, and the promise that the key never shows in its output.

The server (FakeOpenAI) runs on 127.0.0.1 in a thread of this process; it answers
GET /v1/models and POST /v1/chat/completions through the offline model's own HTTP handler
(helpers._offline.OfflineAPI), and 401 for any other key. tests/test_live_check.py uses it too.
"""

from __future__ import annotations

import dataclasses
import datetime
import io
import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx2
import pytest

from helpers import OfflineAPI
from helpers.models import DEFAULT_MODEL, MODELS

ROOT = Path(__file__).resolve().parents[1]
import course  # noqa: E402
from tools import doctor  # noqa: E402

GOOD_KEY = "sk-proj-doctorTEST" + "Zq7Wx" * 8  # made up, long like a real one
WRONG_KEY = "sk-proj-wrongTEST" + "Mn4Rt" * 8


class FakeOpenAI:
    """An OpenAI-compatible HTTP server on 127.0.0.1 for one test (use it as a context manager).

    ``models``: the ids GET /v1/models lists (default: the offline model's list). A request
    with another key than ``key`` gets the API's 401, which here quotes the key in full (the
    real API masks it), so a test can check that the caller does not print it."""

    def __init__(self, key: str = GOOD_KEY, models: list[str] | None = None) -> None:
        self.key, self.models, self.requests = key, models, []
        self.api = OfflineAPI(seed=0)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self) -> FakeOpenAI:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)

    def answer(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict, bytes]:
        self.requests.append((method, path))
        given = headers.get("authorization", "").removeprefix("Bearer ").strip()
        if given != self.key:
            error = {
                "error": {
                    "message": f"Incorrect API key provided: {given}. You can find your API key at "
                    "https://platform.openai.com/account/api-keys.",
                    "type": "invalid_request_error",
                    "param": None,
                    "code": "invalid_api_key",
                }
            }
            return 401, {"content-type": "application/json"}, json.dumps(error).encode()
        if method == "GET" and path.rstrip("/").endswith("/models") and self.models is not None:
            data = [{"id": name, "object": "model", "created": 0, "owned_by": "test"} for name in self.models]
            return 200, {"content-type": "application/json"}, json.dumps({"object": "list", "data": data}).encode()
        response = self.api.handle(httpx2.Request(method, f"http://fake{path}", headers=headers, content=body))
        content = response.read()
        kept = {k: v for k, v in response.headers.items() if k.lower() not in ("content-length", "transfer-encoding")}
        return response.status_code, kept, content

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            timeout = 10  # seconds a connection may stay silent

            def _serve(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, out_headers, content = fake.answer(self.command, self.path, headers, body)
                self.send_response(status)
                for name, value in out_headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            do_GET = do_POST = _serve

            def log_message(self, *args) -> None:  # keep the test output quiet
                pass

        return Handler


@pytest.fixture
def real_api(monkeypatch):
    """The environment of a learner with a key: not offline, no .env (COURSE_IGNORE_DOTENV)."""
    monkeypatch.delenv("COURSE_OFFLINE", raising=False)
    monkeypatch.setenv("COURSE_IGNORE_DOTENV", "1")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.setenv("no_proxy", "127.0.0.1")

    def use(server: FakeOpenAI, key: str = GOOD_KEY) -> None:
        monkeypatch.setenv("OPENAI_API_KEY", key)
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)

    return use


DAY = datetime.date(2026, 12, 1)  # a few days after the course date, nothing near its shutdown


def doctor_output(today: datetime.date = DAY) -> tuple[int, str]:
    lines, key = doctor.run_checks(today, timeout=5)
    out = io.StringIO()
    code = doctor.report(lines, key, out)
    return code, out.getvalue()


def test_offline_says_so_and_how_to_use_the_real_api():
    assert os.environ.get("COURSE_OFFLINE") == "1"  # as conftest sets it
    code, text = doctor_output()
    assert code == 0, text
    assert "offline: COURSE_OFFLINE is set" in text and "unset COURSE_OFFLINE" in text
    assert "ready offline" in text
    for check in (
        "Python 3.",
        "packages: openai",
        "tiktoken encodings o200k_base, cl100k_base",
        "base URL",
        "spend cap",
        "facts are from",
    ):
        assert check in text
    assert len(text.splitlines()) <= 12  # readable in ten seconds
    assert all(len(line) < 260 for line in text.splitlines())


def test_without_a_key_it_says_where_to_put_one(monkeypatch):
    monkeypatch.delenv("COURSE_OFFLINE")
    code, text = doctor_output()
    assert code == 0, text
    assert "no OPENAI_API_KEY found" in text and ".env" in text


def test_a_working_key_and_its_models_without_ever_showing_the_key(real_api, monkeypatch):
    monkeypatch.setenv("COURSE_SPEND_CAP_USD", "0.25")
    with FakeOpenAI() as server:
        real_api(server)
        code, text = doctor_output()
    assert code == 0, text
    assert "key works: the server listed" in text
    assert "course models: all" in text
    assert f"base URL: {server.base_url}" in text
    assert "spend cap: $0.25 per kernel" in text
    assert "ready for the real API" in text
    assert "from environment" in text and "sk-...Wx" in text  # masked: prefix and last two characters
    assert GOOD_KEY not in text and GOOD_KEY[8:20] not in text
    assert ("GET", "/v1/models") in server.requests


def test_course_models_the_key_cannot_use(real_api):
    with FakeOpenAI(models=[DEFAULT_MODEL, "gpt-5.4"]) as server:
        real_api(server)
        code, text = doctor_output()
    assert code == 0, text  # the lessons' own model is there: a note, not a failure
    assert "! course models: 2 of" in text and "missing gpt-6-astra" in text
    with FakeOpenAI(models=["gpt-5.4"]) as server:
        real_api(server)
        code, text = doctor_output()
    assert code == 1
    assert f"✗ the lessons' model {DEFAULT_MODEL} is not available" in text


def run_doctor(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tools.doctor", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        encoding="utf-8",
    )


def test_a_rejected_key_exits_1_with_one_readable_line(real_api):
    with FakeOpenAI() as server:
        env = {k: v for k, v in os.environ.items() if k != "COURSE_OFFLINE"}
        env.update(
            OPENAI_API_KEY=WRONG_KEY,
            OPENAI_BASE_URL=server.base_url,
            COURSE_IGNORE_DOTENV="1",
            NO_PROXY="127.0.0.1",
            PYTHONIOENCODING="utf-8",
        )
        done = run_doctor("--today", "2026-12-01", "--timeout", "5", env=env)
    text = done.stdout + done.stderr
    assert done.returncode == 1, text
    rejected = [line for line in text.splitlines() if "key rejected" in line]
    assert len(rejected) == 1 and rejected[0].startswith("✗") and "(401)" in rejected[0], text
    assert "Incorrect API key provided" in rejected[0]  # the server's own words ...
    assert WRONG_KEY not in text and WRONG_KEY[10:22] not in text  # ... without the key it quoted
    assert "not ready" in text.splitlines()[-1]


def test_shutdown_warnings_use_the_injected_day():
    assert not [line for line in doctor.check_facts(DAY) if line.status != doctor.OK]
    lines = doctor.check_facts(datetime.date(2027, 3, 20))
    soon = [line for line in lines if "gpt-5.4-nano" in line.text]
    assert len(soon) == 1 and soon[0].status == doctor.NOTE
    assert "2027-04-01" in soon[0].text and "in 12 days" in soon[0].text
    assert not any("update the course (git pull)" in line.text for line in lines)  # 115 days: not stale yet
    later = doctor.check_facts(datetime.date(2027, 4, 2))
    assert any("gpt-5.4-nano" in line.text and "shut down on 2027-04-01" in line.text for line in later)
    assert any("update the course (git pull)" in line.text for line in later)  # 128 days old


def test_a_past_shutdown_of_the_lessons_model_fails_only_online(monkeypatch):
    monkeypatch.setitem(MODELS, DEFAULT_MODEL, dataclasses.replace(MODELS[DEFAULT_MODEL], shutdown="2027-01-01"))
    online = doctor.check_facts(datetime.date(2027, 2, 1))
    offline = doctor.check_facts(datetime.date(2027, 2, 1), offline=True)
    assert any(line.status == doctor.FAIL and DEFAULT_MODEL in line.text for line in online)
    assert not any(line.status == doctor.FAIL for line in offline)


def test_the_today_option_reaches_the_date_checks():
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    done = run_doctor("--today", "2027-03-20", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "gpt-5.4-nano" in done.stdout and "in 12 days" in done.stdout


def test_base_urls_and_messages_are_shown_without_secrets():
    url = doctor.mask_url("https://room:hunter22@proxy.example:8443/v1?api_key=abcdef", GOOD_KEY)
    assert url == "https://room:***@proxy.example:8443/v1?api_key=***"
    assert doctor.redact(f"bad key {GOOD_KEY}!", GOOD_KEY) == "bad key sk-...Wx!"
    assert GOOD_KEY[5:30] not in doctor.redact(f"partial {GOOD_KEY[5:30]}", GOOD_KEY)


def test_course_py_doctor_runs_the_doctor_in_the_courses_venv(monkeypatch):
    calls = []
    monkeypatch.setattr(course, "setup", lambda requirements: calls.append(("setup", requirements)) or "PY")
    monkeypatch.setattr(course, "run", lambda *args: calls.append(("run", *args)))
    assert course.main(["doctor", "--today", "2027-03-20"]) == 0
    assert calls == [
        ("setup", "requirements.txt"),
        ("run", "PY", "-m", "tools.doctor", "--today", "2027-03-20"),
    ]
