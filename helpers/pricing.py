"""What a call costs: tokens times the per-million prices of helpers.models.

    cost = uncached input tokens / 1M × input price
         + cached input tokens   / 1M × cached input price
         + cache-write tokens    / 1M × cache write price   (models that bill writes)
         + output tokens         / 1M × output price

a sum of products, never input cost times output cost. Above a model's long-context
threshold (272,000 prompt tokens for the 1M-window models) the whole request is billed at
the tier: input prices ×2, output ×1.5.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

from .models import MODELS, model_info

PER = 1_000_000

# Model -> prices per 1M tokens, read from the one model table.
PRICING: dict[str, dict[str, Any]] = {
    name: {
        "input": m.input_price,
        "cached_input": m.cached_input_price,
        "cache_write": m.cache_write_price,
        "output": m.output_price,
        "long_context": m.long_context,
        "as_of": m.as_of,
        "source": m.source,
    }
    for name, m in MODELS.items()
}


class Cost(NamedTuple):  # a record like a frozen dataclass, and quicker to make: one per call
    """A cost broken down into its parts, in USD."""

    input: float
    cached_input: float
    output: float
    cache_write: float = 0.0
    long_context: bool = False  # True: billed at the long-context tier

    @property
    def total(self) -> float:
        return self.input + self.cached_input + self.cache_write + self.output


def _tokens(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise TypeError(f"{name} must be a whole number of tokens, not {value!r}")
    if value < 0:
        raise ValueError(f"{name} cannot be negative (got {value})")
    return value


def cost_breakdown(
    model: str, input_tokens: int, output_tokens: int, cached_tokens: int = 0, cache_write_tokens: int = 0
) -> Cost:
    """Cost of one call. ``input_tokens`` includes the cached and cache-write tokens, as
    ``usage.prompt_tokens`` does."""
    input_tokens = _tokens("input_tokens", input_tokens)
    output_tokens = _tokens("output_tokens", output_tokens)
    cached_tokens = _tokens("cached_tokens", cached_tokens)
    cache_write_tokens = _tokens("cache_write_tokens", cache_write_tokens)
    if cached_tokens + cache_write_tokens > input_tokens:
        raise ValueError(
            f"cached_tokens ({cached_tokens}) + cache_write_tokens ({cache_write_tokens}) cannot exceed "
            f"input_tokens ({input_tokens}): both are part of the prompt"
        )
    m = model_info(model)
    tier = m.long_context
    long = tier is not None and input_tokens > tier.threshold
    in_x = tier.input_multiplier if long else 1.0
    out_x = tier.output_multiplier if long else 1.0
    cached_price = m.input_price if m.cached_input_price is None else m.cached_input_price
    write_price = m.input_price if m.cache_write_price is None else m.cache_write_price
    return Cost(
        input=(input_tokens - cached_tokens - cache_write_tokens) / PER * m.input_price * in_x,
        cached_input=cached_tokens / PER * cached_price * in_x,
        cache_write=cache_write_tokens / PER * write_price * in_x,
        output=output_tokens / PER * m.output_price * out_x,
        long_context=long,
    )


def estimate_cost(
    model: str, input_tokens: int, output_tokens: int, cached_tokens: int = 0, cache_write_tokens: int = 0
) -> float:
    """Total USD for one call."""
    return cost_breakdown(model, input_tokens, output_tokens, cached_tokens, cache_write_tokens).total


def _get(obj: Any, key: str) -> Any:
    return obj.get(key) if isinstance(obj, dict) else getattr(obj, key, None)


def read_usage(usage: Any) -> dict[str, int]:
    """The token counts of a ``usage`` (an SDK object or a dict): prompt, completion,
    cached, cache_write and reasoning tokens, missing details read as 0."""
    if usage is None:
        raise ValueError(
            "this response has no usage: nothing to price (streams need stream_options={'include_usage': True})"
        )
    prompt_details = _get(usage, "prompt_tokens_details") or {}
    completion_details = _get(usage, "completion_tokens_details") or {}
    return {
        "prompt": _get(usage, "prompt_tokens") or 0,
        "completion": _get(usage, "completion_tokens") or 0,
        "cached": _get(prompt_details, "cached_tokens") or 0,
        "cache_write": _get(prompt_details, "cache_write_tokens") or 0,
        "reasoning": _get(completion_details, "reasoning_tokens") or 0,
    }


def usage_cost(model: str, usage: Any) -> float:
    """USD for a response's ``usage``. Reasoning tokens are already inside
    ``completion_tokens`` and bill as output."""
    u = read_usage(usage)
    return estimate_cost(model, u["prompt"], u["completion"], u["cached"], u["cache_write"])


def money(value: float, symbol: str = "$", decimals: int = 2) -> str:
    """``value`` with ``decimals`` decimals, more for small amounts (up to 3 significant
    digits, no trailing zeros past ``decimals``): $13.50, $0.125, $0.00045;
    money(15223, "₩", 0) is ₩15,223."""
    if value == 0:
        return f"{symbol}{0:.{decimals}f}"
    sign, value = ("-", -value) if value < 0 else ("", value)
    places = decimals
    while places < 8 and value < 10 ** (2 - places):
        places += 1
    whole, _, fraction = f"{value:,.{places}f}".partition(".")
    fraction = fraction.rstrip("0").ljust(decimals, "0")
    return f"{sign}{symbol}{whole}{'.' + fraction if fraction else ''}"


def usd(value: float) -> str:
    """Dollars with cents, and more decimals for small amounts: $13.50, $0.000450."""
    return money(value)


def monthly_cost(cost_per_call: float, calls_per_day: float, days: int = 30) -> float:
    """Projection of a per-call cost over a month of traffic."""
    for name, value in (("cost_per_call", cost_per_call), ("calls_per_day", calls_per_day), ("days", days)):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"{name} must be a number, not {value!r}")
        if not math.isfinite(value):
            raise ValueError(f"{name} must be a finite number, not {value}")
        if value < 0:
            raise ValueError(f"{name} cannot be negative (got {value})")
    return cost_per_call * calls_per_day * days
