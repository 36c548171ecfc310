"""Lesson 06 · Cost: the checks of its two exercises and its quiz.

1. ``monthly_budget(model, prompt_tokens, completion_tokens, calls_per_day, days=30)``:
   a month of calls in USD;
2. ``usage_usd(model, usage)``: a response's usage in USD from the price table alone,
   cached input and reasoning tokens included.
"""

from __future__ import annotations

import math

from ..pricing import PER, PRICING, estimate_cost, usage_cost
from . import Question, Verdict, correct, guarded, not_yet
from ._kit import not_a_function, returns_none

# (model, prompt tokens, completion tokens, calls a day, days): two models on one bot, a week,
# a prompt above the long-context threshold and one of exactly the threshold (not above it).
MONTH_CASES = [
    ("gpt-6-luna", 1_500, 250, 3_000, 30),
    ("gpt-6.1-terra", 1_500, 250, 3_000, 30),
    ("gpt-6-sol", 800, 1_200, 40, 7),
    ("gpt-6-luna", 300_000, 1_000, 10, 30),
    ("gpt-6-luna", 272_000, 1_000, 10, 30),
]


def _is_money(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def _product(model: str, prompt_tokens: int, completion_tokens: int) -> float:
    """The lecture's mistake: input cost times output cost."""
    price = PRICING[model]
    return (prompt_tokens / PER * price["input"]) * (completion_tokens / PER * price["output"])


def _untiered(model: str, prompt_tokens: int, completion_tokens: int) -> float:
    price = PRICING[model]
    return prompt_tokens / PER * price["input"] + completion_tokens / PER * price["output"]


def _month_hint(answer: object, case: tuple, lang: str) -> Verdict:
    model, prompt_tokens, completion_tokens, calls, days = case
    per_call = estimate_cost(model, prompt_tokens, completion_tokens)
    where = f"for {model}, {calls:,} calls a day for {days} days"
    where_ko = f"{model}, 하루 {calls:,}번, {days}일에서"
    tier = PRICING[model]["long_context"]
    if not _is_money(answer):
        en = f"it returned {type(answer).__name__}, not a number of dollars (format it only to print it)."
        ko = f"{type(answer).__name__}을(를) 돌려줬어요. 달러 금액(숫자)을 돌려주세요. 서식은 출력할 때만."
    elif _close(answer, _product(model, prompt_tokens, completion_tokens) * calls * days):
        en, ko = (
            "that multiplies the input cost by the output cost; a bill adds them.",
            "입력 비용과 출력 비용을 곱했어요. 더해야 합니다.",
        )
    elif _close(answer, per_call * calls):
        en, ko = "that is one day: multiply by the days too.", "하루치예요. 일수도 곱하세요."
    elif _close(answer, per_call * calls * 30):
        en, ko = "use the days argument, not always 30.", "항상 30이 아니라 days 인자를 쓰세요."
    elif tier and prompt_tokens > tier.threshold:
        en = "this prompt is above the long-context threshold: price each call with estimate_cost."
        ko = "이 프롬프트는 장문 컨텍스트 기준을 넘어요. 호출 비용은 estimate_cost로 구하세요."
    elif tier and prompt_tokens == tier.threshold:
        en = "a prompt of exactly the threshold is not above it: no long-context tier yet."
        ko = "기준과 정확히 같은 프롬프트는 기준을 넘지 않아요. 아직 장문 요금이 아닙니다."
    else:
        en, ko = "a month is the cost per call × calls per day × days.", "한 달 = 호출당 비용 × 하루 호출 수 × 일수."
    return not_yet(lang, f"{where}, {en}", f"{where_ko} {ko}")


@guarded
def check_1(monthly_budget, *, lang: str = "en") -> Verdict:
    """``monthly_budget`` is the cost per call (estimate_cost) × calls a day × days."""
    problem = not_a_function("monthly_budget", monthly_budget, 1, lang, it="it")
    if problem:
        return problem
    for case in MONTH_CASES:
        model, prompt_tokens, completion_tokens, calls, days = case
        answer = monthly_budget(model, prompt_tokens, completion_tokens, calls, days=days)
        if answer is None:
            return returns_none("monthly_budget", lang)
        right = estimate_cost(model, prompt_tokens, completion_tokens) * calls * days
        if not (_is_money(answer) and _close(answer, right)):
            return _month_hint(answer, case, lang)
    return correct(
        lang,
        "Cost per call × calls per day × days, long-context tier included.",
        "호출당 비용 × 하루 호출 수 × 일수. 장문 컨텍스트 요금까지 맞았어요.",
    )


def _usage(prompt: int, completion: int, cached: int = 0, reasoning: int = 0) -> dict:
    """A usage shaped like the API's (as a dict, as response.usage.model_dump() gives it)."""
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "prompt_tokens_details": {"cached_tokens": cached},
        "completion_tokens_details": {"reasoning_tokens": reasoning},
    }


