"""`python3 course.py test --live` (tools/live_check.py): the shape comparison on hand-made
outputs, the no-key path, one run of a small generated notebook against a local
OpenAI-compatible server (FakeOpenAI from tests/test_doctor.py, answering with the offline
model), and a whole run at the default cap against the served offline model
(``python -m helpers._offline serve``, tests/processes.py) that must finish with no false
differences."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from processes import learner_env, run_tool, served_offline_model  # noqa: F401 - a fixture
from test_doctor import GOOD_KEY, FakeOpenAI

import course
from tools import live_check


def stdout(text: str):
    return new_output("stream", name="stdout", text=text)


def error(ename: str, evalue: str = "Error code: 400"):
    return new_output("error", ename=ename, evalue=evalue, traceback=[])


def result(*mime: str):
    return new_output("execute_result", data={m: "x" for m in mime}, execution_count=1)


STORED_REPLY = "reply: [offline] A token is a piece of text.\nfinish_reason: stop\ntotal tokens: 31\n"
LIVE_REPLY = (
    "reply: A token is a chunk of text, often part of a word,\nthat the model reads and writes.\n"
    "finish_reason: stop\ntotal tokens: 58\n"
)


def test_same_shape_with_other_wording_passes():
    assert live_check.compare_outputs([stdout(STORED_REPLY)], [stdout(LIVE_REPLY)]) == []
    assert live_check.compare_outputs([stdout("[offline] Hi!\n")], [stdout("Hello! Nice to meet you.\n")]) == []
    assert (
        live_check.compare_outputs(
            [error("BadRequestError", "offline words")], [error("BadRequestError", "the API's words")]
        )
        == []
    )
    assert (
        live_check.compare_outputs([result("text/plain", "text/markdown")], [result("text/markdown", "text/plain")])
        == []
    )
    assert live_check.compare_outputs([], []) == []


def test_an_error_where_the_stored_run_printed_fails():
    problems = live_check.compare_outputs(
        [stdout(STORED_REPLY)], [error("NotFoundError", "Error code: 404 - The model `o4-mini` has been deprecated")]
    )
    assert len(problems) == 1
    assert "[stdout] stored, [error NotFoundError] live" in problems[0]
    assert "has been deprecated" in problems[0]
    other = live_check.compare_outputs([error("BadRequestError")], [error("RateLimitError")])
    assert other and "error RateLimitError" in other[0]


def test_a_missing_or_extra_output_fails():
    assert live_check.compare_outputs([stdout("a\n"), result("text/plain")], [stdout("a\n")])
    assert live_check.compare_outputs([stdout("a\n")], [])
    warned = live_check.compare_outputs(
        [stdout("a\n")], [stdout("a\n"), new_output("stream", name="stderr", text="SpendWarning: x\n")]
    )
    assert warned and "SpendWarning" in warned[0]


def test_text_outline_labels_lines_and_emptiness():
    missing = live_check.compare_outputs([stdout(STORED_REPLY)], [stdout("reply: hi\ntotal tokens: 3\n")])
    assert missing == ["stdout: labels missing: finish_reason"]
    assert live_check.compare_outputs([stdout("1\n2\n3\n4\n5\n6\n7\n8\n")], [stdout("1\n2\n")])  # a loop cut short
    assert live_check.compare_outputs([stdout("x\n")], [stdout("\n")]) == ["stdout: printed nothing"]
    assert live_check.compare_outputs([result("text/plain")], [result("text/plain", "text/html")])


def test_compare_notebooks_names_the_cell():
    stored = new_notebook(
        cells=[new_markdown_cell("# Title"), new_code_cell("# a comment\nprint(1)"), new_code_cell("ask()")]
    )
    live = nbformat.reads(nbformat.writes(stored), as_version=4)
    stored.cells[1].outputs = [stdout("1\n")]
    stored.cells[2].outputs = [stdout("reply: x\n")]
    live.cells[1].outputs = [stdout("1\n")]
    live.cells[2].outputs = [error("APIConnectionError", "Connection error.")]
    found = live_check.compare_notebooks(stored, live)
    assert [(d.index, d.source) for d in found] == [(3, "ask()")]
    assert str(found[0]).startswith("cell 3 `ask()`: outputs [stdout] stored, [error APIConnectionError] live")
    stored.cells[2].metadata["tags"] = [live_check.SKIP_TAG]  # a cell that shows what a key changes
    stored.cells[2].metadata["live_differs"] = "with a key it asks the real API"
    expected = []
    assert live_check.compare_notebooks(stored, live, expected) == []
    assert expected == [(3, "with a key it asks the real API")]


def test_a_cell_that_showed_no_key_is_expected_to_differ():
    # Lesson 00's "no real client" cell: offline, get_client(offline=False) raised MissingKeyError
    # and the cell printed it; with a key it makes a client. Not a difference, but counted.
    keyless = new_code_cell(
        "try:\n    real = get_client(offline=False)\nexcept MissingKeyError as error:\n"
        '    print("No real client:", error)',
        outputs=[stdout("No real client: No OpenAI API key found. Put OPENAI_API_KEY=... in a .env file.\n")],
    )
    raised = new_code_cell("get_client(offline=False)", outputs=[error("MissingKeyError", "No OpenAI API key")])
    plain = new_code_cell("print('reply:', 1)", outputs=[stdout("reply: 1\n")])
    stored = new_notebook(cells=[keyless, raised, plain])
    live = nbformat.reads(nbformat.writes(stored), as_version=4)
    live.cells[0].outputs = [stdout("Using the OpenAI API (key sk-...ab from the environment).\n")]
    live.cells[1].outputs = [result("text/plain")]
    expected = []
    assert live_check.compare_notebooks(stored, live, expected) == []
    assert [index for index, _ in expected] == [1, 2]
    assert live_check.expected_to_differ(keyless) == "the stored run had no key (MissingKeyError)"
    assert live_check.expected_to_differ(plain) == ""
    live.cells[2].outputs = [stdout("\n")]  # other cells are still compared
    assert [d.index for d in live_check.compare_notebooks(stored, live)] == [3]


def test_the_kernels_get_the_cap_and_the_completion_budget():
    from helpers import _spend

    env = live_check.kernel_env("sk-x", "http://127.0.0.1:1/v1", 0.2)
    assert env[_spend.CAP_VARIABLE] == "0.200000" and env["COURSE_OFFLINE"] == "0"
    assert env[_spend.BUDGET_VARIABLE] == str(live_check.DEFAULT_BUDGET) == "4096"
    assert live_check.kernel_env("sk-x", None, 0.2, 500)[_spend.BUDGET_VARIABLE] == "500"
    assert _spend.parse_budget(env[_spend.BUDGET_VARIABLE]) == 4096


def test_without_a_key_it_says_how_to_set_one_and_exits_2(monkeypatch, capsys):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("COURSE_IGNORE_DOTENV", "1")
    assert live_check.main([]) == 2
    err = capsys.readouterr().err
    assert "needs an OpenAI API key" in err and "OPENAI_API_KEY=sk-..." in err and ".env" in err
    assert "$0.25" in err


def test_course_py_test_live_runs_the_live_check_and_leaves_other_args_to_pytest(monkeypatch):
    calls = []
    monkeypatch.setattr(course, "setup", lambda requirements: calls.append(("setup", requirements)) or "PY")
    monkeypatch.setattr(course, "run", lambda *args, env=None: calls.append(("run", *args)))
    assert course.main(["test", "--live", "--cap", "0.10", "03"]) == 0
    assert course.main(["test", "-q", "tests/test_chat.py"]) == 0
    assert calls == [
        ("setup", "requirements-dev.txt"),
        ("run", "PY", "-m", "tools.live_check", "--cap", "0.10", "03"),
        ("setup", "requirements-dev.txt"),
        ("run", "PY", "-m", "pytest", "-q", "tests/test_chat.py"),
    ]


def tiny_lesson(path: Path) -> bytes:
    """A lesson with the stored outputs an offline run would leave, and one cell whose stored
    output does not match what a live run prints (a model that is gone)."""
    cells = [
        new_markdown_cell("# A tiny lesson"),
        new_code_cell(
            "from helpers import DEFAULT_MODEL, get_client\n\nclient = get_client()",
            outputs=[
                stdout("Offline mode: no OPENAI_API_KEY found, so replies come from the course's offline model.\n")
            ],
        ),
        new_code_cell(
            "reply = client.chat.completions.create(\n    model=DEFAULT_MODEL,\n"
            '    messages=[{"role": "user", "content": "What is a token?"}],\n)\n'
            'print("reply:", reply.choices[0].message.content)\n'
            'print("finish_reason:", reply.choices[0].finish_reason)\n'
            'print("total tokens:", reply.usage.total_tokens)',
            outputs=[
                stdout("reply: A token is a piece of text the model reads.\nfinish_reason: stop\ntotal tokens: 40\n")
            ],
        ),
        new_code_cell(
            'old = client.chat.completions.create(model="o4-mini", messages=[{"role": "user", '
            '"content": "Hi"}])\nprint("reply:", old.choices[0].message.content)',
            outputs=[stdout("reply: Hello!\n")],
        ),
        new_code_cell('print("no API call here")', outputs=[stdout("no API call here\n")]),
    ]
    nbformat.write(
        new_notebook(
            cells=cells, metadata={"kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"}}
        ),
        path,
    )
    return path.read_bytes()


def test_a_live_run_against_an_openai_compatible_server(tmp_path):
    lesson = tmp_path / "01_tiny.ipynb"
    before = tiny_lesson(lesson)
    with FakeOpenAI() as server:
        env = learner_env(GOOD_KEY, server.base_url)
        done = run_tool("tools.live_check", str(lesson), "--cap", "0.20", "--timeout", "30", env=env, timeout=120)
    text = done.stdout + done.stderr
    assert done.returncode == 1, text
    assert f"against the server at {server.base_url}" in text
    assert "1 of 4 code cells differ" in text
    differences = [line for line in text.splitlines() if line.startswith("  cell ")]
    assert len(differences) == 1, text
    assert differences[0].startswith('  cell 4 `old = client.chat.completions.create(model="o4-mini"')
    assert "[error NotFoundError] live" in differences[0] and "deprecated" in differences[0]
    assert "Spent about $0.0" in text and "of the $0.20 cap" in text
    assert GOOD_KEY not in text
    assert lesson.read_bytes() == before  # never written
    posts = [r for r in server.requests if r == ("POST", "/v1/chat/completions")]
    assert len(posts) == 2  # the lesson's two calls went to the server, none to the offline model


# ---------------------------------------------------------------- a whole run, served offline model


def cells_a_live_run_must_not_flag(path: Path) -> None:
    """A lesson whose cells each once made the live check end early or report a false
    difference: a call to a dear model with no max_completion_tokens (its whole 128,000-token
    output limit alone passed the cap), a misspelled model under the cap (refused as
    RateLimitError, not the API's 404), and a cell that insisted on a key. Its stored outputs
    come from running it offline, as tools/run_notebooks.py stores a lesson's."""
    from tools.run_notebooks import execute

    cells = [
        new_markdown_cell("# Cells a live run must not flag"),
        new_code_cell("import openai\nfrom helpers import get_client\n\nclient = get_client()"),
        new_code_cell(
            'reply = client.chat.completions.create(\n    model="gpt-6-sol",\n'
            '    messages=[{"role": "user", "content": "What is a token?"}],\n)\n'
            'print("reply:", reply.choices[0].message.content)\n'
            'print("finish_reason:", reply.choices[0].finish_reason)'
        ),
        new_code_cell(
            "try:\n"
            '    client.chat.completions.create(model="gpt-6-lnua", messages=[{"role": "user", "content": "Hi"}])\n'
            "except openai.NotFoundError as error:\n"
            '    print("status:", error.status_code)\n'
            '    print("code:", error.code)'
        ),
        new_code_cell(
            "from helpers.client import MissingKeyError\n\ntry:\n    real = get_client(offline=False)\n"
            'except MissingKeyError as error:\n    print("No real client:", error)'
        ),
    ]
    kernel = {"kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"}}
    nbformat.write(new_notebook(cells=cells, metadata=kernel), path)
    stored, _ = execute(path)  # offline: conftest's environment
    nbformat.write(stored, path)
    shown = [live_check.text_of(o) for cell in stored.cells for o in cell.get("outputs", [])]
    assert any("status: 404" in text for text in shown), shown
    assert any("No real client: No OpenAI API key found" in text for text in shown), shown


