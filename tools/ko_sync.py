"""Keep the Korean track (notebooks/ko/) in step with the English lessons' code.

    python -m tools.ko_sync              # every English lesson that has a Korean twin
    python -m tools.ko_sync 03 ko/05     # those whose file name contains "03" or "05"
    python -m tools.ko_sync --check      # only report; exit 1 when a twin is out of step
    python -m tools.ko_sync --no-run     # sync, but do not re-run the changed Korean lessons

The English lesson is the source of truth for code; its Korean twin (same file name under
notebooks/ko/) translates the words. Two code cells are the same when they are equal once
every string literal and f-string is a placeholder, comments are gone and ``lang=...``
keyword arguments are left out (``lesson("03", lang="ko")`` is ``lesson("03")``). IPython
magic lines (``%pip ...``) compare as their text with the strings blanked.

Where the Korean code differs, the sync carries the English cell's code over whole, tags the
cell ``ko-needs-translation`` (its strings and comments are English now), inserts and deletes
Korean code cells so the order matches, does the same for the worked solutions' ```python
blocks, and names the Korean prose cells next to each change: their translation may need the
same change. Then it re-runs the changed Korean lessons offline, as tools/run_notebooks does.
"""

from __future__ import annotations

import argparse
import ast
import copy
import difflib
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

try:
    from tools.lesson_stats import solution_blocks, solutions_start
except ModuleNotFoundError:  # run by path (python tools/ko_sync.py): the course folder is not importable
    sys.exit("Run it from the course folder: python -m tools.ko_sync")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
KO = NOTEBOOKS / "ko"
TAG = "ko-needs-translation"
PLACEHOLDER = "…"  # what every string literal and f-string becomes
# Calls that take lang="ko" in the Korean track (brief: checks, quiz and widgets in Korean).
KO_LANG_CALLS = ("lesson", "chat_widget", "tokenizer_playground", "cost_calculator")
MAGIC = re.compile(r"^\s*(?:%%?|!)")
QUOTED = re.compile(r"\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*'")


# ---------------------------------------------------------------- normalising code


class _Normaliser(ast.NodeTransformer):
    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        return ast.Constant(PLACEHOLDER) if isinstance(node.value, str) else node

    def visit_JoinedStr(self, node: ast.JoinedStr) -> ast.AST:
        return ast.Constant(PLACEHOLDER)  # the whole f-string: its pieces may move when translated

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        node.keywords = [k for k in node.keywords if k.arg != "lang"]
        return node


def blank_strings(text: str) -> str:
    return QUOTED.sub(f'"{PLACEHOLDER}"', text)


@dataclass
class Code:
    """A code cell's source, normalised: ``key`` is equal for two cells exactly when they
    are the same code in the sense above."""

    source: str
    tree: ast.Module | None  # None: the cell does not parse even with its magics set aside
    magics: dict[int, str]  # line index -> the magic line with its strings blanked
    key: str

    @property
    def lines(self) -> list[str]:
        return self.source.splitlines()


def normalise(source: str) -> Code:
    lines = source.splitlines()
    magics: dict[int, str] = {}
    try:
        tree = ast.parse(source)
    except SyntaxError:
        # IPython magics are not Python: a numbered stand-in keeps the line's place in the tree.
        for i, line in enumerate(lines):
            if MAGIC.match(line):
                magics[i] = blank_strings(line.strip())
                indent = line[: len(line) - len(line.lstrip())]
                lines[i] = f"{indent}__magic__({i})"
        try:
            tree = ast.parse("\n".join(lines))
        except SyntaxError:
            tree = None
    if tree is None:  # compare the text itself: strings blanked, comments and blank lines dropped
        text = [blank_strings(line).split("#")[0].rstrip() for line in source.splitlines()]
        return Code(source, None, magics, "TEXT\n" + "\n".join(t for t in text if t.strip()))
    tree = _Normaliser().visit(tree)
    key = ast.dump(tree) + "".join(f"\n{magic}" for magic in magics.values())
    return Code(source, tree, magics, key)


def _line(node) -> int | None:
    return getattr(node, "lineno", None)


