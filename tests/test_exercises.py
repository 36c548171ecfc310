"""Every exercise check passes the lesson's worked solution and fails plausible wrong answers.

A lesson's checks live in ``helpers/practice/lNN.py`` (the learner's cell is one call:
``ex.check_1(answer_1)``); its probes live in ``tests/probes/lNN.py``. Each lesson is executed
offline in a kernel (as tools/run_notebooks.py does). Its worked solutions are markdown (so Run
All never runs them): their fenced python runs next in the same kernel, then one cell a probe
hands a check the solution or a wrong answer a learner might write. A check that says "Correct"
to a wrong answer teaches the wrong thing, so each wrong answer is its own test.
"""

from __future__ import annotations

import functools
import importlib
import json
import os
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from probes import Probe

from tools.lesson_stats import solution_blocks
from tools.offline_env import apply

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
PRACTICE = ROOT / "helpers" / "practice"
CHECK_DEF = re.compile(r"^def check_(\d+)\(", re.M)
CHECK_CALL = re.compile(r"\bex\.check_(\d+)\(")
MARKER = "@@verdict@@"  # a probe cell prints one line starting with this, then its verdict as JSON
HEADINGS = {"en": "Solutions", "ko": "'## 풀이'"}  # the solutions heading, as a failure names it


def lesson_files() -> list[Path]:
    return sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def probes_for(filename: str) -> tuple[str, list[Probe]]:
    """(set-up run once after the lesson's cells, probes) from tests/probes/lNN.py."""
    module = importlib.import_module(f"probes.l{filename[:2]}")
    return getattr(module, "SETUP", ""), module.PROBES


def has_probes(filename: str) -> bool:
    return (Path(__file__).parent / "probes" / f"l{filename[:2]}.py").exists()


def probe_cell(probe: Probe) -> nbformat.NotebookNode:
    """A cell that builds the answer, runs the check and prints its verdict on one marked line."""
    source = (
        f"{probe.setup}\n"
        f"import json as _json\n"
        f"_verdict = {probe.verdict}\n"
        f"print({MARKER!r} + _json.dumps({probe.name!r}) + {MARKER!r} + "
        f"_json.dumps([str(_verdict), getattr(_verdict, 'ok', None)]))"
    )
    return nbformat.v4.new_code_cell(source)


def verdicts_of(cell: nbformat.NotebookNode) -> tuple[str, list] | str:
    """(probe name, verdict) from a probe cell's output, or the error it raised."""
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            return f"{output['ename']}: {output['evalue']}"
        for line in output.get("text", "").splitlines():
            if line.startswith(MARKER):
                name, verdict = line[len(MARKER) :].split(MARKER, 1)
                return json.loads(name), json.loads(verdict)
    return "the probe printed no verdict"


def run_probes(path: Path, lang: str = "en", *, solutions_only: bool = False) -> dict[str, list | str]:
    """Execute the lesson at ``path``, its worked solutions (the ```python blocks after its
    solutions heading in ``lang``), then the set-up and the probes of tests/probes/lNN.py (only
    the solutions' with ``solutions_only``) in one kernel; return each probe's verdict (or error)."""
    apply(os.environ)  # the kernel inherits the offline settings, as in tools/run_notebooks.py
    name = path.name if lang == "en" else f"{lang}/{path.name}"
    setup, probes = probes_for(path.name)
    if solutions_only:
        probes = [p for p in probes if p.right]
    nb = nbformat.read(path, as_version=4)
    lesson_cells = len(nb.cells)
    solutions = solution_blocks(nb, lang)
    assert solutions, f"{name}: no ```python blocks after its {HEADINGS[lang]} heading to run"
    nb.cells += [nbformat.v4.new_code_cell(code) for _, code in solutions]
    if setup:
        nb.cells.append(nbformat.v4.new_code_cell(setup))
    first_probe = len(nb.cells)
    nb.cells += [probe_cell(p) for p in probes]
    # allow_errors: a probe that raises is reported as that probe's failure, not as a crash of all.
    client = NotebookClient(
        nb, timeout=60, kernel_name="python3", allow_errors=True, resources={"metadata": {"path": str(path.parent)}}
    )
    client.execute()
    errors = [
        f"cell {i}: {o['ename']}: {o['evalue']}"
        for i, cell in enumerate(nb.cells[:first_probe])
        for o in cell.get("outputs", [])
        if o.get("output_type") == "error"
    ]
    assert not errors, f"{name} failed before its probes ran ({lesson_cells} lesson cells): {errors}"
    results = {}
    for probe, cell in zip(probes, nb.cells[first_probe:], strict=True):
        found = verdicts_of(cell)
        results[probe.name] = found[1] if isinstance(found, tuple) and found[0] == probe.name else f"[probe] {found}"
    return results


@functools.cache
def run_lesson(filename: str) -> dict[str, list | str]:
    """The English lesson run with all its probes (once per test session)."""
    return run_probes(NOTEBOOKS / filename)


CASES = [
    pytest.param(path.name, probe, id=f"{path.name[:2]}: {probe.name}")
    for path in lesson_files()
    if has_probes(path.name)
    for probe in probes_for(path.name)[1]
]


@pytest.mark.parametrize(("filename", "probe"), CASES)
def test_check_judges_the_answer(filename: str, probe: Probe):
    verdict = run_lesson(filename)[probe.name]
    assert isinstance(verdict, list), f"the probe itself failed: {verdict}"
    text, ok = verdict
    assert ok is not None, f"the check returned {text!r}, not a Verdict (helpers.practice.correct / not_yet)"
    if probe.right:
        assert ok and text.startswith("Correct"), f"the solution is refused: {text}"
    else:
        assert not ok, f"a wrong answer ({probe.name}) is accepted: {text}"
        assert text.startswith("Not yet"), f"unexpected verdict: {text}"


@pytest.mark.parametrize("path", lesson_files(), ids=lambda p: p.name)
def test_every_check_is_called_and_probed(path: Path):
    """Each check of a lesson's module is called in the lesson (one short call, ``ex.check_N(...)``)
    and has its solution and at least two wrong answers among the lesson's probes."""
    module = PRACTICE / f"l{path.name[:2]}.py"
    assert module.exists(), f"{path.name}: no helpers/practice/{module.name} with its checks and quiz"
    checks = set(CHECK_DEF.findall(module.read_text(encoding="utf-8")))
    assert checks, f"{module.name} defines no check_N"
    cells = [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
    called = {n for c in cells for n in CHECK_CALL.findall(c.source)}
    assert called == checks, f"{path.name} calls checks {sorted(called)}, its module has {sorted(checks)}"
    assert has_probes(path.name), f"{path.name}: add tests/probes/l{path.name[:2]}.py"
    probes = probes_for(path.name)[1]
    for number in sorted(checks):
        mine = [p for p in probes if CHECK_CALL.search(p.verdict) and CHECK_CALL.search(p.verdict).group(1) == number]
        assert any(p.right for p in mine), f"check_{number} of {path.name}: no solution probe"
        assert sum(not p.right for p in mine) >= 2, f"check_{number} of {path.name}: under two wrong answers"
