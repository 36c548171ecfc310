"""Static checks on every notebook in notebooks/, without executing anything.

nbval (run by the same pytest command) re-executes the notebooks and compares outputs;
these tests check what nbval cannot see: that the stored notebooks were fully executed
in order without errors, leak no key, follow the course's layout, and mark skipped cells
properly. Each check is a function returning a list of problems, so the self-tests at the
bottom can prove that every check catches what it is meant to catch.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
SOLUTIONS = NOTEBOOKS / "solutions"
KOREAN = NOTEBOOKS / "ko"  # the Korean track: a twin of each lesson (tests/test_korean_track.py)
COLAB = "https://colab.research.google.com/github/chat-completions-course/chat-completions-course/blob/main/"
BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"

INSTALL_CELL = '''# Colab only: install the course's helpers. Does nothing elsewhere.
import sys

if "google.colab" in sys.modules:
    COURSE = "https://github.com/chat-completions-course/chat-completions-course"
    %pip install -q "chat-completions-course @ git+{COURSE}"'''

LESSON_NAME = re.compile(r"^(\d\d)_[a-z0-9]+(?:_[a-z0-9]+)*\.ipynb$")
SOLUTION_NAME = re.compile(r"^(\d\d_[a-z0-9]+(?:_[a-z0-9]+)*)_solutions\.ipynb$")
TITLE = re.compile(r"^# (\d\d) · \S")
KEY_PATTERNS = (re.compile(r"sk-[A-Za-z0-9_-]{20,}"), re.compile(r"sk-(?:proj|svcacct|admin)-"))
SKIP_MARKER = "NBVAL_SKIP"
SKIP_TAG = "nbval-skip"
# Markers that would stop nbval from comparing or from failing on an error: not allowed.
FORBIDDEN_MARKERS = ("NBVAL_IGNORE_OUTPUT", "NBVAL_RAISES_EXCEPTION")
FORBIDDEN_TAGS = ("nbval-ignore-output", "raises-exception", "nbval-raises-exception", "skip-execution")
PROJECT_IMPORT = re.compile(r"^\s*(?:from|import)\s+(?:tests|tools|course|conftest|offline_env|openapi_schema)\b", re.M)


def all_notebooks() -> list[Path]:
    found = sorted(NOTEBOOKS.rglob("*.ipynb"))
    return [p for p in found if ".ipynb_checkpoints" not in p.parts]


def lessons() -> list[Path]:
    return [p for p in all_notebooks() if p.parent == NOTEBOOKS]


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def code_cells(nb) -> list[tuple[int, dict]]:
    return [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code"]


def comment_lines(source: str) -> list[str]:
    return [line.strip().lstrip("#").strip() for line in source.splitlines() if line.strip().startswith("#")]


def is_skipped(cell) -> bool:
    return SKIP_MARKER in comment_lines(cell.source) or SKIP_TAG in cell.metadata.get("tags", [])


def headings(nb) -> list[str]:
    found = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            found += [line.lstrip("#").strip() for line in cell.source.splitlines() if re.match(r"^#{1,6} ", line)]
    return found


# ---------------------------------------------------------------- the checks


def execution_problems(nb) -> list[str]:
    """Every non-empty code cell ran, in order, numbered 1..N, without an error output."""
    problems = []
    counts = []
    for i, cell in code_cells(nb):
        if not cell.source.strip():
            continue
        if cell.execution_count is None:
            problems.append(f"cell {i} was never executed")
        counts.append(cell.execution_count)
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                problems.append(f"cell {i} has an error output: {output.get('ename')}: {output.get('evalue')}")
    if not problems and counts != list(range(1, len(counts) + 1)):
        problems.append(
            f"execution counts are {counts}, expected 1..{len(counts)} in cell order "
            "(restart the kernel and run all, or use tools/run_notebooks.py)"
        )
    return problems


def key_problems(text: str) -> list[str]:
    """Nothing in the raw JSON looks like an OpenAI key."""
    return [f"looks like an API key: {m.group(0)[:8]}..." for p in KEY_PATTERNS for m in p.finditer(text)]


def skip_problems(nb) -> list[str]:
    """Skipped cells use the exact marker nbval understands and say why they are skipped;
    nothing else escapes nbval's comparison."""
    problems = []
    for i, cell in enumerate(nb.cells):
        tags = cell.metadata.get("tags", [])
        for tag in FORBIDDEN_TAGS:
            if tag in tags:
                problems.append(f"cell {i} has the tag {tag!r}: outputs must be deterministic and errors caught")
        if cell.cell_type != "code":
            continue
        comments = comment_lines(cell.source)
        for comment in comments:
            if SKIP_MARKER in comment and comment != SKIP_MARKER:
                problems.append(
                    f"cell {i}: nbval ignores {comment!r}; put '# {SKIP_MARKER}' alone on its line "
                    "and the reason on the next"
                )
            for marker in FORBIDDEN_MARKERS:
                if marker in comment:
                    problems.append(f"cell {i} uses {marker}: outputs must be deterministic and errors caught")
        if is_skipped(cell):
            reason = " ".join(c for c in comments if SKIP_MARKER not in c)
            if len(reason.split()) < 4:
                problems.append(f"cell {i} is skipped by nbval without a comment explaining why")
    return problems


