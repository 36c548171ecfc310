"""One table of facts about the models the course uses.

The offline emulator (context window, reasoning or not), token counting and pricing
all read this table, so adding a model is adding one row.

Prices are USD per 1 million tokens, standard tier, as published on the official
pricing page on the date given. Prices change: check the source before relying on them.
"""

from __future__ import annotations

from dataclasses import dataclass

PRICING_SOURCE = "https://platform.openai.com/docs/pricing"


@dataclass(frozen=True)
class ModelInfo:
    """Facts about one model. Token limits come from the model's docs page."""

    name: str
    context_window: int  # prompt + completion tokens the model accepts
    max_output_tokens: int  # completion tokens (reasoning included) it can produce
    reasoning: bool  # reasoning models take max_completion_tokens, temperature 1 only
    input_price: float  # USD per 1M input tokens
    cached_input_price: float | None  # USD per 1M cached input tokens (None: no caching)
    output_price: float  # USD per 1M output tokens (reasoning tokens bill as output)
    as_of: str  # date the price was checked, ISO format
    source: str = PRICING_SOURCE


_ROWS = [
    # name, context, max output, reasoning, input, cached input, output, checked
    ("gpt-3.5-turbo", 16_385, 4_096, False, 0.50, None, 1.50, "2025-08-07"),
    ("gpt-4o", 128_000, 16_384, False, 2.50, 1.25, 10.00, "2025-08-07"),
    ("gpt-4o-mini", 128_000, 16_384, False, 0.15, 0.075, 0.60, "2025-08-07"),
    ("gpt-4.1", 1_047_576, 32_768, False, 2.00, 0.50, 8.00, "2025-08-07"),
    ("gpt-4.1-mini", 1_047_576, 32_768, False, 0.40, 0.10, 1.60, "2025-08-07"),
    ("gpt-4.1-nano", 1_047_576, 32_768, False, 0.10, 0.025, 0.40, "2025-08-07"),
    ("o1", 200_000, 100_000, True, 15.00, 7.50, 60.00, "2025-08-07"),
    ("o3", 200_000, 100_000, True, 2.00, 0.50, 8.00, "2025-08-07"),
    ("o4-mini", 200_000, 100_000, True, 1.10, 0.275, 4.40, "2025-08-07"),
    ("gpt-5", 400_000, 128_000, True, 1.25, 0.125, 10.00, "2025-08-07"),
    ("gpt-5-mini", 400_000, 128_000, True, 0.25, 0.025, 2.00, "2025-08-07"),
    ("gpt-5-nano", 400_000, 128_000, True, 0.05, 0.005, 0.40, "2025-08-07"),
]

MODELS: dict[str, ModelInfo] = {row[0]: ModelInfo(*row) for row in _ROWS}

# The model the lessons use unless they say otherwise: cheap and not a reasoning model.
DEFAULT_MODEL = "gpt-4o-mini"


class UnknownModelError(KeyError):
    """Raised for a model name that is not in MODELS."""

    def __str__(self) -> str:  # KeyError would print the message with quotes
        return str(self.args[0])


def model_info(model: str) -> ModelInfo:
    """Return the row for ``model``; a dated snapshot such as ``gpt-4o-2024-08-06`` maps
    to its family. Unknown names raise UnknownModelError listing the known ones."""
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