def _diverge(a, b, where: tuple[int | None, int | None]) -> tuple[int | None, int | None] | None:
    """The lines (1-based) where two normalised trees first differ, or None when they agree."""
    if isinstance(a, ast.AST) and isinstance(b, ast.AST):
        where = (_line(a) or where[0], _line(b) or where[1])
        if type(a) is not type(b):
            return where
        for name in a._fields:
            found = _diverge(getattr(a, name, None), getattr(b, name, None), where)
            if found:
                return found
        return None
    if isinstance(a, list) and isinstance(b, list):
        for x, y in zip(a, b, strict=False):
            found = _diverge(x, y, where)
            if found:
                return found
        if len(a) == len(b):
            return None
        # The longer side's first extra item; the shorter side: the node holding the list
        # (0, no such line, for a cell's top-level statements).
        extra_a = (_line(a[len(b)]) or where[0]) if len(a) > len(b) else where[0]
        extra_b = (_line(b[len(a)]) or where[1]) if len(b) > len(a) else where[1]
        return extra_a, extra_b
    return None if a == b else where


def first_difference(english: Code, korean: Code) -> tuple[str, str]:
    """The first line of each cell where they differ (for a report a person reads)."""
    found = None
    if english.tree is not None and korean.tree is not None:
        found = _diverge(english.tree, korean.tree, (0, 0))
        if not found:  # the trees agree: a magic line differs
            pairs = zip(english.magics.items(), korean.magics.items(), strict=False)
            found = next(((i + 1, j + 1) for (i, x), (j, y) in pairs if x != y), None)
    if not found:
        text_a = [t for t in english.lines if t.strip() and not t.strip().startswith("#")]
        text_b = [t for t in korean.lines if t.strip() and not t.strip().startswith("#")]
        index = next((k for k, (x, y) in enumerate(zip(text_a, text_b, strict=False)) if x != y), None)
        index = min(len(text_a), len(text_b)) if index is None else index
        pick = lambda text: text[min(index, len(text) - 1)] if text else "(empty)"  # noqa: E731
        return pick(text_a).strip(), pick(text_b).strip()
    pick = lambda lines, n: lines[n - 1].strip() if n and 0 < n <= len(lines) else "(no such line)"  # noqa: E731
    return pick(english.lines, found[0]), pick(korean.lines, found[1])


# ---------------------------------------------------------------- comparing two lessons


@dataclass
class Step:
    """One thing out of step. Cell numbers are indexes into each notebook's cells (from 0)."""

    kind: str  # "changed", "missing" (English code with no Korean twin), "extra", "solution"
    en_cell: int | None
    ko_cell: int | None
    en_line: str = ""
    ko_line: str = ""
    note: str = ""

    def describe(self, name: str) -> str:
        if self.kind == "changed":
            return (
                f"ko/{name} cell {self.ko_cell} differs from English cell {self.en_cell}:\n"
                f"    English: {self.en_line}\n    Korean:  {self.ko_line}"
            )
        if self.kind == "missing":
            return f"ko/{name} lacks English cell {self.en_cell} (code): {self.en_line}{self.note}"
        if self.kind == "extra":
            return f"ko/{name} cell {self.ko_cell} (code) is not in the English lesson: {self.ko_line}"
        return f"ko/{name} cell {self.ko_cell} (solution): {self.note}" + (
            f"\n    English: {self.en_line}\n    Korean:  {self.ko_line}" if self.en_line or self.ko_line else ""
        )


def code_cells(nb) -> list[int]:
    return [i for i, cell in enumerate(nb.cells) if cell.cell_type == "code"]


@dataclass
class Entry:
    """A cell of the synced Korean lesson, with what happened to it."""

    cell: nbformat.NotebookNode
    status: str = "kept"  # kept, changed, inserted, deleted
    ko: int | None = None  # its index in the Korean lesson as it is
    en: int | None = None  # the English cell it now copies


@dataclass
class Comparison:
    english: nbformat.NotebookNode
    korean: nbformat.NotebookNode
    steps: list[Step] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)

    @property
    def in_step(self) -> bool:
        return not self.steps


