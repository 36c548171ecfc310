"""How long each lesson notebook takes to execute offline, against its target.

    python -m benchmarks.bench_notebooks              # every notebook in notebooks/
    python -m benchmarks.bench_notebooks 03 04        # those whose name contains "03" or "04"
    python -m benchmarks.bench_notebooks --repeat 3   # best of 3 runs each: less noise
    python -m benchmarks.bench_notebooks --strict     # exit 1 if a notebook is over its target too

Notebooks run exactly as tools/run_notebooks.py runs them (offline, in their own folder, a
fresh kernel each, kernel start-up included in the time) and nothing is written. A notebook
that fails is reported in one line and makes the exit status 1. The tiktoken encodings ship
with the course (helpers/_encodings), so no download or cache is needed.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

from tools.run_notebooks import apply, execute, notebooks

ROOT = Path(__file__).resolve().parents[1]

TARGET_SECONDS = 3.0  # per notebook: a learner's "Run all" offline should feel instant
ANSI = re.compile(r"\x1b\[[0-9;]*m")  # colours in the traceback nbclient reports


def last_line(error: BaseException) -> str:
    """The last line of an error's message, without colours: usually the exception itself."""
    lines = ANSI.sub("", str(error)).strip().splitlines()
    return lines[-1][:200] if lines else type(error).__name__


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("patterns", nargs="*", help="parts of notebook names to run")
    parser.add_argument("--repeat", type=int, default=1, metavar="N", help="run each notebook N times, keep the best")
    parser.add_argument("--strict", action="store_true", help="exit 1 if any notebook is over its target")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")

    apply(os.environ)  # the tests' offline settings, as tools/run_notebooks.py uses them
    paths = notebooks(args.patterns)
    if not paths:
        print("no notebook matched", file=sys.stderr)
        return 1

    print(f"{'seconds':>8}  {'target':>8}  notebook", flush=True)
    total = 0.0
    slow = []
    failed = []
    for path in paths:
        try:
            seconds = min(execute(path)[1] for _ in range(args.repeat))
        except Exception as error:  # CellExecutionError, a kernel that died, a timeout
            failed.append(path.name)
            print(f"{'failed':>8}  {'':>8}  {path.relative_to(ROOT)}: {last_line(error)}", flush=True)
            continue
        total += seconds
        over = seconds > TARGET_SECONDS
        if over:
            slow.append(path.name)
        print(
            f"{seconds:8.2f}  {'<= ' + format(TARGET_SECONDS, '.2f'):>8}  {path.relative_to(ROOT)}"
            f"{'  (over target)' if over else ''}",
            flush=True,
        )
    timed = len(paths) - len(failed)
    print(
        f"{total:8.2f}  {'<= ' + format(TARGET_SECONDS * timed, '.2f'):>8}  total for {timed} notebook(s)"
        + (f", best of {args.repeat} runs each" if args.repeat > 1 else "")
    )
    if slow:
        print(f"over target: {', '.join(slow)}", file=sys.stderr)
    if failed:
        print(
            f"failed to run: {', '.join(failed)} (run tools/run_notebooks.py on it to see the whole error)",
            file=sys.stderr,
        )
        return 1
    return 1 if args.strict and slow else 0


if __name__ == "__main__":
    sys.exit(main())
