"""`python3 course.py doctor` (tools/doctor.py): offline, against a local OpenAI-compatible
server (a good key, a wrong key, a server missing models, a server that checks no keys),
against the served offline model (``python -m helpers._offline serve``), with a broken
.env line and a bad cap, the date checks with an injected day, and the promise that the key
never shows in its output.

The server (FakeOpenAI) runs on 127.0.0.1 in a thread of this process; it answers
GET /v1/models and POST /v1/chat/completions through the offline model's own HTTP handler
(helpers._offline.OfflineAPI), and 401 for any other key. tests/test_live_check.py uses it
too; the served offline model's fixture is in tests/processes.py.
"""

from __future__ import annotations

import dataclasses
import datetime
import io
import json
import os
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx2
import pytest
from processes import learner_env, run_tool, served_offline_model  # noqa: F401 - a fixture

from helpers import OfflineAPI
from helpers.models import DEFAULT_MODEL, MODELS, current_models

ROOT = Path(__file__).resolve().parents[1]
import course  # noqa: E402
from tools import doctor  # noqa: E402

GOOD_KEY = "sk-proj-doctorTEST" + "Zq7Wx" * 8  # made up, long like a real one
WRONG_KEY = "sk-proj-wrongTEST" + "Mn4Rt" * 8


class FakeOpenAI:
    """An OpenAI-compatible HTTP server on 127.0.0.1 for one test (use it as a context manager).

    ``models``: the ids GET /v1/models lists (default: the offline model's list, owned by
    "system" as the API's are). A request with another key than ``key`` gets the API's 401,
    which here quotes the key in full (the real API masks it), so a test can check that the
    caller does not print it; ``key=None`` takes any key (a local server without keys)."""

    def __init__(self, key: str | None = GOOD_KEY, models: list[str] | None = None) -> None:
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
        if self.key is not None and given != self.key:
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
        if method == "GET" and path.rstrip("/").endswith("/models"):
            names = current_models() if self.models is None else self.models
            data = [{"id": name, "object": "model", "created": 0, "owned_by": "system"} for name in names]
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
    assert "! COURSE_OFFLINE: is 1 (from the environment), so the lessons use the offline model" in text
    assert "To use the real API, unset it" in text
    assert text.splitlines()[-1] == "✓ ready offline (the lessons run with the offline model)"
    for check in (
        "Python 3.",
        "packages: openai",
        "tiktoken encodings o200k_base, cl100k_base",
        "✓ OPENAI_BASE_URL: not set, so requests go to the OpenAI API",
        "COURSE_SPEND_CAP_USD: not set",
        "facts are from",
    ):
        assert check in text
    assert len(text.splitlines()) <= 12  # readable in ten seconds
    assert all(len(line) < 260 for line in text.splitlines())


def test_without_a_key_it_says_where_to_put_one(monkeypatch):
    monkeypatch.delenv("COURSE_OFFLINE")
    code, text = doctor_output()
    assert code == 0, text
    assert "! OPENAI_API_KEY: not found, so the lessons use the offline model" in text and ".env" in text
    assert "ready offline" in text


def test_a_working_key_and_its_models_without_ever_showing_the_key(real_api, monkeypatch):
    monkeypatch.setenv("COURSE_SPEND_CAP_USD", "0.25")
    with FakeOpenAI() as server:
        real_api(server)
        code, text = doctor_output()
    assert code == 0, text
    # Proven: the server listed its models for the key and refused a made-up one.
    assert f"✓ OPENAI_API_KEY: works: the server at {server.base_url} listed 24 models" in text
    assert "for it and refused a made-up key" in text
    assert "✓ OPENAI_API_KEY: course models: all" in text
    assert f"✓ OPENAI_BASE_URL: {server.base_url} (from the environment)" in text
    assert "✓ COURSE_SPEND_CAP_USD: $0.25 per kernel (from the environment)" in text
    # It says which server it talked to: not the OpenAI API.
    assert text.splitlines()[-1] == f"✓ ready for the server at {server.base_url} (not the OpenAI API)"
    assert "✓ OPENAI_API_KEY: sk-...Wx from the environment" in text  # masked: prefix and last two characters
    assert GOOD_KEY not in text and GOOD_KEY[8:20] not in text
    assert server.requests.count(("GET", "/v1/models")) == 2  # with the key, then with a made-up one


