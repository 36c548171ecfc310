"""README.md says what the repository does: its commands, settings, lessons, modules and links."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
sys.path.insert(0, str(ROOT))
import course  # noqa: E402

HOME = re.search(r'Homepage = "https://github\.com/([^"]+)"', (ROOT / "pyproject.toml").read_text()).group(1)
START, TEST = "python3 course.py", "python3 course.py test"
# Settings the course reads from .env as well as from the environment (helpers/client.py).
DOTENV_SETTINGS = {"COURSE_ALLOW_HTTP", "OPENAI_API_KEY", "OPENAI_BASE_URL", "COURSE_OFFLINE", "COURSE_SPEND_CAP_USD"}
COLAB = re.compile(r"https://colab\.research\.google\.com/github/([^/\s]+/[^/\s]+)/blob/([^/\s]+)/([^)\s\"']+)")
BINDER = re.compile(r"https://mybinder\.org/v2/gh/([^/\s]+/[^/\s]+)/([^/?\s]+)\?urlpath=([^)\s\"']+)")


def code_lines(markdown: str) -> list[list[str]]:
    """The command lines of each fenced code block, comments removed."""
    blocks = re.findall(r"```[a-z]*\n(.*?)```", markdown, re.S)
    return [
        [line.split("#")[0].strip() for line in block.splitlines() if line.split("#")[0].strip()] for block in blocks
    ]


def lessons() -> list[Path]:
    return sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def test_readme_gives_exactly_two_commands_to_start_and_to_test():
    quick_start = [block for block in code_lines(README) if START in block]
    assert quick_start == [[START, TEST]]


def test_ci_runs_the_readmes_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    commands = [line.strip() for line in ci.splitlines() if "course.py" in line and not line.strip().startswith("#")]
    assert commands == [TEST]


def test_readme_states_the_supported_pythons():
    (low_major, low_minor), (high_major, high_minor) = course.SUPPORTED
    assert f"Python {low_major}.{low_minor} to {high_major}.{high_minor}" in README
    assert f"{low_major}.{low_minor}" in (ROOT / "pyproject.toml").read_text().split("requires-python")[1][:12]


def test_readme_documents_every_setting_and_dotenv_example_lists_them_empty():
    example = (ROOT / ".env.example").read_text()
    entries = dict(line.split("=", 1) for line in example.splitlines() if line and not line.startswith("#"))
    assert set(entries) == DOTENV_SETTINGS
    assert all(value == "" for value in entries.values()), "the example must not carry values"
    for name in DOTENV_SETTINGS | {"COURSE_OFFLINE_DELAY", "TIKTOKEN_CACHE_DIR"}:
        assert f"`{name}" in README, name


def test_dotenv_is_git_ignored():
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    for path in (".env", "notebooks/.env"):  # where learners put it: the course folder or beside a lesson
        check = subprocess.run(["git", "check-ignore", "-q", "--no-index", path], cwd=ROOT)
        assert check.returncode == 0, f"{path} must be git-ignored"
    tracked = subprocess.run(["git", "ls-files", "--", ".env", "*/.env"], cwd=ROOT, capture_output=True, text=True)
    assert tracked.stdout == "", "a .env file is committed"


def test_readme_lists_every_lesson_and_helpers_module():
    for path in lessons():
        assert f"`notebooks/{path.name}`" in README, path.name
    for path in sorted((ROOT / "helpers").glob("*.py")):
        if path.name != "__init__.py":
            assert f"`helpers/{path.name}`" in README, path.name


def test_readme_links_to_files_that_exist():
    for target in re.findall(r"\]\(((?!https?:)[^)#\s]+)\)", README):
        assert (ROOT / target).exists(), target


# ---------------------------------------------------------------- Colab and Binder


def badge_targets(text: str) -> list[tuple[str, str]]:
    """(kind, path in the repository) of every Colab and Binder link in ``text``; checks the repo and branch."""
    found = []
    for repo, branch, path in COLAB.findall(text):
        assert (repo, branch) == (HOME, "main"), f"Colab link to {repo}@{branch}"
        found.append(("colab", unquote(path)))
    for repo, ref, urlpath in BINDER.findall(text):
        assert repo == HOME and ref in ("HEAD", "main"), f"Binder link to {repo}@{ref}"
        urlpath = unquote(urlpath)
        assert urlpath.startswith("lab/tree/"), urlpath
        found.append(("binder", urlpath.removeprefix("lab/tree/")))
    return found


def test_badge_link_parser_on_examples():
    text = (
        f"[a](https://colab.research.google.com/github/{HOME}/blob/main/notebooks/x.ipynb) "
        f"[b](https://mybinder.org/v2/gh/{HOME}/HEAD?urlpath=lab%2Ftree%2Fnotebooks%2Fy.ipynb)"
    )
    assert badge_targets(text) == [("colab", "notebooks/x.ipynb"), ("binder", "notebooks/y.ipynb")]
    with pytest.raises(AssertionError):
        badge_targets("https://colab.research.google.com/github/someone/fork/blob/main/a.ipynb")


def test_readme_badges_open_files_that_exist():
    targets = badge_targets(README)
    assert {kind for kind, _ in targets} == {"colab", "binder"}
    for kind, path in targets:
        assert (ROOT / path).is_file(), f"{kind} badge opens {path}, which does not exist"


def test_each_lesson_opens_itself_in_colab_and_installs_the_course_there():
    if not lessons():
        pytest.skip("no lessons in notebooks/ yet")
    for path in lessons():
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        rel = path.relative_to(ROOT).as_posix()
        for cell in cells:
            for kind, target in badge_targets("".join(cell["source"])):
                assert (ROOT / target).is_file(), f"{rel}: {kind} link to missing {target}"
        first, second = ("".join(c["source"]) for c in cells[:2])
        assert ("colab", rel) in badge_targets(first), f"{rel}: the first cell needs a Colab badge to itself"
        assert second.count("%pip install") == 1 and f'"https://github.com/{HOME}"' in second, rel
        assert "git+{COURSE}" in second and "COURSE = " in second, rel  # %pip expands {COURSE}
        assert 'if "google.colab" in sys.modules:' in second, f"{rel}: the install must run in Colab only"


def test_runtime_dependencies_keep_what_colab_already_has():
    """Lower bounds only, so `%pip install` in Colab adds what is missing and replaces nothing
    that is new enough (Colab ships ipywidgets 7.7)."""
    text = (ROOT / "pyproject.toml").read_text()
    block = re.search(r"^dependencies = \[(.*?)^\]", text, re.S | re.M).group(1)
    requirements = [Requirement(r) for r in re.findall(r'"([^"]+)"', block)]
    assert {r.name for r in requirements} >= {"openai", "tiktoken", "ipywidgets"}
    for requirement in requirements:
        assert all(spec.operator == ">=" for spec in requirement.specifier), requirement
    ipywidgets = next(r for r in requirements if r.name == "ipywidgets")
    assert Version("7.7.1") in ipywidgets.specifier


# ---------------------------------------------------------------- README.ko.md says what README.md says

FENCED_BLOCK = re.compile(r"^```.*?^```", re.S | re.M)
# `python3 course.py` and its arguments, up to a closing backtick or a comment.
COURSE_COMMAND = re.compile(r"python3 course\.py(?:[^\S\n]+[^`#\n]*)?")
SETTING_ROW = re.compile(r"^\| `([A-Z][A-Z0-9_]*)(?:=[^`]*)?` \|", re.M)
# ASCII only: in Korean text a path is followed by a particle (`helpers/practice/`에).
REPO_PATH = re.compile(r"\b(?:notebooks/[\w./-]*?\.ipynb|helpers/[\w./-]*[\w/])", re.A)
LINK_TARGET = re.compile(r"\]\(([^)\s]+)\)")
# Each README links the other; every other relative target must be the same.
OTHER_README = {"README.md": "README.ko.md", "README.ko.md": "README.md"}


def course_commands(markdown: str) -> set[str]:
    return {" ".join(command.split()) for command in COURSE_COMMAND.findall(markdown)}


def heading_anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens (Hangul kept)."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def translation_problems(english: str, korean: str) -> list[str]:
    """What ``korean`` (README.ko.md) leaves out or changes of ``english`` (README.md): the same fenced
    code blocks, `python3 course.py` commands, number of ## sections, settings table rows, lesson and
    helpers paths, links (relative ones exactly, the other README swapped), and anchors that resolve."""
    problems = []
    if FENCED_BLOCK.findall(english) != FENCED_BLOCK.findall(korean):
        problems.append("the fenced code blocks differ (they must be identical, comments included)")
    for command in sorted(course_commands(english) - course_commands(korean)):
        problems.append(f"missing command: {command}")
    for command in sorted(course_commands(korean) - course_commands(english)):
        problems.append(f"command not in the English README: {command}")
    sections = [len(re.findall(r"^## ", text, re.M)) for text in (english, korean)]
    if sections[0] != sections[1]:
        problems.append(f"{sections[1]} ## sections instead of {sections[0]}")
    if SETTING_ROW.findall(english) != SETTING_ROW.findall(korean):
        problems.append(f"settings table rows {SETTING_ROW.findall(korean)} != {SETTING_ROW.findall(english)}")
    for path in sorted(set(REPO_PATH.findall(english)) - set(REPO_PATH.findall(korean))):
        problems.append(f"missing path: {path}")
    targets = [LINK_TARGET.findall(text) for text in (english, korean)]
    absolute = [{t for t in found if re.match(r"https?:", t)} for found in targets]
    relative = [{t for t in found if not re.match(r"https?:|#", t)} for found in targets]
    for target in sorted(absolute[0] - absolute[1]):
        problems.append(f"missing link: {target}")
    expected = {OTHER_README.get(t, t) for t in relative[0]}
    if expected != relative[1]:
        problems.append(f"relative links {sorted(relative[1])} instead of {sorted(expected)}")
    anchors = [[t for t in found if t.startswith("#")] for found in targets]
    if len(anchors[0]) != len(anchors[1]):
        problems.append(f"{len(anchors[1])} links to a section instead of {len(anchors[0])}")
    headings = {heading_anchor(h) for h in re.findall(r"^#+ (.+)$", korean, re.M)}
    problems += [f"link to no heading: {a}" for a in anchors[1] if unquote(a[1:]) not in headings]
    return problems


def test_translation_check_catches_a_missing_command_section_setting_path_and_link():
    english = (
        "# Course\n\n[Korean](README.ko.md) · [docs](docs/a.md)\n\n## Start here\n\n"
        "```bash\npython3 course.py        # set up\n```\n\nThen `python3 course.py test --live` "
        "(see [hosts](#for-hosts)).\n\n| Setting | |\n|---|---|\n| `OPENAI_API_KEY` | key |\n"
        "| `COURSE_OFFLINE=1` | offline |\n\n## For hosts\n\n`helpers/models.py` and "
        "[a lesson](https://example.org/notebooks/00_setup.ipynb).\n"
    )
    korean = (
        "# 강좌\n\n[English](README.md) · [문서](docs/a.md)\n\n## 시작하기\n\n"
        "```bash\npython3 course.py        # set up\n```\n\n그다음 `python3 course.py test --live`"
        "([진행자](#진행자를-위한-안내)).\n\n| 설정 | |\n|---|---|\n| `OPENAI_API_KEY` | 키 |\n"
        "| `COURSE_OFFLINE=1` | 오프라인 |\n\n## 진행자를 위한 안내\n\n`helpers/models.py`와 "
        "[레슨](https://example.org/notebooks/00_setup.ipynb).\n"
    )
    assert translation_problems(english, english.replace("README.ko.md", "README.md")) == []
    assert translation_problems(english, korean) == []
    assert translation_problems(english, korean.replace(" `python3 course.py test --live`", "")) == [
        "missing command: python3 course.py test --live"
    ]
    without_section = korean.replace("## 진행자를 위한 안내\n\n", "")
    assert translation_problems(english, without_section) == [
        "1 ## sections instead of 2",
        "link to no heading: #진행자를-위한-안내",
    ]
    assert translation_problems(english, korean.replace("# set up", "# 설치")) == [
        "the fenced code blocks differ (they must be identical, comments included)"
    ]
    assert translation_problems(english, korean.replace("`python3 course.py test --live`", "`python3 course.py test`"))
    assert translation_problems(english, korean.replace("| `COURSE_OFFLINE=1` | 오프라인 |\n", ""))
    assert translation_problems(english, korean.replace("`helpers/models.py`와", "모델 표와")) == [
        "missing path: helpers/models.py"
    ]
    assert translation_problems(english, korean.replace("docs/a.md", "docs/b.md"))
    assert translation_problems(english, korean.replace("(https://example.org/", "(https://example.com/"))


def test_korean_readme_says_what_the_english_readme_says():
    korean = (ROOT / "README.ko.md").read_text(encoding="utf-8")
    assert translation_problems(README, korean) == []
    for target in re.findall(r"\]\(((?!https?:)[^)#\s]+)\)", korean):
        assert (ROOT / target).exists(), target
    (low_major, low_minor), (high_major, high_minor) = course.SUPPORTED
    assert f"Python {low_major}.{low_minor}~{high_major}.{high_minor}" in korean


def test_korean_readme_opens_each_korean_lesson_in_colab_before_its_english_original():
    korean = (ROOT / "README.ko.md").read_text(encoding="utf-8")
    targets = badge_targets(korean)
    for kind, path in targets:
        assert (ROOT / path).is_file(), f"{kind} badge opens {path}, which does not exist"
    ko_lessons = sorted((ROOT / "notebooks" / "ko").glob("[0-9][0-9]_*.ipynb"))
    assert [p.name for p in ko_lessons] == [p.name for p in lessons()], "a lesson without its Korean twin"
    for path in ko_lessons:
        ko, en = f"notebooks/ko/{path.name}", f"notebooks/{path.name}"
        row = next((line for line in korean.splitlines() if line.startswith(f"| `{ko}`")), None)
        assert row is not None, f"README.ko.md's lesson table has no row for {ko}"
        badges = [p for kind, p in badge_targets(row) if kind == "colab"]
        assert badges == [ko, en], f"{ko}: the row needs the Korean Colab badge, then the English one"


def test_korean_readme_gives_learners_costs_in_won_at_the_dated_rate():
    from helpers.widgets import KRW_RATE
    from tools.live_check import DEFAULT_CAP

    korean = (ROOT / "README.ko.md").read_text(encoding="utf-8")
    assert KRW_RATE.date in korean and f"1달러당 {KRW_RATE.krw_per_usd:,g}원" in korean
    cap = f"약 {round(KRW_RATE.krw(DEFAULT_CAP)):,}원(\\${DEFAULT_CAP:.2f})"
    assert cap in korean, f"the live check's default cap should read {cap}"
