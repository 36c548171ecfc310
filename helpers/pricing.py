"""What a call costs: tokens times the per-million price from helpers.models.

cost = input_tokens / 1M * input price + output_tokens / 1M * output price
(a sum of two products, never input cost times output cost).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .models import MODELS, model_info

PER = 1_000_000

# Model -> prices per 1M tokens, read from the one model table.
PRICING: dict[str, dict[str, Any]] = {
    name: {
        "input": m.input_price,
        "cached_input": m.cached_input_price,
        "output": m.output_price,
        "as_of": m.as_of,
        "source": m.source,
    }
    for name, m in MODELS.items()
}


@dataclass(frozen=True)
class Cost:
    """A cost broken down into its parts, in USD."""

    input: float
    cached_input: float
    output: float

    @property
    def total(self) -> float:
        return self.input + self.cached_input + self.output


def cost_breakdown(
    model: str, input_tokens: int, output_tokens: int, cached_tokens: int = 0
) -> Cost:
    """Cost of one call. ``input_tokens`` includes ``cached_tokens``, as in ``usage``."""
    if min(input_tokens, output_tokens, cached_tokens) < 0:
        raise ValueError("token counts cannot be negative")
    if cached_tokens > input_tokens:
        raise ValueError(
            f"cached_tokens ({cached_tokens}) cannot exceed input_tokens ({input_tokens}): "
            "cached tokens are part of the prompt"
        )
    m = model_info(model)
    cached_price = m.input_price if m.cached_input_price is None else m.cached_input_price
    return Cost(
        input=(input_tokens - cached_tokens) / PER * m.input_price,
        cached_input=cached_tokens / PER * cached_price,
        output=output_tokens / PER * m.output_price,
    )


def estimate_cost(
    model: str, input_tokens: int, output_tokens: int, cached_tokens: int = 0
) -> float:
    """Total USD for one call."""
    return cost_breakdown(model, input_tokens, output_tokens, cached_tokens).total


def usage_cost(model: str, usage: Any) -> float:
    """USD for a response's ``usage`` (an SDK object or a dict). Reasoning tokens are
    already inside ``completion_tokens`` and bill as output."""
    get = usage.get if isinstance(usage, dict) else lambda k, d=None: getattr(usage, k, d)
    details = get("prompt_tokens_details") or {}
    cached = (details.get("cached_tokens") if isinstance(details, dict)
              else getattr(details, "cached_tokens", 0)) or 0
    return estimate_cost(model, get("prompt_tokens"), get("completion_tokens"), cached)


def monthly_cost(cost_per_call: float, calls_per_day: float, days: int = 30) -> float:
    """Projection of a per-call cost over a month of traffic."""
    if calls_per_day < 0 or days < 0:
        raise ValueError("calls_per_day and days cannot be negative")
    return cost_per_call * calls_per_day * days
