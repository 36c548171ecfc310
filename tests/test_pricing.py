"""What calls cost: a sum of input and output costs, read from the model table."""

import pytest
from openai.types import CompletionUsage
from openai.types.completion_usage import PromptTokensDetails

from helpers import (
    MODELS,
    PRICING,
    OfflineAPI,
    cost_breakdown,
    estimate_cost,
    monthly_cost,
    offline_client,
    usage_cost,
    usd,
)
from helpers.models import UnknownModelError
from helpers.pricing import money

M = 1_000_000


@pytest.mark.parametrize("model", sorted(MODELS))
def test_cost_is_a_sum_of_input_and_output_costs(model):
    m = MODELS[model]
    small = 100_000  # below every long-context threshold
    assert estimate_cost(model, small, 0) == pytest.approx(small / M * m.input_price)  # a product would be 0
    assert estimate_cost(model, 0, small) == pytest.approx(small / M * m.output_price)
    assert estimate_cost(model, small, small) == pytest.approx(small / M * (m.input_price + m.output_price))
    assert estimate_cost(model, 0, 0) == 0
    assert estimate_cost(model, 1234, 567) == pytest.approx(1234 / M * m.input_price + 567 / M * m.output_price)


def test_long_context_tier_bills_the_whole_request_above_the_threshold():
    m = MODELS["gpt-6-luna"]
    below = cost_breakdown("gpt-6-luna", 272_000, 1_000)
    above = cost_breakdown("gpt-6-luna", 272_001, 1_000)
    assert not below.long_context and above.long_context
    assert below.input == pytest.approx(272_000 / M * m.input_price)
    assert above.input == pytest.approx(272_001 / M * m.input_price * 2)  # every token, not just the excess
    assert above.output == pytest.approx(1_000 / M * m.output_price * 1.5)
    # A model without a tier never switches.
    assert not cost_breakdown("gpt-5.4-mini", 300_000, 0).long_context


def test_cache_writes_bill_at_the_write_price():
    m = MODELS["gpt-5.6-sol"]
    cost = cost_breakdown("gpt-5.6-sol", 4_020, 4, cache_write_tokens=4_012)  # a recorded usage
    assert cost.cache_write == pytest.approx(4_012 / M * m.cache_write_price)
    assert cost.input == pytest.approx(8 / M * m.input_price)
    with pytest.raises(ValueError, match="cannot exceed"):
        cost_breakdown("gpt-5.6-sol", 10, 0, cached_tokens=6, cache_write_tokens=6)


def test_lecture_example_on_the_course_model():
    # 1,000 tokens in at $0.10/1M plus 500 out at $0.50/1M on gpt-6-luna
    assert estimate_cost("gpt-6-luna", 1_000, 500) == pytest.approx(0.00035)


def test_o1_has_the_published_price_not_the_lectures():
    # The lecture said $2 in / $8 out; OpenAI's pricing page says $15 / $60.
    assert (PRICING["o1"]["input"], PRICING["o1"]["output"]) == (15.00, 60.00)
    assert estimate_cost("o1", M, M) == pytest.approx(75.0)


def test_pricing_table_mirrors_the_model_table():
    assert set(PRICING) == set(MODELS)
    for name, m in MODELS.items():
        assert PRICING[name] == {
            "input": m.input_price,
            "cached_input": m.cached_input_price,
            "cache_write": m.cache_write_price,
            "output": m.output_price,
            "long_context": m.long_context,
            "as_of": m.as_of,
            "source": m.source,
        }


def test_cached_tokens_use_the_cached_price():
    m = MODELS["gpt-4o"]
    assert estimate_cost("gpt-4o", M, 0, cached_tokens=M) == pytest.approx(m.cached_input_price)
    half = estimate_cost("gpt-4o", M, 0, cached_tokens=M // 2)
    assert half == pytest.approx(0.5 * m.input_price + 0.5 * m.cached_input_price)
    assert half < estimate_cost("gpt-4o", M, 0)


def test_model_without_caching_bills_cached_tokens_at_the_input_price():
    assert MODELS["gpt-3.5-turbo"].cached_input_price is None
    assert estimate_cost("gpt-3.5-turbo", M, 0, cached_tokens=M) == estimate_cost("gpt-3.5-turbo", M, 0)


def test_breakdown_parts_add_up():
    m = MODELS["gpt-4.1"]
    cost = cost_breakdown("gpt-4.1", 3_000, 2_000, cached_tokens=1_000)
    assert cost.input == pytest.approx(2_000 / M * m.input_price)  # the uncached part only
    assert cost.cached_input == pytest.approx(1_000 / M * m.cached_input_price)
    assert cost.output == pytest.approx(2_000 / M * m.output_price)
    assert cost.total == pytest.approx(cost.input + cost.cached_input + cost.output)
    assert estimate_cost("gpt-4.1", 3_000, 2_000, cached_tokens=1_000) == cost.total


def test_cached_beyond_input_or_negative_counts_raise():
    with pytest.raises(ValueError, match=r"cached_tokens \(11\) .* cannot exceed input_tokens \(10\)"):
        estimate_cost("gpt-4o", 10, 0, cached_tokens=11)
    for args in [(-1, 0), (0, -1)]:
        with pytest.raises(ValueError, match="negative"):
            estimate_cost("gpt-4o", *args)


def test_unknown_model_lists_the_known_ones():
    with pytest.raises(UnknownModelError) as info:
        estimate_cost("gpt-99", 1, 1)
    assert all(name in str(info.value) for name in MODELS)
    assert estimate_cost("gpt-4o-mini-2024-07-18", M, M) == estimate_cost("gpt-4o-mini", M, M)


def test_usage_cost_of_a_real_sdk_response():
    response = offline_client(OfflineAPI()).chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "What does a token cost?"}]
    )
    usage = response.usage
    assert isinstance(usage, CompletionUsage)
    assert usage_cost("gpt-4o", usage) == pytest.approx(
        estimate_cost("gpt-4o", usage.prompt_tokens, usage.completion_tokens)
    )


