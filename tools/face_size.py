"""How long the face of ``helpers`` is: the five modules a learner reads in one sitting.

    python -m tools.face_size

Prints each module's lines, and its lines of code (no blank lines, comments or docstrings),
against the budget of one sitting. tests/test_layout.py holds the budget.
"""

from __future__ import annotations

import ast
import io
import sys
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FACE = ("models", "tokens", "pricing", "chat", "client")  # in reading order
BUDGET = 600  # lines of code for the whole face: what reads in one sitting


def _docstring_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                lines.update(range(first.lineno, (first.end_lineno or first.lineno) + 1))
    return lines


def size(path: Path) -> tuple[int, int]:
    """(lines, lines of code) of a Python file."""
    source = path.read_text(encoding="utf-8")
    skipped = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER}
    code: set[int] = set()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type not in skipped:
            code.update(range(token.start[0], token.end[0] + 1))
    return len(source.splitlines()), len(code - _docstring_lines(ast.parse(source)))


def face() -> dict[str, tuple[int, int]]:
    """{module: (lines, lines of code)} for the face, in reading order."""
    return {name: size(ROOT / "helpers" / f"{name}.py") for name in FACE}


def report() -> str:
    sizes = face()
    rows = [f"  helpers/{name + '.py':<12} {lines:5} lines  {code:5} of code" for name, (lines, code) in sizes.items()]
    lines, code = (sum(v[i] for v in sizes.values()) for i in (0, 1))
    rows.append(f"  {'the face':<20} {lines:5} lines  {code:5} of code (budget {BUDGET} of code)")
    return "\n".join(rows)


if __name__ == "__main__":
    print("The face of helpers, in reading order:")
    print(report())
    sys.exit(0)