def test_a_whole_run_finishes_at_the_default_cap_with_no_false_differences(tmp_path, served_offline_model):  # noqa: F811
    lesson = tmp_path / "99_live_traps.ipynb"
    cells_a_live_run_must_not_flag(lesson)
    before = lesson.read_bytes()
    env = learner_env(
        "sk-dummy-key-for-the-served-offline-model",
        served_offline_model,
        unset=("COURSE_LIVE_MAX_COMPLETION_TOKENS",),
    )
    # Two of the course's lessons (00 sets up the key, 07 shows the misspelled model's 404) and the traps.
    done = run_tool("tools.live_check", "00_", "07_", str(lesson), "--timeout", "60", env=env, timeout=150)
    text = done.stdout + done.stderr
    assert done.returncode == 0, text
    assert "spend cap $0.25 in all, max_completion_tokens=4,096 where a cell sets none" in text
    assert "Every cell kept its shape." in text and "The cap stopped" not in text, text
    assert "did not run to the end" not in text and "differ" not in text.replace("expected to differ", ""), text
    assert len(re.findall(r"^notebooks/0[07]_\S+\.ipynb: \d+ code cells, same shapes", text, re.M)) == 2, text
    traps = next(line for line in text.splitlines() if line.startswith(str(lesson)))
    assert "4 code cells, same shapes (1 expected to differ, not compared: cell 5: the stored run had no key" in traps
    spent = float(re.search(r"Spent about \$([0-9.]+) of the \$0\.25 cap", text)[1])
    assert 0 < spent < 0.05
    assert lesson.read_bytes() == before  # never written
