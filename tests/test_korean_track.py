"""The Korean track: every English lesson has a Korean twin in notebooks/ko/ with the same code.

The English lesson is the source of truth for code; its twin (the same file name under
notebooks/ko/) translates the words. Here:

- parity: each twin's code cells equal the English ones once strings, comments and
  ``lang=`` are set aside (tools/ko_sync.py compares, and carries English changes over);
- shape: the Korean header, headings, way on, install cell and the lesson rules of the English
  track, checks and widgets in Korean, prose that is mostly Hangul;
- exercises: each worked solution, run after the Korean lesson in its nbval kernel, is "정답"
  for the Korean check (tests/lesson_checks.py; here, that a wrong one is refused);
- tools/ko_sync.py itself, on small made-up lessons.

A missing twin fails by name: the track is whole only when every lesson has one.
"""

from __future__ import annotations

import ast
import copy
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from test_lesson_rules import (
    MAX_CELLS,
    TIME_ESTIMATE,
    machinery_problems,
    run_all_problems,
    size_problems,
    solution_problems,
    teaching_problems,
)
from test_notebooks import BADGE_IMAGE, COLAB, INSTALL_CELL, header_problems, math_problems

from tools import ko_sync
from tools.offline_env import apply

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
KO = NOTEBOOKS / "ko"
ENGLISH = ko_sync.english_lessons()
KO_MINUTES = re.compile(r"\*약 (\d+)분\.\*")
KO_TITLE = re.compile(r"^# (\d\d) · (.+)$")
GLOSSARY = "(../../docs/glossary.md)"
HANGUL = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")
# Prose outside code: fenced blocks, code spans, link addresses and bare URLs are not read as words.
NOT_PROSE = re.compile(r"```.*?```|`[^`\n]*`|\]\([^)]*\)|https?://\S+", re.S)
MIN_HANGUL_SHARE = 0.6  # of the letters in a lesson's prose
UNTRANSLATED_LETTERS = 30  # a markdown cell with this many letters and no Hangul reads as untranslated
# The English headings and their Korean twins ("## Exercises: ..." -> "## 연습 문제...").
SECTIONS = {"Recap": "정리", "Exercises": "연습 문제", "Quiz": "퀴즈", "Solutions": "풀이", "Next": "다음"}


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def twin_of(english: Path) -> Path:
    return KO / english.name


def korean(english: Path) -> nbformat.NotebookNode:
    """The Korean twin, or a failure that says which file is missing and what to do."""
    path = twin_of(english)
    if not path.exists():
        pytest.fail(
            f"{rel(path)} is missing: the Korean twin of {rel(english)} "
            f"(same file name, same code cells; python -m tools.ko_sync --check {english.name[:2]} compares them)"
        )
    return read(path)


def next_lesson(english: Path) -> str | None:
    names = [p.name for p in ENGLISH]
    index = names.index(english.name)
    return names[index + 1] if index + 1 < len(names) else None


def level2(nb) -> list[str]:
    """The ``## `` headings of the markdown cells, in order."""
    return [
        line[3:].strip()
        for cell in nb.cells
        if cell.cell_type == "markdown"
        for line in cell.source.splitlines()
        if line.startswith("## ")
    ]


# ---------------------------------------------------------------- the rules, each returning problems


def parity_problems(english_nb, korean_nb, name: str) -> list[str]:
    return [step.describe(name) for step in ko_sync.compare(english_nb, korean_nb).steps]


def korean_header_problems(nb, english_nb, name: str) -> list[str]:
    """First cell: ``# NN · 한국어 제목``, ``*약 N분.*`` with the English minutes, the Colab badge to
    this file, links to the English original and the glossary, then ``**배울 내용**``; second cell:
    the English lessons' install cell."""
    problems = header_problems(nb, f"notebooks/ko/{name}")  # title number, badge, install cell
    first = nb.cells[0].source if nb.cells and nb.cells[0].cell_type == "markdown" else ""
    title = KO_TITLE.match(first.splitlines()[0]) if first else None
    if not title or not HANGUL.search(title.group(2)):
        problems.append(f"the first line must be '# {name[:2]} · ' and a Korean title")
    english_minutes = TIME_ESTIMATE.search(english_nb.cells[0].source)
    stated = KO_MINUTES.search(first)
    if not stated:
        problems.append("the first cell lacks the time, '*약 N분.*'")
    elif english_minutes and stated.group(1) != english_minutes.group(1):
        problems.append(
            f"the first cell says 약 {stated.group(1)}분; the English lesson says {english_minutes.group(1)}"
        )
    if f"({COLAB}notebooks/ko/{name})" not in first or BADGE_IMAGE not in first:
        problems.append(f"the Colab badge must open notebooks/ko/{name}")
    if f"(../{name})" not in first:
        problems.append(f"the first cell must link the English original: [English](../{name})")
    if GLOSSARY not in first:
        problems.append(f"the first cell must link the glossary: [용어집]{GLOSSARY}")
    if "**배울 내용**" not in first:
        problems.append("the first cell lacks '**배울 내용**' (what you will learn)")
    return problems


