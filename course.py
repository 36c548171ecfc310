#!/usr/bin/env python3
"""Set up and run the course with one command, on Linux, macOS and Windows.

    python3 course.py            # make .venv, install, open the lessons in JupyterLab
    python3 course.py doctor     # check Python, packages, encodings, key, models, dates
    python3 course.py test       # make .venv, install the test tools, run every test
    python3 course.py test --live [--cap 0.05]  # re-run the lessons with your key, compare shapes
    python3 course.py notebooks  # re-execute the lessons offline and store their outputs
    python3 course.py serve [--port N]       # serve the offline model over HTTP on 127.0.0.1
    python3 course.py hub-link --hub URL     # a JupyterHub link that pulls the course, opens lesson 00
    python3 course.py --help     # this text

Windows: use `py course.py ...`. Extra arguments after `test` go to pytest (after
`test --live`, to `python -m tools.live_check`; after `doctor`, to `python -m tools.doctor`; after
`serve`, to `python -m helpers._offline serve`; after `hub-link`, to `python -m tools.hub_link`).

The first run creates .venv and installs the course's packages (usually 1-3 minutes, with
pip's progress shown); later runs only check them. A half-made .venv (no Python, no pip, or
made by another Python version) is made again. pip never sees your API key. Run as root
(Docker, many cloud VMs, WSL), JupyterLab is started with --allow-root.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
SUPPORTED = ((3, 10), (3, 13))
FIRST_LESSON = "notebooks/00_setup.ipynb"
# The HTTP server for the offline model needs starlette and uvicorn (listed with the course's packages).
SERVE_REQUIREMENTS = "requirements.txt"
# Inside .venv, so a new .venv starts without it: the requirements files installed into it, one a line.
INSTALLED_MARKER = ".course-installed"
# Prints the venv's Python version, then fails with "No module named 'pip'" when pip is missing.
PROBE = "import sys; print('%d.%d' % sys.version_info[:2], flush=True); import pip"
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
    subprocess.run([str(a) for a in args], cwd=ROOT, check=True, env=environment() if env is None else env)


def running_as_root() -> bool:
    """True for root on POSIX; Windows has no such user (and no os.geteuid)."""
    geteuid = getattr(os, "geteuid", None)
    return geteuid is not None and geteuid() == 0


def lab_command(python: str | Path, as_root: bool = False) -> list[str]:
    """JupyterLab, opened on the first lesson; ``as_root`` adds the flag it needs to start as root."""
    return [str(python), "-m", "jupyter", "lab", FIRST_LESSON, *(["--allow-root"] if as_root else [])]


def venv_problem(venv: Path) -> str | None:
    """Why the environment in ``venv`` cannot be used as it is (completing "The course environment
    in .venv ..."), or None when it can be used or does not exist yet."""
    if not venv.exists():
        return None
    python = venv_python(venv)
    if not python.exists():
        return "is incomplete (it has no Python)"
    try:
        # -I: ignore PYTHONPATH and user site-packages, so only the venv's own pip counts.
        probe = subprocess.run(
            [str(python), "-I", "-c", PROBE], capture_output=True, text=True, env=install_environment(), timeout=120
        )
    except subprocess.TimeoutExpired:
        return None  # a slow first start (e.g. a virus scan on Windows) is no reason to rebuild it
    except OSError as error:
        return f"has a Python that does not start ({error.strerror or error})"
    lines = probe.stdout.split()
    version = lines[0] if lines else ""
    here = "{}.{}".format(*sys.version_info[:2])
    if not version:
        last = (probe.stderr.strip().splitlines() or [f"exit code {probe.returncode}"])[-1]
        return f"has a Python that does not start ({last})"
    if version != here:
        return f"was made with Python {version}, and this is Python {here}"
    if probe.returncode != 0:
        if re.search(r"No module named '?pip'?\s*$", probe.stderr.strip()):
            return "is incomplete (pip is missing)"
        last = (probe.stderr.strip().splitlines() or [f"exit code {probe.returncode}"])[-1]
        return f"has a broken pip ({last})"
    return None


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


def ensure_venv(venv: Path) -> Path:
    """A working ``venv`` (made, or made again when broken); returns its Python."""
    problem = venv_problem(venv)
    if problem:
        print(f"The course environment in {venv.name} {problem}; making it again.", flush=True)
        remove_venv(venv)
    if not venv_python(venv).exists():
        create_venv(venv)
    return venv_python(venv)


def installed_before(venv: Path, requirements: str) -> bool:
    """Whether ``requirements`` was installed into ``venv`` completely at least once."""
    marker = venv / INSTALLED_MARKER
    return marker.is_file() and requirements in marker.read_text(encoding="utf-8").splitlines()


def mark_installed(venv: Path, requirements: str) -> None:
    if not installed_before(venv, requirements):
        with (venv / INSTALLED_MARKER).open("a", encoding="utf-8") as marker:
            marker.write(requirements + "\n")


def pip_command(python: str | Path, requirements: Path, first: bool) -> list[str | Path]:
    """pip installing ``requirements``: with its progress the first time, quiet afterwards."""
    return [
        python,
        "-m",
        "pip",
        "install",
        *([] if first else ["--quiet"]),
        "--disable-pip-version-check",
        "-r",
        requirements,
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
    python = ensure_venv(VENV)
    first = not installed_before(VENV, requirements)
    if first:
        print(f"First set-up: installing the course's packages ({requirements}), usually 1-3 minutes.", flush=True)
    run(*pip_command(python, ROOT / requirements, first), env=install_environment())
    mark_installed(VENV, requirements)
    return python


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "start"
    try:
        if command in ("-h", "--help", "help"):
            print(__doc__)
        elif command == "start":
            python = setup("requirements.txt")
            as_root = running_as_root()
            if as_root:
                print(ROOT_NOTE, flush=True)
            run(*lab_command(python, as_root=as_root))
        elif command == "doctor":
            python = setup("requirements.txt")
            run(python, "-m", "tools.doctor", *argv[1:])
        elif command == "test" and "--live" in argv[1:]:
            python = setup("requirements-dev.txt")
            run(python, "-m", "tools.live_check", *[a for a in argv[1:] if a != "--live"])
        elif command == "test":
            python = setup("requirements-dev.txt")
            run(python, "-m", "pytest", *argv[1:])
        elif command == "notebooks":
            python = setup("requirements-dev.txt")
            run(python, "-m", "tools.run_notebooks", *argv[1:])
        elif command == "serve":
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
        return error.returncode or 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
