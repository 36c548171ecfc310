#!/usr/bin/env python3
"""Set up and run the course with one command, on Linux, macOS and Windows.

    python3 course.py            # make .venv, install, open the lessons in JupyterLab
    python3 course.py --lang ko  # the same, on the Korean track (한국어), JupyterLab in Korean
    python3 course.py doctor     # check Python, packages, encodings, key, models, dates
    python3 course.py doctor --upstream      # has the world moved? new models, prices, shutdowns
    python3 course.py test       # make .venv, install the test tools, run every test
    python3 course.py test --quick           # the quick tests only (pytest -m "not slow")
    python3 course.py test --live [--cap 0.05]  # re-run the lessons with your key, compare shapes
    python3 course.py notebooks  # carry code into the Korean lessons, re-run both tracks offline
    python3 course.py serve [--port N]       # serve the offline model over HTTP on 127.0.0.1
    python3 course.py hub-link --hub URL     # a JupyterHub link that pulls the course, opens lesson 00
    python3 course.py --help     # this text

Windows: use `py course.py ...`. Extra arguments after `test` (or `test --quick`) go to pytest
(after `test --live`, to `python -m tools.live_check`; after `doctor`, to `python -m tools.doctor`;
after `serve`, to `python -m helpers._offline serve`; after `hub-link`, to `python -m tools.hub_link`).
Ctrl+C stops the command the way it stops by itself (pytest still prints its summary).

The first run creates .venv and installs the course's packages (usually 1-3 minutes, with
pip's progress shown), with the tested versions in constraints.txt when it exists. Later runs
skip pip unless the requirements files, constraints.txt, pyproject.toml or .venv's Python changed
since the last install (.venv/.course-installed records them), and then say which. A half-made
.venv (no Python, no pip, or made by another Python version) is made again. pip never sees your
API key. Run as root (Docker, many cloud VMs, WSL), JupyterLab is started with --allow-root.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
SUPPORTED = ((3, 10), (3, 13))
FIRST_LESSON = "notebooks/00_setup.ipynb"
# The first lesson of each track, and JupyterLab's locale for it (its language pack, e.g.
# jupyterlab-language-pack-ko-kr, is in requirements.txt).
FIRST_LESSONS = {"en": FIRST_LESSON, "ko": "notebooks/ko/00_setup.ipynb"}
LAB_LOCALES = {"en": "en", "ko": "ko_KR"}
# The HTTP server for the offline model needs starlette and uvicorn (listed with the course's packages).
SERVE_REQUIREMENTS = "requirements.txt"
# Inside .venv, so a new .venv starts without it: JSON, for each requirements file installed into it,
# the fingerprint of that install (see fingerprint()); pip runs again only when it changes.
INSTALLED_MARKER = ".course-installed"
# The tested versions (written by tools/constraints.py); every install uses it when it exists.
CONSTRAINTS = "constraints.txt"
# Read by pip for `-e .`: its dependencies and package data.
PYPROJECT = "pyproject.toml"
# -r/-c naming another file (short or long form); pip reads it relative to the file naming it.
INCLUDE = re.compile(r"\s*(-r|--requirement|-c|--constraint)\s*=?\s*(\S+)")
# Prints the venv's Python version, then fails with "No module named 'pip'" when pip is missing.
PROBE = "import sys; print('%d.%d.%d' % sys.version_info[:3], flush=True); import pip"
# helpers/_offline/server.py's defaults, for checking the port before `serve` starts it.
SERVE_HOST, SERVE_PORT = "127.0.0.1", 8787
ROOT_NOTE = (
    "Running as root (usual in Docker, cloud VMs and WSL): starting JupyterLab with --allow-root, "
    "which it refuses to start without."
)


class SetupError(Exception):
    """Setting up .venv failed; the message says what to do next."""


def venv_python(venv: Path | None = None) -> Path:
    """The Python inside ``venv`` (the course's .venv by default)."""
    venv = VENV if venv is None else venv
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def environment() -> dict[str, str]:
    """The environment for the tools we start (tiktoken's encodings ship in helpers: no cache to set)."""
    return dict(os.environ)


def test_environment() -> dict[str, str]:
    """The environment for the test suite. Its workers, kernels and servers import the same
    modules again and again; with PYTHONDONTWRITEBYTECODE set, each import compiles from source
    (pytest's assertion rewriting too). So the compiled code is kept, in .venv's own folder and
    never beside the sources: the course folder stays as clean as that setting keeps it."""
    env = environment()
    if env.pop("PYTHONDONTWRITEBYTECODE", ""):
        env["PYTHONPYCACHEPREFIX"] = str(VENV / "pycache")
    return env


def is_secret(name: str) -> bool:
    """A variable pip and venv never need and must not see: API keys and the OpenAI SDK's settings
    (key, organization, project, base URL, which may carry credentials)."""
    upper = name.upper()  # Windows names are case-insensitive
    return upper.startswith("OPENAI_") or upper.endswith(("_API_KEY", "_APIKEY"))


def install_environment() -> dict[str, str]:
    """The environment for pip and venv: ours without any key (pip runs code from packages it builds)."""
    return {name: value for name, value in environment().items() if not is_secret(name)}


def format_command(args: Sequence[str | Path]) -> str:
    """``args`` as one line the user can paste into their shell, quoted where needed."""
    parts = [str(a) for a in args]
    return subprocess.list2cmdline(parts) if os.name == "nt" else shlex.join(parts)


def run(*args: str | Path, env: dict[str, str] | None = None) -> None:
    """Print ``args`` quoted, then run them in the course folder (``env``: ours unless given)."""
    print("+", format_command(args), flush=True)
    # Ctrl+C reaches the child as well (same terminal): let it stop its own way (pytest prints its
    # summary, JupyterLab asks to confirm) instead of being killed by subprocess.run 0.25 s later.
    # A do-nothing handler, not SIG_IGN: an ignored SIGINT would stay ignored in the child.
    previous = signal.signal(signal.SIGINT, lambda signum, frame: None)
    try:
        subprocess.run([str(a) for a in args], cwd=ROOT, check=True, env=environment() if env is None else env)
    finally:
        signal.signal(signal.SIGINT, previous if previous is not None else signal.SIG_DFL)


def running_as_root() -> bool:
    """True for root on POSIX; Windows has no such user (and no os.geteuid)."""
    geteuid = getattr(os, "geteuid", None)
    return geteuid is not None and geteuid() == 0


def lab_command(python: str | Path, as_root: bool = False, lang: str = "en") -> list[str]:
    """JupyterLab, opened on the track's first lesson; ``as_root`` adds the flag it needs to start as root."""
    return [str(python), "-m", "jupyter", "lab", FIRST_LESSONS[lang], *(["--allow-root"] if as_root else [])]


def lab_environment(lang: str, venv: Path | None = None) -> dict[str, str] | None:
    """For a track other than English: our environment with JupyterLab's user settings in
    .venv (a folder per language), its language set to the track's. None for English, whose
    JupyterLab keeps the learner's own settings."""
    if lang == "en":
        return None
    settings = (VENV if venv is None else venv) / "share" / "course-lab-settings" / lang
    plugin = settings / "@jupyterlab" / "translation-extension" / "plugin.jupyterlab-settings"
    if not plugin.is_file():
        plugin.parent.mkdir(parents=True, exist_ok=True)
        plugin.write_text(json.dumps({"locale": LAB_LOCALES[lang]}) + "\n", encoding="utf-8")
    return {**environment(), "JUPYTERLAB_SETTINGS_DIR": str(settings)}


def venv_problem(venv: Path) -> str | None:
    """Why the environment in ``venv`` cannot be used as it is (completing "The course environment
    in .venv ..."), or None when it can be used or does not exist yet."""
    return inspect_venv(venv)[0]


def inspect_venv(venv: Path) -> tuple[str | None, str]:
    """``venv_problem(venv)``, and the full version of its Python ("" when unknown)."""
    if not venv.exists():
        return None, ""
    python = venv_python(venv)
    if not python.exists():
        return "is incomplete (it has no Python)", ""
    try:
        # -I: ignore PYTHONPATH and user site-packages, so only the venv's own pip counts.
        probe = subprocess.run(
            [str(python), "-I", "-c", PROBE], capture_output=True, text=True, env=install_environment(), timeout=120
        )
    except subprocess.TimeoutExpired:
        return None, ""  # a slow first start (e.g. a virus scan on Windows) is no reason to rebuild it
    except OSError as error:
        return f"has a Python that does not start ({error.strerror or error})", ""
    lines = probe.stdout.split()
    version = lines[0] if lines else ""
    minor = ".".join(version.split(".")[:2])
    here = "{}.{}".format(*sys.version_info[:2])
    if not version:
        last = (probe.stderr.strip().splitlines() or [f"exit code {probe.returncode}"])[-1]
        return f"has a Python that does not start ({last})", ""
    if minor != here:
        return f"was made with Python {minor}, and this is Python {here}", version
    if probe.returncode != 0:
        if re.search(r"No module named '?pip'?\s*$", probe.stderr.strip()):
            return "is incomplete (pip is missing)", version
        last = (probe.stderr.strip().splitlines() or [f"exit code {probe.returncode}"])[-1]
        return f"has a broken pip ({last})", version
    return None, version


def remove_venv(venv: Path) -> None:
    """Delete ``venv`` so it can be made again, refusing when this very Python runs from it."""
    if Path(sys.prefix).resolve() == venv.resolve():
        raise SetupError(
            f"course.py is running with the Python inside {venv.name}, which has to be made again. "
            f"Run it with your system's Python instead: python3 course.py"
        )
    try:
        if venv.is_dir() and not venv.is_symlink():
            shutil.rmtree(venv)
        else:
            venv.unlink()
    except OSError as error:
        raise SetupError(
            f"Could not remove {venv} ({error}). If JupyterLab or another program from it is "
            f"still running, close it; or delete the folder yourself. Then run this again."
        ) from error


def create_venv(venv: Path) -> None:
    """Make ``venv`` with pip, with this Python, in a process that does not see any key."""
    print(f"Creating {venv.name} with Python {sys.version.split()[0]} ...", flush=True)
    try:
        run(sys.executable, "-m", "venv", venv, env=install_environment())
    except subprocess.CalledProcessError as error:
        major, minor = sys.version_info[:2]
        raise SetupError(
            f"Could not create {venv.name} (see the message above). On Debian or Ubuntu, install "
            f"Python's venv module first (sudo apt install python{major}.{minor}-venv), then run "
            f"this again; the half-made {venv.name} is made again then."
        ) from error


def ensure_venv(venv: Path) -> str:
    """Make ``venv`` work (made, or made again when broken); returns its Python's full version."""
    problem, version = inspect_venv(venv)
    if problem:
        print(f"The course environment in {venv.name} {problem}; making it again.", flush=True)
        remove_venv(venv)
    if not venv_python(venv).exists():
        create_venv(venv)
        version = "{}.{}.{}".format(*sys.version_info[:3])  # made by this very Python
    return version


def included_files(path: Path, constraints: bool = True) -> list[Path]:
    """``path`` and the files it names with -r (and -c unless not ``constraints``), and theirs,
    as pip finds them (resolved)."""
    found, todo = [], [path.resolve()]
    while todo:
        current = todo.pop(0)
        if current in found:
            continue
        found.append(current)
        if current.is_file():
            for line in current.read_text(encoding="utf-8").splitlines():
                match = INCLUDE.match(line)
                if match and (constraints or match[1] in ("-r", "--requirement")):
                    todo.append((current.parent / match[2]).resolve())
    return found


def relative(path: Path) -> str:
    """``path`` as the marker names it: relative to the course folder, with forward slashes."""
    return os.path.relpath(path, ROOT.resolve()).replace(os.sep, "/")


def file_digest(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


def fingerprint(requirements: str, python_version: str) -> dict:
    """What an install of ``requirements`` depends on: its files' hashes (None: missing) and the Python."""
    files = [*included_files(ROOT / requirements), ROOT / PYPROJECT, ROOT / CONSTRAINTS]
    names = {relative(path): path for path in files}
    return {"python": python_version, "files": {name: file_digest(path) for name, path in names.items()}}


def read_marker(venv: Path) -> dict[str, dict]:
    """The fingerprints recorded in ``venv``, by requirements file; {} when none."""
    try:
        text = (venv / INSTALLED_MARKER).read_text(encoding="utf-8")
    except OSError:
        return {}
    try:
        recorded = json.loads(text)
    except ValueError:  # an older course.py wrote the names alone, one a line: installed, fingerprint unknown
        return {name: {} for name in text.split()}
    return recorded if isinstance(recorded, dict) else {}


def installed_before(venv: Path, requirements: str) -> bool:
    """Whether ``requirements`` was installed into ``venv`` completely at least once."""
    return requirements in read_marker(venv)


def mark_installed(venv: Path, requirements: str, python_version: str) -> None:
    """Record ``requirements`` as installed, and the requirements files it includes with -r,
    which that install installed too."""
    recorded = read_marker(venv)
    for path in included_files(ROOT / requirements, constraints=False):
        name = relative(path)
        if path.is_file() and not name.startswith("../"):
            recorded[name] = fingerprint(name, python_version)
    (venv / INSTALLED_MARKER).write_text(json.dumps(recorded, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def changes(before: dict, now: dict) -> str:
    """What differs between two fingerprints, as a phrase ("" when nothing, or nothing is known)."""
    if not before:
        return ""
    old_files, new_files = before.get("files", {}), now["files"]
    changed = [name for name in new_files if old_files.get(name) != new_files[name]]
    if before.get("python") != now["python"]:
        changed.append(f"the Python in .venv ({before.get('python') or '?'} before, {now['python'] or '?'} now)")
    return " and ".join([", ".join(changed[:-1]), changed[-1]] if len(changed) > 1 else changed)


def pip_command(
    python: str | Path, requirements: Path, first: bool, constraints: Path | None = None
) -> list[str | Path]:
    """pip installing ``requirements`` (pinned by ``constraints``): with its progress the first
    time, quiet afterwards."""
    return [
        python,
        "-m",
        "pip",
        "install",
        *([] if first else ["--quiet"]),
        "--disable-pip-version-check",
        "-r",
        requirements,
        *(["-c", constraints] if constraints else []),
    ]


def setup(requirements: str) -> Path:
    """Make .venv once (again when broken) and install ``requirements`` into it (fast when nothing changed)."""
    low, high = SUPPORTED
    if not low <= sys.version_info[:2] <= high:
        print(
            f"warning: Python {sys.version.split()[0]} is untested; the course supports "
            f"{low[0]}.{low[1]} to {high[0]}.{high[1]}.",
            file=sys.stderr,
        )
    version = ensure_venv(VENV)
    python = venv_python(VENV)
    write_lab_overrides(VENV)
    recorded = read_marker(VENV)
    now = fingerprint(requirements, version)
    if requirements not in recorded:
        print(f"First set-up: installing the course's packages ({requirements}), usually 1-3 minutes.", flush=True)
    elif recorded[requirements] == now:
        return python  # installed, and nothing it depends on changed since: no pip (about 10 s saved)
    else:
        changed = changes(recorded[requirements], now)
        why = f"{changed} changed since the last install" if changed else "the last install left no fingerprint"
        print(f"Installing {requirements}: {why}.", flush=True)
    constraints = ROOT / CONSTRAINTS
    first = requirements not in recorded
    command = pip_command(python, ROOT / requirements, first, constraints if constraints.is_file() else None)
    run(*command, env=install_environment())
    mark_installed(VENV, requirements, version)
    return python


# JupyterLab defaults for the course's environment: code cells wrap their long lines, so no
# line is cut off on a narrow screen (88 characters need about 1,130 px with the file browser
# open). A learner's own settings still win over these.
LAB_OVERRIDES = {"@jupyterlab/notebook-extension:tracker": {"codeCellConfig": {"lineWrap": True}}}


def write_lab_overrides(prefix: Path) -> Path:
    """Write LAB_OVERRIDES where the JupyterLab of the environment at ``prefix`` reads its defaults
    (binder/postBuild calls this for Binder's environment)."""
    path = prefix / "share" / "jupyter" / "lab" / "settings" / "overrides.d" / "chat-completions-course.json"
    text = json.dumps(LAB_OVERRIDES, indent=2) + "\n"
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return path


def option(args: Sequence[str], name: str, default: str) -> tuple[str, list[str]]:
    """The value of option ``name`` in ``args`` (``--name V`` or ``--name=V``; the last one counts),
    and ``args`` without it."""
    value, rest, i = default, [], 0
    while i < len(args):
        if args[i] == name and i + 1 < len(args):
            value, i = args[i + 1], i + 2
            continue
        if args[i].startswith(name + "="):
            value = args[i].split("=", 1)[1]
        else:
            rest.append(args[i])
        i += 1
    return value, rest


def listen_once(host: str, port: int) -> int:
    """Bind ``host``:``port`` as the server will, then let go; returns the port (the system's pick for 0).
    Raises OSError (OverflowError for a port outside 0-65535) when the server could not."""
    family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        if os.name != "nt":  # as uvicorn binds: a port closed a moment ago (TIME_WAIT) counts as free
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        return sock.getsockname()[1]


def free_port(host: str, after: int) -> int | None:
    """A port ``host`` can listen on now: the first free one after ``after``, else one the system picks."""
    for port in [*range(after + 1, min(after + 50, 65535) + 1), 0]:
        try:
            return listen_once(host, port)
        except (OSError, OverflowError):
            continue
    return None


def serve_problem(args: Sequence[str]) -> str | None:
    """Why ``serve`` with ``args`` cannot start its server now (and what to run instead), or None."""
    host, _ = option(args, "--host", SERVE_HOST)
    port_text, others = option(args, "--port", str(SERVE_PORT))
    try:
        port = int(port_text)
    except ValueError:
        return None  # the server's own option parser says what is wrong with it
    try:
        listen_once(host, port)
        return None
    except (OSError, OverflowError) as error:
        busy = getattr(error, "errno", None) == errno.EADDRINUSE
        problem = f"port {port} is busy" if busy else f"cannot listen on {host} port {port} ({error})"
    free = free_port(host, port)
    if free is None:
        return problem
    return f"{problem}: try {format_command(['python3', 'course.py', 'serve', *others, '--port', str(free)])}"


def main(argv: list[str]) -> int:
    if argv and argv[0].startswith("--lang"):  # python3 course.py --lang ko: a start on that track
        argv = ["start", *argv]
    command = argv[0] if argv else "start"
    try:
        if command in ("-h", "--help", "help"):
            print(__doc__)
        elif command == "start":
            lang, rest = option(argv[1:], "--lang", "en")
            if lang not in FIRST_LESSONS or rest:
                print(
                    f"python3 course.py takes --lang {' or --lang '.join(FIRST_LESSONS)} (not {' '.join(argv[1:])!r}).",
                    file=sys.stderr,
                )
                return 2
            python = setup("requirements.txt")
            as_root = running_as_root()
            if as_root:
                print(ROOT_NOTE, flush=True)
            env = lab_environment(lang)
            if env is None:
                run(*lab_command(python, as_root=as_root))
            else:
                run(*lab_command(python, as_root=as_root, lang=lang), env=env)
        elif command == "doctor":
            # --upstream compares with genai-prices, one of the test tools (requirements-dev.txt).
            python = setup("requirements-dev.txt" if "--upstream" in argv[1:] else "requirements.txt")
            run(python, "-m", "tools.doctor", *argv[1:])
        elif command == "test" and "--live" in argv[1:]:
            python = setup("requirements-dev.txt")
            run(python, "-m", "tools.live_check", *[a for a in argv[1:] if a != "--live"], env=test_environment())
        elif command == "test" and any(a == "--cap" or a.startswith("--cap=") for a in argv[1:]):
            # Without --live these would reach pytest, which knows no --cap.
            live = format_command(["python3", "course.py", "test", "--live", *argv[1:]])
            print(f"--cap sets the spend cap of a live run: {live}", file=sys.stderr)
            return 2
        elif command == "test" and "--quick" in argv[1:]:
            python = setup("requirements-dev.txt")
            quick = [a for a in argv[1:] if a != "--quick"]
            run(python, "-m", "pytest", "-m", "not slow", *quick, env=test_environment())
        elif command == "test":
            python = setup("requirements-dev.txt")
            run(python, "-m", "pytest", *argv[1:], env=test_environment())
        elif command == "notebooks":
            python = setup("requirements-dev.txt")
            if "--dry-run" not in argv[1:]:
                # The Korean track first takes the English lessons' code (tools/ko_sync.py): the
                # re-run below then stores both tracks' outputs.
                run(python, "-m", "tools.ko_sync", "--no-run", *[a for a in argv[1:] if not a.startswith("-")])
            run(python, "-m", "tools.run_notebooks", *argv[1:])
        elif command == "serve":
            problem = serve_problem(argv[1:])  # before the banner the server prints, and before any install
            if problem:
                print(problem, file=sys.stderr)
                return 1
            python = setup(SERVE_REQUIREMENTS)
            run(python, "-m", "helpers._offline", "serve", *argv[1:])
        elif command == "hub-link":
            script = ROOT / "tools" / "hub_link.py"
            if not script.is_file():
                print(
                    f"hub-link needs {script.relative_to(ROOT).as_posix()}, which this copy of the course "
                    "does not have. Update the course (git pull) and run this again.",
                    file=sys.stderr,
                )
                return 2
            python = setup("requirements.txt")
            run(python, "-m", "tools.hub_link", *argv[1:])
        else:
            print(f"Unknown command {command!r}.\n{__doc__}", file=sys.stderr)
            return 2
    except SetupError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except subprocess.CalledProcessError as error:
        # Killed by a signal (POSIX: -N): the shell's convention, 128 + N (130 for SIGINT).
        return 128 - error.returncode if error.returncode < 0 else error.returncode or 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