def test_course_models_the_key_cannot_use(real_api):
    with FakeOpenAI(models=[DEFAULT_MODEL, "gpt-5.4"]) as server:
        real_api(server)
        code, text = doctor_output()
    assert code == 0, text  # the lessons' own model is there: a note, not a failure
    wanted = len(doctor.course_models())
    assert f"! OPENAI_API_KEY: course models: 2 of {wanted} available; missing " in text and "gpt-6-astra," in text
    with FakeOpenAI(models=["gpt-5.4"]) as server:
        real_api(server)
        code, text = doctor_output()
    assert code == 1
    assert f"✗ OPENAI_API_KEY: the lessons' model {DEFAULT_MODEL} is not available" in text


def test_a_rejected_key_exits_1_with_one_readable_line(real_api):
    with FakeOpenAI() as server:
        env = learner_env(WRONG_KEY, server.base_url)
        done = run_tool("tools.doctor", "--today", "2026-12-01", "--timeout", "5", env=env)
    text = done.stdout + done.stderr
    assert done.returncode == 1, text
    rejected = [line for line in text.splitlines() if "rejected by" in line]
    assert len(rejected) == 1 and rejected[0].startswith("✗ OPENAI_API_KEY: rejected by the server"), text
    assert "(401)" in rejected[0]
    assert "Incorrect API key provided" in rejected[0]  # the server's own words ...
    assert WRONG_KEY not in text and WRONG_KEY[10:22] not in text  # ... without the key it quoted
    assert "not ready" in text.splitlines()[-1]


def test_shutdown_warnings_use_the_injected_day():
    assert not [line for line in doctor.check_facts(DAY) if line.status != doctor.OK]
    lines = doctor.check_facts(datetime.date(2027, 3, 20))
    soon = [line for line in lines if "gpt-5.4-nano" in line.text]
    assert len(soon) == 1 and soon[0].status == doctor.NOTE
    assert "2027-04-01" in soon[0].text and "in 12 days" in soon[0].text
    assert not any("update the course (git pull)" in line.text for line in lines)  # 103 days: not stale yet
    later = doctor.check_facts(datetime.date(2027, 4, 10))
    assert any("gpt-5.4-nano" in line.text and "shut down on 2027-04-01" in line.text for line in later)
    assert any("update the course (git pull)" in line.text for line in later)  # 124 days old


def test_a_past_shutdown_of_the_lessons_model_fails_only_online(monkeypatch):
    monkeypatch.setitem(MODELS, DEFAULT_MODEL, dataclasses.replace(MODELS[DEFAULT_MODEL], shutdown="2027-01-01"))
    online = doctor.check_facts(datetime.date(2027, 2, 1))
    offline = doctor.check_facts(datetime.date(2027, 2, 1), offline=True)
    assert any(line.status == doctor.FAIL and DEFAULT_MODEL in line.text for line in online)
    assert not any(line.status == doctor.FAIL for line in offline)


def test_the_today_option_reaches_the_date_checks():
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    done = run_tool("tools.doctor", "--today", "2027-03-20", env=env)
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


# ---------------------------------------------------------------- what the server is, and the settings


def test_the_served_offline_model_is_named_and_never_ready_for_the_real_api(
    real_api,
    served_offline_model,  # noqa: F811 - the fixture imported from processes
    monkeypatch,
):
    monkeypatch.setenv("OPENAI_API_KEY", "any-key-at-all")
    monkeypatch.setenv("OPENAI_BASE_URL", served_offline_model)
    code, text = doctor_output()
    assert code == 0, text
    assert "ready for the real API" not in text and "works" not in text, text
    named = [line for line in text.splitlines() if "is the course's offline model" in line]
    assert len(named) == 1 and named[0].startswith(f"! OPENAI_BASE_URL: the server at {served_offline_model}"), text
    assert "takes any key" in named[0] and "Unset OPENAI_BASE_URL to use the real API" in named[0]
    assert text.splitlines()[-1] == f"✓ ready for the offline model served at {served_offline_model} (not the real API)"


