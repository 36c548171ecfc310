"""Lesson 06's cost calculator: a model, tokens per call and calls per day give the cost per
call and per month, priced by helpers.pricing, and the month in won at a dated rate.

    from helpers.widgets import cost_calculator, ExchangeRate
    cost_calculator()                                  # gpt-6-luna, 1,000 in + 500 out, 1,000 calls a day
    cost_calculator("gpt-5.4-mini", text="a prompt")   # the prompt's tokens as the input
    cost_calculator(exchange=ExchangeRate(1400, "2026-11-25", "my bank"))
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

import ipywidgets as widgets

from .. import pricing
from ..models import AS_OF, DEFAULT_MODEL, UnknownModelError, model_info
from ..tokens import count_tokens, encoding_for
from ._html import LABEL, MUTED, error_html, fit, model_options, note_html, row


@dataclass(frozen=True)
class CostEstimate:
    """What a call costs and what a month of such calls costs, in USD."""

    model: str
    input_tokens: int
    output_tokens: int
    calls_per_day: int
    days: int
    input_cost: float  # per call
    output_cost: float  # per call
    per_call: float
    per_day: float
    per_month: float
    long_context: bool = False  # billed at the model's long-context tier (a very long prompt)


def estimate(model: str, input_tokens: int, output_tokens: int, calls_per_day: int, days: int = 30) -> CostEstimate:
    """Cost per call (helpers.cost_breakdown, whose total is helpers.estimate_cost) and per
    month (helpers.monthly_cost)."""
    parts = pricing.cost_breakdown(model, input_tokens, output_tokens)
    per_call = parts.total
    return CostEstimate(
        model=model,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        calls_per_day=calls_per_day,
        days=days,
        input_cost=parts.input,
        output_cost=parts.output,
        per_call=per_call,
        per_day=pricing.monthly_cost(per_call, calls_per_day, 1),
        per_month=pricing.monthly_cost(per_call, calls_per_day, days),
        long_context=parts.long_context,
    )


def format_krw(value: float) -> str:
    """Won without decimals, and with some for small amounts: ₩15,223, ₩50.7, ₩0.508."""
    return pricing.money(value, "₩", 0)


@dataclass(frozen=True)
class ExchangeRate:
    """How many won one US dollar bought on ``date``, and where that figure comes from."""

    krw_per_usd: float
    date: str  # YYYY-MM-DD
    source: str

    def __post_init__(self) -> None:
        if not self.krw_per_usd > 0:
            raise ValueError(f"krw_per_usd must be a positive number of won per dollar, not {self.krw_per_usd!r}")

    def krw(self, usd: float) -> float:
        return usd * self.krw_per_usd


# The most recent sourced USD/KRW rate the course found: Reuters reported the won at 1,449.8
# per dollar at 06:26 GMT on 2026-02-04. That is months before the course date (AS_OF), so
# it shows the order of magnitude, not today's price: pass your own ExchangeRate for a budget.
KRW_RATE = ExchangeRate(
    1449.8, "2026-02-04", 'Reuters, 4 Feb 2026, "South Korea eyes dollar bond issuance for pension fund this year"'
)


def cost_html(est: CostEstimate, exchange: ExchangeRate | None = None) -> str:
    """The calculator's result table; with ``exchange``, the month in won too. Each figure's
    cell is ``class="course-cost" data-row="per-call"`` (per-day, per-month, per-month-in-won ...)."""
    m = model_info(est.model)
    tier = m.long_context if est.long_context else None
    in_x = f" × {tier.input_multiplier:g}" if tier else ""
    out_x = f" × {tier.output_multiplier:g}" if tier else ""
    rows = [
        ("Input", f"{est.input_tokens:,} tokens × ${m.input_price:g} / 1M{in_x}", pricing.usd(est.input_cost)),
        ("Output", f"{est.output_tokens:,} tokens × ${m.output_price:g} / 1M{out_x}", pricing.usd(est.output_cost)),
        ("Per call", "input + output", pricing.usd(est.per_call)),
        ("Per day", f"× {est.calls_per_day:,} calls", pricing.usd(est.per_day)),
        ("Per month", f"× {est.days} days", pricing.usd(est.per_month)),
    ]
    if exchange is not None:
        how = f"× {exchange.krw_per_usd:,g} KRW per USD ({exchange.date})"
        rows.append(("Per month in won", how, format_krw(exchange.krw(est.per_month))))
    body = "".join(
        f'<tr><td style="padding:2px 10px 2px 0">{"<b>" + name + "</b>" if name.startswith("Per") else name}</td>'
        f'<td style="padding:2px 10px;opacity:0.8">{escape(how)}</td>'
        f'<td class="course-cost" data-row="{name.lower().replace(" ", "-")}" '
        f'style="padding:2px 0;text-align:right;font-family:monospace;white-space:nowrap">{value}</td></tr>'
        for name, how, value in rows
    )
    notes = (
        f"{escape(m.name)}: USD per 1M tokens, prices of {escape(m.as_of)} "
        f'(<a href="{escape(m.source)}" target="_blank">{escape(m.source)}</a>).'
    )
    if exchange is not None:
        when = "" if exchange.date == AS_OF else f", not on {AS_OF}: check today's rate before you budget"
        notes += f" Won at the rate of {escape(exchange.date)} ({escape(exchange.source)}{escape(when)})."
    if m.reasoning:
        notes += " Reasoning models bill their hidden reasoning tokens as output: include them."
    if tier:
        notes += (
            f" A prompt of more than {tier.threshold:,} tokens bills the whole request at the long-context "
            f"tier: input × {tier.input_multiplier:g}, output × {tier.output_multiplier:g}."
        )
    return (
        f'<table class="course-cost-table" style="border-collapse:collapse;line-height:1.4;max-width:100%">'
        f"{body}</table>"
        f'<div class="course-cost-notes" style="{MUTED};margin-top:4px;line-height:1.4;overflow-wrap:anywhere">'
        f"{notes}</div>"
    )


class CostCalculator(widgets.VBox):
    """Model, tokens per call and calls per day -> cost per call and per month (``days`` a
    month). A ``text`` sets the input tokens to its token count for the model. The month is
    shown in won at ``exchange`` (KRW_RATE, a dated rate; pass your own ExchangeRate, or None)."""

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        input_tokens: int = 1000,
        output_tokens: int = 500,
        calls_per_day: int = 1000,
        *,
        days: int = 30,
        text: str = "",
        exchange: ExchangeRate | None = KRW_RATE,
    ) -> None:
        super().__init__()
        self.days = days
        self.exchange = exchange
        self.model_dropdown = widgets.Dropdown(
            options=model_options(model),
            value=model,
            description="Model",
            style=LABEL,
            layout=widgets.Layout(width="300px", max_width="100%"),
        )

        def number(value: int, description: str) -> widgets.BoundedIntText:
            return widgets.BoundedIntText(
                value=value,
                min=0,
                max=10**12,
                description=description,
                style=LABEL,
                layout=widgets.Layout(width="230px", min_width="230px"),
            )

        self.input_tokens = number(input_tokens, "Input tokens / call")
        self.output_tokens = number(output_tokens, "Output tokens / call")
        self.calls_per_day = number(calls_per_day, "Calls / day")
        self.text = widgets.Textarea(
            value=text,
            placeholder="Or paste a prompt here to count its input tokens",
            layout=widgets.Layout(width="auto", height="60px"),
        )
        self.text_note = widgets.HTML()
        self.result = widgets.HTML()
        self.result.add_class("course-cost-result")
        for control in (self.model_dropdown, self.input_tokens, self.output_tokens, self.calls_per_day):
            control.observe(lambda _change: self.refresh(), names="value")
        self.text.observe(lambda _change: self._count_text(), names="value")
        self.model_dropdown.observe(lambda _change: self._count_text(), names="value")
        self.children = [
            widgets.HTML("<b>Cost calculator</b>"),
            self.model_dropdown,
            row(self.input_tokens, self.output_tokens, self.calls_per_day),
            self.text,
            self.text_note,
            self.result,
        ]
        self._count_text()
        self.refresh()

    def estimate(self) -> CostEstimate:
        return estimate(
            self.model_dropdown.value,
            self.input_tokens.value,
            self.output_tokens.value,
            self.calls_per_day.value,
            self.days,
        )

    def _count_text(self) -> None:
        text = self.text.value
        if not text:
            self.text_note.value = ""
            return
        model = self.model_dropdown.value
        n = count_tokens(text, model, fallback="o200k_base")
        encoding = encoding_for(model, fallback="o200k_base").name
        self.text_note.value = note_html(
            f"The text is {n:,} tokens for {model} ({encoding}); input tokens set to that."
        )
        self.input_tokens.value = n  # refreshes the result

    def refresh(self) -> None:
        try:
            self.result.value = cost_html(self.estimate(), self.exchange)
        except (ValueError, UnknownModelError) as error:
            self.result.value = error_html(str(error))

    def __repr__(self) -> str:
        """The text/plain of the cell: the call and the month, in one line."""
        if getattr(self, "calls_per_day", None) is None:
            return "Cost calculator"
        try:
            est = self.estimate()
        except (ValueError, UnknownModelError):
            return "Cost calculator"
        return fit(
            f"Cost calculator: {est.model}, {est.input_tokens:,} in + {est.output_tokens:,} out tokens: "
            f"{pricing.usd(est.per_call)}/call, {pricing.usd(est.per_month)}/month at {est.calls_per_day:,} calls/day"
        )


# The lessons' name for it: cost_calculator() is lesson 06's calculator.
cost_calculator = CostCalculator