# Below the long-context threshold, without cache writes: a plain call, a cached prompt, a
# reasoning reply, and both.
USAGE_CASES = [
    ("gpt-6-luna", _usage(36, 69)),
    ("gpt-6.1-terra", _usage(2_000, 300, cached=1_920)),
    ("gpt-6-luna", _usage(13, 261, reasoning=192)),
    ("gpt-6-sol", _usage(5_000, 900, cached=4_096, reasoning=640)),
]


def _usage_hint(answer: object, model: str, usage: dict, lang: str) -> Verdict:
    price = PRICING[model]
    right = usage_cost(model, usage)
    cached = usage["prompt_tokens_details"]["cached_tokens"]
    reasoning = usage["completion_tokens_details"]["reasoning_tokens"]
    where = f"for {model} with {usage['prompt_tokens']:,} prompt tokens ({cached:,} cached)"
    where_ko = f"{model}, 프롬프트 {usage['prompt_tokens']:,}토큰(캐시 {cached:,})에서"
    if not _is_money(answer):
        en = f"it returned {type(answer).__name__}, not a number of dollars."
        ko = f"{type(answer).__name__}을(를) 돌려줬어요. 달러 금액(숫자)을 돌려주세요."
    elif reasoning and _close(answer, right + reasoning / PER * price["output"]):
        en = "reasoning tokens are counted twice: completion_tokens already includes them."
        ko = "추론 토큰을 두 번 셌어요. completion_tokens에 이미 들어 있어요."
    elif cached and _close(answer, _untiered(model, usage["prompt_tokens"], usage["completion_tokens"])):
        en = "cached tokens are billed at the cached-input price, not the input price."
        ko = "캐시된 토큰은 입력 단가가 아니라 캐시 입력 단가로 청구돼요."
    elif cached and _close(answer, right - cached / PER * price["cached_input"]):
        en = "cached tokens are cheaper, not free: bill them at the cached-input price."
        ko = "캐시된 토큰은 싸지만 공짜는 아니에요. 캐시 입력 단가로 계산하세요."
    elif cached and _close(answer, right + cached / PER * price["input"]):
        en = "cached tokens are part of prompt_tokens: take them out of the input before pricing them."
        ko = "캐시된 토큰은 prompt_tokens에 포함돼 있어요. 입력에서 빼고 따로 계산하세요."
    elif _close(answer, right * PER):
        en = "prices are per 1M tokens: divide the token counts by 1,000,000."
        ko = "가격은 100만 토큰당이에요. 토큰 수를 1,000,000으로 나누세요."
    else:
        en, ko = f"{answer!r} is not the cost.", f"{answer!r}은(는) 비용이 아니에요."
    return not_yet(lang, f"{where}, {en}", f"{where_ko} {ko}")


@guarded
def check_2(usage_usd, *, lang: str = "en") -> Verdict:
    """``usage_usd(model, usage)`` prices a usage as usage_cost does."""
    problem = not_a_function("usage_usd", usage_usd, 2, lang, it="it")
    if problem:
        return problem
    for model, usage in USAGE_CASES:
        answer = usage_usd(model, usage)
        if answer is None:
            return returns_none("usage_usd", lang)
        if not (_is_money(answer) and _close(answer, usage_cost(model, usage))):
            return _usage_hint(answer, model, usage, lang)
    return correct(
        lang,
        "Cached input at its own price, reasoning tokens once, as output.",
        "캐시 입력은 그 단가로, 추론 토큰은 출력으로 한 번만. 정확해요.",
    )