def _tagged(cell) -> nbformat.NotebookNode:
    tags = cell.metadata.setdefault("tags", [])
    if TAG not in tags:
        tags.append(TAG)
    return cell


def add_korean_lang(source: str) -> str:
    """``lang="ko"`` added to the calls that take it (lesson, chat_widget, ...), where missing."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return source
    calls = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and (getattr(node.func, "id", None) or getattr(node.func, "attr", None)) in KO_LANG_CALLS
        and not any(k.arg == "lang" for k in node.keywords)
    ]
    lines = source.splitlines(keepends=True)
    # From the last call to the first, so earlier positions stay valid.
    for call in sorted(calls, key=lambda c: (c.end_lineno, c.end_col_offset), reverse=True):
        row, col = call.end_lineno - 1, call.end_col_offset - 1  # the closing parenthesis
        line = lines[row]
        if not line[:col].strip() and row > 0:  # ")" alone on its line: one more argument line
            previous = lines[row - 1]
            indent = previous[: len(previous) - len(previous.lstrip())]
            comma = "" if previous.rstrip().endswith((",", "(")) else ","
            lines[row - 1] = previous.rstrip("\n") + comma + "\n"
            lines.insert(row, f'{indent}lang="ko",\n')
            continue
        separator = "" if line[:col].rstrip().endswith(("(", ",")) else ", "
        lines[row] = line[:col] + separator + 'lang="ko"' + line[col:]
    added = "".join(lines)
    try:  # an odd layout (a comment after the last argument): leave the English code as it is
        ast.parse(added)
    except SyntaxError:
        return source
    return added


def compare(english, korean) -> Comparison:
    """What differs between the English lesson's code and its Korean twin's, and the Korean
    lesson as the sync would leave it (``entries``)."""
    result = Comparison(english, korean)
    en_code, ko_code = code_cells(english), code_cells(korean)
    en_norm = [normalise(english.cells[i].source) for i in en_code]
    ko_norm = [normalise(korean.cells[i].source) for i in ko_code]
    entries = [Entry(copy.deepcopy(cell), ko=i) for i, cell in enumerate(korean.cells)]
    inserts: list[tuple[int, Entry]] = []  # (insert before this Korean cell index, entry)

    # Equal code cells first; between them, edited cells pair up by likeness (_align).
    matcher = difflib.SequenceMatcher(None, [n.key for n in en_norm], [n.key for n in ko_norm], autojunk=False)
    ops = []  # ("equal"|"change", en_pos, ko_pos), ("insert", en_pos, None), ("delete", None, ko_pos)
    for tag, a0, a1, b0, b1 in matcher.get_opcodes():
        if tag == "equal":
            ops += [("equal", a0 + k, b0 + k) for k in range(a1 - a0)]
        else:
            ops += _align(en_norm, ko_norm, range(a0, a1), range(b0, b1))

    anchored = [(en_code[a], ko_code[b]) for kind, a, b in ops if kind in ("equal", "change")]
    for kind, a, b in ops:
        if kind == "change":
            entry = entries[ko_code[b]]
            cell = entry.cell
            cell.source = add_korean_lang(english.cells[en_code[a]].source)
            cell.outputs, cell.execution_count = [], None
            tags = cell.metadata.setdefault("tags", [])
            tags += [t for t in english.cells[en_code[a]].metadata.get("tags", []) if t not in tags]
            entry.status, entry.en = "changed", en_code[a]
            _tagged(cell)
            result.steps.append(Step("changed", en_code[a], ko_code[b], *first_difference(en_norm[a], ko_norm[b])))
        elif kind == "delete":
            entries[ko_code[b]].status = "deleted"
            result.steps.append(Step("extra", None, ko_code[b], ko_line=_first_line(ko_norm[b])))
        elif kind == "insert":
            en_index = en_code[a]
            position = _insert_position(english, korean, en_index, anchored)
            cell = nbformat.v4.new_code_cell(add_korean_lang(english.cells[en_index].source))
            if english.cells[en_index].metadata.get("tags"):
                cell.metadata["tags"] = list(english.cells[en_index].metadata["tags"])
            inserts.append((position, Entry(_tagged(cell), status="inserted", en=en_index)))
            near = [k for k in (en_index - 1, en_index + 1) if 0 <= k < len(english.cells)]
            near = [str(k) for k in near if english.cells[k].cell_type == "markdown"]
            note = f" (the English prose next to it, cell {' and '.join(near)}, may be new too)" if near else ""
            result.steps.append(Step("missing", en_index, None, en_line=_first_line(en_norm[a]), note=note))

    merged: list[Entry] = []
    for index in range(len(entries) + 1):
        merged += [entry for position, entry in inserts if position == index]
        if index < len(entries):
            merged.append(entries[index])
    result.entries = merged
    _compare_solutions(english, korean, result)
    return result


TOKEN = re.compile(r"\w+|[^\w\s]")
LIKE = 0.5  # how alike (difflib's ratio of the normalised code) an edited cell and its old twin are


def likeness(a: Code, b: Code) -> float:
    return difflib.SequenceMatcher(None, TOKEN.findall(a.key), TOKEN.findall(b.key), autojunk=False).ratio()


def _align(en_norm: list[Code], ko_norm: list[Code], en_range: range, ko_range: range) -> list[tuple]:
    """Ops for a run of English and Korean code cells that differ: a Korean cell pairs with the
    English cell it most resembles (an edit, "change"), keeping the order; the rest are English
    cells to insert and Korean cells to delete. Pairs only pay above LIKE, so an unrelated cell
    is deleted and the new one inserted rather than one rewritten into the other."""
    en, ko = list(en_range), list(ko_range)
    if len(en) == len(ko) == 1:  # one cell rewritten in place: still that cell's twin
        return [("change", en[0], ko[0])]
    score = [[0.0] * (len(ko) + 1) for _ in range(len(en) + 1)]
    for i in range(len(en) - 1, -1, -1):
        for j in range(len(ko) - 1, -1, -1):
            pair = likeness(en_norm[en[i]], ko_norm[ko[j]]) - LIKE
            score[i][j] = max(score[i + 1][j], score[i][j + 1], pair + score[i + 1][j + 1] if pair > 0 else -1.0)
    ops, i, j = [], 0, 0
    while i < len(en) or j < len(ko):
        if i < len(en) and j < len(ko):
            pair = likeness(en_norm[en[i]], ko_norm[ko[j]]) - LIKE
            if pair > 0 and score[i][j] == pair + score[i + 1][j + 1]:
                ops.append(("change", en[i], ko[j]))
                i, j = i + 1, j + 1
                continue
        if j < len(ko) and (i == len(en) or score[i][j] == score[i][j + 1]):
            ops.append(("delete", None, ko[j]))
            j += 1
        else:
            ops.append(("insert", en[i], None))
            i += 1
    return ops


def _first_line(code: Code) -> str:
    return next((line.strip() for line in code.lines if line.strip() and not line.strip().startswith("#")), "")


SECTION = re.compile(r"^## +(?:(\d+)\.|(\S.*))", re.M)
SECTION_NAMES = {
    "Recap": "정리",
    "Exercises": "연습 문제",
    "Quiz": "퀴즈",
    "Solutions": "풀이",
    "Next": "다음",
    "The end": "끝",
}


def section_of(cell) -> str | None:
    """Which section a markdown cell opens, the same for both languages: "3" for "## 3. ...",
    "Recap" for "## Recap" or "## 정리"; None for any other cell."""
    if cell.cell_type != "markdown":
        return None
    found = SECTION.search(cell.source)
    if not found:
        return None
    if found.group(1):
        return found.group(1)
    title = found.group(2)
    return next((en for en, ko in SECTION_NAMES.items() if title.startswith((en, ko))), None)


def _insert_position(english, korean, en_index: int, anchored: list[tuple[int, int]]) -> int:
    """Where a Korean copy of English code cell ``en_index`` goes: between the Korean twins of
    the English code cells around it, in the same section as in English (never past the Korean
    heading of a later section), after as many prose cells as the English has before it."""
    before = [(e, k) for e, k in anchored if e < en_index]
    after = [(e, k) for e, k in anchored if e > en_index]
    en_prev, ko_prev = before[-1] if before else (-1, -1)
    en_next, ko_next = after[0] if after else (len(english.cells), None)
    if ko_next is None:  # no Korean code after it: stop before the solutions (markdown only)
        start = solutions_start(korean, "ko")
        ko_next = start if start is not None and start > ko_prev else len(korean.cells)
    window = range(ko_prev + 1, ko_next)  # the Korean prose between the two twins
    earlier = {section_of(c) for c in english.cells[en_prev + 1 : en_index]} - {None}
    later = {section_of(c) for c in english.cells[en_index + 1 : en_next]} - {None}
    low = max((k + 1 for k in window if section_of(korean.cells[k]) in earlier), default=window.start)
    high = min((k for k in window if section_of(korean.cells[k]) in later), default=window.stop)
    prose_before = sum(1 for c in english.cells[en_prev + 1 : en_index] if c.cell_type == "markdown")
    prose_after = sum(1 for c in english.cells[en_index + 1 : en_next] if c.cell_type == "markdown")
    position = window.stop if prose_after == 0 else window.start + prose_before
    return max(low, min(position, high)) if low <= high else high


def _compare_solutions(english, korean, result: Comparison) -> None:
    """The worked solutions' ```python blocks, in order: the English code carried over where it differs."""
    en_blocks, ko_blocks = solution_blocks(english, "en"), solution_blocks(korean, "ko")
    if len(en_blocks) != len(ko_blocks):
        where = ko_blocks[0][0] if ko_blocks else solutions_start(korean, "ko")
        result.steps.append(
            Step(
                "solution",
                en_blocks[0][0] if en_blocks else None,
                where,
                note=f"{len(ko_blocks)} ```python solution block(s), the English has {len(en_blocks)}: "
                "add or remove them by hand (one a solution, in the English order)",
            )
        )
        return
    by_cell = {e.ko: e for e in result.entries if e.ko is not None}
    for (en_cell, en_src), (ko_cell, ko_src) in zip(en_blocks, ko_blocks, strict=True):
        en_norm, ko_norm = normalise(en_src), normalise(ko_src)
        if en_norm.key == ko_norm.key:
            continue
        entry = by_cell[ko_cell]
        new_code = add_korean_lang(en_src)
        entry.cell.source = entry.cell.source.replace(f"```python\n{ko_src}```", f"```python\n{new_code}```", 1)
        entry.status = "changed" if entry.status == "kept" else entry.status
        entry.en = en_cell
        _tagged(entry.cell)
        result.steps.append(
            Step(
                "solution",
                en_cell,
                ko_cell,
                *first_difference(en_norm, ko_norm),
                note=f"its ```python block differs from English cell {en_cell}'s",
            )
        )


