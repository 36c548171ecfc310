"""What one full run of the course costs with a real key: run every lesson offline with
the spend meter on and add up what the same calls would cost on the real API.

    python tools/course_cost.py            # print the table and the summary
    python tools/course_cost.py --write    # also update the figure in docs/workshop.md

The offline model counts tokens exactly as the API does, so the prompt side is exact, but
its replies are shorter than a real model's: the summary adds a rough upper bound with
five times the output tokens. Re-run with --write after the lessons or the prices change.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from offline_env import apply  # noqa: E402

sys.path.insert(0, str(ROOT))
from helpers.models import DEFAULT_MODEL, MODELS  # noqa: E402
from helpers.pricing import estimate_cost  # noqa: E402

DOC = ROOT / "docs" / "workshop.md"
START, END = "<!-- course-cost:start -->", "<!-- course-cost:end -->"
MARK = "COURSE_COST_SUMMARY "
OUTPUT_FACTOR = 5  # real replies are longer than the offline model's: a rough upper bound
REPORT_CELL = (
    "import json as _json\n"
    "from helpers import spend as _spend\n"
    f"print({MARK!r} + _json.dumps(_spend.summary()))\n"
)


def lessons(folder: Path) -> list[Path]:
    found = sorted(folder.glob("*.ipynb"))
    return [p for p in found if ".ipynb_checkpoints" not in p.parts]


def metered_run(path: Path, timeout: int = 180) -> dict:
    """Execute ``path`` top to bottom offline; return the spend summary of its kernel."""
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(REPORT_CELL))
    NotebookClient(nb, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    for output in nb.cells[-1].get("outputs", []):
        for line in output.get("text", "").splitlines():
            if line.startswith(MARK):
                return json.loads(line[len(MARK):])
    raise RuntimeError(f"{path.name}: the spend summary was not printed")


def cost(charges: list[dict], *, model: str | None = None, output_factor: float = 1) -> float:
    """The charges priced again: at ``model`` (default: each call's own), output scaled."""
    return sum(estimate_cost(model or c["priced_as"], c["prompt_tokens"],
                             round(c["completion_tokens"] * output_factor), c["cached_tokens"])
               for c in charges)


def summarize(results: dict[str, dict]) -> dict:
    charges = [c for r in results.values() for c in r["charges"]]
    models = sorted({c["priced_as"] for c in charges})
    return {
        "lessons": len(results),
        "calls": len(charges),
        "prompt_tokens": sum(c["prompt_tokens"] for c in charges),
        "completion_tokens": sum(c["completion_tokens"] for c in charges),
        "models": models,
        "as_of": sorted({MODELS[m].as_of for m in models} | {MODELS[DEFAULT_MODEL].as_of}),
        "cost": cost(charges),
        "cost_bound": cost(charges, output_factor=OUTPUT_FACTOR),
        "default_cost": cost(charges, model=DEFAULT_MODEL),
        "default_bound": cost(charges, model=DEFAULT_MODEL, output_factor=OUTPUT_FACTOR),
    }


def markdown(s: dict) -> str:
    dates = " and ".join(s["as_of"])
    return (
        f"A full run of the {s['lessons']} lessons makes {s['calls']} API calls: "
        f"{s['prompt_tokens']:,} prompt and {s['completion_tokens']:,} output tokens as the offline model "
        f"answers them. On the models the lessons call ({', '.join(s['models'])}) that is about "
        f"**${s['cost']:.4f}** per learner; all on `{DEFAULT_MODEL}` (`DEFAULT_MODEL`) about "
        f"**${s['default_cost']:.4f}**. Real replies are longer than the offline model's: with five "
        f"times the output tokens, at most about **${s['cost_bound']:.4f}** "
        f"(`{DEFAULT_MODEL}` only: ${s['default_bound']:.4f}). Prices from `helpers/models.py`, "
        f"checked {dates}; computed by `python tools/course_cost.py`."
    )


def write_doc(text: str, doc: Path = DOC) -> None:
    content = doc.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.S)
    if not pattern.search(content):
        raise RuntimeError(f"{doc} has no {START} ... {END} block to update")
    doc.write_text(pattern.sub(lambda _: f"{START}\n{text}\n{END}", content), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--notebooks", type=Path, default=ROOT / "notebooks", help="folder of lessons")
    parser.add_argument("--write", action="store_true", help=f"update the figure in {DOC.relative_to(ROOT)}")
    args = parser.parse_args(argv)
    apply(os.environ)  # offline, seeded, no pacing, no cap: the same run as the tests
    paths = lessons(args.notebooks)
    if not paths:
        print(f"no notebooks in {args.notebooks}", file=sys.stderr)
        return 1
    results = {}
    print(f"{'lesson':34} {'calls':>5} {'prompt':>8} {'output':>8} {'USD':>9}")
    for path in paths:
        r = results[path.name] = metered_run(path)
        print(f"{path.name:34} {r['calls']:5} {r['prompt_tokens']:8,} {r['completion_tokens']:8,} "
              f"{r['cost_usd']:9.5f}", flush=True)
    s = summarize(results)
    print(f"{'total':34} {s['calls']:5} {s['prompt_tokens']:8,} {s['completion_tokens']:8,} {s['cost']:9.5f}\n")
    text = markdown(s)
    print(text)
    if args.write:
        write_doc(text)
        print(f"\nupdated {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
