#!/usr/bin/env python3
"""Set up and run the course with one command, on Linux, macOS and Windows.

    python3 course.py            # make .venv, install, open the lessons in JupyterLab
    python3 course.py doctor     # check Python, packages, encodings, key, models, dates
    python3 course.py test       # make .venv, install the test tools, run every test
    python3 course.py test --live [--cap 0.05]  # re-run the lessons with your key, compare shapes
    python3 course.py notebooks  # re-execute the lessons offline and store their outputs

Windows: use `py course.py ...`. Extra arguments after `test` go to pytest (after
`test --live`, to tools/live_check.py; after `doctor`, to tools/doctor.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
SUPPORTED = ((3, 10), (3, 13))
# Filled by `python tools/prefetch_encodings.py`; used when TIKTOKEN_CACHE_DIR is not set.
TIKTOKEN_CACHE = ROOT / ".tiktoken-cache"
FIRST_LESSON = "notebooks/00_setup.ipynb"


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def environment() -> dict[str, str]:
    """The environment for the tools we start: the course's tiktoken cache if there is one."""
    env = dict(os.environ)
    if not env.get("TIKTOKEN_CACHE_DIR") and TIKTOKEN_CACHE.is_dir() and any(TIKTOKEN_CACHE.iterdir()):
        env["TIKTOKEN_CACHE_DIR"] = str(TIKTOKEN_CACHE)
    return env


def run(*args: str | Path) -> None:
    print("+", " ".join(str(a) for a in args), flush=True)
    subprocess.run([str(a) for a in args], cwd=ROOT, check=True, env=environment())


def lab_command(python: str | Path) -> list[str]:
    """JupyterLab, opened on the first lesson."""
    return [str(python), "-m", "jupyter", "lab", FIRST_LESSON]


def setup(requirements: str) -> Path:
    """Create .venv once and install ``requirements`` into it (fast when nothing changed)."""
    low, high = SUPPORTED
    if not low <= sys.version_info[:2] <= high:
        print(f"warning: Python {sys.version.split()[0]} is untested; the course supports "
              f"{low[0]}.{low[1]} to {high[0]}.{high[1]}.", file=sys.stderr)
    if not venv_python().exists():
        print(f"Creating {VENV.name} ...", flush=True)
        venv.create(VENV, with_pip=True)
    run(venv_python(), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        "-r", ROOT / requirements)
    return venv_python()


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "start"
    try:
        if command == "start":
            python = setup("requirements.txt")
            run(*lab_command(python))
        elif command == "doctor":
            python = setup("requirements.txt")
            run(python, ROOT / "tools" / "doctor.py", *argv[1:])
        elif command == "test" and "--live" in argv[1:]:
            python = setup("requirements-dev.txt")
            run(python, ROOT / "tools" / "live_check.py", *[a for a in argv[1:] if a != "--live"])
        elif command == "test":
            python = setup("requirements-dev.txt")
            run(python, "-m", "pytest", *argv[1:])
        elif command == "notebooks":
            python = setup("requirements-dev.txt")
            run(python, ROOT / "tools" / "run_notebooks.py", *argv[1:])
        else:
            print(__doc__, file=sys.stderr)
            return 2
    except subprocess.CalledProcessError as error:
        return error.returncode or 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