def section_problems(nb, english_nb, next_name: str | None) -> list[str]:
    """The Korean headings of the English lesson's end sections, and the way on to the next
    Korean lesson (same file name, same folder)."""
    problems = []
    found = level2(nb)
    for english, korean_heading in SECTIONS.items():
        if any(h.startswith(english) for h in level2(english_nb)) and not any(
            h.startswith(korean_heading) for h in found
        ):
            problems.append(f"no '## {korean_heading}' heading (the English lesson has '## {english}')")
    if next_name:
        last = nb.cells[-1].source if nb.cells else ""
        if not last.startswith("## 다음") or f"({next_name})" not in last:
            problems.append(f"the last cell must be '## 다음' with a link to the next Korean lesson, ({next_name})")
    return problems


def rule_problems(nb, number: str) -> list[str]:
    """The English track's rules (cells, code cell height and width, checks out of sight, a quiz,
    Run All never waits, dollars that stay dollars), solutions markdown-only and binding names of
    their own, checks and widgets in Korean, and no cell still waiting for its translation."""
    problems = size_problems(nb)
    problems += [
        f"cell {i} is tagged {ko_sync.TAG!r}: translate it, then remove the tag"
        for i, cell in enumerate(nb.cells)
        if ko_sync.TAG in cell.metadata.get("tags", [])
    ]
    problems += teaching_problems(nb) + machinery_problems(nb) + run_all_problems(nb) + math_problems(nb)
    return problems + korean_call_problems(nb, number) + solution_problems(nb, "ko")


def korean_call_problems(nb, number: str) -> list[str]:
    """``ex = lesson("NN", lang="ko")`` (checks and quiz in Korean), and every chat_widget,
    tokenizer_playground and cost_calculator with ``lang="ko"``."""
    problems, checks_in_korean = [], False
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:  # the install cell's %pip
            continue
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            lang = next((k.value for k in node.keywords if k.arg == "lang"), None)
            korean_lang = isinstance(lang, ast.Constant) and lang.value == "ko"
            if name == "lesson":
                checks_in_korean |= korean_lang and [ast.literal_eval(a) for a in node.args[:1]] == [number]
            if name in ko_sync.KO_LANG_CALLS and not korean_lang:
                problems.append(f'cell {i}: {name}(...) without lang="ko": the learner sees English')
    if not checks_in_korean:
        problems.append(f'no ex = lesson("{number}", lang="ko"): the checks and the quiz would speak English')
    return problems


def prose(text: str) -> str:
    return NOT_PROSE.sub(" ", text)


def hangul_share(nb) -> float:
    """Hangul among the letters of the markdown cells, outside code and link addresses."""
    text = prose(" ".join(c.source for c in nb.cells if c.cell_type == "markdown"))
    letters = [ch for ch in text if ch.isalpha()]
    return sum(1 for ch in letters if HANGUL.match(ch)) / len(letters) if letters else 0.0


def prose_problems(nb) -> list[str]:
    problems = []
    share = hangul_share(nb)
    if share < MIN_HANGUL_SHARE:
        problems.append(f"only {share:.0%} of the prose's letters are Hangul; at least {MIN_HANGUL_SHARE:.0%}")
    for i, cell in enumerate(nb.cells):
        text = prose(cell.source)
        if cell.cell_type == "markdown" and not HANGUL.search(text):
            letters = sum(ch.isalpha() for ch in text)
            if letters >= UNTRANSLATED_LETTERS:
                problems.append(f"cell {i} has no Korean: {cell.source.strip()[:60]!r}")
    return problems