# ---------------------------------------------------------------- the prose to check


def prose_neighbours(entries: list[Entry], view: str) -> list[int]:
    """Indexes of the markdown cells right next to a change, in the lesson as it is
    (``view="before"``) or as the sync leaves it (``"after"``)."""
    hidden = "inserted" if view == "before" else "deleted"
    visible = [e for e in entries if e.status != hidden]
    index = {id(e): i for i, e in enumerate(visible)}
    found: set[int] = set()
    for position, entry in enumerate(entries):
        if entry.status == "kept" or (entry.status == "changed" and entry.cell.cell_type == "markdown"):
            continue
        before = next((index[id(e)] for e in reversed(entries[:position]) if id(e) in index), None)
        after = next((index[id(e)] for e in entries[position + 1 :] if id(e) in index), None)
        for i in (before, after):
            if i is not None and visible[i].cell.cell_type == "markdown" and visible[i].status != hidden:
                found.add(i)
    # A solution cell whose code was carried over is prose to check itself.
    found |= {
        index[id(e)] for e in entries if e.status == "changed" and e.cell.cell_type == "markdown" and id(e) in index
    }
    return sorted(found)


# ---------------------------------------------------------------- the command


def english_lessons() -> list[Path]:
    return sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def twin(english: Path) -> Path:
    return KO / english.name


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def sync_one(english: Path, korean: Path, check: bool) -> tuple[list[str], bool, bool]:
    """Compare one pair; unless ``check``, write the synced Korean lesson. Returns the report's
    lines, whether the Korean file was written, and whether the pair is (now) in step."""
    name = english.name
    comparison = compare(read(english), read(korean))
    if comparison.in_step:
        return [f"ko/{name}: in step with the English code"], False, True
    lines = [step.describe(name) for step in comparison.steps]
    if check:
        cells = prose_neighbours(comparison.entries, "before")
        lines += [f"ko/{name} cell {i} (prose) sits next to code out of step: check its translation" for i in cells]
        return lines, False, False
    if all(entry.status == "kept" for entry in comparison.entries):  # nothing the sync can carry over
        return [*lines, f"ko/{name} is out of step: fix what is listed above by hand"], False, False
    synced = copy.deepcopy(comparison.korean)
    synced.cells = [entry.cell for entry in comparison.entries if entry.status != "deleted"]
    nbformat.validate(synced)
    nbformat.write(synced, korean)
    lines.append(f"ko/{name}: the English code carried over (cells tagged {TAG!r} until translated)")
    lines += [
        f"ko/{name} cell {i} (prose) sits next to changed code: check its translation"
        for i in prose_neighbours(comparison.entries, "after")
    ]
    settled = compare(read(english), synced).in_step
    if not settled:  # e.g. solution blocks added or removed: a person writes those
        lines.append(f"ko/{name} is still out of step: fix what is listed above by hand")
    return lines, True, settled


