"""Has the world moved since the course date? The course's model table against the newest
kept sources: the openai SDK (model names, shutdown dates), genai-prices (prices) and
tiktoken (encodings).

    python -m tools.freshness              # against the packages installed here
    python3 course.py doctor --upstream    # the same, for a host before a workshop

To check against the newest releases, install them first (the weekly workflow,
.github/workflows/freshness.yml, does):

    pip install -U openai genai-prices tiktoken && python -m tools.freshness

It prints what moved, one line each: new models, changed prices, new or changed shutdown
dates, course models shutting down within 90 days, and encodings tiktoken now maps
differently; it exits 1 when anything did, so a scheduled run fails and someone looks.
The checks are plain functions of the data they are given, so the tests hand them made-up
newer package data instead of the network.
"""

from __future__ import annotations

import datetime
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from helpers.models import AS_OF, HORIZON, MODELS, lesson_models

SOON_DAYS = 90  # a course model shutting down within this many days needs a new lesson model
# SDK names the course leaves out on purpose: dated snapshots (they map to their family),
# aliases and variants that are not general chat models.
NOT_LINEUP = re.compile(
    r"-\d{4}(-\d{2}-\d{2})?$|-(chat|codex|pro|latest|audio|search|preview|realtime)\b|^(chatgpt|codex)-"
)
# Not lineup models, whatever their names suggest (the reason is the report's).
LEFT_OUT = {"gpt-5.1-mini": "the SDK's notes: not a supported model ID (genai-prices maps it to a codex model)"}
# Priced on this many tokens (below the long-context tier) and scaled to USD per 1M tokens.
SAMPLE_TOKENS = 100_000
# USD per 1M tokens: the prices a row carries, by genai-prices' names.
PRICE_FIELDS = {"input_mtok": "input_price", "cache_read_mtok": "cached_input_price", "output_mtok": "output_price"}


@dataclass(frozen=True)
class Moved:
    """One thing that changed upstream: its kind (a heading) and a sentence about it."""

    kind: str
    text: str


# ---------------------------------------------------------------- reading the kept sources


def sdk_names() -> set[str]:
    """Every chat model name the installed openai SDK lists (its ``ChatModel``)."""
    import openai.types.shared.chat_model as chat_model

    return set(chat_model.ChatModel.__args__)


def sdk_shutdowns(notes: str | None = None) -> dict[str, str]:
    """Model name -> announced shutdown date, read from the SDK's deprecation notes in
    ``openai/types/shared/chat_model.py`` (``notes``: that text, for tests)."""
    if notes is None:
        import openai.types.shared.chat_model as chat_model

        notes = chat_model.__doc__ or Path(chat_model.__file__).read_text(encoding="utf-8")
    out = {}
    for block in re.split(r"\n- ", notes):
        date = re.search(r"shutdown\s+date:\s+(\d{4}-\d{2}-\d{2})", block.replace("\n", " "))
        if date:
            for name in re.findall(r'"([^"]+)"', block.split("Announced")[0]):
                out[name] = date.group(1)
    return out


def genai_prices(name: str, day: datetime.date) -> dict[str, float] | None:
    """genai-prices' base prices (USD per 1M tokens) for an OpenAI model on ``day``, or None."""
    from genai_prices import Usage, calc_price

    moment = datetime.datetime.combine(day, datetime.time(12), tzinfo=datetime.timezone.utc)
    usages = {
        "input_mtok": Usage(input_tokens=SAMPLE_TOKENS),
        "output_mtok": Usage(output_tokens=SAMPLE_TOKENS),
        # input tokens include the cached ones: all of them cached prices the cache read alone
        "cache_read_mtok": Usage(input_tokens=SAMPLE_TOKENS, cache_read_tokens=SAMPLE_TOKENS),
    }
    prices = {}
    for field, usage in usages.items():
        try:
            result = calc_price(usage, name, provider_id="openai", genai_request_timestamp=moment)
        except LookupError:  # genai-prices does not know the model
            return None
        except ValueError:  # it knows the model, but not this price (no caching)
            continue
        prices[field] = round(float(result.total_price) * 1_000_000 / SAMPLE_TOKENS, 9)
    return prices


def tiktoken_encoding(name: str) -> str | None:
    """The encoding tiktoken maps ``name`` to, or None when it maps none."""
    import tiktoken

    try:
        return tiktoken.encoding_name_for_model(name)
    except KeyError:
        return None


# ---------------------------------------------------------------- the checks


def new_models(
    names: Iterable[str], shutdowns: dict[str, str], priced: Callable[[str], object], today: datetime.date
) -> list[Moved]:
    """Chat models the SDK lists and genai-prices prices, still served, that the table lacks."""
    moved = []
    for name in sorted(names):
        if (
            name in MODELS
            or name in LEFT_OUT
            or NOT_LINEUP.search(name)
            or shutdowns.get(name, "9999-12-31") <= today.isoformat()
        ):
            continue
        if not re.match(r"(gpt-[5-9]|o[3-9])", name):
            continue  # only the families the course teaches
        if priced(name) is not None:
            moved.append(Moved("new models", f"{name}: listed by the SDK and priced by genai-prices; add a row"))
    return moved