def getpass_problems(nb) -> list[str]:
    """getpass only in skipped cells: a test run must never prompt."""
    return [
        f"cell {i} calls getpass but runs under the tests"
        for i, cell in code_cells(nb)
        if "getpass(" in cell.source and not is_skipped(cell)
    ]


def import_problems(nb) -> list[str]:
    """Notebooks import nothing from the project but helpers (so they run in Colab)."""
    return [
        f"cell {i} imports project code other than helpers: {m.group(0).strip()}"
        for i, cell in code_cells(nb)
        for m in PROJECT_IMPORT.finditer(cell.source)
    ]


def offline_output_problems(nb) -> list[str]:
    """Stored outputs come from the offline model, never from a run with a real key."""
    problems = []
    for i, cell in code_cells(nb):
        for output in cell.get("outputs", []):
            text = output.get("text", "") + json.dumps(output.get("data", {}))
            if "Using the OpenAI API" in text:
                problems.append(f"cell {i} output was produced with a real key: re-run with tools/run_notebooks.py")
    return problems


def header_problems(nb, relpath: str) -> list[str]:
    """First cell: title, Colab badge for this very file (``relpath`` from the repository
    root, e.g. notebooks/01_first_call.ipynb); second cell: the install cell."""
    problems = []
    if not nb.cells or nb.cells[0].cell_type != "markdown":
        return ["the first cell must be a markdown cell with the title and the Colab badge"]
    first = nb.cells[0].source
    number = Path(relpath).name[:2]
    title = TITLE.match(first)
    if not title:
        problems.append("the first cell must start with a title '# NN · Topic'")
    elif title.group(1) != number:
        problems.append(f"the title says {title.group(1)} but the file is number {number}")
    links = re.findall(r"\(" + re.escape(COLAB) + r"([^)\s]+)\)", first)
    if not links:
        problems.append("the first cell has no Open in Colab link")
    for link in links:
        if link != relpath:
            problems.append(f"the Colab badge opens {link}, not this notebook ({relpath})")
    if BADGE_IMAGE not in first:
        problems.append("the first cell lacks the Colab badge image")
    if len(nb.cells) < 2 or nb.cells[1].cell_type != "code" or nb.cells[1].source.rstrip() != INSTALL_CELL:
        problems.append("the second cell must be the Colab-only install cell, exactly as in the other notebooks")
    return problems


def lesson_problems(nb, final: bool = False) -> list[str]:
    """A lesson says what you will learn, and has a Recap and Exercises (the course's
    final page, a wrap-up, has no exercises)."""
    problems = []
    if not nb.cells or "What you will learn" not in nb.cells[0].source:
        problems.append("the first cell lacks 'What you will learn'")
    found = headings(nb)
    for section in ("Recap",) if final else ("Recap", "Exercises"):
        if not any(h.startswith(section) for h in found):
            problems.append(f"no '{section}' heading")
    return problems


