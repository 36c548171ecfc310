"""Re-run the lessons against the real API and report cells whose outputs changed SHAPE.

    python3 course.py test --live              # every lesson, at most $0.25 in all
    python3 course.py test --live --cap 0.20   # another spend cap (USD, for the whole run)
    python -m tools.live_check 03 04           # lessons whose name contains 03 or 04
    python -m tools.live_check path/to/x.ipynb # any notebook

The stored outputs of a lesson come from the offline model; real replies are worded
differently, so comparing text would flag every cell. This compares shapes instead, cell by
cell: an error where the stored run had none (or another exception class), the number and
kinds of outputs (stdout, stderr, error, display), and for printed text a coarse outline:
the "label:" words that start its lines, empty or not, and the number of lines within a
wide tolerance. A difference means "look at this cell with a key": a model that was shut
down, a parameter the API now refuses, a reply the lesson's code did not expect.

Cells expected to differ are not compared, and the report names them with the reason: a cell tagged
`live-differs` (give the reason in the cell's metadata, "live_differs": "..."), and a cell
whose stored run showed that no key was found (MissingKeyError, e.g.
get_client(offline=False) in lesson 00): the live run has a key, so it works there.

It needs a key (the same lookup as the lessons: environment, .env, Colab). Each lesson runs
in its own kernel with COURSE_OFFLINE=0, COURSE_SPEND_CAP_USD set to what is left of the
cap, and COURSE_LIVE_MAX_COMPLETION_TOKENS (--max-completion-tokens, default 4096): a call
whose cell sets no max_completion_tokens (nor max_tokens) is sent with that budget, capped at
the model's own maximum, and the spend meter reserves that, not the model's whole output
limit (128,000 tokens, which alone could pass a small cap). The whole run costs at most
--cap (default $0.25; one run of every lesson costs about a cent). The notebooks are never
written.

Exit code 0: every cell kept its shape; 1: some cells differ (or a lesson could not run);
2: no key, or bad arguments.
"""

from __future__ import annotations

import argparse
import copy
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from helpers._keys import NO_KEY_FOUND

ROOT = Path(__file__).resolve().parents[1]

DEFAULT_CAP = 0.25  # the cap reserves each call's worst case before it is sent
# The completion budget of a call that names none (helpers._spend.BUDGET_VARIABLE): ample for
# the lessons' short replies, a reasoning model's thinking at high effort included, and a
# reservation of about $0.002 on the lessons' model instead of $0.064.
DEFAULT_BUDGET = 4096
CELL_TIMEOUT = 180  # seconds per cell: a reasoning model at high effort can take a while
SPENT_MARK = "live-check-spent:"
# A cell tagged so shows what a key changes (e.g. "with a key, get_client(offline=False) works"):
# its live outputs are expected to differ, and it is not compared.
SKIP_TAG = "live-differs"
# What a stored (keyless) run shows when a cell insisted on a key: with a key the cell works.
NO_KEY_SHOWN = ("MissingKeyError", NO_KEY_FOUND)
CAP_REFUSAL = "spend cap reached"  # in helpers._spend's refusal: the cell was not sent
# A line that starts with a label such as "finish_reason:", "input tokens =" or "   user:".
LABEL = re.compile(r"^\s*([A-Za-z_][\w .()/'-]{0,30}?)\s*[:=](?:\s|$)")
NO_KEY = (
    "The live check needs an OpenAI API key. Put OPENAI_API_KEY=sk-... in a .env file in the "
    "course folder (or export OPENAI_API_KEY=sk-... in your shell), then run it again. It spends "
    "at most the cap (--cap, default ${cap:.2f})."
)


# ---------------------------------------------------------------- shapes


def kind(output: Mapping) -> str:
    """One output's kind: stdout, stderr, error NameError, execute_result, display_data."""
    output_type = output.get("output_type")
    if output_type == "stream":
        return output.get("name", "stdout")
    if output_type == "error":
        return f"error {output.get('ename', '?')}"
    return str(output_type)


