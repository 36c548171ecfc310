"""Each lesson's exercise checks, judged in the kernel where nbval has just run the lesson.

A pytest plugin (conftest.py loads it). nbval runs a lesson's code cells one by one in one
kernel; after the lesson's last cell the same kernel runs these cells, as items of the same
notebook:

- the worked solutions: the ```python blocks after the lesson's solutions heading ("Solutions",
  or "풀이" in notebooks/ko/), as a learner would paste them (each must run without error);
- the set-up of tests/probes/lNN.py, then its probes: each hands one answer to a check.

In English every probe runs: the worked solution must be told "Correct" and each plausible
wrong answer "Not yet" (a check that says "Correct" to a wrong answer teaches the wrong thing).
In Korean the solutions' probes run, and each must be told "정답", the Korean verdict. Judged
where nbval already ran the lesson, no lesson runs twice. They are marked slow, so the quick
loop (python3 course.py test --quick) runs the lessons alone; a run of some cells of a lesson
adds none (its kernel would lack the rest).
"""

from __future__ import annotations

import importlib
import json
from collections import defaultdict
from pathlib import Path

import nbformat
import pytest
from nbval.plugin import IPyNbCell, IPyNbFile
from probes import Probe

from tools.lesson_stats import solution_blocks

PROBES = Path(__file__).parent / "probes"
MARKER = "@@verdict@@"  # a probe cell prints one line starting with this, then its verdict as JSON


def probes_for(filename: str) -> tuple[str, list[Probe]] | None:
    """(set-up code, probes) of tests/probes/lNN.py for the lesson ``filename``; None without one."""
    if not (PROBES / f"l{filename[:2]}.py").exists():
        return None
    module = importlib.import_module(f"probes.l{filename[:2]}")
    return getattr(module, "SETUP", ""), module.PROBES


def probe_source(probe: Probe) -> str:
    """A cell that builds the answer, runs the check and prints its verdict on one marked line."""
    return (
        f"{probe.setup}\n"
        "import json as _json\n"
        f"_verdict = {probe.verdict}\n"
        f"print({MARKER!r} + _json.dumps([str(_verdict), getattr(_verdict, 'ok', None)]))"
    )


def verdict_of(outputs: list[dict]) -> list | None:
    """[text, ok] from a probe cell's outputs, or None if it printed no verdict."""
    for output in outputs:
        for line in output.get("text", "").splitlines():
            if line.startswith(MARKER):
                return json.loads(line[len(MARKER) :])
    return None


def judge(probe: Probe, verdict: list | None, lang: str = "en") -> str:
    """What is wrong with the verdict a check gave ``probe``'s answer ("" when it is right)."""
    if verdict is None:
        return "the probe printed no verdict"
    text, ok = verdict
    if ok is None:
        return f"the check returned {text!r}, not a Verdict (helpers.practice.correct / not_yet)"
    if lang == "ko":  # a solution, in the Korean lesson
        if ok is not True:
            return f"the solution is refused: {text}"
        return "" if text.startswith("정답") else f"accepted, but not in Korean (lesson(..., lang='ko')?): {text}"
    if probe.right:
        return "" if ok and text.startswith("Correct") else f"the solution is refused: {text}"
    if ok:
        return f"a wrong answer ({probe.name}) is accepted: {text}"
    return "" if text.startswith("Not yet") else f"unexpected verdict: {text}"


class CheckCell(IPyNbCell):
    """A cell run in the lesson's kernel after the lesson: a worked solution or the set-up (it
    must run without error), or a probe (its check's verdict must be the right one)."""

    def __init__(self, name, parent, cell_num, cell, options, probe: Probe | None = None, lang: str = "en"):
        super().__init__(name, parent, cell_num, cell, options)
        self.probe, self.lang = probe, lang

    def reportinfo(self):
        return self.path, 0, f"{self.parent.nodeid}::{self.name}"

    def compare_outputs(self, test, ref, skip_compare=None) -> bool:
        """Called by nbval with what the cell printed: the verdict is judged here."""
        problem = judge(self.probe, verdict_of(test), self.lang) if self.probe else ""
        if problem:
            self.raise_cell_error(problem)
        return True


def check_items(notebook: IPyNbFile, first: int) -> list[CheckCell]:
    """The solutions, set-up and probes of the lesson ``notebook``, numbered from cell ``first``."""
    path = Path(str(notebook.path))
    found = probes_for(path.name)
    if found is None:
        return []
    setup, probes = found
    lang = "ko" if path.parent.name == "ko" else "en"
    if lang == "ko":
        probes = [p for p in probes if p.right]
    cells = [(f"solution {n}", code, None) for n, (_, code) in enumerate(solution_blocks(notebook.nb, lang), 1)]
    cells += [("probe set-up", setup, None)] if setup else []
    cells += [(f"probe: {p.name}", probe_source(p), p) for p in probes]
    items = []
    for number, (name, source, probe) in enumerate(cells, first):
        cell = nbformat.v4.new_code_cell(source, execution_count=1)  # nbval compares only cells that ran
        options = defaultdict(bool, check=True)
        item = CheckCell.from_parent(
            notebook, name=name, cell_num=number, cell=cell, options=options, probe=probe, lang=lang
        )
        item.add_marker(pytest.mark.slow)
        items.append(item)
    return items


@pytest.hookimpl(tryfirst=True)  # before -m "not slow" deselects and conftest.py orders the items
def pytest_collection_modifyitems(items):
    """Each lesson's check cells, right after the lesson's last cell, when all its cells run."""
    cells = defaultdict(int)
    for item in items:
        if type(item) is IPyNbCell:
            cells[item.parent] += 1
    added = []
    for index, item in enumerate(items):
        added.append(item)
        notebook = item.parent
        last = index + 1 == len(items) or items[index + 1].parent is not notebook
        if type(item) is IPyNbCell and last:
            code = sum(cell.cell_type == "code" for cell in notebook.nb.cells)
            if cells[notebook] == code:
                added += check_items(notebook, code)
    items[:] = added