def naming_problems(paths: list[Path]) -> list[str]:
    """Lessons are NN_topic.ipynb, numbered 00, 01, ... without gaps; solution notebooks
    live in notebooks/solutions/ as NN_topic_solutions.ipynb for an existing lesson; the
    Korean track, notebooks/ko/, holds twins of existing lessons under the same names."""
    problems = []
    numbers = []
    lesson_stems = set()
    for path in paths:
        if path.parent == NOTEBOOKS:
            match = LESSON_NAME.match(path.name)
            if not match:
                problems.append(f"{path.name} is not named NN_topic.ipynb (lowercase, underscores)")
                continue
            numbers.append(int(match.group(1)))
            lesson_stems.add(path.stem)
    for path in paths:
        if path.parent == NOTEBOOKS:
            continue
        if path.parent == KOREAN:
            if path.stem not in lesson_stems:
                problems.append(f"{rel(path)} has no English lesson notebooks/{path.name} (same name)")
            continue
        if path.parent != SOLUTIONS:
            problems.append(f"{rel(path)}: notebooks belong in notebooks/, notebooks/ko/ or notebooks/solutions/")
            continue
        match = SOLUTION_NAME.match(path.name)
        if not match:
            problems.append(f"{rel(path)} is not named NN_topic_solutions.ipynb")
        elif match.group(1) not in lesson_stems:
            problems.append(f"{rel(path)} has no lesson notebooks/{match.group(1)}.ipynb")
    if sorted(numbers) != list(range(len(numbers))):
        problems.append(f"lesson numbers are {sorted(numbers)}, expected 00 to {len(numbers) - 1:02d} without gaps")
    return problems


# ---------------------------------------------------------------- the tests

NOTEBOOK_PARAMS = [pytest.param(p, id=rel(p)) for p in all_notebooks()]
LESSON_PARAMS = [pytest.param(p, id=rel(p)) for p in lessons()]


CODE_SPANS = re.compile(r"```.*?```|`[^`\n]*`", re.S)
DOLLAR = re.compile(r"(?<!\\)\$")
ANY_DOLLAR = re.compile(r"\$")


def math_pairs(markdown: str, escaped_too: bool = False) -> list[str]:
    """Paragraphs where two dollars would render as LaTeX math (e.g. a price table "$2.50 |
    $10.00"). GitHub and Colab leave escaped ones (\\$) alone; JupyterLab 4 does not
    (jupyterlab/jupyterlab#8645), so a notebook's paragraph counts them too. Code spans are safe."""
    text = CODE_SPANS.sub("", markdown)
    dollar = ANY_DOLLAR if escaped_too else DOLLAR
    return [para.strip()[:80] for para in re.split(r"\n\s*\n", text) if len(dollar.findall(para)) >= 2]


def math_problems(nb) -> list[str]:
    """Markdown cells and Markdown outputs that would render dollars as math."""
    problems = []
    for i, cell in enumerate(nb.cells):
        texts = [cell.source] if cell.cell_type == "markdown" else []
        for output in cell.get("outputs", []):
            markdown = output.get("data", {}).get("text/markdown")
            if markdown:
                texts.append("".join(markdown) if isinstance(markdown, list) else markdown)
        # Prose: even escaped dollars pair up in JupyterLab. (The price table's output, one
        # escaped dollar a table cell, renders as text: the browser test looks.)
        problems += [
            f"cell {i}: dollars render as math in JupyterLab: {para!r} (one $ a paragraph; write USD or 달러)"
            for text in texts
            for para in math_pairs(text, escaped_too=cell.cell_type == "markdown")
        ]
    return problems


def test_there_are_lessons():
    assert lessons(), "no notebook found in notebooks/"


def test_names_and_numbering():
    assert naming_problems(all_notebooks()) == []


@pytest.mark.parametrize("path", NOTEBOOK_PARAMS)
def test_valid_nbformat(path):
    nb = read(path)
    assert nb.nbformat == 4
    nbformat.validate(nb)


@pytest.mark.parametrize("path", NOTEBOOK_PARAMS)
def test_fully_executed_in_order_without_errors(path):
    assert execution_problems(read(path)) == []