def changed_prices(price_of: Callable[[str], dict[str, float] | None]) -> list[Moved]:
    """Rows whose price differs from genai-prices' (None from ``price_of``: not priced there)."""
    moved = []
    for name, row in MODELS.items():
        if row.retired:
            continue
        prices = price_of(name)
        if not prices:
            continue
        for field, attribute in PRICE_FIELDS.items():
            ours, theirs = getattr(row, attribute), prices.get(field)
            if ours is not None and theirs is not None and abs(ours - theirs) > 1e-9:
                moved.append(
                    Moved("changed prices", f"{name} {field.removesuffix('_mtok')}: ${ours:g} -> ${theirs:g} per 1M")
                )
    return moved


def changed_shutdowns(shutdowns: dict[str, str]) -> list[Moved]:
    """Rows whose shutdown date the SDK now gives differently (a new date, or a changed one)."""
    moved = []
    for name, row in MODELS.items():
        theirs = shutdowns.get(name)
        if theirs != row.shutdown:
            was = row.shutdown or "none"
            moved.append(Moved("shutdown dates", f"{name}: {was} -> {theirs or 'none'} (the SDK's deprecation notes)"))
    return moved


def shutting_soon(shutdowns: dict[str, str], today: datetime.date, days: int = SOON_DAYS) -> list[Moved]:
    """Models the lessons call (lesson_models) that shut down within ``days`` of ``today``."""
    soon = (today + datetime.timedelta(days=days)).isoformat()
    moved = []
    for name in lesson_models():
        date = shutdowns.get(name) or MODELS[name].shutdown
        if date and date <= soon:
            left = (datetime.date.fromisoformat(date) - today).days
            moved.append(Moved("course models shutting soon", f"{name} shuts down on {date}, in {left} days"))
    return moved


def changed_encodings(mapped: Callable[[str], str | None]) -> list[Moved]:
    """Rows whose encoding tiktoken now maps differently, or now maps at all (assumed before)."""
    moved = []
    for name, row in MODELS.items():
        theirs = mapped(name)
        if theirs is None and row.encoding_assumed:
            continue
        if theirs != row.encoding or row.encoding_assumed:
            why = "assumed" if row.encoding_assumed else "the table's"
            moved.append(Moved("encodings", f"{name}: {why} {row.encoding} -> tiktoken maps {theirs or 'none'}"))
    return moved


def check(
    today: datetime.date,
    names: Iterable[str],
    shutdowns: dict[str, str],
    price_of: Callable[[str], dict[str, float] | None],
    mapped: Callable[[str], str | None],
) -> list[Moved]:
    """Everything that moved, from the given upstream data."""
    return [
        *new_models(names, shutdowns, price_of, today),
        *changed_prices(price_of),
        *changed_shutdowns(shutdowns),
        *shutting_soon(shutdowns, today),
        *changed_encodings(mapped),
    ]


def report(moved: list[Moved], versions: dict[str, str], today: datetime.date) -> str:
    """The readable list: a heading a kind, a line a change."""
    using = ", ".join(f"{name} {version}" for name, version in versions.items())
    if not moved:
        return f"Nothing moved: the course's facts ({AS_OF}) agree with {using} on {today}."
    lines = [f"The world moved since the course date ({AS_OF}); checked on {today} with {using}:"]
    for kind in dict.fromkeys(m.kind for m in moved):
        lines.append(f"\n{kind}:")
        lines += [f"  - {m.text}" for m in moved if m.kind == kind]
    lines.append(
        f"\nUpdate helpers/models.py (and its AS_OF), re-run the lessons (python3 course.py notebooks) "
        f"and refresh constraints.txt. Lessons call only models served until {HORIZON}."
    )
    return "\n".join(lines)


def installed_versions() -> dict[str, str]:
    import importlib.metadata

    return {name: importlib.metadata.version(name) for name in ("openai", "genai-prices", "tiktoken")}


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--today", type=datetime.date.fromisoformat, default=datetime.date.today())
    args = parser.parse_args(argv)
    try:
        versions = installed_versions()
    except ModuleNotFoundError as error:  # genai-prices is a test tool: requirements-dev.txt
        print(f"The freshness check needs {error.name}: install requirements-dev.txt.", file=sys.stderr)
        return 2
    moved = check(
        args.today, sdk_names(), sdk_shutdowns(), lambda name: genai_prices(name, args.today), tiktoken_encoding
    )
    print(report(moved, versions, args.today))
    return 1 if moved else 0


if __name__ == "__main__":
    sys.exit(main())
