"""The model table against its kept sources: genai-prices (prices), the openai SDK
(model names, shutdown dates) and tiktoken (encodings); and the lessons against the table."""

import json
import re
from pathlib import Path

import openai.types.shared.chat_model as chat_model
import pytest
import tiktoken

from helpers import DEFAULT_MODEL, MODELS, model_info
from helpers.models import AS_OF, EFFORTS, HORIZON, UnknownModelError, current_models, lesson_models
from tools.freshness import sdk_shutdowns

ROOT = Path(__file__).resolve().parents[1]
SDK_NAMES = set(chat_model.ChatModel.__args__)


SHUTDOWNS = sdk_shutdowns()


def test_the_sdk_notes_were_read():
    assert SHUTDOWNS["gpt-4o-mini"] == "2027-01-14" and SHUTDOWNS["o1"] == "2026-10-23"
    assert len(SHUTDOWNS) > 50


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_row_is_a_model_the_sdk_knows(name):
    assert name in SDK_NAMES


@pytest.mark.parametrize("name", sorted(MODELS))
def test_shutdown_dates_are_the_sdks(name):
    assert MODELS[name].shutdown == SHUTDOWNS.get(name)


def test_every_current_sdk_model_of_the_lineup_has_a_row():
    # The chat lineup of the course date: every gpt-5.1-or-later / gpt-6 name the SDK lists that
    # is neither a dated snapshot, a -chat-latest alias, a codex/pro variant nor shut down.
    lineup = {n for n in SDK_NAMES if re.fullmatch(r"gpt-(5\.[1-9]|6(\.\d)?)(-[a-z]+)?", n)}
    lineup = {n for n in lineup if not re.search(r"-(chat|codex|pro|mini-\d|latest)", n)}
    lineup = {n for n in lineup if SHUTDOWNS.get(n, "9999") > AS_OF and n != "gpt-5.1-mini"}
    missing = lineup - set(MODELS)
    assert not missing


@pytest.mark.parametrize("name", sorted(MODELS))
def test_encoding_is_tiktokens_or_marked_assumed(name):
    m = MODELS[name]
    try:
        mapped = tiktoken.encoding_name_for_model(name)
    except KeyError:
        mapped = None
    if mapped is None:
        assert m.encoding_assumed and m.encoding == "o200k_base"
    else:
        assert not m.encoding_assumed and m.encoding == mapped


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_row_is_dated_sourced_and_consistent(name):
    m = MODELS[name]
    assert m.as_of == AS_OF and m.source.startswith("https://") and m.docs.startswith("https://")
    assert m.input_price > 0 and m.output_price > 0
    if m.cached_input_price is not None:
        assert 0 < m.cached_input_price < m.input_price  # caching is a discount
    if m.cache_write_price is not None:
        assert m.cache_write_price == pytest.approx(1.25 * m.input_price)  # the pages' rule
    assert 0 < m.max_output_tokens < m.context_window
    rules = m.rules
    assert all(e in EFFORTS for e in rules.efforts)
    assert (rules.default_effort in rules.efforts) if rules.reasoning else rules.default_effort is None
    assert rules.sampling in ("always", "effort_none", "never") and rules.tools in (
        "yes",
        "effort_none",
        "responses_only",
    )
    assert (rules.sampling == "effort_none") == (rules.reasoning and "none" in rules.efforts)
    assert (rules.sampling == "always") == (not rules.reasoning)


def test_the_lineup_facts_the_course_teaches():
    luna = MODELS["gpt-6-luna"]
    assert luna.rules.efforts == ("none", "low", "medium", "high", "xhigh", "max")
    assert luna.rules.default_effort == "medium" and luna.rules.tools == "effort_none"
    assert luna.accepts_sampling("none") and not luna.accepts_sampling(None) and not luna.accepts_sampling("low")
    assert "none" not in MODELS["gpt-6-astra"].rules.efforts and not MODELS["gpt-6.1-sol"].accepts_sampling("low")
    assert MODELS["gpt-6.1-terra"].rules.tools == "responses_only"
    assert luna.long_context.threshold == 272_000


def test_retired_models_are_history_rows():
    retired = {n for n, m in MODELS.items() if m.retired}
    assert retired == {"gpt-3.5-turbo", "gpt-4.1-nano", "o1", "o3-mini", "o4-mini"}
    assert not set(current_models()) & retired
    assert model_info("o1").input_price == 15.00  # the seed lecture's notes had 2.00


def test_default_model_is_the_cheapest_current_general_model():
    m = MODELS[DEFAULT_MODEL]
    assert DEFAULT_MODEL in lesson_models()
    for name in lesson_models():
        other = MODELS[name]
        assert (m.input_price, m.output_price) <= (other.input_price, other.output_price), name


def test_lesson_models_are_served_until_the_horizon():
    for name in lesson_models():
        assert SHUTDOWNS.get(name, "9999-12-31") > HORIZON


LESSON_CALL = re.compile(r"""model\s*=\s*["']([\w.-]+)["']""")


@pytest.mark.parametrize("path", sorted((ROOT / "notebooks").glob("*.ipynb")), ids=lambda p: p.name)
def test_lessons_call_only_models_served_until_the_horizon(path):
    nb = json.loads(path.read_text())
    called = set()
    for cell in nb["cells"]:
        source = "".join(cell["source"])
        # A cell that shows the 404 of a shut-down model on purpose catches NotFoundError.
        if cell["cell_type"] == "code" and "NotFoundError" not in source:
            called |= set(LESSON_CALL.findall(source))
    bad = {name for name in called if SHUTDOWNS.get(name, "9999-12-31") <= HORIZON}
    bad |= {name for name in called if name in MODELS and name not in lesson_models()}
    assert not bad, f"{path.name} calls models shut down before {HORIZON}: {sorted(bad)}"


@pytest.mark.parametrize(
    "snapshot,family",
    [
        ("gpt-4o-mini-2024-07-18", "gpt-4o-mini"),  # longest prefix wins: not gpt-4o
        ("gpt-5.4-mini-2026-03-17", "gpt-5.4-mini"),
        ("gpt-5-nano-2025-08-07", "gpt-5-nano"),
        ("gpt-6-luna-2026-09-22", "gpt-6-luna"),
    ],
)
def test_dated_snapshot_maps_to_its_family(snapshot, family):
    assert model_info(snapshot) is MODELS[family]


@pytest.mark.parametrize("name", ["gpt-4", "gpt-6", "gpt-6-luna-fast", "GPT-6-LUNA", ""])
def test_unknown_model_raises_listing_the_known_ones(name):
    with pytest.raises(UnknownModelError) as info:
        model_info(name)
    message = str(info.value)
    assert repr(name) in message and "helpers/models.py" in message
    assert isinstance(info.value, KeyError) and not message.startswith(("'", '"'))


def test_model_info_rejects_a_non_string_with_a_clear_error():
    with pytest.raises(TypeError, match="model name"):
        model_info(None)
