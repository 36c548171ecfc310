"""Binder: what repo2docker builds from binder/, and what that build and its sessions do.

repo2docker itself renders the build plan (no Docker needed); the steps it would run are
then run here the same way: binder/postBuild in a fresh HOME, then a session started
through binder/start, both with no network and no tiktoken cache (the course ships its
encodings in helpers/_encodings).
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BINDER = ROOT / "binder"
sys.path.insert(0, str(ROOT))
import course  # noqa: E402

ENCODINGS = ("o200k_base", "cl100k_base")  # the ones the course ships
# No network for pip, requests or httpx: every proxy points at a closed port.
BLOCKED = {
    "HTTPS_PROXY": "http://127.0.0.1:9",
    "HTTP_PROXY": "http://127.0.0.1:9",
    "https_proxy": "http://127.0.0.1:9",
    "http_proxy": "http://127.0.0.1:9",
    "NO_PROXY": "",
    "no_proxy": "",
}


def session_env(home: Path, **extra: str) -> dict[str, str]:
    """A Binder-like environment: a fresh HOME, the course's Python first on PATH, no cache."""
    env = {k: v for k, v in os.environ.items() if k not in ("TIKTOKEN_CACHE_DIR", "DATA_GYM_CACHE_DIR")}
    env.update(
        HOME=str(home),
        PATH=os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]),
        TMPDIR=str(home / "tmp"),
        **extra,
    )
    (home / "tmp").mkdir(parents=True, exist_ok=True)
    return env


# ---------------------------------------------------------------- the build plan


@pytest.fixture(scope="module")
def dockerfile() -> str:
    if importlib.util.find_spec("repo2docker") is None:
        pytest.skip("jupyter-repo2docker is not installed (it is in requirements-dev.txt)")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "repo2docker",
            "--no-build",
            "--no-run",
            "--debug",
            "--user-id",
            "1000",
            "--user-name",
            "jovyan",
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tempfile.gettempdir(),
    )
    assert result.returncode == 0, result.stderr
    return result.stdout + result.stderr


def test_repo2docker_uses_a_supported_python(dockerfile):
    version = (BINDER / "runtime.txt").read_text().strip()
    major, minor = map(int, version.removeprefix("python-").split("."))
    low, high = course.SUPPORTED
    assert low <= (major, minor) <= high
    assert f"python={major}.{minor}" in dockerfile


def test_repo2docker_installs_the_course_from_the_whole_repository(dockerfile):
    lines = dockerfile.splitlines()
    copy_all = next(i for i, line in enumerate(lines) if re.match(r"COPY .*src/ \$\{REPO_DIR\}/$", line))
    install = next(i for i, line in enumerate(lines) if 'install --no-cache-dir -r "binder/requirements.txt"' in line)
    # `-e .` needs the repository in place: repo2docker copies it all first when a
    # requirements file refers to local paths.
    assert copy_all < install
    assert "WORKDIR ${REPO_DIR}" in dockerfile  # pip and postBuild run from the repository root
    assert "RUN ./binder/postBuild" in dockerfile
    assert 'R2D_ENTRYPOINT="${REPO_DIR}/binder/start"' in dockerfile


def requirement_lines(path: Path, cwd: Path) -> list[tuple[str, Path]]:
    """Requirement lines the way pip reads them: -r relative to the file, paths relative to cwd
    (constraints files, -c, install nothing: left out)."""
    lines = []
    for raw in path.read_text().splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith(("#", "-c ")):
            continue
        if line.startswith("-r "):
            lines += requirement_lines((path.parent / line[3:].strip()).resolve(), cwd)
        else:
            lines.append((line, cwd))
    return lines


def test_binder_installs_the_tested_versions_from_constraints_txt(dockerfile):
    # pip reads -c relative to the file naming it, as it does -r; repo2docker copies the whole
    # repository before it installs (test above), so ../constraints.txt is there.
    lines = [line.strip() for line in (BINDER / "requirements.txt").read_text().splitlines()]
    targets = [(BINDER / line[3:].strip()).resolve() for line in lines if line.startswith("-c ")]
    assert targets == [ROOT / course.CONSTRAINTS]
    assert targets[0].is_file(), (
        "Binder's build would stop (pip cannot open ../constraints.txt): write it with "
        ".venv/bin/python -m tools.constraints after a green python3 course.py test, and commit it"
    )
    assert 'install --no-cache-dir -r "binder/requirements.txt"' in dockerfile  # pip, not conda: -c applies


def test_binder_requirements_install_the_course_and_jupyterlab():
    lines = requirement_lines(BINDER / "requirements.txt", cwd=ROOT)
    names = [line.split(">=")[0].split("[")[0] for line, _ in lines]
    assert "jupyterlab" in names and "ipywidgets" in names and "tiktoken" in names
    local = [(line, cwd) for line, cwd in lines if line.startswith("-e ")]
    assert len(local) == 1
    target = (local[0][1] / local[0][0][3:].strip()).resolve()
    pyproject = (target / "pyproject.toml").read_text()
    assert target == ROOT and 'name = "chat-completions-course"' in pyproject


def test_binder_scripts_are_executable_bash():
    for name in ("postBuild", "start"):
        script = BINDER / name
        assert script.read_text().startswith("#!/bin/bash\n")
        assert os.access(script, os.X_OK), f"binder/{name} must be executable (git keeps the bit)"
    assert 'exec "$@"' in (BINDER / "start").read_text()


# ---------------------------------------------------------------- the build and a session


@pytest.fixture(scope="module")
def built_home(tmp_path_factory) -> Path:
    """HOME after binder/postBuild, run from the repository root as repo2docker does, offline."""
    home = tmp_path_factory.mktemp("binder-home")
    env = session_env(home, **BLOCKED)
    result = subprocess.run(
        ["bash", str(BINDER / "postBuild")], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return home


def test_a_session_counts_tokens_without_network(built_home):
    code = (
        "import tiktoken\n"
        "from helpers import DEFAULT_MODEL, MODELS, count_message_tokens, count_tokens, get_client\n"
        f"for name in {ENCODINGS!r}:\n"
        "    assert tiktoken.get_encoding(name).encode('hello world')\n"
        "assert all(count_tokens('Hello, world!', m) > 0 for m in MODELS)\n"
        "client = get_client(quiet=True)  # no key: offline\n"
        "reply = client.chat.completions.create(model=DEFAULT_MODEL, messages=[{'role': 'user', 'content': 'hi'}])\n"
        "assert reply.usage.prompt_tokens == count_message_tokens([{'role': 'user', 'content': 'hi'}], DEFAULT_MODEL)\n"
        "print('ok')\n"
    )
    env = session_env(built_home, **BLOCKED)
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "COURSE_OFFLINE"):
        env.pop(name, None)
    result = subprocess.run(
        [str(BINDER / "start"), sys.executable, "-c", code],
        env=env,
        cwd=built_home,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("ok")
