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