@pytest.mark.parametrize("path", NOTEBOOK_PARAMS)
def test_no_api_key(path):
    assert key_problems(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("path", NOTEBOOK_PARAMS)
def test_skipped_cells_are_marked_and_explained(path):
    assert skip_problems(read(path)) == []


@pytest.mark.parametrize("path", NOTEBOOK_PARAMS)
def test_never_prompts_under_tests(path):
    assert getpass_problems(read(path)) == []


@pytest.mark.parametrize("path", NOTEBOOK_PARAMS)
def test_imports_only_helpers_from_the_project(path):
    assert import_problems(read(path)) == []


@pytest.mark.parametrize("path", NOTEBOOK_PARAMS)
def test_outputs_come_from_offline_runs(path):
    assert offline_output_problems(read(path)) == []


@pytest.mark.parametrize("path", NOTEBOOK_PARAMS)
def test_badge_and_install_cell(path):
    assert header_problems(read(path), rel(path)) == []


@pytest.mark.parametrize("path", LESSON_PARAMS)
def test_no_dollar_renders_as_math(path):
    assert not math_problems(read(path))


@pytest.mark.parametrize("doc", ["README.md", "README.ko.md", *sorted(p.name for p in (ROOT / "docs").glob("*.md"))])
def test_no_dollar_renders_as_math_in_the_docs(doc):
    path = ROOT / doc if (ROOT / doc).exists() else ROOT / "docs" / doc
    assert not math_pairs(path.read_text(encoding="utf-8"))


def test_math_check_catches_price_tables_and_leaves_escaped_and_code_dollars():
    assert math_pairs("| gpt-6-luna | $0.10 | $0.50 |")
    assert math_pairs("costs $2 in\nand $8 out")  # one paragraph, two lines
    assert not math_pairs("costs \\$2 in and \\$8 out")  # GitHub: fine
    assert math_pairs("costs \\$2 in and \\$8 out", escaped_too=True)  # JupyterLab 4: math
    assert not math_pairs("costs USD 2 in and \\$8 out", escaped_too=True)
    assert not math_pairs("`$HOME` and `$PATH`, or ```\n$ a\n$ b\n```")
    assert not math_pairs("one $5 here\n\nand one $6 there")  # separate paragraphs
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(
                outputs=[
                    nbformat.v4.new_output(
                        "display_data", data={"text/markdown": "| a | $1 | $2 |", "text/plain": "<Markdown>"}
                    )
                ]
            )
        ]
    )
    assert math_problems(nb)


@pytest.mark.parametrize("path", LESSON_PARAMS)
def test_lesson_has_learn_recap_and_exercises(path):
    assert lesson_problems(read(path), final=path == lessons()[-1] and "wrap_up" in path.name) == []


# ---------------------------------------------------------------- the checks can fail


def sample(*cells, first=None):
    """A small well-formed lesson, with extra cells appended."""
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    header = first or (
        f"# 01 · Sample\n\n[![Open In Colab]({BADGE_IMAGE})]({COLAB}notebooks/01_sample.ipynb)\n\n"
        "**What you will learn**\n\n- something"
    )
    body = [
        new_markdown_cell(header),
        new_code_cell(INSTALL_CELL),
        new_code_cell("x = 1"),
        new_markdown_cell("## Recap\n\n- x"),
        new_markdown_cell("## Exercises\n\n- y"),
        *cells,
    ]
    n = 0
    for cell in body:
        if cell.cell_type == "code" and cell.source.strip():
            n += 1
            cell.execution_count = n
    return new_notebook(cells=body)


def code(source, count=None, outputs=(), tags=()):
    from nbformat.v4 import new_code_cell

    cell = new_code_cell(source, execution_count=count, outputs=list(outputs))
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def test_sample_passes_every_check():
    nb = sample()
    assert execution_problems(nb) == []
    assert skip_problems(nb) == []
    assert header_problems(nb, "notebooks/01_sample.ipynb") == []
    assert lesson_problems(nb) == []


