"""Every exercise check of a lesson is called in the lesson and probed, and a probe's verdict is
judged as it should be.

A lesson's checks live in ``helpers/practice/lNN.py`` (the learner's cell is one call:
``ex.check_1(answer_1)``); its probes live in ``tests/probes/lNN.py``: the worked solution and
at least two wrong answers a learner might write, for every check. They run in the kernel nbval
runs the lesson in, after its last cell (tests/lesson_checks.py): each probe is an item of the
notebook, e.g. ``notebooks/07_errors_and_retries.ipynb::probe: ex2 retries a 400``.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from lesson_checks import judge, probes_for
from probes import right, wrong

from tools.lesson_stats import solution_blocks

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
PRACTICE = ROOT / "helpers" / "practice"
CHECK_DEF = re.compile(r"^def check_(\d+)\(", re.M)
CHECK_CALL = re.compile(r"\bex\.check_(\d+)\(")


def lesson_files() -> list[Path]:
    return sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


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
    assert probes_for(path.name), f"{path.name}: add tests/probes/l{path.name[:2]}.py"
    probes = probes_for(path.name)[1]
    assert solution_blocks(nbformat.read(path, as_version=4)), f"{path.name}: no ```python blocks under Solutions"
    for number in sorted(checks):
        mine = [p for p in probes if CHECK_CALL.search(p.verdict) and CHECK_CALL.search(p.verdict).group(1) == number]
        assert any(p.right for p in mine), f"check_{number} of {path.name}: no solution probe"
        assert sum(not p.right for p in mine) >= 2, f"check_{number} of {path.name}: under two wrong answers"


SOLUTION, WRONG = right("ex1 solution", "ex.check_1(a)"), wrong("ex1 off by one", "ex.check_1(b)")


@pytest.mark.parametrize(
    ("probe", "verdict", "lang", "problem"),
    [
        (SOLUTION, ["Correct! Well done.", True], "en", ""),
        (WRONG, ["Not yet: count again.", False], "en", ""),
        (SOLUTION, ["Not yet: count again.", False], "en", "the solution is refused"),
        (WRONG, ["Correct! Well done.", True], "en", "a wrong answer (ex1 off by one) is accepted"),
        (WRONG, ["Oops", False], "en", "unexpected verdict"),
        (SOLUTION, ["None", None], "en", "not a Verdict"),
        (SOLUTION, None, "en", "printed no verdict"),
        (SOLUTION, ["정답입니다! 좋아요.", True], "ko", ""),
        (SOLUTION, ["Correct! Well done.", True], "ko", "not in Korean"),
        (SOLUTION, ["아직이에요: 다시.", False], "ko", "the solution is refused: 아직이에요"),
    ],
)
def test_a_verdict_is_judged_by_what_the_probe_is(probe, verdict, lang, problem):
    found = judge(probe, verdict, lang)
    assert problem in found and bool(found) == bool(problem), found
