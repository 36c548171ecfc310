"""The shape of ``helpers``: a face a learner reads in one sitting, the engine room behind it,
and no tool or benchmark reaching into test code."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

import helpers
from tools import face_size

ROOT = Path(__file__).resolve().parents[1]
HELPERS = ROOT / "helpers"
ENGINE = {
    *("_offline", "_spend", "_settings", "_keys", "_connect", "_turns", "_encodings", "_show"),
    *("widgets", "practice"),
}


def test_the_face_reads_in_one_sitting():
    sizes = face_size.face()
    print("\n" + face_size.report())  # shown with pytest -s; benchmarks/bench_helpers.py prints it too
    assert sum(code for _, code in sizes.values()) <= face_size.BUDGET
    assert all(code > 20 for _, code in sizes.values())  # the count reads real files


def test_lines_of_code_leave_out_docstrings_comments_and_blank_lines(tmp_path):
    sample = tmp_path / "sample.py"
    lines = ['"""Doc', "", 'string."""', "", "# a comment", "x = 1  # counted", "", "", "def f():"]
    lines += ['    """One."""', "    return (", "        x", "    )"]
    sample.write_text("\n".join(lines) + "\n")
    assert face_size.size(sample) == (13, 5)


def test_the_package_exports_what_the_lessons_use_and_names_its_reading_order():
    assert 20 <= len(helpers.__all__) <= 25
    assert all(hasattr(helpers, name) for name in helpers.__all__)
    order = [helpers.__doc__.index(f"``{name}``") for name in face_size.FACE]
    assert order == sorted(order)


def test_every_module_is_either_the_face_or_private_engine_room():
    modules = {p.stem for p in HELPERS.glob("*.py")} | {
        p.name for p in HELPERS.iterdir() if (p / "__init__.py").is_file()
    }
    assert modules - {"__init__"} == set(face_size.FACE) | ENGINE


@pytest.mark.parametrize("folder", ["tools", "benchmarks", "helpers"])
def test_nothing_edits_sys_path_or_imports_the_tests(folder):
    for path in (ROOT / folder).rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "sys.path" not in text, path
        tree = ast.parse(text)
        imported = [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
        imported += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
        assert not [name for name in imported if name.split(".")[0] in ("tests", "conftest")], path


# An assignment to a private attribute of another object: obj._name = ... (self._name is ours).
FOREIGN_PRIVATE = re.compile(r"^\s*(?!self\.)[A-Za-z_][\w.]*\._[A-Za-z]\w*\s*(?:\[[^\]]*\])?\s*=[^=]", re.M)


def test_helpers_patch_no_private_attribute_of_another_library():
    found = [
        f"{path.relative_to(ROOT)}: {match.group(0).strip()}"
        for path in HELPERS.rglob("*.py")
        for match in FOREIGN_PRIVATE.finditer(path.read_text(encoding="utf-8"))
    ]
    assert found == []
    assert FOREIGN_PRIVATE.search("    http._transport = wrap(http._transport)\n")  # what it catches


def test_one_offline_address():
    uses = [p for p in HELPERS.rglob("*.py") if "offline.invalid" in p.read_text(encoding="utf-8")]
    assert [p.relative_to(HELPERS).as_posix() for p in uses] == ["_offline/__init__.py"]


@pytest.mark.slow  # a fresh Python a tool
@pytest.mark.parametrize("tool", sorted(p.stem for p in (ROOT / "tools").glob("*.py") if p.stem != "__init__"))
def test_a_tool_run_by_path_works_or_says_how_to_run_it(tool):
    # Tools that import their siblings run as python -m tools.<name>; by path they say so, no traceback.
    result = subprocess.run(
        [sys.executable, f"tools/{tool}.py", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert "Traceback" not in result.stderr
    if result.returncode != 0:
        assert f"python -m tools.{tool}" in result.stderr
