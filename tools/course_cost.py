"""What one full run of the course costs with a real key: run every lesson offline with
the spend meter on and add up what the same calls would cost on the real API.

    python -m tools.course_cost            # print the table and the summary
    python -m tools.course_cost 04         # only the lessons whose name contains "04"
    python -m tools.course_cost --write    # also update the figure in docs/workshop.md

The offline model counts prompt tokens with the course's rule (helpers.tokens, checked
against recorded API traffic) and bills reasoning tokens per effort, so the prompt side is
a close estimate, but its replies are shorter than a real model's: the summary adds a rough
upper bound with five times the output tokens, and prices the same run on a few current
models for comparison. It also names any call to a model that is not in lesson_models()
(shut down, or shutting down before the course's horizon). Re-run with --write after the
lessons or the prices change; --write refuses a partial run.
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
from nbclient.exceptions import CellExecutionError

try:
    from helpers.models import AS_OF, DEFAULT_MODEL, HORIZON, MODELS, lesson_models
    from helpers.pricing import estimate_cost
    from tools.offline_env import apply
except ModuleNotFoundError:  # run by path (python tools/course_cost.py): the course folder is not importable
    sys.exit("Run it from the course folder: python -m tools.course_cost.")

ROOT = Path(__file__).resolve().parents[1]

DOC = ROOT / "docs" / "workshop.md"
START, END = "<!-- course-cost:start -->", "<!-- course-cost:end -->"
MARK = "COURSE_COST_SUMMARY "
OUTPUT_FACTOR = 5  # real replies are longer than the offline model's: a rough upper bound
# Current models the whole run is priced on for comparison: the lesson model and others
# (helpers/models.py, as of AS_OF). Each must be in lesson_models(); main() checks it.
COMPARE = (DEFAULT_MODEL, "gpt-5.4-nano", "gpt-6.1-terra", "gpt-6-sol")
REPORT_CELL = f"import json as _json\nfrom helpers import _spend\nprint({MARK!r} + _json.dumps(_spend.summary()))\n"


def lessons(folder: Path, patterns: list[str] | None = None) -> list[Path]:
    found = sorted(folder.glob("*.ipynb"))
    found = [p for p in found if ".ipynb_checkpoints" not in p.parts]
    return [p for p in found if not patterns or any(s in p.name for s in patterns)]


def metered_run(path: Path, timeout: int = 180) -> dict:
    """Execute ``path`` top to bottom offline; return the spend summary of its kernel."""
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(REPORT_CELL))
    NotebookClient(
        nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    for output in nb.cells[-1].get("outputs", []):
        for line in output.get("text", "").splitlines():
            if line.startswith(MARK):
                return json.loads(line[len(MARK) :])
    raise RuntimeError(f"{path.name}: the spend summary was not printed")


def cost(charges: list[dict], *, model: str | None = None, output_factor: float = 1) -> float:
    """The charges priced again: at ``model`` (default: each call's own), output scaled."""
    return sum(
        estimate_cost(
            model or c["priced_as"],
            c["prompt_tokens"],
            round(c["completion_tokens"] * output_factor),
            c["cached_tokens"],
            c.get("cache_write_tokens", 0),
        )
        for c in charges
    )


def off_lesson_models(charges: list[dict]) -> list[str]:
    """Models called that a lesson may not call: not served until HORIZON."""
    allowed = set(lesson_models())
    return sorted({c["priced_as"] for c in charges} - allowed)


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
        "compare": {m: cost(charges, model=m) for m in COMPARE},
        "off_lesson": off_lesson_models(charges),
    }