QUIZ = {
    "en": (
        Question(
            "A call has 1,000 input and 500 output tokens. How is its cost computed?",
            (
                "(input tokens × input price) × (output tokens × output price)",
                "(input + output tokens) / 1M × the output price",
                "input tokens / 1M × input price + output tokens / 1M × output price",
            ),
            2,
            "A bill is a sum of products, one per kind of token. The product of two costs is "
            "not money at all, and a call without output would cost nothing.",
        ),
        Question(
            "A reasoning model reports completion_tokens=261, of which reasoning_tokens=192. "
            "How many tokens are billed as output?",
            ("69", "261", "453"),
            1,
            "completion_tokens already includes the hidden reasoning tokens, and all of them "
            "bill at the output price: add nothing.",
        ),
        Question(
            "A 2,000-token prompt reports cached_tokens=1,920. How is its input billed?",
            (
                "80 at the input price and 1,920 at the cached-input price",
                "2,000 tokens at the input price",
                "80 at the input price; cached tokens are free",
            ),
            0,
            "Cached tokens are part of prompt_tokens and bill at the much cheaper cached-input price.",
        ),
        Question(
            "The lecture's notes gave o1 the prices of o3 (2 and 8 dollars per 1M). What is the lesson?",
            (
                "Prices never change, so copy them once",
                "Keep prices in one table with the date they were checked and their source",
                "Always use the cheapest price you can find",
            ),
            1,
            "o1's published prices were 15 and 60 dollars: a copied price goes stale quietly. "
            "A dated table says how old each figure is.",
        ),
    ),
    "ko": (
        Question(
            "입력 1,000토큰, 출력 500토큰인 호출의 비용은 어떻게 계산할까요?",
            (
                "(입력 토큰 × 입력 단가) × (출력 토큰 × 출력 단가)",
                "(입력 + 출력 토큰) / 1M × 출력 단가",
                "입력 토큰 / 1M × 입력 단가 + 출력 토큰 / 1M × 출력 단가",
            ),
            2,
            "청구액은 토큰 종류별 곱을 더한 합이에요. 두 비용을 곱하면 돈의 단위조차 아니고, "
            "출력이 없는 호출은 공짜가 되어 버려요.",
        ),
        Question(
            "추론 모델이 completion_tokens=261, 그중 reasoning_tokens=192를 보고했습니다. "
            "출력으로 청구되는 토큰은 몇 개일까요?",
            ("69", "261", "453"),
            1,
            "completion_tokens에 보이지 않는 추론 토큰이 이미 들어 있고, 모두 출력 단가로 청구돼요. 더하지 마세요.",
        ),
        Question(
            "2,000토큰 프롬프트에 cached_tokens=1,920이 보고됐습니다. 입력은 어떻게 청구될까요?",
            (
                "80토큰은 입력 단가로, 1,920토큰은 캐시 입력 단가로",
                "2,000토큰 모두 입력 단가로",
                "80토큰만 입력 단가로, 캐시된 토큰은 무료",
            ),
            0,
            "캐시된 토큰은 prompt_tokens에 포함되고, 훨씬 싼 캐시 입력 단가로 청구돼요.",
        ),
        Question(
            "강의 노트는 o1에 o3의 가격(100만 토큰당 2달러, 8달러)을 적었습니다. 여기서 배울 점은?",
            (
                "가격은 바뀌지 않으니 한 번 복사해 두면 된다",
                "가격은 확인한 날짜와 출처를 적은 표 하나에 모아 둔다",
                "찾을 수 있는 가장 싼 가격을 쓴다",
            ),
            1,
            "o1의 공시 가격은 15달러와 60달러였어요. 복사한 가격은 조용히 낡아 갑니다. "
            "날짜가 적힌 표는 각 숫자가 얼마나 오래됐는지 알려 줘요.",
        ),
    ),
}
