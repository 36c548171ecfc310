"""constraints.txt: the exact versions the suite last passed with, which course.py, Binder and
CI install with (`-c constraints.txt`), so a fresh install reproduces the tested set."""

from __future__ import annotations

import importlib.metadata
import re
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tools import constraints

ROOT = Path(__file__).resolve().parents[1]
PINS = [
    Requirement(line)
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines()
    if line.strip() and not line.startswith("#")
]


def requirement_names(path: Path) -> set[str]:
    names = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split(" #")[0].strip()
        if line and not line.startswith(("#", "-")):
            names.add(canonicalize_name(Requirement(line).name))
    return names


def test_every_pin_is_exact_and_listed_once():
    assert PINS, "constraints.txt has no pins"
    for pin in PINS:
        assert [s.operator for s in pin.specifier] == ["=="], pin
    names = [canonicalize_name(p.name) for p in PINS]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("requirements", ["requirements.txt", "requirements-dev.txt"])
def test_every_requirement_of_the_course_is_pinned(requirements):
    pinned = {canonicalize_name(p.name) for p in PINS}
    assert requirement_names(ROOT / requirements) - pinned == set()


def test_the_installed_versions_are_the_pinned_ones():
    # course.py installs with -c constraints.txt: a difference means the pins were not refreshed
    # after an upgrade (python -m tools.constraints), or the environment was changed by hand.
    wrong = []
    for pin in PINS:
        if pin.marker is not None and not pin.marker.evaluate():
            continue
        try:
            installed = importlib.metadata.version(pin.name)
        except importlib.metadata.PackageNotFoundError:
            continue  # a dependency of another platform or Python
        if installed not in pin.specifier:
            wrong.append(f"{pin.name}: installed {installed}, pinned {pin.specifier}")
    assert wrong == [], "refresh constraints.txt with python -m tools.constraints after a green run"


@pytest.mark.parametrize(
    ("requires", "marker", "left_out"),
    [
        (None, "", None),
        (">=3.8", "", None),
        (">=3.11", '; python_full_version >= "3.11"', "3.10.4"),
        (">=3.11.5", '; python_full_version >= "3.11.5"', "3.11.2"),
        ("<3.13,>=3.9", '; python_full_version < "3.13" and python_full_version >= "3.9"', "3.13.0"),
    ],
)
def test_a_pin_a_supported_python_cannot_install_carries_the_releases_own_marker(requires, marker, left_out):
    assert constraints.marker(requires) == marker
    if marker:  # that Python installs without the pin instead of failing
        assert not Marker(marker.removeprefix("; ")).evaluate({"python_full_version": left_out})


def test_the_refresh_command_is_written_in_the_file_and_the_readme():
    header = (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines()[:3]
    assert any("python -m tools.constraints" in line for line in header)
    assert "python -m tools.constraints" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_pins_come_from_the_environment_without_the_course_itself_or_pip():
    class Dist:
        def __init__(self, name, version, requires=None):
            self.metadata = {"Name": name, "Requires-Python": requires}
            self.version = version

    lines = constraints.pins(
        [Dist("Chat-Completions-Course", "0.1"), Dist("pip", "25"), Dist("Foo_Bar", "1.2", ">=3.12"), Dist("a", "1")]
    )
    assert lines == ["a==1", 'foo-bar==1.2; python_full_version >= "3.12"']
    assert re.match(r"# The exact versions", constraints.render(lines))