def test_a_server_that_takes_any_key_does_not_prove_the_key(real_api):
    with FakeOpenAI(key=None) as server:  # a local server without keys
        real_api(server)
        code, text = doctor_output()
    assert code == 0, text
    assert "! OPENAI_API_KEY: not tested: the server at" in text and "takes a made-up key too" in text
    assert (
        text.splitlines()[-1]
        == f"✓ ready for the server at {server.base_url} (not the OpenAI API), which checks no keys"
    )


def test_a_bad_cap_is_labelled_by_its_setting_and_the_key_is_still_checked(real_api, monkeypatch):
    monkeypatch.setenv("COURSE_SPEND_CAP_USD", "fifty cents")
    with FakeOpenAI() as server:
        real_api(server)
        code, text = doctor_output()
    assert code == 1, text
    cap = [line for line in text.splitlines() if "fifty cents" in line]
    assert cap == [
        "✗ COURSE_SPEND_CAP_USD: 'fifty cents' (from the environment) is not an amount in US dollars: "
        "write one such as 0.50, or remove it"
    ], text
    assert "key or address" not in text
    assert "✓ OPENAI_API_KEY: works" in text  # the rest is still checked
    assert text.splitlines()[-1].startswith("✗ not ready: fix the 1 line")


def test_an_address_problem_is_labelled_openai_base_url(real_api, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", GOOD_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", "http://10.1.2.3:8787/v1")  # plain http to another machine
    code, text = doctor_output()
    assert code == 1, text
    failed = [line for line in text.splitlines() if line.startswith("✗ ")]
    assert failed[0].startswith("✗ OPENAI_BASE_URL: "), text
    assert not any(line.startswith("✓ OPENAI_BASE_URL") for line in text.splitlines())


def bad_dotenv_run(folder: Path) -> subprocess.CompletedProcess:
    """The doctor run in ``folder`` (its .env read), as a learner runs it: a process of its own."""
    env = {k: v for k, v in os.environ.items() if k not in ("COURSE_OFFLINE", "COURSE_IGNORE_DOTENV")}
    env.update(PYTHONPATH=str(ROOT), PYTHONIOENCODING="utf-8")
    return run_tool("tools.doctor", "--today", "2026-12-01", "--timeout", "5", env=env, cwd=folder)


def test_a_dotenv_line_that_is_not_a_setting_is_named_once_and_not_ready(tmp_path):
    key = "sk-proj-" + "Dq3Lm" * 9
    (tmp_path / ".env").write_text(f"# my settings\nOPENAI_API_KEY: {key}\nCOURSE_SPEND_CAP_USD=0.50\n")
    done = bad_dotenv_run(tmp_path)
    text = done.stdout + done.stderr
    assert done.returncode == 1, text
    assert "python-dotenv could not parse" not in text and "Warning" not in text  # no library log lines
    named = [line for line in text.splitlines() if "is not a setting (NAME=value)" in line]
    assert named[0].startswith(f"✗ .env: line 2 of {tmp_path / '.env'} is not a setting (NAME=value)"), text
    assert "it mentions OPENAI_API_KEY, which is not read from this file" in named[0]
    assert len(named) == 1  # once, however often the settings are read
    assert (
        f"OPENAI_API_KEY: not found, so the lessons use the offline model (free, canned replies). To use the "
        f"real API: Line 2 of {tmp_path / '.env'} seems to hold the key but is not a setting" in text
    )  # why no key
    assert "✓ COURSE_SPEND_CAP_USD: $0.50 per kernel (from " in text  # the good lines are read
    assert "ready" not in text.splitlines()[-1].replace("not ready", "")
    assert key not in text and key[8:20] not in text


def test_a_good_dotenv_is_named_with_the_settings_it_sets(tmp_path):
    (tmp_path / ".env").write_text("COURSE_SPEND_CAP_USD=0.50\nCOURSE_OFFLINE=1\n")
    done = bad_dotenv_run(tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"✓ .env: {tmp_path / '.env'} sets COURSE_OFFLINE, COURSE_SPEND_CAP_USD" in done.stdout
    assert "! COURSE_OFFLINE: is 1 (from " in done.stdout and "ready offline" in done.stdout