def text_of(output: Mapping) -> str:
    text = output.get("text", "")
    return "".join(text) if isinstance(text, list) else str(text)


def labels(text: str) -> set[str]:
    """The labels that start lines of ``text``, e.g. {"finish_reason", "input tokens"}. Those
    that say "offline" (the client's "Offline mode: ..." banner) are expected to change live."""
    found = {m[1].strip().lower() for line in text.splitlines() if (m := LABEL.match(line))}
    return {label for label in found if "offline" not in label}


def lines_match(stored: int, live: int) -> bool:
    """Line counts alike: real replies are longer than the offline model's, so only a big
    drop (a loop that stopped early) or a flood counts."""
    return stored // 2 <= live <= 3 * stored + 20


def compare_text(stored: str, live: str) -> list[str]:
    problems = []
    if bool(stored.strip()) != bool(live.strip()):
        return ["printed nothing" if stored.strip() else "printed text where the stored run printed nothing"]
    missing = labels(stored) - labels(live)
    if missing:
        problems.append(f"labels missing: {', '.join(sorted(missing))}")
    n_stored, n_live = len(stored.splitlines()), len(live.splitlines())
    if not lines_match(n_stored, n_live):
        problems.append(f"{n_live} lines printed, {n_stored} stored")
    return problems


def first_line(text: str, limit: int = 100) -> str:
    line = next((part.strip() for part in str(text).splitlines() if part.strip()), "")
    return line if len(line) <= limit else line[: limit - 3] + "..."


def compare_outputs(stored: list[Mapping], live: list[Mapping]) -> list[str]:
    """What differs in shape between a cell's stored outputs and its live ones ([] = alike)."""
    stored_kinds, live_kinds = [kind(o) for o in stored], [kind(o) for o in live]
    if stored_kinds != live_kinds:
        problem = f"outputs [{', '.join(stored_kinds) or 'none'}] stored, [{', '.join(live_kinds) or 'none'}] live"
        extra = [o for o in live if kind(o) not in stored_kinds]
        for output in extra[:1]:
            if output.get("output_type") == "error":
                problem += f": {output.get('ename')}: {first_line(output.get('evalue', ''))}"
            elif output.get("output_type") == "stream":
                problem += f": {first_line(text_of(output))}"
        return [problem]
    problems = []
    for s, o in zip(stored, live, strict=True):
        if s.get("output_type") == "stream":
            problems += [f"{kind(s)}: {p}" for p in compare_text(text_of(s), text_of(o))]
        elif s.get("output_type") in ("execute_result", "display_data"):
            s_types, l_types = sorted(s.get("data", {})), sorted(o.get("data", {}))
            if s_types != l_types:
                problems.append(f"{kind(s)} shows {', '.join(l_types)}, stored {', '.join(s_types)}")
    return problems


@dataclass
class Difference:
    index: int  # the cell's position in the notebook, from 1
    source: str  # its first line of code
    problems: list[str]

    def __str__(self) -> str:
        return f"cell {self.index} `{self.source}`: {'; '.join(self.problems)}"


def expected_to_differ(cell: Mapping) -> str:
    """Why a cell's live outputs are expected to differ from its stored ones ("" if not)."""
    metadata = cell.get("metadata", {})
    if SKIP_TAG in metadata.get("tags", []):
        return str(metadata.get("live_differs") or f"tagged {SKIP_TAG}")
    for output in cell.get("outputs", []):
        shown = output.get("ename", "") + output.get("evalue", "") + text_of(output)
        if any(mark in shown for mark in NO_KEY_SHOWN):
            return "the stored run had no key (MissingKeyError)"
    return ""