def test_usage_cost_of_a_reasoning_response_bills_reasoning_once():
    response = offline_client(OfflineAPI()).chat.completions.create(
        model="gpt-6-luna", messages=[{"role": "user", "content": "Explain tokens"}]
    )
    usage = response.usage
    assert usage.completion_tokens_details.reasoning_tokens > 0
    # reasoning tokens are inside completion_tokens: billed as output, not added again
    assert usage_cost("gpt-6-luna", usage) == pytest.approx(
        estimate_cost("gpt-6-luna", usage.prompt_tokens, usage.completion_tokens)
    )


def test_usage_cost_reads_cached_tokens_from_object_and_dict():
    expected = estimate_cost("gpt-4o", 2_000, 100, cached_tokens=1_024)
    sdk = CompletionUsage(
        prompt_tokens=2_000,
        completion_tokens=100,
        total_tokens=2_100,
        prompt_tokens_details=PromptTokensDetails(cached_tokens=1_024),
    )
    plain = {
        "prompt_tokens": 2_000,
        "completion_tokens": 100,
        "total_tokens": 2_100,
        "prompt_tokens_details": {"cached_tokens": 1_024},
    }
    assert usage_cost("gpt-4o", sdk) == pytest.approx(expected)
    assert usage_cost("gpt-4o", plain) == pytest.approx(expected)
    assert expected < estimate_cost("gpt-4o", 2_000, 100)


def test_usage_cost_without_details():
    expected = estimate_cost("gpt-4o-mini", 50, 20)
    sdk = CompletionUsage(prompt_tokens=50, completion_tokens=20, total_tokens=70)
    assert sdk.prompt_tokens_details is None
    assert usage_cost("gpt-4o-mini", sdk) == pytest.approx(expected)
    assert usage_cost("gpt-4o-mini", {"prompt_tokens": 50, "completion_tokens": 20}) == pytest.approx(expected)
    with_none = {"prompt_tokens": 50, "completion_tokens": 20, "prompt_tokens_details": {"cached_tokens": None}}
    assert usage_cost("gpt-4o-mini", with_none) == pytest.approx(expected)


def test_monthly_cost():
    per_call = estimate_cost("gpt-4o-mini", 1_000, 500)
    assert monthly_cost(per_call, 1_000) == pytest.approx(per_call * 1_000 * 30)  # 30 days by default
    assert monthly_cost(per_call, 1_000, days=31) == pytest.approx(per_call * 1_000 * 31)
    assert monthly_cost(per_call, 0) == 0
    with pytest.raises(ValueError):
        monthly_cost(per_call, -1)
    with pytest.raises(ValueError):
        monthly_cost(per_call, 10, days=-1)


@pytest.mark.parametrize(
    "bad,error",
    [("0.1", TypeError), (None, TypeError), (True, TypeError), (float("nan"), ValueError), (float("inf"), ValueError)],
)
def test_bad_amounts_are_refused_with_a_specific_error(bad, error):
    with pytest.raises(error, match="cost_per_call"):
        monthly_cost(bad, 2)
    with pytest.raises((TypeError, ValueError), match="input_tokens"):
        estimate_cost("gpt-6-luna", bad, 0)


def test_usage_cost_of_a_missing_usage_says_why():
    with pytest.raises(ValueError, match="include_usage"):
        usage_cost("gpt-6-luna", None)


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (0, "$0.00"),
        (13.5, "$13.50"),
        (1234.567, "$1,234.57"),
        (0.00045, "$0.00045"),
        (0.0123, "$0.0123"),
        (0.5, "$0.50"),
        (1.0, "$1.00"),
        (0.0000178, "$0.0000178"),
        (-2.5, "-$2.50"),
        (0.125, "$0.125"),
        (0.1, "$0.10"),
    ],
)
def test_usd_is_the_one_money_format(value, shown):
    assert usd(value) == shown


def test_money_in_won_has_no_decimals_but_for_small_amounts():
    assert [money(v, "₩", 0) for v in (15_223.4, 50.7, 0.508, 0)] == ["₩15,223", "₩50.7", "₩0.508", "₩0"]
