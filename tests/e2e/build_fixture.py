"""Write widgets_demo.ipynb, the three widgets with their default arguments, with fresh outputs.

    python tests/e2e/build_fixture.py

nbval runs the notebook with the rest of the suite, and tests/test_widgets.py runs it in a
kernel: its stored text/plain outputs are the widgets' text summaries, so they must not
change from run to run. (The browser test, tests/test_e2e_browser.py, drives the widgets in
the lessons themselves, notebooks/05_tokens.ipynb, 06_cost.ipynb and the Korean
notebooks/ko/03_multi_turn_chat.ipynb, and in a notebook of its own for the Stop button and
the 800 px layout. Unlike a lesson, this fixture shows each widget without keeping it in a
variable: its stored text/plain is what tests/test_widgets.py compares.)
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
PATH = HERE / "widgets_demo.ipynb"
sys.path.insert(0, str(HERE.parents[1]))  # the course folder, for tools/
from tools.offline_env import apply  # noqa: E402

CELLS = [
    (
        "markdown",
        "# Widgets fixture\n\nThe widgets with their default arguments (the chat widget with its "
        "default client, which prints no banner), re-run by nbval and `tests/test_widgets.py`. "
        "Rebuild it with `python tests/e2e/build_fixture.py`.",
    ),
    ("code", "from helpers.widgets import chat_widget, cost_calculator, tokenizer_playground"),
    ("code", "chat_widget()"),
    ("code", 'tokenizer_playground("Father is going into the room.")'),
    ("code", "cost_calculator()"),
]


def build() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nb.cells = [
        nbformat.v4.new_markdown_cell(src) if kind == "markdown" else nbformat.v4.new_code_cell(src)
        for kind, src in CELLS
    ]
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i}"
    return nb


def main() -> None:
    apply(os.environ)
    nb = build()
    # No widget state in the file: it would change on every run, and text/plain is what nbval checks.
    NotebookClient(
        nb, timeout=60, kernel_name="python3", store_widget_state=False, resources={"metadata": {"path": str(HERE)}}
    ).execute()
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)  # timestamps: noise in the diff
    nbformat.write(nb, PATH)
    print(f"wrote {PATH}")


if __name__ == "__main__":
    main()
