"""`python3 course.py`, the README's start command: it opens the first lesson in JupyterLab.

The default run checks the commands course.py builds, how it makes and repairs .venv (with
subprocesses faked, or a real venv without pip: seconds, no install), and starts that JupyterLab
headless on 127.0.0.1 from this environment (with --allow-root when the tests run as root).
With COURSE_CLEAN_CLONE_TEST=1 (set by .ci/run) a fresh copy of the repository is set up from
scratch, as a new learner would, with the lowest and the highest supported Python, over a
half-made .venv: `pythonX.Y course.py` must repair it and serve the lessons, and
`pythonX.Y course.py test` must pass.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import course  # noqa: E402

OPT_IN = "COURSE_CLEAN_CLONE_TEST"
TOKEN = "course-test-token"
KEY = "sk-proj-course-test-key-0123456789abcdefghij"
HERE = "{}.{}".format(*sys.version_info[:2])
posix_only = pytest.mark.skipif(os.name == "nt", reason="shell-script stand-ins for a venv's python: POSIX only")


def record_calls(monkeypatch) -> list[tuple]:
    """Replace setup and run with recorders: the commands main would run, without running them."""
    calls: list[tuple] = []
    monkeypatch.setattr(course, "setup", lambda requirements: calls.append(("setup", requirements)) or "PY")
    monkeypatch.setattr(course, "run", lambda *args, env=None: calls.append(("run", *args)))
    return calls


def test_start_installs_the_lessons_requirements_and_opens_the_first_lesson(monkeypatch, capsys):
    calls = record_calls(monkeypatch)
    monkeypatch.setattr(course, "running_as_root", lambda: False)
    assert course.main([]) == 0
    assert calls == [("setup", "requirements.txt"), ("run", "PY", "-m", "jupyter", "lab", course.FIRST_LESSON)]
    assert "root" not in capsys.readouterr().out
    assert (ROOT / course.FIRST_LESSON).is_file() or not any((ROOT / "notebooks").glob("*.ipynb"))


def test_as_root_start_allows_root_and_says_why_in_one_line(monkeypatch, capsys):
    calls = record_calls(monkeypatch)
    monkeypatch.setattr(course, "running_as_root", lambda: True)
    assert course.main([]) == 0
    assert calls[-1] == ("run", "PY", "-m", "jupyter", "lab", course.FIRST_LESSON, "--allow-root")
    note = [line for line in capsys.readouterr().out.splitlines() if "--allow-root" in line]
    assert len(note) == 1 and "root" in note[0] and "Docker" in note[0]


@pytest.mark.parametrize(("euid", "root"), [(0, True), (1000, False)])
def test_root_is_the_effective_user_id_zero(monkeypatch, euid, root):
    monkeypatch.setattr(course.os, "geteuid", lambda: euid, raising=False)
    assert course.running_as_root() is root


def test_without_user_ids_windows_is_never_root(monkeypatch):
    monkeypatch.delattr(course.os, "geteuid", raising=False)
    assert course.running_as_root() is False


def test_serve_runs_the_offline_model_server_in_the_courses_venv(monkeypatch):
    calls = record_calls(monkeypatch)
    port = str(free_port())
    assert course.main(["serve", "--port", port]) == 0
    assert calls == [
        ("setup", course.SERVE_REQUIREMENTS),
        ("run", "PY", "-m", "helpers._offline", "serve", "--port", port),
    ]


@pytest.mark.parametrize("spelling", ["--port {}", "--port={}", "--host 127.0.0.1 --port {}"])
def test_serve_on_a_busy_port_names_a_free_one_and_starts_nothing(monkeypatch, capsys, spelling):
    calls = record_calls(monkeypatch)
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        args = spelling.format(port).split()
        assert course.main(["serve", *args]) == 1
        err = capsys.readouterr().err.strip()
        assert calls == []  # no install, no server: so no success banner before the bind error
        match = re.fullmatch(rf"port {port} is busy: try python3 course\.py serve (.*)--port (\d+)", err)
        assert match, err
        assert match[1].split() == [a for a in args if str(port) not in a and a != "--port"]  # other options kept
        suggested = int(match[2])
        assert suggested != port and course.listen_once("127.0.0.1", suggested) == suggested


def test_serve_checks_the_servers_own_default_address(monkeypatch, capsys):
    server = pytest.importorskip("helpers._offline.server", reason="needs the course's packages (starlette)")
    assert (course.SERVE_HOST, course.SERVE_PORT) == (server.DEFAULT_HOST, server.DEFAULT_PORT)
    calls = record_calls(monkeypatch)
    with socket.create_server(("127.0.0.1", 0)) as taken:
        monkeypatch.setattr(course, "SERVE_PORT", taken.getsockname()[1])
        assert course.main(["serve"]) == 1  # no --port: the default one is checked
    assert calls == [] and f"port {course.SERVE_PORT} is busy" in capsys.readouterr().err


def test_serve_leaves_a_malformed_port_to_the_servers_own_message(monkeypatch):
    calls = record_calls(monkeypatch)
    assert course.main(["serve", "--port", "eighty"]) == 0
    assert calls[-1] == ("run", "PY", "-m", "helpers._offline", "serve", "--port", "eighty")


# ---------------------------------------------------------------- test: --quick, --cap, Ctrl+C


def test_quick_runs_pytest_without_the_slow_tests(monkeypatch):
    calls = record_calls(monkeypatch)
    assert course.main(["test", "--quick", "-x", "tests/test_chat.py"]) == 0
    assert calls == [
        ("setup", "requirements-dev.txt"),
        ("run", "PY", "-m", "pytest", "-m", "not slow", "-x", "tests/test_chat.py"),
    ]


@pytest.mark.parametrize("args", [["--cap", "0.5"], ["--cap=0.5"], ["-q", "--cap", "0.5", "03"]])
def test_cap_without_live_says_it_goes_with_live(monkeypatch, capsys, args):
    calls = record_calls(monkeypatch)
    assert course.main(["test", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert calls == []  # not pytest's "unrecognized arguments"
    assert err == "--cap sets the spend cap of a live run: python3 course.py test --live " + " ".join(args)


def test_a_command_killed_by_a_signal_exits_as_a_shell_says(monkeypatch):
    def killed(*args, env=None):
        raise subprocess.CalledProcessError(-signal.SIGINT, args)

    monkeypatch.setattr(course, "setup", lambda requirements: "PY")
    monkeypatch.setattr(course, "run", killed)
    assert course.main(["test"]) == 128 + signal.SIGINT


@posix_only
def test_ctrl_c_during_the_tests_lets_pytest_print_its_summary(tmp_path):
    # A test that takes a second to clean up after Ctrl+C, as a running notebook kernel does.
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_wait.py").write_text(
        "import time\n\n\ndef test_wait():\n    print('waiting', flush=True)\n    try:\n"
        "        time.sleep(60)\n    except KeyboardInterrupt:\n        time.sleep(1)\n        raise\n"
    )
    launcher = (
        f"import sys; sys.path.insert(0, {str(ROOT)!r}); import course\n"
        "course.setup = lambda requirements: sys.executable  # this Python has pytest: no .venv needed\n"
        f"sys.exit(course.main(['test', '-s', '-p', 'no:cacheprovider', {str(tmp_path / 'test_wait.py')!r}]))\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", launcher],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        out = ""
        deadline = time.monotonic() + 60
        while "waiting" not in out and time.monotonic() < deadline and child.poll() is None:
            out += child.stdout.readline()
        assert "waiting" in out, out
        os.killpg(child.pid, signal.SIGINT)  # Ctrl+C in a terminal: the launcher and pytest both get it
        out += child.communicate(timeout=60)[0]
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait(10)
    assert "KeyboardInterrupt" in out
    assert re.search(r"=+ no tests ran in [\d.]+s =+", out), out  # pytest's own summary line
    assert child.returncode == 2, out  # pytest's "interrupted", not the launcher's 130


# ---------------------------------------------------------------- notebooks


def test_notebooks_with_no_match_lists_the_lessons(capsys, monkeypatch):
    pytest.importorskip("nbclient", reason="tools/run_notebooks.py needs the test tools (requirements-dev.txt)")
    from tools import run_notebooks

    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    assert run_notebooks.main(["99"]) == 1
    err = capsys.readouterr().err
    notebooks = ROOT / "notebooks"  # both tracks: notebooks/ and notebooks/ko/
    lessons = sorted(p.relative_to(notebooks).with_suffix("").as_posix() for p in notebooks.rglob("[0-9][0-9]_*.ipynb"))
    assert lessons and "'99'" in err
    assert [line.strip() for line in err.splitlines() if line.startswith("  ")] == lessons
    assert "Give part of a name" in err
    assert os.environ["OPENAI_API_KEY"] == KEY  # nothing set up to run: the offline settings not applied


def test_serve_installs_the_servers_packages():
    listed = (ROOT / course.SERVE_REQUIREMENTS).read_text().lower()
    assert "starlette" in listed and "uvicorn" in listed, "course.py serve would stop at a missing import"


def test_hub_link_runs_the_link_tool_in_the_courses_venv(monkeypatch, tmp_path):
    calls = record_calls(monkeypatch)
    monkeypatch.setattr(course, "ROOT", tmp_path)
    (tmp_path / "tools").mkdir()
    (tmp_path / "tools" / "hub_link.py").write_text("")
    assert course.main(["hub-link", "--hub", "https://hub.example.org"]) == 0
    assert calls == [
        ("setup", "requirements.txt"),
        ("run", "PY", "-m", "tools.hub_link", "--hub", "https://hub.example.org"),
    ]


def test_hub_link_without_its_tool_says_so_and_installs_nothing(monkeypatch, tmp_path, capsys):
    calls = record_calls(monkeypatch)
    monkeypatch.setattr(course, "ROOT", tmp_path)
    assert course.main(["hub-link", "--hub", "https://hub.example.org"]) == 2
    assert calls == []
    assert "tools/hub_link.py" in capsys.readouterr().err


def test_help_lists_every_command_and_each_one_runs(monkeypatch, tmp_path, capsys):
    assert course.main(["--help"]) == 0
    shown = capsys.readouterr().out
    commands = [
        line.split("course.py", 1)[1].split("#")[0].split()
        for line in shown.splitlines()
        if line.strip().startswith("python3 course.py")
    ]
    names = {args[0] if args else "start" for args in commands}
    assert names >= {"start", "doctor", "test", "notebooks", "serve", "hub-link", "--help"}
    assert ["test", "--live", "[--cap", "0.05]"] in commands and ["test", "--quick"] in commands
    calls = record_calls(monkeypatch)
    monkeypatch.setattr(course, "ROOT", tmp_path)
    monkeypatch.setattr(course, "SERVE_PORT", free_port())  # `serve` checks its port first: 8787 may be taken here
    monkeypatch.setattr(course, "VENV", tmp_path / ".venv")  # --lang ko writes JupyterLab's settings there
    (tmp_path / "tools").mkdir()
    (tmp_path / "tools" / "hub_link.py").write_text("")
    for args in commands:
        assert course.main([a for a in args if not a.startswith("[") and not a.endswith("]")]) == 0, args
    # All but --help run something; notebooks runs two things (the Korean sync, then the re-run).
    assert sum(call[0] == "run" for call in calls) == len(commands) - 1 + 1


def test_notebooks_carries_code_into_the_korean_lessons_then_reruns_both_tracks(monkeypatch):
    calls = record_calls(monkeypatch)
    assert course.main(["notebooks", "03"]) == 0
    assert calls[1:] == [
        ("run", "PY", "-m", "tools.ko_sync", "--no-run", "03"),
        ("run", "PY", "-m", "tools.run_notebooks", "03"),
    ]
    calls.clear()
    assert course.main(["notebooks", "--dry-run"]) == 0  # a dry run writes nothing, the sync included
    assert calls[1:] == [("run", "PY", "-m", "tools.run_notebooks", "--dry-run")]


def test_an_unknown_command_is_named_with_the_help(capsys):
    assert course.main(["srve"]) == 2
    err = capsys.readouterr().err
    assert "'srve'" in err and "course.py serve" in err


# ---------------------------------------------------------------- keys never reach pip; commands quoted


def set_secrets(monkeypatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_ORG_ID", "org-course-test")
    monkeypatch.setenv("OPENAI_PROJECT_ID", "proj_course_test")
    monkeypatch.setenv("OPENAI_BASE_URL", f"https://user:{KEY}@llm.example.org/v1")
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    monkeypatch.setenv("PIP_INDEX_URL", "https://pypi.example.org/simple")


def test_pip_and_venv_get_our_environment_without_any_key(monkeypatch):
    set_secrets(monkeypatch)
    env = course.install_environment()
    dropped = {"OPENAI_API_KEY", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID", "OPENAI_BASE_URL", "ANTHROPIC_API_KEY"}
    assert not dropped & set(env)
    assert KEY not in repr(env)
    assert env["PIP_INDEX_URL"] == "https://pypi.example.org/simple" and env["PATH"] == os.environ["PATH"]
    assert course.environment()["OPENAI_API_KEY"] == KEY  # JupyterLab and the tests still get it


def test_the_tests_keep_compiled_code_in_the_venv_when_the_shell_writes_none(monkeypatch):
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    monkeypatch.delenv("PYTHONPYCACHEPREFIX", raising=False)
    env = course.test_environment()
    assert "PYTHONDONTWRITEBYTECODE" not in env
    assert Path(env["PYTHONPYCACHEPREFIX"]) == course.VENV / "pycache"  # never beside the sources
    assert course.environment()["PYTHONDONTWRITEBYTECODE"] == "1"  # JupyterLab keeps the setting
    monkeypatch.delenv("PYTHONDONTWRITEBYTECODE")
    assert course.test_environment() == course.environment()  # nothing set, nothing changed


@pytest.mark.parametrize("args", [["/a folder/py thon", "-m", "pip", "-r", "it's.txt"], ["plain", "", "a;b"]])
def test_printed_commands_are_quoted_for_the_shell(args):
    line = course.format_command(args)
    if os.name == "nt":
        assert line == subprocess.list2cmdline(args)
    else:
        assert shlex.split(line) == args and line != " ".join(args)


def test_run_prints_the_quoted_command_then_runs_it_in_the_course_folder(monkeypatch, capsys):
    seen = {}
    monkeypatch.setattr(course.subprocess, "run", lambda args, **kw: seen.update(args=args, **kw))
    course.run(Path("/a folder/python"), "-c", "print('hi')", env={"X": "1"})
    assert capsys.readouterr().out == "+ " + course.format_command(["/a folder/python", "-c", "print('hi')"]) + "\n"
    assert seen["args"] == ["/a folder/python", "-c", "print('hi')"]
    assert seen["cwd"] == course.ROOT and seen["env"] == {"X": "1"} and seen["check"] is True


class FakeTools:
    """Stands in for subprocess.run under setup(): makes the venv's python on `-m venv`, answers the
    health probe like a venv with pip, succeeds at pip; records every command and its environment."""

    def __init__(self, venv_dir: Path) -> None:
        self.venv = venv_dir
        self.version = platform.python_version()  # what the venv's Python says it is
        self.calls: list[tuple[list[str], dict[str, str]]] = []

    def __call__(self, args, **kwargs):
        self.calls.append((list(args), kwargs.get("env")))
        if args[1:3] == ["-m", "venv"]:
            course.venv_python(self.venv).parent.mkdir(parents=True)
            course.venv_python(self.venv).write_text("")
        stdout = self.version + "\n" if "-I" in args else ""
        return subprocess.CompletedProcess(args, 0, stdout, "")

    def pip_calls(self) -> list[list[str]]:
        return [args for args, _ in self.calls if args[1:4] == ["-m", "pip", "install"]]


def fake_setup(monkeypatch, tmp_path) -> FakeTools:
    tools = FakeTools(tmp_path / ".venv")
    monkeypatch.setattr(course, "VENV", tools.venv)
    monkeypatch.setattr(course.subprocess, "run", tools)
    return tools


def test_the_first_install_shows_pips_progress_and_later_starts_skip_pip(monkeypatch, tmp_path, capsys):
    tools = fake_setup(monkeypatch, tmp_path)
    assert course.setup("requirements.txt") == course.venv_python(tools.venv)
    first = capsys.readouterr().out
    assert "First set-up" in first and "1-3 minutes" in first
    assert first.index("First set-up") < first.index("-m pip install")
    assert course.setup("requirements.txt") == course.venv_python(tools.venv)
    assert capsys.readouterr().out == ""  # nothing changed: no pip, nothing to say
    course.setup("requirements-dev.txt")  # the test tools' first install shows its progress too
    assert "First set-up" in capsys.readouterr().out
    quiet = ["--quiet" in args for args in tools.pip_calls()]
    assert quiet == [False, False]
    assert [args[1:3] for args, _ in tools.calls].count(["-m", "venv"]) == 1  # made once, then kept


def course_tree(monkeypatch, tmp_path) -> tuple[FakeTools, Path]:
    """A course folder of its own (requirements files, pyproject.toml) with a faked .venv in it."""
    root = tmp_path / "course"
    root.mkdir()
    (root / "requirements.txt").write_text("-e .\nopenai>=3.0\n")
    (root / "requirements-dev.txt").write_text("-r requirements.txt  # the lessons' packages\npytest>=8.0\n")
    (root / "pyproject.toml").write_text('[project]\nname = "course"\n')
    monkeypatch.setattr(course, "ROOT", root)
    return fake_setup(monkeypatch, root), root


CHANGES = {
    "an included requirements file": lambda root: (root / "requirements.txt").write_text("-e .\nopenai>=3.1\n"),
    "the requirements file": lambda root: (root / "requirements-dev.txt").write_text("-r requirements.txt\n"),
    "pyproject.toml": lambda root: (root / "pyproject.toml").write_text('[project]\nname = "course2"\n'),
    "a new constraints.txt": lambda root: (root / "constraints.txt").write_text("openai==3.1.0\n"),
}


@pytest.mark.parametrize("change", CHANGES)
def test_pip_runs_again_when_what_it_installed_from_changed(monkeypatch, tmp_path, capsys, change):
    tools, root = course_tree(monkeypatch, tmp_path)
    course.setup("requirements-dev.txt")
    course.setup("requirements-dev.txt")
    assert len(tools.pip_calls()) == 1  # nothing changed: skipped
    CHANGES[change](root)
    capsys.readouterr()
    course.setup("requirements-dev.txt")
    out = capsys.readouterr().out
    assert len(tools.pip_calls()) == 2 and "--quiet" in tools.pip_calls()[-1]
    said = [line for line in out.splitlines() if line.startswith("Installing")]
    assert len(said) == 1 and said[0].endswith("changed since the last install."), out
    named = {
        "an included requirements file": "requirements.txt",
        "the requirements file": "requirements-dev.txt",
        "pyproject.toml": "pyproject.toml",
        "a new constraints.txt": "constraints.txt",
    }[change]
    assert said[0] == f"Installing requirements-dev.txt: {named} changed since the last install."
    course.setup("requirements-dev.txt")
    assert len(tools.pip_calls()) == 2  # recorded again: the next start skips pip


def test_pip_runs_again_when_constraints_change_or_go_and_when_the_python_changes(monkeypatch, tmp_path, capsys):
    tools, root = course_tree(monkeypatch, tmp_path)
    (root / "constraints.txt").write_text("openai==3.1.0\n")
    course.setup("requirements.txt")
    (root / "constraints.txt").write_text("openai==3.2.0\n")
    course.setup("requirements.txt")
    (root / "constraints.txt").unlink()
    course.setup("requirements.txt")
    tools.version = f"{HERE}.99"  # the Python the venv links to got a bug-fix release
    course.setup("requirements.txt")
    course.setup("requirements.txt")
    assert len(tools.pip_calls()) == 4
    said = [line for line in capsys.readouterr().out.splitlines() if line.startswith("Installing")]
    assert said == [
        "Installing requirements.txt: constraints.txt changed since the last install.",
        "Installing requirements.txt: constraints.txt changed since the last install.",
        f"Installing requirements.txt: the Python in .venv ({platform.python_version()} before, {HERE}.99 now)"
        " changed since the last install.",
    ]


def test_installing_the_test_tools_covers_the_lessons_requirements(monkeypatch, tmp_path):
    tools, root = course_tree(monkeypatch, tmp_path)
    course.setup("requirements-dev.txt")  # -r requirements.txt: installs those too
    course.setup("requirements.txt")
    assert len(tools.pip_calls()) == 1
    (root / "requirements.txt").write_text("-e .\nopenai>=3.1\n")
    course.setup("requirements.txt")
    assert len(tools.pip_calls()) == 2


def test_every_install_uses_constraints_txt_when_it_exists(monkeypatch, tmp_path):
    tools, root = course_tree(monkeypatch, tmp_path)
    course.setup("requirements.txt")
    (root / "constraints.txt").write_text("openai==3.1.0\n")
    course.setup("requirements.txt")
    course.setup("requirements-dev.txt")
    first, again, dev = tools.pip_calls()
    assert first[-2:] == ["-r", str(root / "requirements.txt")] and "-c" not in first
    assert again[-4:] == ["-r", str(root / "requirements.txt"), "-c", str(root / "constraints.txt")]
    assert dev[-4:] == ["-r", str(root / "requirements-dev.txt"), "-c", str(root / "constraints.txt")]


def test_a_record_from_an_older_course_py_installs_once_quietly(monkeypatch, tmp_path, capsys):
    tools, root = course_tree(monkeypatch, tmp_path)
    course.ensure_venv(tools.venv)
    (tools.venv / course.INSTALLED_MARKER).write_text("requirements-dev.txt\n")  # names only, no fingerprint
    course.setup("requirements-dev.txt")
    course.setup("requirements-dev.txt")
    assert [("--quiet" in args) for args in tools.pip_calls()] == [True]
    out = capsys.readouterr().out
    assert "Installing requirements-dev.txt: the last install left no fingerprint." in out
    assert "First set-up" not in out


def test_the_fingerprint_follows_includes_as_pip_reads_them(monkeypatch, tmp_path):
    root = tmp_path / "course"
    (root / "binder").mkdir(parents=True)
    (root / "requirements.txt").write_text("-e .\n")
    (root / "extra.txt").write_text("--constraint=pins.txt\n")
    (root / "binder" / "requirements.txt").write_text("-r ../requirements.txt\n--requirement ../extra.txt # x\n")
    monkeypatch.setattr(course, "ROOT", root)
    files = course.fingerprint("binder/requirements.txt", "3.12.1")["files"]
    assert list(files) == [
        "binder/requirements.txt",
        "requirements.txt",
        "extra.txt",
        "pins.txt",
        "pyproject.toml",
        "constraints.txt",
    ]
    assert files["pins.txt"] is None and files["requirements.txt"] is not None  # missing: recorded as such


def test_no_key_reaches_venv_or_pip(monkeypatch, tmp_path):
    set_secrets(monkeypatch)
    tools = fake_setup(monkeypatch, tmp_path)
    course.setup("requirements.txt")
    course.setup("requirements.txt")  # the second run also probes the existing venv
    kinds = {tuple(args[1:3]) for args, _ in tools.calls}
    assert {("-m", "venv"), ("-m", "pip"), ("-I", "-c")} <= kinds
    for args, env in tools.calls:
        assert env is not None, f"{args} would inherit the whole environment"
        assert KEY not in repr(env) and "OPENAI_API_KEY" not in env, args


def test_pip_fails_with_its_exit_code(monkeypatch, tmp_path):
    tools = fake_setup(monkeypatch, tmp_path)
    failing = tools.__call__

    def pip_fails(args, **kwargs):
        result = failing(args, **kwargs)
        if args[1:3] == ["-m", "pip"]:
            raise subprocess.CalledProcessError(3, args)
        return result

    monkeypatch.setattr(course.subprocess, "run", pip_fails)
    assert course.main(["doctor"]) == 3
    assert not course.installed_before(tools.venv, "requirements.txt")  # the next run shows progress again


# ---------------------------------------------------------------- a half-made or broken .venv


def venv_without_pip(path: Path) -> Path:
    """A real venv of this Python with no pip: what an interrupted or ensurepip-less creation leaves."""
    venv.create(path, with_pip=False, symlinks=os.name != "nt")
    return path


def site_packages(path: Path) -> Path:
    return path / "Lib" / "site-packages" if os.name == "nt" else path / "lib" / f"python{HERE}" / "site-packages"


def stand_in_python(path: Path, script: str) -> Path:
    python = course.venv_python(path)
    python.parent.mkdir(parents=True)
    python.write_text("#!/bin/sh\n" + script + "\n")
    python.chmod(0o755)
    return path


def test_no_venv_yet_is_no_problem(tmp_path):
    assert course.venv_problem(tmp_path / ".venv") is None


def test_a_venv_without_python_is_incomplete(tmp_path):
    (tmp_path / ".venv").mkdir()
    assert course.venv_problem(tmp_path / ".venv") == "is incomplete (it has no Python)"


@posix_only
def test_a_venv_whose_python_was_uninstalled_is_incomplete(tmp_path):
    python = course.venv_python(tmp_path / ".venv")
    python.parent.mkdir(parents=True)
    python.symlink_to(tmp_path / "gone" / "python3.9")  # the base Python it linked to was removed
    assert course.venv_problem(tmp_path / ".venv") == "is incomplete (it has no Python)"


def test_a_venv_without_pip_is_incomplete_and_with_pip_is_fine(tmp_path):
    path = venv_without_pip(tmp_path / ".venv")
    assert course.venv_problem(path) == "is incomplete (pip is missing)"
    (site_packages(path) / "pip").mkdir()
    (site_packages(path) / "pip" / "__init__.py").write_text("")
    assert course.venv_problem(path) is None


def test_pip_from_pythonpath_does_not_hide_a_missing_one(tmp_path, monkeypatch):
    path = venv_without_pip(tmp_path / ".venv")
    (tmp_path / "elsewhere" / "pip").mkdir(parents=True)
    (tmp_path / "elsewhere" / "pip" / "__init__.py").write_text("")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path / "elsewhere"))
    assert course.venv_problem(path) == "is incomplete (pip is missing)"


@posix_only
def test_a_venv_of_another_python_version_is_named(tmp_path):
    path = stand_in_python(tmp_path / ".venv", "echo 3.9")
    assert course.venv_problem(path) == f"was made with Python 3.9, and this is Python {HERE}"


@posix_only
def test_a_venv_whose_python_cannot_start_says_why(tmp_path):
    error = "libpython3.so: cannot open shared object file"
    path = stand_in_python(tmp_path / ".venv", f"echo '{error}' >&2; exit 127")
    assert course.venv_problem(path) == f"has a Python that does not start ({error})"


def test_a_broken_venv_is_made_again_with_a_message(tmp_path, capsys):
    path = venv_without_pip(tmp_path / ".venv")
    (path / course.INSTALLED_MARKER).write_text("requirements.txt\n")  # from an earlier, now broken, set-up
    (path / "left-over").write_text("x")
    version = course.ensure_venv(path)  # real `python -m venv`: a few seconds, nothing downloaded
    out = capsys.readouterr().out
    assert "The course environment in .venv is incomplete (pip is missing); making it again." in out
    assert version == platform.python_version() and course.venv_problem(path) is None
    assert not (path / "left-over").exists() and not course.installed_before(path, "requirements.txt")


def test_a_venv_that_cannot_be_made_says_what_to_install(monkeypatch, tmp_path, capsys):
    def venv_fails(*args, env=None):
        raise subprocess.CalledProcessError(1, args)

    monkeypatch.setattr(course, "run", venv_fails)
    monkeypatch.setattr(course, "VENV", tmp_path / ".venv")
    assert course.main([]) == 1
    err = capsys.readouterr().err
    assert "Could not create .venv" in err and f"python{HERE}-venv" in err and "run this again" in err


def test_the_venv_this_python_runs_from_is_not_deleted(monkeypatch, tmp_path):
    path = venv_without_pip(tmp_path / ".venv")
    monkeypatch.setattr(course.sys, "prefix", str(path))
    with pytest.raises(course.SetupError, match="system's Python"):
        course.ensure_venv(path)
    assert course.venv_python(path).exists()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def headless(tmp: Path, port: int) -> dict[str, str]:
    """Environment that makes JupyterLab serve on 127.0.0.1:port without a browser, and keep
    its config, runtime files and workspaces in ``tmp``."""
    config = tmp / "jupyter-config"
    config.mkdir(parents=True, exist_ok=True)
    (config / "jupyter_server_config.json").write_text(
        json.dumps(
            {
                "ServerApp": {
                    "ip": "127.0.0.1",
                    "port": port,
                    "port_retries": 0,
                    "open_browser": False,
                    "IdentityProvider": {"token": TOKEN},
                }
            }
        )
    )
    env = dict(os.environ)
    env.update(
        JUPYTER_CONFIG_DIR=str(config),
        JUPYTER_RUNTIME_DIR=str(tmp / "runtime"),
        JUPYTERLAB_WORKSPACES_DIR=str(tmp / "workspaces"),
        JUPYTERLAB_SETTINGS_DIR=str(tmp / "settings"),
        IPYTHONDIR=str(tmp / "ipython"),
        BROWSER="true",
    )
    return env


def get(url: str) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Authorization": f"token {TOKEN}"})
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - 127.0.0.1 only
        return response.status, response.read()


def serve_and_check(command: list[str], cwd: Path, env: dict[str, str], port: int, timeout: float) -> None:
    """Start ``command`` (which ends up running JupyterLab); check it serves the lessons; stop it."""
    log = Path(env["JUPYTER_RUNTIME_DIR"]).parent / "server.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
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
    # No allow_root in the config: as root (CI, Docker) this passes only with course.py's --allow-root.
    command = course.lab_command(sys.executable, as_root=course.running_as_root())
    serve_and_check(command, ROOT, headless(tmp_path, port), port, timeout=90)


# ---------------------------------------------------------------- opt-in: a new learner's first run


def interpreter(version: tuple[int, int]) -> str | None:
    """A working ``pythonX.Y``: on PATH, or installed by pyenv but not selected (its shim then fails)."""
    name = f"python{version[0]}.{version[1]}"
    pyenv = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    candidates = [shutil.which(name), *sorted(pyenv.glob(f"versions/{version[0]}.{version[1]}.*/bin/{name}"))]
    for candidate in filter(None, candidates):
        probe = subprocess.run(
            [str(candidate), "-c", "import sys, venv; print(sys.version_info[:2])"], capture_output=True, text=True
        )
        if probe.returncode == 0 and probe.stdout.strip() == str(tuple(version)):
            return str(candidate)
    return None


def fresh_copy(dest: Path) -> Path:
    """The files git would commit (tracked, plus new ones not ignored): what a clone gets."""
    listed = (
        subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .split("\0")
    )
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file() and "node_modules" not in Path(name).parts:
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

    # 1. The README's start command over a half-made .venv (as a creation without ensurepip leaves
    # it): repairs it, installs showing progress, serves the lessons (as root: with --allow-root).
    subprocess.run([python, "-m", "venv", "--without-pip", str(copy / ".venv")], check=True, timeout=120)
    serve_and_check([python, "course.py"], copy, env, port, timeout=900)
    log = (tmp_path / "server.log").read_text(errors="replace")
    assert "The course environment in .venv is incomplete (pip is missing); making it again." in log
    assert "First set-up" in log and ("--allow-root" in log) == course.running_as_root()
    venv_python = copy / ".venv" / "bin" / "python"
    assert subprocess.run(
        [str(venv_python), "-c", "import sys; print(sys.version_info[:2])"], capture_output=True, text=True, check=True
    ).stdout.strip() == str(tuple(version))

    # 2. The README's test command on that Python, its quick loop (unit tests and nbval of both
    # tracks; the slow files, the browser test among them, run in the main CI run). Two workers:
    # the main run's own workers are busy beside it, and kernels started by the dozen on a loaded
    # machine were seen to die before their first reply.
    tests = subprocess.run(
        [python, "course.py", "test", "--quick", "-q", "-x", "-n", "2"],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert tests.returncode == 0, tests.stdout[-5000:] + tests.stderr[-2000:]

    # 3. Binder's requirements resolve from the repository root as repo2docker runs them.
    binder = subprocess.run(
        [str(venv_python), "-m", "pip", "install", "--dry-run", "--quiet", "-r", "binder/requirements.txt"],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert binder.returncode == 0, binder.stderr[-3000:]


def test_lang_ko_opens_the_korean_track_with_jupyterlab_in_korean(monkeypatch, tmp_path):
    calls = []
    monkeypatch.setattr(course, "setup", lambda requirements: "PY")
    monkeypatch.setattr(course, "run", lambda *args, env=None: calls.append((args, env)))
    monkeypatch.setattr(course, "running_as_root", lambda: False)
    monkeypatch.setattr(course, "VENV", tmp_path / ".venv")
    for argv in (["--lang", "ko"], ["--lang=ko"], ["start", "--lang", "ko"]):
        assert course.main(argv) == 0
        args, env = calls.pop()
        assert args == ("PY", "-m", "jupyter", "lab", "notebooks/ko/00_setup.ipynb")
        plugin = Path(env["JUPYTERLAB_SETTINGS_DIR"]) / "@jupyterlab" / "translation-extension"
        assert json.loads((plugin / "plugin.jupyterlab-settings").read_text()) == {"locale": "ko_KR"}
        assert Path(env["JUPYTERLAB_SETTINGS_DIR"]).is_relative_to(tmp_path / ".venv")
    assert (ROOT / course.FIRST_LESSONS["ko"]).is_file()
    # English keeps the learner's own JupyterLab settings: no settings folder is passed.
    assert course.main([]) == 0 and calls.pop() == (("PY", "-m", "jupyter", "lab", course.FIRST_LESSON), None)


def test_an_unknown_track_is_named_with_the_choices(monkeypatch, capsys):
    monkeypatch.setattr(course, "setup", lambda requirements: pytest.fail("nothing is installed"))
    assert course.main(["--lang", "fr"]) == 2
    assert "--lang en or --lang ko" in capsys.readouterr().err


def test_the_korean_language_pack_is_a_lesson_requirement():
    assert "jupyterlab-language-pack-ko-kr" in (ROOT / "requirements.txt").read_text()


def test_the_courses_jupyterlab_wraps_long_code_lines(tmp_path):
    # 88-character lines do not fit a code cell at 800 px with the file browser open: JupyterLab
    # in the course's environment wraps them (the browser test checks it on screen).
    path = course.write_lab_overrides(tmp_path)
    assert (
        path.relative_to(tmp_path).as_posix() == "share/jupyter/lab/settings/overrides.d/chat-completions-course.json"
    )
    settings = json.loads(path.read_text())
    assert settings["@jupyterlab/notebook-extension:tracker"]["codeCellConfig"]["lineWrap"] is True
    assert course.write_lab_overrides(tmp_path) == path  # again: unchanged
    jupyterlab_server = pytest.importorskip("jupyterlab_server.settings_utils", reason="JupyterLab reads it")
    overrides, error = jupyterlab_server._get_overrides(str(path.parent.parent))
    assert error == "" and overrides == course.LAB_OVERRIDES
