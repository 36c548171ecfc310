"""Re-execute the lesson notebooks offline and store their outputs.

    python -m tools.run_notebooks            # every notebook in notebooks/ (both tracks)
    python -m tools.run_notebooks 03         # those whose path contains "03": 03 and ko/03
    python -m tools.run_notebooks ko/03      # the Korean lesson 03 alone
    python -m tools.run_notebooks --dry-run  # execute and time, write nothing

Run it after changing a lesson, then commit the notebooks: nbval compares the stored
outputs with a fresh run. It uses the same offline settings as the test suite.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

try:
    from tools.offline_env import apply
except ModuleNotFoundError:  # run by path (python tools/run_notebooks.py): tools is not importable
    sys.exit("Run it from the course folder: python -m tools.run_notebooks (or python3 course.py notebooks).")

ROOT = Path(__file__).resolve().parents[1]


def notebooks(patterns: list[str]) -> list[Path]:
    found = sorted((ROOT / "notebooks").rglob("*.ipynb"))
    found = [p for p in found if ".ipynb_checkpoints" not in p.parts]
    # Matched against the path under notebooks/ (03_multi_turn_chat.ipynb, ko/03_multi_turn_chat.ipynb).
    return [
        p for p in found if not patterns or any(s in p.relative_to(ROOT / "notebooks").as_posix() for s in patterns)
    ]


def execute(path: Path, timeout: int = 120) -> tuple[nbformat.NotebookNode, float]:
    """Run ``path`` top to bottom in its own folder; return it with outputs and the seconds taken."""
    nb = nbformat.read(path, as_version=4)
    nb.metadata.pop("widgets", None)  # stale widget state from an earlier save
    for cell in nb.cells:
        cell.metadata.pop("execution", None)  # timings left by an older run or an editor
    # record_timing=False: per-cell timestamps would change the files on every run.
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        record_timing=False,
        store_widget_state=False,  # its model ids change on every run
        coalesce_streams=True,  # one stored output per stream, not one per print
        resources={"metadata": {"path": str(path.parent)}},
    )
    start = time.perf_counter()
    client.execute()
    return nb, time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("patterns", nargs="*", help="parts of notebook names to run")
    parser.add_argument("--dry-run", action="store_true", help="execute and time, do not write")
    args = parser.parse_args(argv)
    paths = notebooks(args.patterns)
    if not paths:
        lessons = [p.relative_to(ROOT / "notebooks").with_suffix("").as_posix() for p in notebooks([])]
        print(
            f"No lesson's file name contains {' or '.join(map(repr, args.patterns))}. The lessons:\n"
            + "".join(f"  {name}\n" for name in lessons)
            + "Give part of a name (e.g. 03, or tokens), or none to re-run them all.",
            file=sys.stderr,
        )
        return 1
    apply(os.environ)
    import matplotlib.font_manager  # noqa: F401  (builds the font cache here, not in lesson 04's output)

    total = 0.0
    for path in paths:
        nb, seconds = execute(path)
        total += seconds
        if not args.dry_run:
            nbformat.write(nb, path)
        print(f"{seconds:6.2f} s  {path.relative_to(ROOT)}")
    print(f"{total:6.2f} s  total for {len(paths)} notebook(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
