"""One dated table of facts about the chat models, as they stand on the course date.

The offline model (limits, parameter rules), token counting (encoding, chat overhead)
and pricing all read this table, so adding a model is adding one row.

Every fact has a source: the model's page on developers.openai.com (limits, reasoning
efforts, endpoints), the deprecations page (shutdown dates, also listed in the ``openai``
SDK's ``ChatModel`` notes), the pricing page (checked against the ``genai-prices``
package by ``tests/test_models.py``) and tiktoken (encodings). Models and prices change
every few months: ``python3 course.py doctor`` says when a course model nears its
shutdown, and the tests fail when the kept sources disagree with this table.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field, replace

AS_OF = "2026-12-07"  # the course date: every fact below was checked on it
HORIZON = "2027-03-01"  # lessons call only models served until at least this date
DOCS = "https://developers.openai.com/api/docs"
PRICING_SOURCE = f"{DOCS}/pricing"
DEPRECATIONS_SOURCE = f"{DOCS}/deprecations"
CHECKLIST_SOURCE = f"{DOCS}/guides/deployment-checklist"
COUNTING_SOURCE = "tests/data/realtraffic.json (recorded API traffic, see tests/test_realtraffic.py)"

# reasoning_effort values, lowest first (the OpenAPI spec's enum).
EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh", "max")


@dataclass(frozen=True)
class Rules:
    """What a family of models accepts in Chat Completions, and how it counts tokens."""

    efforts: tuple[str, ...] = ()  # reasoning_effort values it takes; () = not a reasoning model
    default_effort: str | None = None  # the effort used when a request names none
    # temperature, top_p, logprobs, top_logprobs, stop and the penalties:
    # "always", "effort_none" (only with reasoning_effort="none") or "never" (defaults only).
    sampling: str = "always"
    # function calling in Chat Completions: "yes", "effort_none" or "responses_only".
    tools: str = "yes"
    verbosity: bool = False  # takes the `verbosity` parameter (low, medium, high)
    # Prompt-token rule (the cookbook's): 3 per message + role + content (+ name) + reply priming.
    reply_priming: int = 3  # 2 for reasoning models from o3-mini on (recorded traffic)
    name_tokens: int = 1  # extra for each message's `name` (+1, the cookbook's)
    named_request_tokens: int = 0  # extra once per request with any `name` (-1 measured on gpt-4o)
    assistant_tokens: int = 0  # extra for each assistant turn in the history (2 measured on gpt-5)
    # Completion tokens a finished reply reports beyond reasoning + visible tokens.
    completion_overhead: int = 0
    note: str = ""

    @property
    def reasoning(self) -> bool:
        return bool(self.efforts)


# One entry per family. Families after gpt-5 have too few recordings (or none) for every
# counting figure: they take gpt-5's assistant-turn cost and gpt-5.6's completion overhead.
# Sources: each model's page under DOCS/models/<name>; for the sampling and tools rules the
# deployment checklist (CHECKLIST_SOURCE); counting: tests/data/realtraffic.json (recorded).
CHAT = Rules(note="no reasoning: every sampling parameter works")
CHAT_O200K = replace(
    CHAT,
    named_request_tokens=-1,
    note="names: the cookbook's +1 per name, minus 1 once per request however many messages carry "
    "one (1 to 4 named messages, 14 of 14 gpt-4o calls in the shared recordings' survey, 2026-12)",
)
O_SERIES = Rules(
    efforts=("low", "medium", "high"),
    default_effort="medium",
    sampling="never",
    reply_priming=2,
    name_tokens=0,
    note="o3 and later count 1 prompt token less than the cookbook rule",
)
GPT5 = replace(
    O_SERIES,
    efforts=("minimal", "low", "medium", "high"),
    verbosity=True,
    assistant_tokens=2,
    completion_overhead=9,
    note="completion_tokens = reasoning + visible + 9 in 93 of 101 recordings; "
    "an assistant turn in the history costs 2 more tokens (2 of 2 recordings)",
)
# From gpt-5.1 on, reasoning_effort="none" turns reasoning off and the sampling parameters work again.
GPT51 = replace(
    GPT5,
    efforts=("none", "low", "medium", "high"),
    default_effort="none",
    sampling="effort_none",
    completion_overhead=3,
    note="completion overhead assumed from the gpt-5.6 recordings",
)
GPT52 = replace(GPT51, efforts=("none", "low", "medium", "high", "xhigh"))
GPT55 = replace(GPT52, default_effort="medium")
GPT56 = replace(
    GPT55,
    efforts=("none", "low", "medium", "high", "xhigh", "max"),
    note="completion_tokens = reasoning + visible + 3 in the recorded gpt-5.6-sol calls",
)
# GPT-6 Sol and Luna call functions in Chat Completions only with reasoning_effort="none";
# Terra, Astra and the 6.1/6.2 Sol models only through the Responses API (CHECKLIST_SOURCE).
GPT6 = replace(GPT56, tools="effort_none", note="no gpt-6 recording exists yet: counting assumed as for gpt-5.6")
GPT6_TERRA = replace(GPT6, tools="responses_only")
GPT6_NO_NONE = replace(
    GPT6,
    efforts=("low", "medium", "high", "xhigh", "max"),
    sampling="never",
    tools="responses_only",
    note="no `none` effort, so never the sampling parameters",
)


@dataclass(frozen=True)
class LongContext:
    """A long-context tier: above ``threshold`` prompt tokens the whole request costs more."""

    threshold: int  # prompt tokens; a prompt of more than this many is billed at the tier
    input_multiplier: float  # input, cached input and cache writes
    output_multiplier: float


TIER_272K = LongContext(272_000, 2.0, 1.5)


@dataclass(frozen=True)
class ModelInfo:
    """Facts about one model. Prices are USD per 1M tokens, standard tier."""

    name: str
    rules: Rules
    context_window: int  # prompt + completion tokens the model accepts
    max_output_tokens: int  # completion tokens (reasoning included) it can produce
    input_price: float
    cached_input_price: float | None  # None: no prompt caching
    output_price: float  # reasoning tokens bill as output
    cache_write_price: float | None = None  # None: writing the cache costs the input price
    long_context: LongContext | None = None
    shutdown: str | None = None  # announced shutdown date (ISO), from the deprecations page
    encoding: str = "o200k_base"  # tiktoken encoding
    encoding_assumed: bool = False  # True where tiktoken maps no encoding for the name yet
    as_of: str = AS_OF
    source: str = PRICING_SOURCE
    docs: str = field(default="")

    @property
    def reasoning(self) -> bool:
        """Reasoning models think in hidden tokens, billed as output."""
        return self.rules.reasoning

    @property
    def retired(self) -> bool:
        """Shut down on or before the course date: the API answers it with a 404."""
        return self.shut_down_by(AS_OF)

    def shut_down_by(self, day: str | datetime.date) -> bool:
        return self.shutdown is not None and self.shutdown <= str(day)

    def accepts_sampling(self, effort: str | None) -> bool:
        """Whether temperature, top_p, logprobs, stop and the penalties may be sent at ``effort``."""
        sampling = self.rules.sampling
        effort = effort or self.rules.default_effort
        return sampling == "always" or (sampling == "effort_none" and effort == "none")


# name, rules, context window, max output, input, cached input, output, cache write, tier, shutdown
_CURRENT = [
    # The GPT-6 generation: reasoning models with a 1.05M window; tiktoken 0.14 maps none of
    # them, so the course assumes o200k_base (the encoding of every OpenAI chat model since
    # gpt-4o); lesson 05 shows how to check that against `usage` with a key. gpt-6.2-astra (released
    # 2026-11-17; genai-prices 0.2.5 and openai 3.63 list it): prices from genai-prices,
    # limits and rules assumed as for gpt-6-astra, whose successor it is.
    ("gpt-6.2-astra", GPT6_NO_NONE, 1_050_000, 128_000, 8.00, 0.40, 40.00, 10.00, TIER_272K, None),
    ("gpt-6-astra", GPT6_NO_NONE, 1_050_000, 128_000, 10.00, 1.00, 50.00, 12.50, TIER_272K, None),
    ("gpt-6.2-sol", GPT6_NO_NONE, 1_050_000, 128_000, 2.00, 0.10, 10.00, 2.50, TIER_272K, None),
    ("gpt-6.1-sol", GPT6_NO_NONE, 1_050_000, 128_000, 2.00, 0.10, 10.00, 2.50, TIER_272K, None),
    ("gpt-6-sol", GPT6, 1_050_000, 128_000, 2.00, 0.20, 10.00, 2.50, TIER_272K, None),
    ("gpt-6.1-terra", GPT6_TERRA, 1_050_000, 128_000, 1.00, 0.05, 5.00, 1.25, TIER_272K, None),
    ("gpt-6-luna", GPT6, 1_050_000, 128_000, 0.10, 0.01, 0.50, 0.125, TIER_272K, None),
    # gpt-5.6: genai-prices carries the price cut of 2026-08-21 (sol) and 2026-07-30 (terra, luna).
    ("gpt-5.6-sol", GPT56, 1_050_000, 128_000, 4.00, 0.40, 20.00, 5.00, TIER_272K, None),
    ("gpt-5.6-terra", GPT56, 1_050_000, 128_000, 2.00, 0.20, 12.00, 2.50, TIER_272K, None),
    ("gpt-5.6-luna", GPT56, 1_050_000, 128_000, 0.20, 0.02, 1.20, 0.25, TIER_272K, None),
    ("gpt-5.5", GPT55, 1_050_000, 128_000, 5.00, 0.50, 30.00, None, TIER_272K, None),
    ("gpt-5.4", GPT52, 1_050_000, 128_000, 2.50, 0.25, 15.00, None, TIER_272K, None),
    ("gpt-5.4-mini", GPT52, 400_000, 128_000, 0.75, 0.075, 4.50, None, None, None),
    ("gpt-5.4-nano", GPT52, 400_000, 128_000, 0.20, 0.02, 1.25, None, None, "2027-04-01"),
    ("gpt-5.2", GPT52, 400_000, 128_000, 1.75, 0.175, 14.00, None, None, None),
    ("gpt-5.1", GPT51, 400_000, 128_000, 1.25, 0.125, 10.00, None, None, "2027-04-01"),
    # Served on the course date, shutting down within weeks: kept for the tokenizer and
    # price comparisons, never called by a lesson.
    ("gpt-5", GPT5, 400_000, 128_000, 1.25, 0.125, 10.00, None, None, "2026-12-11"),
    ("gpt-5-mini", GPT5, 400_000, 128_000, 0.25, 0.025, 2.00, None, None, "2026-12-11"),
    ("gpt-5-nano", GPT5, 400_000, 128_000, 0.05, 0.005, 0.40, None, None, "2026-12-11"),
    ("o3", O_SERIES, 200_000, 100_000, 2.00, 0.50, 8.00, None, None, "2026-12-11"),
    ("gpt-4.1", CHAT_O200K, 1_047_576, 32_768, 2.00, 0.50, 8.00, None, None, "2027-01-14"),
    ("gpt-4.1-mini", CHAT_O200K, 1_047_576, 32_768, 0.40, 0.10, 1.60, None, None, "2027-01-14"),
    ("gpt-4o", CHAT_O200K, 128_000, 16_384, 2.50, 1.25, 10.00, None, None, "2027-01-14"),
    ("gpt-4o-mini", CHAT_O200K, 128_000, 16_384, 0.15, 0.075, 0.60, None, None, "2027-01-14"),
]
# History: shut down before the course date. The API answers them with a 404; the course
# keeps them for the seed lecture's comparisons (gpt-3.5-turbo's cl100k_base tokenizer,
# the o1 price its notes got wrong). Their prices are the last published ones.
_RETIRED = [
    ("gpt-3.5-turbo", CHAT, 16_385, 4_096, 0.50, None, 1.50, None, None, "2026-10-23", "cl100k_base"),
    ("gpt-4.1-nano", CHAT_O200K, 1_047_576, 32_768, 0.10, 0.025, 0.40, None, None, "2026-10-23", "o200k_base"),
    ("o1", O_SERIES, 200_000, 100_000, 15.00, 7.50, 60.00, None, None, "2026-10-23", "o200k_base"),
    ("o3-mini", O_SERIES, 200_000, 100_000, 1.10, 0.55, 4.40, None, None, "2026-10-23", "o200k_base"),
    ("o4-mini", O_SERIES, 200_000, 100_000, 1.10, 0.275, 4.40, None, None, "2026-10-23", "o200k_base"),
]


def _row(name, rules, context, max_out, inp, cached, out, write, tier, shutdown, encoding="o200k_base"):
    return ModelInfo(
        name,
        rules,
        context,
        max_out,
        inp,
        cached,
        out,
        write,
        tier,
        shutdown,
        encoding,
        encoding_assumed=name.startswith("gpt-6"),
        docs=f"{DOCS}/models/{name}",
    )


MODELS: dict[str, ModelInfo] = {r[0]: _row(*r) for r in _CURRENT + _RETIRED}

# The lessons' model: the cheapest current general model (gpt-6-luna: $0.10 in / $0.50 out
# per 1M tokens, no shutdown announced). It is a reasoning model: it takes temperature and
# the other sampling parameters only with reasoning_effort="none", as lesson 01 shows.
DEFAULT_MODEL = "gpt-6-luna"


class UnknownModelError(KeyError):
    """Raised for a model name that is not in MODELS."""

    def __str__(self) -> str:  # KeyError would print the message with quotes
        return str(self.args[0])


def model_info(model: str) -> ModelInfo:
    """Return the row for ``model``; a dated snapshot such as ``gpt-4o-2024-08-06`` maps
    to its family. Unknown names raise UnknownModelError listing the known ones."""
    if not isinstance(model, str):
        raise TypeError(f"model must be a model name (a str such as {DEFAULT_MODEL!r}), not {type(model).__name__}")
    if model in MODELS:
        return MODELS[model]
    # Longest prefix first, so "gpt-4o-mini-2024-07-18" is not taken for "gpt-4o".
    for name in sorted(MODELS, key=len, reverse=True):
        if model.startswith(name + "-") and model[len(name) + 1 : len(name) + 2].isdigit():
            return MODELS[name]
    raise UnknownModelError(
        f"Unknown model {model!r}. Known models: {', '.join(MODELS)}. "
        "To use another model, add one row to helpers/models.py."
    )


def current_models(day: str = AS_OF) -> list[str]:
    """The models of the table still served on ``day`` (ISO date), in table order."""
    return [name for name, m in MODELS.items() if not m.shut_down_by(day)]


def lesson_models() -> list[str]:
    """The models a lesson may call: served until at least HORIZON."""
    return current_models(HORIZON)
