"""The model table's prices against the genai-prices package (pydantic's maintained price
data, pinned in requirements-dev.txt), priced on the course date."""

import datetime
import json
import os
import re
from decimal import Decimal
from pathlib import Path

import pytest

# genai-prices 0.2.5 needs Python 3.11+; on 3.10 (the course's oldest supported Python) the
# rest of the suite runs and these checks are left to the 3.11+ runs CI makes.
genai_prices = pytest.importorskip("genai_prices", reason="genai-prices 0.2.5 needs Python 3.11 or newer")
from genai_prices import Usage, calc_price  # noqa: E402

from helpers import MODELS, estimate_cost, model_info, usage_cost  # noqa: E402
from helpers.models import AS_OF, UnknownModelError  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
COURSE_DAY = datetime.datetime.fromisoformat(AS_OF).replace(tzinfo=datetime.timezone.utc)
# Rows genai-prices does not price yet (helpers/models.py then says where the price is from).
NOT_IN_GENAI_PRICES: set[str] = set()


def genai_price(name: str, **tokens) -> Decimal:
    usage = Usage(**tokens)
    return calc_price(usage, name, provider_id="openai", genai_request_timestamp=COURSE_DAY).total_price


USAGES = [
    {"input_tokens": 1_000_000, "output_tokens": 0},
    {"input_tokens": 0, "output_tokens": 1_000_000},
    {"input_tokens": 200_000, "cache_read_tokens": 150_000, "output_tokens": 3_000},
    {"input_tokens": 272_000, "output_tokens": 10_000},  # at the long-context threshold
    {"input_tokens": 272_001, "cache_read_tokens": 100_000, "output_tokens": 10_000},  # above it
]


@pytest.mark.parametrize("name", sorted(set(MODELS) - NOT_IN_GENAI_PRICES))
def test_prices_equal_genai_prices_on_the_course_date(name):
    m = MODELS[name]
    for usage in USAGES:
        if usage["input_tokens"] > m.context_window:
            continue
        ours = estimate_cost(name, usage["input_tokens"], usage["output_tokens"], usage.get("cache_read_tokens", 0))
        assert ours == pytest.approx(float(genai_price(name, **usage)), rel=1e-9, abs=1e-12), usage


@pytest.mark.parametrize("name", sorted(set(MODELS) - NOT_IN_GENAI_PRICES))
def test_cache_write_prices_equal_genai_prices(name):
    m = MODELS[name]
    tokens = {"input_tokens": 10_000, "cache_write_tokens": 8_000, "output_tokens": 0}
    expected = float(genai_price(name, **tokens))
    assert estimate_cost(name, 10_000, 0, cache_write_tokens=8_000) == pytest.approx(expected, rel=1e-9)
    if m.cache_write_price is None:  # genai-prices bills a write at the input price then
        assert expected == pytest.approx(10_000 / 1e6 * m.input_price)


@pytest.mark.skipif(
    os.environ.get("COURSE_FRESHNESS") == "1",
    reason="the weekly freshness check installs the newest genai-prices on purpose",
)
def test_genai_prices_is_the_pinned_version():
    pinned = re.search(r"genai-prices==([\d.]+)", (ROOT / "requirements-dev.txt").read_text()).group(1)
    assert genai_prices.__version__ == pinned


def test_recorded_usage_costs_equal_genai_prices():
    # Real usages (cached reads and cache writes included) priced both ways.
    items = json.loads((ROOT / "tests" / "data" / "realtraffic.json").read_text())["items"]
    checked = 0
    for item in items:
        usage = item.get("usage")
        try:
            m = model_info(item.get("response_model") or "")
        except UnknownModelError:
            continue
        if not usage or m.name in NOT_IN_GENAI_PRICES:
            continue
        details = usage.get("prompt_tokens_details") or {}
        expected = genai_price(
            m.name,
            input_tokens=usage["prompt_tokens"],
            output_tokens=usage["completion_tokens"],
            cache_read_tokens=details.get("cached_tokens") or 0,
            cache_write_tokens=details.get("cache_write_tokens") or 0,
        )
        assert usage_cost(m.name, usage) == pytest.approx(float(expected), rel=1e-9), item["source"]
        checked += 1
    assert checked > 100
