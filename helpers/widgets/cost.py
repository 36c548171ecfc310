"""Lesson 06's cost calculator: a model, tokens per call and calls per day give the cost per
call and per month, priced by helpers.pricing, and the month in won at a dated rate.

    from helpers.widgets import cost_calculator, ExchangeRate
    cost_calculator()                                  # gpt-6-luna, 1,000 in + 500 out, 1,000 calls a day
    cost_calculator("gpt-5.4-mini", text="a prompt")   # the prompt's tokens as the input
    cost_calculator(exchange=ExchangeRate(1400, "2026-11-25", "my bank"))
    cost_calculator(lang="ko")                         # Korean labels, each figure in won first, then dollars
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import Any

import ipywidgets as widgets

from .. import pricing
from ..models import AS_OF, DEFAULT_MODEL, UnknownModelError, model_info
from ..tokens import count_tokens, encoding_for
from ._html import LABEL, MUTED, Words, error_html, fit, model_options, note_html, row

# Everything the calculator says, in each language (the glossary's terms: docs/glossary.md).
# A row's hook (data-row="per-call" ...) is the same in both; "money" is how a figure reads
# when a rate is given: dollars in English (the month in won has its own row), won first in
# Korean, as the Korean lessons show costs.
TEXT: dict[str, dict[str, Any]] = {
    "en": {
        "title": "<b>Cost calculator</b>",
        "model": "Model",
        "input_tokens": "Input tokens / call",
        "output_tokens": "Output tokens / call",
        "calls_per_day": "Calls / day",
        "placeholder": "Or paste a prompt here to count its input tokens",
        "text_note": "The text is {n:,} tokens for {model} ({encoding}); input tokens set to that.",
        "input": "Input",
        "output": "Output",
        "per-call": "Per call",
        "per-day": "Per day",
        "per-month": "Per month",
        "per-month-in-won": "Per month in won",
        "how_tokens": "{n:,} tokens × ${price:g} / 1M{tier}",
        "how_per_call": "input + output",
        "how_per_day": "× {n:,} calls",
        "how_per_month": "× {n} days",
        "how_won": "× {rate:,g} KRW per USD ({date})",
        "money": "{usd}",
        "prices": "{model}: USD per 1M tokens, prices of {as_of} ({link}).",
        "won": " Won at the rate of {date} ({source}{when}).",
        "won_old": ", not on {as_of}: check today's rate before you budget",
        "reasoning": " Reasoning models bill their hidden reasoning tokens as output: include them.",
        "long_context": (
            " A prompt of more than {threshold:,} tokens bills the whole request at the long-context "
            "tier: input × {input:g}, output × {output:g}."
        ),
        "error": "{error}",
        "repr_empty": "Cost calculator",
        "repr": (
            "Cost calculator: {model}, {input:,} in + {output:,} out tokens: "
            "{per_call}/call, {per_month}/month at {calls:,} calls/day"
        ),
    },
    "ko": {
        "title": "<b>비용 계산기</b>",
        "model": "모델",
        "input_tokens": "호출당 입력 토큰",
        "output_tokens": "호출당 출력 토큰",
        "calls_per_day": "하루 호출 수",
        "placeholder": "또는 여기에 프롬프트를 붙여 넣어 입력 토큰을 세어 보세요",
        "text_note": "이 텍스트는 {model}({encoding}) 기준 토큰 {n:,}개입니다. 입력 토큰을 이 값으로 맞췄습니다.",
        "input": "입력",
        "output": "출력",
        "per-call": "호출당",
        "per-day": "하루",
        "per-month": "한 달",
        "per-month-in-won": "원화 환산",
        "how_tokens": "토큰 {n:,}개 × 100만 토큰당 ${price:g}{tier}",
        "how_per_call": "입력 + 출력",
        "how_per_day": "× 호출 {n:,}회",
        "how_per_month": "× {n}일",
        "how_won": "{usd} × 1달러당 {rate:,g}원 ({date} 환율)",
        "money": "{krw} ({usd})",
        "prices": "{model}: 100만 토큰당 USD 가격, {as_of} 기준 ({link}).",
        "won": " 원화는 {date} 환율로 계산했습니다({source}{when}).",
        "won_old": "; {as_of}의 환율이 아니니 예산을 잡기 전에 오늘 환율을 확인하세요",
        "reasoning": " 추론 모델은 보이지 않는 추론 토큰도 출력으로 과금합니다: 출력 토큰에 포함하세요.",
        "long_context": (
            " 입력이 {threshold:,} 토큰을 넘으면 요청 전체에 긴 컨텍스트 요금이 붙습니다: "
            "입력 × {input:g}, 출력 × {output:g}."
        ),
        "error": "비용을 계산할 수 없습니다: {error}",
        "repr_empty": "비용 계산기",
        "repr": (
            "비용 계산기: {model}, 입력 {input:,} + 출력 {output:,} 토큰: "
            "호출당 {per_call}, 하루 {calls:,}회면 한 달 {per_month}"
        ),
    },
}


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


def money(usd: float, exchange: ExchangeRate | None = None, lang: str = "en") -> str:
    """A figure as the calculator shows it: ``$0.00035`` in English; ``₩0.507 ($0.00035)``,
    won first, in Korean when there is a rate to convert with."""
    if exchange is None:
        return pricing.usd(usd)
    return Words(TEXT, lang)("money", usd=pricing.usd(usd), krw=format_krw(exchange.krw(usd)))


def cost_html(est: CostEstimate, exchange: ExchangeRate | None = None, lang: str = "en") -> str:
    """The calculator's result table; with ``exchange``, the month in won too (and in Korean
    every figure in won first). Each figure's cell is ``class="course-cost" data-row="per-call"``
    (input, output, per-day, per-month, per-month-in-won), whatever the language."""
    words = Words(TEXT, lang)
    m = model_info(est.model)
    tier = m.long_context if est.long_context else None
    in_x = f" × {tier.input_multiplier:g}" if tier else ""
    out_x = f" × {tier.output_multiplier:g}" if tier else ""
    rows = [  # (the row's hook, how the figure is made, the figure)
        ("input", words("how_tokens", n=est.input_tokens, price=m.input_price, tier=in_x), est.input_cost),
        ("output", words("how_tokens", n=est.output_tokens, price=m.output_price, tier=out_x), est.output_cost),
        ("per-call", words("how_per_call"), est.per_call),
        ("per-day", words("how_per_day", n=est.calls_per_day), est.per_day),
        ("per-month", words("how_per_month", n=est.days), est.per_month),
    ]
    shown = [(key, how, money(value, exchange, lang)) for key, how, value in rows]
    if exchange is not None:
        how = words("how_won", usd=pricing.usd(est.per_month), rate=exchange.krw_per_usd, date=exchange.date)
        shown.append(("per-month-in-won", how, format_krw(exchange.krw(est.per_month))))
    labels = {key: f"<b>{words(key)}</b>" if key.startswith("per-") else words(key) for key, _, _ in shown}
    body = "".join(
        f'<tr><td style="padding:2px 10px 2px 0">{labels[key]}</td>'
        f'<td style="padding:2px 10px;opacity:0.8">{escape(how)}</td>'
        f'<td class="course-cost" data-row="{key}" '
        f'style="padding:2px 0;text-align:right;font-family:monospace;white-space:nowrap">{value}</td></tr>'
        for key, how, value in shown
    )
    link = f'<a href="{escape(m.source)}" target="_blank">{escape(m.source)}</a>'
    notes = words("prices", model=escape(m.name), as_of=escape(m.as_of), link=link)
    if exchange is not None:
        when = "" if exchange.date == AS_OF else words("won_old", as_of=AS_OF)
        notes += words("won", date=escape(exchange.date), source=escape(exchange.source), when=escape(when))
    if m.reasoning:
        notes += words("reasoning")
    if tier:
        notes += words(
            "long_context", threshold=tier.threshold, input=tier.input_multiplier, output=tier.output_multiplier
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
    shown in won at ``exchange`` (KRW_RATE, a dated rate; pass your own ExchangeRate, or None).
    ``lang``: the language of its labels, "en" or "ko" (every figure in won first, then dollars)."""

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
        lang: str = "en",
    ) -> None:
        words = Words(TEXT, lang)  # first: a wrong lang fails before anything is built
        super().__init__()
        self.words = words
        self.lang = words.lang
        self.days = days
        self.exchange = exchange
        self.model_dropdown = widgets.Dropdown(
            options=model_options(model),
            value=model,
            description=words("model"),
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

        self.input_tokens = number(input_tokens, words("input_tokens"))
        self.output_tokens = number(output_tokens, words("output_tokens"))
        self.calls_per_day = number(calls_per_day, words("calls_per_day"))
        self.text = widgets.Textarea(
            value=text,
            placeholder=words("placeholder"),
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
            widgets.HTML(words("title")),
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
        self.text_note.value = note_html(self.words("text_note", n=n, model=model, encoding=encoding))
        self.input_tokens.value = n  # refreshes the result

    def refresh(self) -> None:
        try:
            self.result.value = cost_html(self.estimate(), self.exchange, self.lang)
        except (ValueError, UnknownModelError) as error:
            self.result.value = error_html(self.words("error", error=error))

    def __repr__(self) -> str:
        """The text/plain of the cell: the call and the month, in one line."""
        words = getattr(self, "words", None) or Words(TEXT)
        if getattr(self, "calls_per_day", None) is None:
            return words("repr_empty")
        try:
            est = self.estimate()
        except (ValueError, UnknownModelError):
            return words("repr_empty")
        return fit(
            words(
                "repr",
                model=est.model,
                input=est.input_tokens,
                output=est.output_tokens,
                per_call=money(est.per_call, self.exchange, self.lang),
                per_month=money(est.per_month, self.exchange, self.lang),
                calls=est.calls_per_day,
            )
        )


# The lessons' name for it: cost_calculator() is lesson 06's calculator.
cost_calculator = CostCalculator