# ---------------------------------------------------------------- the tests on the real lessons

LESSONS = [pytest.param(p, id=p.name) for p in ENGLISH]


def test_there_are_english_lessons_to_translate():
    assert ENGLISH, "no notebooks/NN_*.ipynb found"


@pytest.mark.parametrize("english", LESSONS)
def test_every_english_lesson_has_a_korean_twin(english):
    korean(english)


def test_every_korean_lesson_has_an_english_original():
    names = {p.name for p in ENGLISH}
    strays = sorted(p.name for p in KO.glob("*.ipynb") if p.name not in names)
    assert not strays, f"notebooks/ko/ has lessons with no English original in notebooks/: {strays}"


@pytest.mark.parametrize("english", LESSONS)
def test_korean_code_is_the_english_code(english):
    problems = parity_problems(read(english), korean(english), english.name)
    assert not problems, "\n".join(problems) + "\n(python -m tools.ko_sync carries the English code over)"


@pytest.mark.parametrize("english", LESSONS)
def test_korean_header(english):
    assert korean_header_problems(korean(english), read(english), english.name) == []


@pytest.mark.parametrize("english", LESSONS)
def test_korean_sections_and_the_way_on(english):
    assert section_problems(korean(english), read(english), next_lesson(english)) == []


@pytest.mark.parametrize("english", LESSONS)
def test_korean_lesson_rules(english):
    assert rule_problems(korean(english), english.name[:2]) == []


@pytest.mark.parametrize("english", LESSONS)
def test_korean_prose_is_korean(english):
    assert prose_problems(korean(english)) == []


# ---------------------------------------------------------------- the rules can fail


