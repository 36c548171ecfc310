"""How a lesson reads and runs for a learner: pace, the way on, Run All that never waits,
solutions that never run under Run All nor overwrite an answer, and no test machinery in sight.

Pace: at most MAX_CELLS cells and about 1,500 words of prose, code cells of at most
MAX_CODE_LINES lines and MAX_COLUMNS characters (short enough to read at 800 px, where the
course's JupyterLab wraps them), and a stated time that
follows the rule in tools/lesson_stats.py. Checks out of sight: an exercise check is one short
call into helpers.practice (``ex.check_1(answer_1)``), and each lesson ends with its quiz.

Each rule is a function returning problems, so the self-tests at the bottom prove it can fail.
"""

from __future__ import annotations

import ast
import re

import nbformat
import pytest
from test_notebooks import LESSON_PARAMS, lessons, read

from tools.lesson_stats import honest_minutes, prose_words, solution_blocks, solutions_start

MAX_CELLS = 35
MAX_WORDS = 1550  # "about 1,500 words of prose"
MAX_CODE_LINES = 20
MAX_COLUMNS = 88  # a readable line; at 800 px JupyterLab wraps it (course.LAB_OVERRIDES), never cuts it
TIME_ESTIMATE = re.compile(r"\*About (\d+) minutes\.\*")
CHECK_CELL = re.compile(r"^ex\.check_\d+\([^\n]*\)$")
QUIZ_CALL = re.compile(r"^ex\.quiz\(\)$", re.M)
SDK_INTERNALS = re.compile(r"\bopenai\._|_base_client|_should_retry|\bcourse notes\b", re.I)
UNKEPT_WIDGET = re.compile(r"^(?:chat_widget|tokenizer_playground|cost_calculator)\(", re.M)
ADDRESS = re.compile(r" at 0x[0-9a-fA-F]{6,}")
LIVE_CALL = re.compile(r"\b(?:input|chat_loop)\(")
SOLUTIONS_NAMED = {"en": "the Solutions heading", "ko": "'## 풀이'"}  # in a problem's words


def pace_problems(nb, next_name: str | None) -> list[str]:
    """An honest time estimate up front, at most MAX_CELLS cells and MAX_WORDS words, short and
    narrow code cells, and a link on to the next lesson."""
    problems = []
    stated = TIME_ESTIMATE.search(nb.cells[0].source) if nb.cells else None
    if not stated:
        problems.append("the first cell lacks a time estimate such as '*About 25 minutes.*'")
    elif int(stated.group(1)) != honest_minutes(nb):
        problems.append(
            f"the first cell says {stated.group(1)} minutes; by the rule in tools/lesson_stats.py "
            f"it takes {honest_minutes(nb)}"
        )
    if prose_words(nb) > MAX_WORDS:
        problems.append(f"{prose_words(nb)} words of prose: a lesson has about 1,500 at most")
    problems += size_problems(nb)
    if next_name and (not nb.cells or f"({next_name})" not in nb.cells[-1].source):
        problems.append(f"the last cell does not link to the next lesson, {next_name}")
    return problems


def size_problems(nb) -> list[str]:
    """At most MAX_CELLS cells, and code cells of at most MAX_CODE_LINES lines of at most
    MAX_COLUMNS characters (both tracks)."""
    problems = []
    if len(nb.cells) > MAX_CELLS:
        problems.append(f"{len(nb.cells)} cells: a lesson has at most {MAX_CELLS} (split it or trim it)")
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        lines = cell.source.splitlines()
        if len(lines) > MAX_CODE_LINES:
            problems.append(
                f"cell {i}: {len(lines)} lines; a code cell has at most {MAX_CODE_LINES} (move plumbing to helpers)"
            )
        problems += [
            f"cell {i}: a line of {len(line)} characters; a lesson's code lines have at most {MAX_COLUMNS}"
            for line in lines
            if len(line) > MAX_COLUMNS
        ]
    return problems


def machinery_problems(nb) -> list[str]:
    """No nbval comments in a learner's code (cell tags instead), no memory addresses in outputs."""
    problems = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        if "NBVAL_" in cell.source:
            problems.append(f"cell {i}: an NBVAL_ comment; use the cell tag 'nbval-skip' instead")
        for output in cell.get("outputs", []):
            text = output.get("text", "") + str(output.get("data", {}).get("text/plain", ""))
            if ADDRESS.search(text):
                problems.append(f"cell {i}: the output shows a memory address (an object's repr)")
    return problems