def compare_notebooks(stored, live, expected: list[tuple[int, str]] | None = None) -> list[Difference]:
    """Compare the code cells of two versions of one notebook (same cells, other outputs).
    ``expected`` collects (position, why) of the cells expected to differ, which are not compared."""
    found = []
    for index, (s, o) in enumerate(zip(stored.cells, live.cells, strict=True), start=1):
        if s.cell_type != "code":
            continue
        why = expected_to_differ(s)
        if why:
            if expected is not None:
                expected.append((index, why))
            continue
        problems = compare_outputs(s.get("outputs", []), o.get("outputs", []))
        if problems:
            code = next(
                (
                    line
                    for line in s.source.splitlines()
                    if line.strip() and not line.startswith("#") and line.strip() != "try:"
                ),
                first_line(s.source),
            )
            found.append(Difference(index, first_line(code, 60), problems))
    return found


# ---------------------------------------------------------------- running


@dataclass
class Result:
    path: Path
    cells: int = 0
    differences: list[Difference] = field(default_factory=list)
    spent: float = 0.0
    seconds: float = 0.0
    error: str = ""  # the lesson could not run to its end
    expected: list[tuple[int, str]] = field(default_factory=list)  # (cell, why): not compared


def notebooks(selection: Iterable[str]) -> list[Path]:
    """Paths given as they are; other words pick lessons in notebooks/ by part of their name."""
    lessons = sorted(p for p in (ROOT / "notebooks").glob("*.ipynb"))
    chosen: list[Path] = []
    words = list(selection)
    for word in words:
        path = Path(word)
        if path.suffix == ".ipynb" and path.is_file():
            chosen.append(path.resolve())
        else:
            chosen += [p for p in lessons if word in p.name]
    return list(dict.fromkeys(chosen)) if words else lessons


def kernel_env(key: str, base_url: str | None, cap: float, budget: int = DEFAULT_BUDGET) -> dict[str, str]:
    """The lesson kernels' environment: the user's own, with the real API forced on, the cap,
    and the completion budget for calls that name none."""
    from helpers._spend import BUDGET_VARIABLE, CAP_VARIABLE

    env = dict(os.environ)
    env.update(OPENAI_API_KEY=key, COURSE_OFFLINE="0", COURSE_OFFLINE_DELAY="0")
    env[CAP_VARIABLE], env[BUDGET_VARIABLE] = f"{cap:.6f}", str(budget)
    if base_url:
        env["OPENAI_BASE_URL"] = base_url
    return env