def rerun(paths: list[Path]) -> list[str]:
    """Re-run the changed Korean lessons offline and store their outputs (tools/run_notebooks)."""
    from tools.offline_env import apply
    from tools.run_notebooks import execute

    apply(os.environ)
    import matplotlib.font_manager  # noqa: F401  (its font cache is built here, not in a cell's output)

    problems = []
    for path in paths:
        try:
            nb, seconds = execute(path)
        except Exception as error:  # nbclient's CellExecutionError and friends: say which lesson
            problems.append(f"ko/{path.name} failed to run: {type(error).__name__}: {str(error)[-300:]}")
            continue
        nbformat.write(nb, path)
        print(f"{seconds:6.2f} s  {path.relative_to(ROOT)} re-run offline")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("lessons", nargs="*", help="parts of lesson file names (e.g. 03); none: every lesson")
    parser.add_argument("--check", action="store_true", help="only report; exit 1 when out of step")
    parser.add_argument("--no-run", action="store_true", help="do not re-run the changed Korean lessons")
    args = parser.parse_args(argv)
    args.lessons = [s.removeprefix("notebooks/").removeprefix("ko/") for s in args.lessons]  # ko/03 is 03
    chosen = [p for p in english_lessons() if not args.lessons or any(s in p.name for s in args.lessons)]
    if not chosen:
        names = ", ".join(p.stem for p in english_lessons())
        print(
            f"No English lesson's file name contains {' or '.join(args.lessons)}. The lessons: {names}", file=sys.stderr
        )
        return 2
    pairs = [(p, twin(p)) for p in chosen if twin(p).exists()]
    missing = [p.name for p in chosen if not twin(p).exists()]
    if missing:
        print(f"No Korean twin yet (notebooks/ko/): {', '.join(missing)}")
    if not pairs:  # nothing out of step (the tests name the missing twins)
        print("Nothing to compare.")
        return 0

    out_of_step, changed = False, []
    for english, korean in pairs:
        lines, wrote, in_step = sync_one(english, korean, args.check)
        out_of_step |= not in_step
        print("\n".join(lines))
        if wrote:
            changed.append(korean)
    if args.check and out_of_step:
        print("Out of step: python -m tools.ko_sync carries the English code over.")
    problems = rerun(changed) if changed and not args.no_run else []
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if out_of_step or problems else 0


if __name__ == "__main__":
    sys.exit(main())