def teaching_problems(nb) -> list[str]:
    """Checks out of sight (a check cell is one call, ``ex.check_1(answer_1)``), a quiz at the end,
    no SDK internals, no pointer to notes a learner never sees, and every widget kept in a
    variable, so its Stop notice can name something the learner can type."""
    problems = []
    code = [(i, c.source.strip()) for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    for i, source in code:
        if "ex.check_" in source and not CHECK_CELL.match(source):
            problems.append(f"cell {i}: a check cell is one short call such as ex.check_1(answer_1), nothing else")
        if UNKEPT_WIDGET.search(source):
            problems.append(f"cell {i}: keep the widget in a variable (chat = chat_widget(...)), then show it")
    for i, cell in enumerate(nb.cells):
        if SDK_INTERNALS.search(cell.source):
            problems.append(f"cell {i}: {SDK_INTERNALS.search(cell.source).group(0)!r}: teach the documented behaviour")
    if not any(QUIZ_CALL.search(source) for _, source in code):
        problems.append("no quiz: the lesson ends with ex.quiz() (helpers/practice/lNN.py has its QUIZ)")
    return problems


def run_all_problems(nb) -> list[str]:
    """Run All never waits for typing: a cell that reads input runs it only behind a flag
    the learner sets (``if CHAT_LIVE: ...``), or types with ``input_fn=scripted([...])``."""
    problems = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for line in cell.source.splitlines():
            if LIVE_CALL.search(line) and "input_fn=" not in line and not line.startswith((" ", "\t", "#", "def ")):
                problems.append(f"cell {i}: {line.strip()!r} waits for typing under Run All; put it behind a flag")
    return problems


def assigned(source: str) -> set[str]:
    """Names a cell binds at its top level (assignments, functions, classes, for targets)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:  # IPython magics
        return set()
    names = set()
    for node in tree.body:
        targets = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
            targets = [node.target]
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.For, ast.With)):
            targets = [node.target] if isinstance(node, ast.For) else [i.optional_vars for i in node.items]
        for target in targets:
            names |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)} if target else set()
    return names


def solution_problems(nb, lang: str = "en") -> list[str]:
    """Run All (or Shift+Enter past the end) never runs a solution: after the Solutions heading
    (``## 풀이`` in the Korean track, ``lang="ko"``) there are no code cells, only markdown with
    the code in ```python blocks. And a learner who copies one into a cell keeps their answer: a
    solution binds only names of its own."""
    start = solutions_start(nb, lang)
    if start is None:
        return []
    problems = [
        f"cell {i}: a code cell after {SOLUTIONS_NAMED[lang]} runs under Run All; put its code in a ```python block"
        for i, cell in enumerate(nb.cells[start:], start)
        if cell.cell_type == "code"
    ]
    before = set().union(*(assigned(c.source) for c in nb.cells[:start] if c.cell_type == "code"))
    for i, code in solution_blocks(nb, lang):
        try:
            ast.parse(code)
        except SyntaxError as error:
            problems.append(f"cell {i}: the solution code does not parse: {error}")
            continue
        clash = sorted(assigned(code) & before)
        if clash:
            problems.append(f"cell {i}: the solution rebinds {', '.join(clash)}, overwriting the learner's own")
    return problems


def next_lesson(path) -> str | None:
    names = [p.name for p in lessons()]
    index = names.index(path.name)
    return names[index + 1] if index + 1 < len(names) else None


@pytest.mark.parametrize("path", LESSON_PARAMS)
def test_pace_and_the_way_on(path):
    assert pace_problems(read(path), next_lesson(path)) == []


@pytest.mark.parametrize("path", LESSON_PARAMS)
def test_checks_out_of_sight_and_a_quiz(path):
    assert teaching_problems(read(path)) == []


@pytest.mark.parametrize("path", LESSON_PARAMS)
def test_no_test_machinery_for_learners(path):
    assert machinery_problems(read(path)) == []


@pytest.mark.parametrize("path", LESSON_PARAMS)
def test_run_all_never_waits_for_typing(path):
    assert run_all_problems(read(path)) == []


@pytest.mark.parametrize("path", LESSON_PARAMS)
def test_solutions_never_run_or_overwrite_answers(path):
    assert solution_problems(read(path)) == []


# ---------------------------------------------------------------- the rules can fail


def notebook(*cells):
    made = []
    for kind, source in cells:
        made.append(nbformat.v4.new_markdown_cell(source) if kind == "md" else nbformat.v4.new_code_cell(source))
    return nbformat.v4.new_notebook(cells=made)


def test_pace_rule_catches_missing_estimate_length_and_link():
    good = notebook(("md", "# 01 · X\n\n*About 5 minutes.*"), ("md", "Next: [02 · Y](02_y.ipynb)"))
    assert pace_problems(good, "02_y.ipynb") == []
    assert pace_problems(notebook(("md", "# 01 · X"), ("md", "Next: [02](02_y.ipynb)")), "02_y.ipynb")
    assert pace_problems(notebook(("md", "*About 5 minutes.*"), ("md", "the end")), "02_y.ipynb")
    long = notebook(("md", "*About 5 minutes.*"), *[("code", "1")] * MAX_CELLS, ("md", "(02_y.ipynb)"))
    assert pace_problems(long, "02_y.ipynb")
    # a dishonest time: 20 code cells and 1,200 words take far more than 5 minutes
    slow = notebook(("md", "*About 5 minutes.*" + " word" * 1200), *[("code", "1")] * 20, ("md", "(02_y.ipynb)"))
    assert any("by the rule" in p for p in pace_problems(slow, "02_y.ipynb"))
    wordy = notebook(("md", "*About 5 minutes.*" + " word" * (MAX_WORDS + 1)), ("md", "(02_y.ipynb)"))
    assert any("words of prose" in p for p in pace_problems(wordy, "02_y.ipynb"))
    tall = notebook(("md", "*About 5 minutes.*"), ("code", "x = 1\n" * 21), ("md", "(02_y.ipynb)"))
    assert any("21 lines" in p for p in pace_problems(tall, "02_y.ipynb"))
    wide = notebook(("md", "*About 5 minutes.*"), ("code", "x = " + "1" * 90), ("md", "(02_y.ipynb)"))
    assert any("characters" in p for p in pace_problems(wide, "02_y.ipynb"))


def test_teaching_rule_catches_visible_checks_internals_and_loose_widgets():
    good = notebook(
        ("code", "ex.check_1(answer_1)"), ("code", "chat = chat_widget(client)\nchat"), ("code", "ex.quiz()")
    )
    assert teaching_problems(good) == []
    assert teaching_problems(
        notebook(("code", "def check(x):\n    return x == 2\nex.check_1(2)"), ("code", "ex.quiz()"))
    )
    assert teaching_problems(notebook(("code", "ex.check_1(answer_1)")))  # no quiz
    assert teaching_problems(notebook(("code", "from openai._base_client import x"), ("code", "ex.quiz()")))
    assert teaching_problems(notebook(("md", "See the course notes."), ("code", "ex.quiz()")))
    assert teaching_problems(notebook(("code", "chat_widget(client)"), ("code", "ex.quiz()")))


def test_machinery_rule_catches_nbval_comments_and_addresses():
    nb = notebook(("code", "# NBVAL_SKIP\nchat_loop(conv)"))
    assert machinery_problems(nb)
    nb = notebook(("code", "conv"))
    nb.cells[0].outputs = [nbformat.v4.new_output("execute_result", data={"text/plain": "<Conv at 0x7f00aa11bb22>"})]
    assert machinery_problems(nb)


def test_run_all_rule_catches_unguarded_input():
    assert run_all_problems(notebook(("code", "chat_loop(conv)")))
    assert run_all_problems(notebook(("code", "name = input('Your name? ')")))
    assert not run_all_problems(notebook(("code", "if CHAT_LIVE:\n    chat_loop(conv)")))
    assert not run_all_problems(notebook(("code", "chat_loop(conv, input_fn=scripted(['hi']))")))


def solution(code: str, text: str = "**Exercise 1.** Why.") -> str:
    return f"{text}\n\n```python\n{code}\n```"


def test_solution_rule_catches_code_cells_and_rebinding():
    ok = notebook(
        ("code", "answer_1 = None"),
        ("md", "## Solutions"),
        ("md", solution("solution_1 = 42\nprint(check_exercise_1(solution_1))")),
        ("md", "## Next"),
    )
    assert solution_problems(ok) == []
    assert solution_blocks(ok) == [(2, "solution_1 = 42\nprint(check_exercise_1(solution_1))\n")]
    # a code cell runs under Run All, even one that binds only its own names
    assert solution_problems(notebook(("code", "answer_1 = None"), ("md", "## Solutions"), ("code", "solution_1 = 42")))
    rebinds = notebook(("code", "answer_1 = None"), ("md", "## Solutions"), ("md", solution("answer_1 = 42")))
    assert solution_problems(rebinds)
    redefines = notebook(
        ("code", "def call_cost(m):\n    return None"),
        ("md", "## Solutions"),
        ("md", solution("def call_cost(m):\n    return 1")),
    )
    assert solution_problems(redefines)
    assert solution_problems(notebook(("md", "## Solutions"), ("md", solution("def broken(:"))))
    # python blocks before the heading are lesson text, not solutions
    assert solution_blocks(notebook(("md", solution("x = 1")), ("md", "## Solutions"))) == []
