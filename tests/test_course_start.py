"""`python3 course.py`, the README's start command: it opens the first lesson in JupyterLab.

The default run checks the command course.py builds and starts that JupyterLab headless on
127.0.0.1 from this environment. With COURSE_CLEAN_CLONE_TEST=1 (set by .ci/run) a fresh copy
of the repository is set up from scratch, as a new learner would, with the lowest and the
highest supported Python: `pythonX.Y course.py` must serve the lessons and
`pythonX.Y course.py test` must pass.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import course  # noqa: E402

OPT_IN = "COURSE_CLEAN_CLONE_TEST"
TOKEN = "course-test-token"


def test_start_installs_the_lessons_requirements_and_opens_the_first_lesson(monkeypatch):
    calls = []
    monkeypatch.setattr(course, "setup", lambda requirements: calls.append(("setup", requirements)) or "PY")
    monkeypatch.setattr(course, "run", lambda *args: calls.append(("run", *args)))
    assert course.main([]) == 0
    assert calls == [("setup", "requirements.txt"), ("run", "PY", "-m", "jupyter", "lab", course.FIRST_LESSON)]
    assert (ROOT / course.FIRST_LESSON).is_file() or not any((ROOT / "notebooks").glob("*.ipynb"))


def test_course_uses_the_prefetched_cache_only_when_none_is_set(monkeypatch, tmp_path):
    cache = tmp_path / ".tiktoken-cache"
    monkeypatch.setattr(course, "TIKTOKEN_CACHE", cache)
    monkeypatch.delenv("TIKTOKEN_CACHE_DIR", raising=False)
    assert "TIKTOKEN_CACHE_DIR" not in course.environment()  # no folder yet
    cache.mkdir()
    (cache / "9b5ad71b2ce5302211f9c61530b329a4922fc6a4").write_text("x")
    assert course.environment()["TIKTOKEN_CACHE_DIR"] == str(cache)
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", "/elsewhere")
    assert course.environment()["TIKTOKEN_CACHE_DIR"] == "/elsewhere"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def headless(tmp: Path, port: int) -> dict[str, str]:
    """Environment that makes JupyterLab serve on 127.0.0.1:port without a browser, and keep
    its config, runtime files and workspaces in ``tmp``."""
    config = tmp / "jupyter-config"
    config.mkdir(parents=True, exist_ok=True)
    (config / "jupyter_server_config.json").write_text(json.dumps({"ServerApp": {
        "ip": "127.0.0.1", "port": port, "port_retries": 0, "open_browser": False,
        "allow_root": True,  # CI runs as root; a learner never needs this
        "IdentityProvider": {"token": TOKEN}}}))
    env = dict(os.environ)
    env.update(JUPYTER_CONFIG_DIR=str(config), JUPYTER_RUNTIME_DIR=str(tmp / "runtime"),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp / "workspaces"), JUPYTERLAB_SETTINGS_DIR=str(tmp / "settings"),
               IPYTHONDIR=str(tmp / "ipython"), BROWSER="true")
    return env


def get(url: str) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Authorization": f"token {TOKEN}"})
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - 127.0.0.1 only
        return response.status, response.read()


def serve_and_check(command: list[str], cwd: Path, env: dict[str, str], port: int, timeout: float) -> None:
    """Start ``command`` (which ends up running JupyterLab); check it serves the lessons; stop it."""
    log = Path(env["JUPYTER_RUNTIME_DIR"]).parent / "server.log"
    with log.open("wb") as out:
        server = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
                                  start_new_session=True)
    try:
        deadline, status = time.monotonic() + timeout, None
        base = f"http://127.0.0.1:{port}"
        while time.monotonic() < deadline and server.poll() is None:
            try:
                status = json.loads(get(f"{base}/api/status")[1])
                break
            except OSError:
                time.sleep(0.5)
        assert status is not None, f"JupyterLab did not answer:\n{log.read_text(errors='replace')[-3000:]}"
        # Opened on a lesson, JupyterLab's file browser starts in the lessons' folder.
        listing = json.loads(get(f"{base}/api/contents")[1])
        names = {item["name"] for item in listing["content"]}
        if "notebooks" in names:
            names = {item["name"] for item in json.loads(get(f"{base}/api/contents/notebooks")[1])["content"]}
        for lesson in (cwd / "notebooks").glob("*.ipynb"):
            assert lesson.name in names
        assert get(f"{base}/lab")[0] == 200
    finally:
        # Stop what this test started: the process group of its own child.
        try:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(20)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(10)


@pytest.mark.skipif(os.name == "nt", reason="process groups: POSIX only")
def test_jupyterlab_serves_the_lessons(tmp_path):
    port = free_port()
    serve_and_check(course.lab_command(sys.executable), ROOT, headless(tmp_path, port), port, timeout=90)


# ---------------------------------------------------------------- opt-in: a new learner's first run

def interpreter(version: tuple[int, int]) -> str | None:
    """A working ``pythonX.Y``: on PATH, or installed by pyenv but not selected (its shim then fails)."""
    name = f"python{version[0]}.{version[1]}"
    pyenv = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    candidates = [shutil.which(name), *sorted(pyenv.glob(f"versions/{version[0]}.{version[1]}.*/bin/{name}"))]
    for candidate in filter(None, candidates):
        probe = subprocess.run([str(candidate), "-c", "import sys, venv; print(sys.version_info[:2])"],
                               capture_output=True, text=True)
        if probe.returncode == 0 and probe.stdout.strip() == str(tuple(version)):
            return str(candidate)
    return None


def fresh_copy(dest: Path) -> Path:
    """The files git would commit (tracked, plus new ones not ignored): what a clone gets."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=ROOT, capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    return dest


@pytest.mark.skipif(os.environ.get(OPT_IN) != "1", reason=f"slow (fresh installs): set {OPT_IN}=1, as .ci/run does")
@pytest.mark.skipif(os.name == "nt", reason="process groups: POSIX only")
@pytest.mark.parametrize("version", course.SUPPORTED, ids=lambda v: f"python{v[0]}.{v[1]}")
def test_a_fresh_copy_sets_up_and_passes_with(version, tmp_path):
    python = interpreter(version)
    if python is None:
        pytest.skip(f"python{version[0]}.{version[1]} is not installed here")
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs a git checkout to know which files a clone has")
    copy = fresh_copy(tmp_path / "course")
    port = free_port()
    env = headless(tmp_path, port)
    env.pop(OPT_IN)  # the copy's own test run must not start copies again

    # 1. The README's start command, from nothing: creates .venv, installs, serves the lessons.
    serve_and_check([python, "course.py"], copy, env, port, timeout=900)
    venv_python = copy / ".venv" / "bin" / "python"
    assert subprocess.run([str(venv_python), "-c", "import sys; print(sys.version_info[:2])"],
                          capture_output=True, text=True, check=True).stdout.strip() == str(tuple(version))

    # 2. The README's test command on that Python (the browser test runs in the main CI run).
    tests = subprocess.run([python, "course.py", "test", "-q", "-m", "not e2e", "-x"], cwd=copy, env=env,
                           capture_output=True, text=True, timeout=1800)
    assert tests.returncode == 0, tests.stdout[-5000:] + tests.stderr[-2000:]

    # 3. Binder's requirements resolve from the repository root as repo2docker runs them.
    binder = subprocess.run([str(venv_python), "-m", "pip", "install", "--dry-run", "--quiet",
                             "-r", "binder/requirements.txt"], cwd=copy, env=env, capture_output=True, text=True,
                            timeout=600)
    assert binder.returncode == 0, binder.stderr[-3000:]
