"""How long each lesson is, and how long it honestly takes.

    python -m tools.lesson_stats          # every lesson
    python -m tools.lesson_stats 03       # those whose name contains "03"

The stated time (the first cell's "*About N minutes.*") follows one rule, checked by
tests/test_lesson_rules.py:

    minutes = prose words / 120   (reading technical prose, slowly, with the code beside it)
            + 1 per code cell     (run it, read its output)
            + 5 per exercise      (one check call each)
            + 3 for the quiz
    rounded to the nearest 5.

Also where a lesson's worked solutions are (``solution_blocks``), for the tests and
tools/ko_sync.py alike.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
WORDS_PER_MINUTE = 120
MINUTES_PER_CODE_CELL = 1
MINUTES_PER_EXERCISE = 5
MINUTES_FOR_THE_QUIZ = 3
FENCED = re.compile(r"^```.*?^```", re.M | re.S)
LINK_TARGET = re.compile(r"\]\([^)]*\)")  # a link's address is not read
WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
CHECK_CALL = re.compile(r"\bex\.check_(\d+)\(")
# The heading the worked solutions follow, in each track's language ("## Solutions", "## 풀이").
SOLUTIONS = {"en": re.compile(r"^#+ .*Solutions", re.M), "ko": re.compile(r"^#+ +풀이", re.M)}
FENCED_PYTHON = re.compile(r"^```python\n(.*?)^```", re.M | re.S)


def prose_words(nb) -> int:
    """Words a learner reads in the markdown cells (code blocks and link addresses left out)."""
    text = " ".join(c.source for c in nb.cells if c.cell_type == "markdown")
    return len(WORD.findall(LINK_TARGET.sub("]", FENCED.sub(" ", text))))


def code_cells(nb) -> list[str]:
    return [c.source for c in nb.cells if c.cell_type == "code" and c.source.strip()]


def exercises(nb) -> int:
    return len({n for source in code_cells(nb) for n in CHECK_CALL.findall(source)})


def honest_minutes(nb) -> int:
    """The lesson's time by the rule above, rounded to the nearest 5 minutes (at least 5)."""
    minutes = (
        prose_words(nb) / WORDS_PER_MINUTE
        + MINUTES_PER_CODE_CELL * len(code_cells(nb))
        + MINUTES_PER_EXERCISE * exercises(nb)
        + MINUTES_FOR_THE_QUIZ
    )
    return max(5, 5 * round(minutes / 5))


def solutions_start(nb, lang: str = "en") -> int | None:
    """Index of the markdown cell holding the solutions heading in ``lang``, if the lesson has one."""
    return next(
        (i for i, c in enumerate(nb.cells) if c.cell_type == "markdown" and SOLUTIONS[lang].search(c.source)),
        None,
    )


def solution_blocks(nb, lang: str = "en") -> list[tuple[int, str]]:
    """(cell index, code) of every ```python block in the markdown from the solutions heading on."""
    start = solutions_start(nb, lang)
    if start is None:
        return []
    return [
        (i, code)
        for i, cell in enumerate(nb.cells[start:], start)
        if cell.cell_type == "markdown"
        for code in FENCED_PYTHON.findall(cell.source)
    ]


@dataclass
class Stats:
    name: str
    cells: int
    words: int
    code: int
    longest: int  # lines in the longest code cell
    widest: int  # characters in the widest code line
    exercises: int
    minutes: int


def stats(path: Path) -> Stats:
    nb = nbformat.read(path, as_version=4)
    lines = [line for source in code_cells(nb) for line in source.splitlines()] or [""]
    return Stats(
        path.name,
        len(nb.cells),
        prose_words(nb),
        len(code_cells(nb)),
        max((len(s.splitlines()) for s in code_cells(nb)), default=0),
        max(len(line) for line in lines),
        exercises(nb),
        honest_minutes(nb),
    )


def main(patterns: list[str]) -> int:
    paths = sorted((ROOT / "notebooks").rglob("[0-9][0-9]_*.ipynb"))
    paths = [
        p for p in paths if ".ipynb_checkpoints" not in p.parts and (not patterns or any(s in p.name for s in patterns))
    ]
    print(f"{'lesson':42} cells words code longest widest exercises minutes")
    for path in paths:
        s = stats(path)
        name = path.relative_to(ROOT / "notebooks").as_posix()
        print(f"{name:42} {s.cells:5} {s.words:5} {s.code:4} {s.longest:7} {s.widest:6} {s.exercises:9} {s.minutes:7}")
    return 0


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("patterns", nargs="*", help="parts of lesson file names (e.g. 03)")
    sys.exit(main(parser.parse_args().patterns))
