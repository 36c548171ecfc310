"""Write constraints.txt: the exact versions the test suite last passed with.

    .venv/bin/python -m tools.constraints     # after `python3 course.py test` passed

`course.py`, Binder and CI install with `-c constraints.txt`, so a fresh install gets the
tested set instead of whatever the package index serves that day. The weekly freshness
check (.github/workflows/freshness.yml) installs the newest openai, genai-prices and
tiktoken on purpose, to say when the pins fall behind.

A pin whose release needs a newer Python than the course's oldest (3.10) carries a marker,
so that Python still installs (without the pin) instead of failing.
"""

from __future__ import annotations

import datetime
import importlib.metadata
import sys
from pathlib import Path

from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

try:
    import course
except ModuleNotFoundError:  # run by path (python tools/constraints.py): the course folder is not importable
    sys.exit("Run it from the course folder: .venv/bin/python -m tools.constraints")

import course

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "constraints.txt"
_LOW, _HIGH = course.SUPPORTED
SUPPORTED = [(3, minor) for minor in range(_LOW[1], _HIGH[1] + 1)]  # every Python course.py supports
SELF = "chat-completions-course"  # installed from this folder (-e .): never pinned
TOOLING = {"pip", "setuptools", "wheel"}  # the installer's own tools: pip upgrades them itself


def marker(requires_python: str | None) -> str:
    """The release's own Requires-Python as a marker (``; python_full_version >= "3.11"``)
    when some supported Python cannot install it: there the pin is left out, not failed."""
    if not requires_python:
        return ""
    spec = SpecifierSet(requires_python)
    if all(Version(f"{major}.{minor}.0") in spec for major, minor in SUPPORTED):
        return ""
    return "; " + " and ".join(f'python_full_version {s.operator} "{s.version}"' for s in sorted(spec, key=str))


def pins(distributions=None) -> list[str]:
    """One ``name==version`` line (with a marker where needed) a distribution, sorted by name."""
    lines = {}
    for dist in distributions if distributions is not None else importlib.metadata.distributions():
        name = canonicalize_name(dist.metadata["Name"] or "")
        if not name or name == SELF or name in TOOLING:
            continue
        lines[name] = f"{name}=={dist.version}{marker(dist.metadata.get('Requires-Python'))}"
    return [lines[name] for name in sorted(lines)]


def render(lines: list[str], today: datetime.date | None = None) -> str:
    today = today or datetime.date.today()
    python = "{}.{}".format(*sys.version_info[:2])
    header = [
        f"# The exact versions the test suite last passed with (Python {python}, {today}).",
        "# Installed with `-c constraints.txt` by course.py, Binder and CI. Refresh after a green",
        "# `python3 course.py test`: .venv/bin/python -m tools.constraints",
    ]
    return "\n".join(header + lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    import argparse

    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args(argv)
    TARGET.write_text(render(pins()), encoding="utf-8")
    print(f"wrote {TARGET.name}: {len(pins())} pins")
    return 0


if __name__ == "__main__":
    sys.exit(main())