def md(source: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_markdown_cell(source)


def code(source: str, tags=()) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(source)
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def english_sample() -> nbformat.NotebookNode:
    """A small English lesson, 01_sample: install cell, two sections, an exercise, a quiz, solutions."""
    return nbformat.v4.new_notebook(
        cells=[
            md(
                f"# 01 · Sample\n\n*About 15 minutes.*\n\n[![Open In Colab]({BADGE_IMAGE})]"
                f"({COLAB}notebooks/01_sample.ipynb)\n\n**What you will learn**\n\n- calls"
            ),
            code(INSTALL_CELL),
            code("from helpers import count, get_client\n\nclient = get_client()"),
            md("## 1. Ask\n\nA call, then its reply."),
            code('reply = ask(client, "Hello!")  # one call\nprint(f"Reply: {reply} ({len(reply)} characters)")'),
            md("## 2. Count\n\nTokens of a text."),
            code('print(count("abc", model="gpt-6-luna"))'),
            md("## Recap\n\n- one call"),
            md("## Exercises\n\nRun the next cell first."),
            code('from helpers.practice import lesson\n\nex = lesson("01")'),
            code("answer_1 = None  # your code here"),
            code("ex.check_1(answer_1)"),
            md("## Quiz\n\nThree questions."),
            code("ex.quiz()"),
            md("## Solutions\n\nTry first."),
            md('**Exercise 1.** Why.\n\n```python\nanswer_1_solution = "Hi"\nex.check_1(answer_1_solution)\n```'),
            md("## Next\n\n[02 · Other](02_other.ipynb)"),
        ]
    )


def korean_sample() -> nbformat.NotebookNode:
    """The Korean twin of english_sample(): translated strings, comments and prose, lang="ko",
    the f-string's pieces in another order; the install cell exactly the English one."""
    nb = english_sample()
    sources = {
        0: f"# 01 · 예제\n\n*약 15분.*\n\n[![Open In Colab]({BADGE_IMAGE})]({COLAB}notebooks/ko/01_sample.ipynb)\n\n"
        f"[English](../01_sample.ipynb) · [용어집]{GLOSSARY}\n\n**배울 내용**\n\n- 호출 한 번과 그 응답 읽기",
        3: "## 1. 질문하기\n\n호출 한 번, 그리고 그 응답을 읽어 봅니다.",
        4: 'reply = ask(client, "안녕하세요!")  # 호출 한 번\nprint(f"답변({len(reply)}자): {reply}")',
        5: "## 2. 세기\n\n텍스트의 토큰을 세어 봅니다.",
        6: 'print(count("가나다", model="gpt-6-luna"))',
        7: "## 정리\n\n- 호출 한 번으로 답을 받습니다",
        8: "## 연습 문제\n\n다음 셀을 먼저 실행하세요.",
        9: 'from helpers.practice import lesson\n\nex = lesson("01", lang="ko")',
        10: "answer_1 = None  # 여기에 코드를 쓰세요",
        12: "## 퀴즈\n\n세 가지 질문에 답해 보세요.",
        14: "## 풀이\n\n먼저 직접 풀어 보세요.",
        15: "**연습 1.** 이유는 이렇습니다.\n\n"
        '```python\nanswer_1_solution = "안녕"\nex.check_1(answer_1_solution)\n```',
        16: "## 다음\n\n[02 · 다른 수업](02_other.ipynb)",
    }
    for i, source in sources.items():
        nb.cells[i].source = source
    return nb


def test_a_faithful_translation_is_in_step_and_passes_the_shape_rules():
    en, ko = english_sample(), korean_sample()
    assert parity_problems(en, ko, "01_sample.ipynb") == []
    assert korean_header_problems(ko, en, "01_sample.ipynb") == []
    assert section_problems(ko, en, "02_other.ipynb") == []
    assert rule_problems(ko, "01") == []
    assert prose_problems(ko) == []


def test_header_rules_catch_each_missing_piece():
    en = english_sample()
    name = "01_sample.ipynb"
    for old, new, expected in [
        ("# 01 · 예제", "# 01 · Sample", "Korean title"),
        ("*약 15분.*", "*약 20분.*", "says 약 20분"),
        ("*약 15분.*", "*About 15 minutes.*", "'*약 N분.*'"),
        ("notebooks/ko/01_sample.ipynb", "notebooks/01_sample.ipynb", "badge must open"),
        ("[English](../01_sample.ipynb)", "English", "English original"),
        (f"[용어집]{GLOSSARY}", "용어집", "glossary"),
        ("**배울 내용**", "**What you will learn**", "배울 내용"),
    ]:
        ko = korean_sample()
        ko.cells[0].source = ko.cells[0].source.replace(old, new)
        assert any(expected in p for p in korean_header_problems(ko, en, name)), (old, new)
    ko = korean_sample()
    ko.cells[1].source = "%pip install openai"
    assert korean_header_problems(ko, en, name)


def test_section_rules_catch_english_headings_and_a_missing_way_on():
    en = english_sample()
    ko = korean_sample()
    ko.cells[7].source = "## Recap\n\n- 호출"
    assert section_problems(ko, en, "02_other.ipynb") == ["no '## 정리' heading (the English lesson has '## Recap')"]
    ko = korean_sample()
    ko.cells[16].source = "## 다음\n\n[02 · 다른 수업](../02_other.ipynb)"  # the English lesson, not the Korean one
    assert section_problems(ko, en, "02_other.ipynb")
    assert section_problems(ko, en, None) == []  # the last lesson links nowhere


def test_lesson_rules_catch_long_wide_english_checks_loose_code_and_open_tags():
    def problems_after(change):
        ko = korean_sample()
        change(ko)
        return rule_problems(ko, "01")

    assert any("lines" in p for p in problems_after(lambda nb: setattr(nb.cells[6], "source", "x = 1\n" * 21)))
    assert any("characters" in p for p in problems_after(lambda nb: setattr(nb.cells[6], "source", "x = " + "1" * 90)))
    english_checks = problems_after(lambda nb: setattr(nb.cells[9], "source", 'ex = lesson("01")'))
    assert any('lesson("01", lang="ko")' in p for p in english_checks)
    other_lesson = problems_after(lambda nb: setattr(nb.cells[9], "source", 'ex = lesson("02", lang="ko")'))
    assert any('lesson("01", lang="ko")' in p for p in other_lesson)
    widget = problems_after(lambda nb: nb.cells.insert(6, code("chat = chat_widget(client)\nchat")))
    assert any("chat_widget(...) without" in p for p in widget)
    run_solution = problems_after(lambda nb: nb.cells.insert(15, code("answer_1_solution = 1")))
    assert any("after '## 풀이'" in p for p in run_solution)
    rebinds = problems_after(lambda nb: setattr(nb.cells[15], "source", "```python\nanswer_1 = 1\n```"))
    assert any("rebinds answer_1" in p for p in rebinds)
    assert any("tagged" in p for p in problems_after(lambda nb: nb.cells[3].metadata.update(tags=[ko_sync.TAG])))
    too_many = problems_after(lambda nb: nb.cells.extend(md("설명") for _ in range(MAX_CELLS)))
    assert any("cells" in p for p in too_many)


def test_prose_rule_catches_english_prose():
    ko = korean_sample()
    assert hangul_share(ko) > 0.8  # "Open In Colab" and "English" are letters too
    ko.cells[3].source = "## 1. Ask\n\nA call, then its reply: what the model says, and how long it takes."
    assert any("cell 3 has no Korean" in p for p in prose_problems(ko))
    english = english_sample()
    assert any("Hangul" in p for p in prose_problems(english))
    # code, code spans and addresses are not prose
    assert hangul_share(nbformat.v4.new_notebook(cells=[md("`temperature` 값을 [바꿔](https://example.com/a) 보세요")]))
    assert hangul_share(nbformat.v4.new_notebook(cells=[md("설명\n\n```python\nprint('hello world')\n```")])) == 1.0


def test_parity_failure_names_the_cells_and_shows_both_lines():
    en, ko = english_sample(), korean_sample()
    ko.cells[6].source = 'print(count("가나다", model="gpt-6-luna", exact=True))'
    (problem,) = parity_problems(en, ko, "01_sample.ipynb")
    assert "ko/01_sample.ipynb cell 6 differs from English cell 6" in problem
    assert 'English: print(count("abc", model="gpt-6-luna"))' in problem
    assert 'Korean:  print(count("가나다", model="gpt-6-luna", exact=True))' in problem


# ---------------------------------------------------------------- tools/ko_sync.py on made-up lessons


def test_what_is_not_a_difference():
    same = [
        ('print("Hello")', 'print("안녕")'),  # a string
        ('x = f"{a} and {b}"', 'x = f"{b}와 {a}"'),  # an f-string, its pieces moved
        ('ex = lesson("03")', 'ex = lesson("03", lang="ko")'),  # lang="ko"
        ("chat = chat_widget(client)\nchat", 'chat = chat_widget(\n    client,\n    lang="ko",\n)\nchat'),  # layout
        ("x = 1  # one", "# 하나\nx = 1"),  # comments
        ('%pip install -q "a @ git+{COURSE}"', '%pip install -q "가 @ git+{COURSE}"'),  # a magic's string
        ('def f():\n    """Doc."""\n    return 1', 'def f():\n    """설명."""\n    return 1'),  # a docstring
    ]
    for english, korean_source in same:
        assert ko_sync.normalise(english).key == ko_sync.normalise(korean_source).key, english


def test_what_is_a_difference():
    different = [
        ("print(a)", "print(b)"),  # a name
        ("count(t)", "count(t, model=m)"),  # an argument
        ('f(x="a")', 'f(y="a")'),  # a keyword
        ("x = 1", "x = 2"),  # a number
        ("%pip install -q x", "%pip install -U x"),  # a magic
        ('x = f"{a}"', "x = a"),  # an f-string is not a name
        ("ex = lesson('03')", "ex = lesson('03', level=2)"),  # only lang= is set aside
    ]
    for english, korean_source in different:
        assert ko_sync.normalise(english).key != ko_sync.normalise(korean_source).key, english
    magic = ko_sync.first_difference(
        ko_sync.normalise(INSTALL_CELL), ko_sync.normalise(INSTALL_CELL.replace("-q ", ""))
    )
    assert magic == (
        '%pip install -q "chat-completions-course @ git+{COURSE}"',
        '%pip install "chat-completions-course @ git+{COURSE}"',
    )


def english_changed() -> nbformat.NotebookNode:
    """english_sample() after an edit: a changed call (cell 6), a deleted code cell (4, its prose
    kept), a new section with a code cell after section 2, and a changed magic (the install cell)."""
    nb = english_sample()
    nb.cells[1].source = INSTALL_CELL.replace("-q ", "-q -U ")
    nb.cells[6].source = 'print(count("abc", model="gpt-6-luna", exact=True))'
    nb.cells[7:7] = [md("## 3. Cost\n\nWhat it costs."), code("print(usd(cost_of(reply)))")]
    del nb.cells[4]
    return nb


def test_check_finds_exactly_the_changed_the_inserted_and_the_deleted_cells():
    comparison = ko_sync.compare(english_changed(), korean_sample())
    found = [(s.kind, s.en_cell, s.ko_cell) for s in comparison.steps]
    assert found == [("changed", 1, 1), ("extra", None, 4), ("changed", 5, 6), ("missing", 7, None)]
    lines = {(s.en_line, s.ko_line) for s in comparison.steps}
    assert (
        'print(count("abc", model="gpt-6-luna", exact=True))',
        'print(count("가나다", model="gpt-6-luna"))',
    ) in lines
    # the prose next to them, in the Korean lesson as it is: around cells 1, 4 and 6
    assert ko_sync.prose_neighbours(comparison.entries, "before") == [0, 3, 5, 7]


def test_sync_carries_the_english_code_over_and_keeps_the_translation(tmp_path, monkeypatch, capsys):
    (tmp_path / "ko").mkdir()
    nbformat.write(english_changed(), tmp_path / "01_sample.ipynb")
    nbformat.write(korean_sample(), tmp_path / "ko" / "01_sample.ipynb")
    monkeypatch.setattr(ko_sync, "NOTEBOOKS", tmp_path)
    monkeypatch.setattr(ko_sync, "KO", tmp_path / "ko")

    assert ko_sync.main(["--check"]) == 1
    report = capsys.readouterr().out
    assert "ko/01_sample.ipynb cell 6 differs from English cell 5" in report
    assert "ko/01_sample.ipynb lacks English cell 7 (code): print(usd(cost_of(reply)))" in report
    assert "ko/01_sample.ipynb cell 4 (code) is not in the English lesson" in report
    assert "cell 5 (prose) sits next to code out of step" in report
    assert [c.source for c in read(tmp_path / "ko" / "01_sample.ipynb").cells] == [
        c.source for c in korean_sample().cells
    ]  # --check writes nothing

    assert ko_sync.main(["--no-run"]) == 0
    report = capsys.readouterr().out
    synced = read(tmp_path / "ko" / "01_sample.ipynb")
    sources = [c.source for c in synced.cells]
    assert [c.cell_type for c in synced.cells] == [c.cell_type for c in korean_sample().cells[:4]] + [
        "markdown",
        "code",
        "code",
        *[c.cell_type for c in korean_sample().cells[7:]],
    ]
    # the changed cells carry the English code, tagged; the inserted one sits in section 2, after its prose
    assert sources[1] == INSTALL_CELL.replace("-q ", "-q -U ")
    assert sources[5] == 'print(count("abc", model="gpt-6-luna", exact=True))'
    assert sources[6] == "print(usd(cost_of(reply)))"
    tagged = [i for i, c in enumerate(synced.cells) if ko_sync.TAG in c.metadata.get("tags", [])]
    assert tagged == [1, 5, 6]
    # the translation elsewhere is kept: prose, strings, lang="ko"
    assert sources[3] == korean_sample().cells[3].source
    assert 'lesson("01", lang="ko")' in sources[9]
    assert "## 정리" in sources[7]
    for i in (0, 3, 4, 7):
        assert f"ko/01_sample.ipynb cell {i} (prose) sits next to changed code: check its translation" in report
    assert ko_sync.main(["--check"]) == 0
    assert "in step" in capsys.readouterr().out


def test_sync_adds_lang_ko_and_carries_solution_code(tmp_path):
    en, ko = english_sample(), korean_sample()
    en.cells[9].source = 'from helpers.practice import lesson\n\nex = lesson("01")  # checks\nex'
    en.cells[15].source = en.cells[15].source.replace('answer_1_solution = "Hi"', 'answer_1_solution = "Hi".upper()')
    comparison = ko_sync.compare(en, ko)
    assert [(s.kind, s.en_cell, s.ko_cell) for s in comparison.steps] == [("changed", 9, 9), ("solution", 15, 15)]
    cells = [e.cell for e in comparison.entries if e.status != "deleted"]
    assert 'ex = lesson("01", lang="ko")' in cells[9].source
    assert cells[15].source.startswith("**연습 1.** 이유는")  # the prose around the block stays Korean
    assert 'answer_1_solution = "Hi".upper()' in cells[15].source
    assert ko_sync.prose_neighbours(comparison.entries, "after") == [8, 15]
    fixed = copy.deepcopy(ko)
    fixed.cells = cells
    assert ko_sync.compare(en, fixed).in_step


def test_a_solution_added_in_english_is_left_to_a_person(tmp_path, monkeypatch, capsys):
    en = english_sample()
    en.cells.insert(16, md("**Exercise 2.** Also.\n\n```python\nanswer_2_solution = 2\n```"))
    (tmp_path / "ko").mkdir()
    nbformat.write(en, tmp_path / "01_sample.ipynb")
    nbformat.write(korean_sample(), tmp_path / "ko" / "01_sample.ipynb")
    monkeypatch.setattr(ko_sync, "NOTEBOOKS", tmp_path)
    monkeypatch.setattr(ko_sync, "KO", tmp_path / "ko")
    assert ko_sync.main(["--no-run"]) == 1
    assert "1 ```python solution block(s), the English has 2" in capsys.readouterr().out


def test_sync_reruns_the_changed_korean_lesson_offline(tmp_path, monkeypatch, capsys):
    en = nbformat.v4.new_notebook(cells=[md("# 01 · Sample"), code('print("one", 1 + 1)')])
    ko = nbformat.v4.new_notebook(cells=[md("# 01 · 예제"), code('print("하나", 1)')])
    (tmp_path / "ko").mkdir()
    nbformat.write(en, tmp_path / "01_sample.ipynb")
    nbformat.write(ko, tmp_path / "ko" / "01_sample.ipynb")
    monkeypatch.setattr(ko_sync, "NOTEBOOKS", tmp_path)
    monkeypatch.setattr(ko_sync, "KO", tmp_path / "ko")
    monkeypatch.setattr(ko_sync, "ROOT", tmp_path)
    assert ko_sync.main([]) == 0
    cell = read(tmp_path / "ko" / "01_sample.ipynb").cells[1]
    assert cell.execution_count == 1
    assert cell.outputs[0]["text"] == "one 2\n"


def test_lessons_without_a_twin_are_named_and_a_wrong_pattern_is_refused(tmp_path, monkeypatch, capsys):
    nbformat.write(english_sample(), tmp_path / "01_sample.ipynb")
    monkeypatch.setattr(ko_sync, "NOTEBOOKS", tmp_path)
    monkeypatch.setattr(ko_sync, "KO", tmp_path / "ko")
    assert ko_sync.main(["--check", "01"]) == 0  # nothing out of step: a missing twin is the tests' to name
    assert "No Korean twin yet (notebooks/ko/): 01_sample.ipynb" in capsys.readouterr().out
    assert ko_sync.main(["--check", "42"]) == 2
    assert "01_sample" in capsys.readouterr().err


def test_the_korean_solution_run_refuses_a_wrong_solution(tmp_path):
    """The Korean solutions are judged in the lesson's nbval kernel (tests/lesson_checks.py):
    lesson 03 made Korean in name only, its second solution replaced by a wrong one (a last
    block, run after the others): only that one fails, refused in Korean."""
    nb = read(NOTEBOOKS / "03_multi_turn_chat.ipynb")
    for cell in nb.cells:
        cell.source = cell.source.replace('lesson("03")', 'lesson("03", lang="ko")').replace("## Solutions", "## 풀이")
    nb.cells.append(md("```python\ntrim_solution = lambda messages, keep: messages\n```"))
    (tmp_path / "ko").mkdir()
    nbformat.write(nb, tmp_path / "ko" / "03_multi_turn_chat.ipynb")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")])}
    apply(env)  # offline, as in the suite; --nbval-lax: only the check cells compare outputs
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "lesson_checks", "--nbval-lax", "--nbval-current-env", "-q",
         "-p", "no:cacheprovider", "-o", "addopts=", "--rootdir", str(tmp_path), "ko"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    out = done.stdout + done.stderr
    assert re.search(r"^1 failed, \d+ passed", out.splitlines()[-1]), out[-3000:]
    failed = re.findall(r"^FAILED (\S+::.+?)(?: - |$)", out, re.M)
    assert failed == ["ko/03_multi_turn_chat.ipynb::probe: ex2 solution"], out[-3000:]
    assert "the solution is refused: 아직이에요" in out, out[-3000:]