def run_live(path: Path, env: dict[str, str], timeout: int = CELL_TIMEOUT) -> Result:
    """Execute a copy of ``path`` in a kernel with ``env``; compare it with the stored outputs."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import DeadKernelError

    stored = nbformat.read(path, as_version=4)
    live = copy.deepcopy(stored)
    live.metadata.pop("widgets", None)
    # One more cell, in this copy only: what the kernel's spend meter counted.
    live.cells.append(
        nbformat.v4.new_code_cell(f"import helpers._spend\nprint({SPENT_MARK!r}, helpers._spend.spent())")
    )
    result = Result(path, cells=sum(c.cell_type == "code" for c in stored.cells))
    client = NotebookClient(
        live,
        timeout=timeout,
        kernel_name="python3",
        allow_errors=True,
        interrupt_on_timeout=True,
        record_timing=False,
        store_widget_state=False,
        coalesce_streams=True,
        resources={"metadata": {"path": str(path.parent)}},
    )
    start = time.perf_counter()
    try:
        # The kernel's own stderr (ipykernel's start-up warnings) would bury the report.
        client.execute(env=env, stderr=subprocess.DEVNULL)
    except DeadKernelError as error:
        result.error = f"the kernel died: {first_line(error)}"
    except Exception as error:  # noqa: BLE001 - reported, and the other lessons still run
        result.error = f"{type(error).__name__}: {first_line(error)}"
    result.seconds = time.perf_counter() - start
    tail = live.cells.pop()
    for output in tail.get("outputs", []):
        text = text_of(output) if output.get("output_type") == "stream" else ""
        if SPENT_MARK in text:
            try:
                result.spent = float(text.split(SPENT_MARK, 1)[1].split()[0])
            except (IndexError, ValueError):
                pass
    result.differences = compare_notebooks(stored, live, result.expected)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", help="notebook paths, or parts of lesson names (default: all)")
    parser.add_argument(
        "--cap", type=float, default=DEFAULT_CAP, help=f"most the whole run may spend, in USD (default {DEFAULT_CAP})"
    )
    parser.add_argument(
        "--max-completion-tokens",
        type=int,
        default=DEFAULT_BUDGET,
        metavar="N",
        help=f"completion budget of a call whose cell sets none (default {DEFAULT_BUDGET})",
    )
    parser.add_argument("--timeout", type=int, default=CELL_TIMEOUT, help="seconds per cell")
    args = parser.parse_args(argv)
    if args.cap <= 0:
        parser.error("--cap must be more than 0")
    if args.max_completion_tokens < 1:
        parser.error("--max-completion-tokens must be 1 or more")

    from helpers._connect import plan
    from helpers._keys import MissingKeyError, mask
    from helpers.pricing import usd

    # The same decision get_client makes: a key goes only to the server it came with.
    try:
        chosen = plan(offline=False)
    except MissingKeyError:
        print(NO_KEY.format(cap=args.cap), file=sys.stderr)
        return 2
    except ValueError as error:  # InvalidKeyError, KeySourceError, BaseURLError: masked, says what to do
        print(error, file=sys.stderr)
        return 2
    found = chosen.key
    paths = notebooks(args.notebooks)
    if not paths:
        print(f"no notebook matched {' '.join(args.notebooks)}", file=sys.stderr)
        return 2
    base_url = None if chosen.url_source == "default" else chosen.base_url
    from tools.doctor import mask_url, redact

    target = f"the server at {mask_url(base_url, found.key)}" if base_url else "the OpenAI API"
    print(
        f"Live check of {len(paths)} notebook(s) against {target}, key {mask(found.key)} from "
        f"{found.source.split(' ')[0]}, spend cap {usd(args.cap)} in all, "
        f"max_completion_tokens={args.max_completion_tokens:,} where a cell sets none.",
        flush=True,
    )

    total, differ, failed, capped = 0.0, 0, 0, 0
    for path in paths:
        shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        left = args.cap - total
        if left <= 0:
            print(f"  skipped {shown}: the cap is used up")
            failed += 1
            continue
        env = kernel_env(found.key, base_url, left, args.max_completion_tokens)
        result = run_live(path, env, args.timeout)
        total += result.spent
        differ += len(result.differences)
        status = (
            f"{len(result.differences)} of {result.cells} code cells differ"
            if result.differences
            else f"{result.cells} code cells, same shapes"
        )
        if result.expected:
            listed = "; ".join(f"cell {index}: {why}" for index, why in result.expected)
            status += f" ({len(result.expected)} expected to differ, not compared: {listed})"
        print(redact(f"{shown}: {status}, spent {usd(result.spent)} in {result.seconds:.0f} s", found.key), flush=True)
        if result.error:
            failed += 1
            print(redact(f"  did not run to the end: {result.error}", found.key))
        refused = [d for d in result.differences if CAP_REFUSAL in str(d).lower()]
        capped += len(refused)
        for difference in result.differences:
            if difference in refused[1:]:
                continue
            print(redact(f"  {difference}", found.key))
        if refused:
            more = f" and {len(refused) - 1} more cell(s)" if len(refused) > 1 else ""
            print(f"  the spend cap was reached: cell {refused[0].index}{more} refused (raise it with --cap)")
        elif result.spent >= left:
            print("  the spend cap was reached at the end of this lesson")
    print(f"Spent about {usd(total)} of the {usd(args.cap)} cap.")
    if capped or (failed and total >= args.cap):
        print("The cap stopped the run before the end: check again with a higher --cap to see every cell.")
    if differ - capped:
        print(
            f"{differ - capped} cell(s) changed shape: open them in JupyterLab with the key set and see why "
            "(a model shut down, a parameter refused, a reply the code did not expect)."
        )
    if differ or failed:
        return 1
    print("Every cell kept its shape.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