def test_execution_check_catches_unrun_errored_and_out_of_order_cells():
    nb = sample()
    nb.cells[2].execution_count = None
    assert "never executed" in execution_problems(nb)[0]
    nb = sample()
    nb.cells[2].outputs = [nbformat.v4.new_output("error", ename="ValueError", evalue="boom", traceback=[])]
    assert "error output" in execution_problems(nb)[0]
    nb = sample()
    nb.cells[1].execution_count, nb.cells[2].execution_count = 2, 1
    assert "execution counts" in execution_problems(nb)[0]
    nb = sample()
    nb.cells[2].execution_count = 5
    assert "execution counts" in execution_problems(nb)[0]


def test_key_check_catches_keys():
    fake = "sk-" + "a1B2" * 6
    assert key_problems(json.dumps({"text": fake}))
    assert key_problems("sk-proj-x")
    assert key_problems("sk-offline and sk-...ab") == []


def test_skip_check_catches_unexplained_and_unrecognised_skips():
    assert skip_problems(sample(code("# NBVAL_SKIP\ninput()"))) != []
    assert skip_problems(sample(code("# NBVAL_SKIP: waits for a person to type\ninput()"))) != []
    assert skip_problems(sample(code("input()", tags=[SKIP_TAG]))) != []
    assert skip_problems(sample(code("# NBVAL_IGNORE_OUTPUT\nprint(1)"))) != []
    assert skip_problems(sample(code("print(1)", tags=["raises-exception"]))) != []
    explained = code("# NBVAL_SKIP\n# Skipped: it waits for a person to type.\ninput()")
    assert skip_problems(sample(explained)) == []


def test_getpass_and_import_checks():
    assert getpass_problems(sample(code("from getpass import getpass\nkey = getpass()"))) != []
    skipped = code("# NBVAL_SKIP\n# Skipped: it waits for a person to type the key.\nkey = getpass()")
    assert getpass_problems(sample(skipped)) == []
    assert import_problems(sample(code("from tests.offline_env import apply"))) != []
    assert import_problems(sample(code("from helpers import get_client"))) == []


def test_offline_output_check():
    banner = nbformat.v4.new_output("stream", name="stdout", text="Using the OpenAI API (key from .env).\n")
    assert offline_output_problems(sample(code("client = get_client()", outputs=[banner]))) != []


def test_header_check_catches_wrong_badge_title_and_install_cell():
    nb = sample()
    assert header_problems(nb, "notebooks/02_other.ipynb") != []  # badge and title point at 01
    nb = sample(first=f"# 01 · Sample\n\n[![Open In Colab]({BADGE_IMAGE})]({COLAB}notebooks/01_x.ipynb)")
    assert header_problems(nb, "notebooks/01_sample.ipynb") != []
    nb = sample(first="# Sample\n\nno badge")
    assert len(header_problems(nb, "notebooks/01_sample.ipynb")) >= 2
    nb = sample()
    nb.cells[1].source = "%pip install openai"
    assert header_problems(nb, "notebooks/01_sample.ipynb") != []


def test_lesson_check_catches_missing_sections():
    nb = sample()
    nb.cells[3].source = "Recap without a heading"
    assert lesson_problems(nb) == ["no 'Recap' heading"]


def test_naming_check():
    ok = [NOTEBOOKS / "00_setup.ipynb", NOTEBOOKS / "01_first_call.ipynb", SOLUTIONS / "01_first_call_solutions.ipynb"]
    assert naming_problems(ok) == []
    assert naming_problems([*ok, KOREAN / "01_first_call.ipynb"]) == []  # a Korean twin
    assert naming_problems([*ok, KOREAN / "02_other.ipynb"]) != []  # a Korean lesson with no English one
    assert naming_problems([NOTEBOOKS / "00_setup.ipynb", NOTEBOOKS / "02_chat.ipynb"]) != []  # gap
    assert naming_problems([NOTEBOOKS / "00_setup.ipynb", NOTEBOOKS / "00_again.ipynb"]) != []  # duplicate
    assert naming_problems([NOTEBOOKS / "00_Setup.ipynb"]) != []
    assert naming_problems([NOTEBOOKS / "00_setup.ipynb", SOLUTIONS / "03_x_solutions.ipynb"]) != []
    assert naming_problems([NOTEBOOKS / "00_setup.ipynb", NOTEBOOKS / "extra" / "00_setup.ipynb"]) != []