def markdown(s: dict) -> str:
    """The paragraph for docs/workshop.md. Dollar signs are escaped: two on one line of
    Markdown would be rendered as math on GitHub and in JupyterLab."""
    dates = " and ".join(s["as_of"])
    usd = "\\$"
    others = ", ".join(f"`{m}` {usd}{c:.4f}" for m, c in s["compare"].items() if m != DEFAULT_MODEL)
    lessons = f"{s['lessons']} lesson" + ("s" if s["lessons"] != 1 else "")
    return (
        f"A full run of the {lessons} makes {s['calls']} API calls: "
        f"{s['prompt_tokens']:,} prompt and {s['completion_tokens']:,} output tokens as the offline model "
        f"answers them. On the models the lessons call ({', '.join(s['models'])}) that is about "
        f"**{usd}{s['cost']:.4f}** per learner; all on `{DEFAULT_MODEL}` (`DEFAULT_MODEL`) about "
        f"**{usd}{s['default_cost']:.4f}** (on other current models: {others}). Real replies are longer than the "
        f"offline model's: with five times the output tokens, at most about **{usd}{s['cost_bound']:.4f}** "
        f"(`{DEFAULT_MODEL}` only: {usd}{s['default_bound']:.4f}). Prices from `helpers/models.py`, "
        f"checked {dates}; computed by `python -m tools.course_cost`."
    )


def write_doc(text: str, doc: Path = DOC) -> None:
    content = doc.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.S)
    if not pattern.search(content):
        raise RuntimeError(f"{doc} has no {START} ... {END} block to update")
    doc.write_text(pattern.sub(lambda _: f"{START}\n{text}\n{END}", content), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("patterns", nargs="*", help="parts of lesson names to run (default: all)")
    parser.add_argument("--notebooks", type=Path, default=ROOT / "notebooks", help="folder of lessons")
    parser.add_argument("--write", action="store_true", help=f"update the figure in {DOC.relative_to(ROOT)}")
    args = parser.parse_args(argv)
    missing = [m for m in COMPARE if m not in lesson_models()]
    if missing:
        print(
            f"COMPARE names models not served until {HORIZON}: {', '.join(missing)}; update it from helpers/models.py",
            file=sys.stderr,
        )
        return 1
    if args.write and args.patterns:
        print("--write needs a run of every lesson: drop the lesson names", file=sys.stderr)
        return 1
    apply(os.environ)  # offline, seeded, no pacing, no cap: the same run as the tests
    paths = lessons(args.notebooks, args.patterns)
    if not paths:
        print(f"no matching notebooks in {args.notebooks}", file=sys.stderr)
        return 1
    results, failed = {}, []
    width = max(len("total"), *(len(path.name) for path in paths))  # lesson names grow with the course
    print(f"{'lesson':{width}} {'calls':>5} {'prompt':>8} {'output':>8} {'USD':>9}")
    for path in paths:
        try:
            r = results[path.name] = metered_run(path)
        except CellExecutionError as error:  # report the lesson and go on with the others
            failed.append(path.name)
            first = re.sub(r"\x1b\[[0-9;]*m", "", str(error)).strip().splitlines()[-1][:150]  # no colours
            print(f"{path.name:{width}} FAILED: {first}", flush=True)
            continue
        print(
            f"{path.name:{width}} {r['calls']:5} {r['prompt_tokens']:8,} {r['completion_tokens']:8,} "
            f"{r['cost_usd']:9.5f}",
            flush=True,
        )
    if not results:
        print("no lesson ran to the end", file=sys.stderr)
        return 1
    s = summarize(results)
    print(f"{'total':{width}} {s['calls']:5} {s['prompt_tokens']:8,} {s['completion_tokens']:8,} {s['cost']:9.5f}\n")
    print(f"The same calls priced on other current models (prices as of {AS_OF}):")
    for model, usd in s["compare"].items():
        print(f"  {model:<14} ${usd:.4f}")
    if s["off_lesson"]:
        print(
            f"\nWARNING: the lessons call {', '.join(s['off_lesson'])}, not served until {HORIZON}; "
            "call only helpers.models.lesson_models()"
        )
    print()
    text = markdown(s)
    print(text)
    if failed:
        print(
            f"\nPARTIAL: {len(failed)} lesson(s) failed ({', '.join(failed)}); the figures leave them out",
            file=sys.stderr,
        )
        return 1
    if args.write:
        write_doc(text)
        print(f"\nupdated {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
