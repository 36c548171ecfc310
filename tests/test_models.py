"""The model table: lookups by name and snapshot, and the facts every row must carry."""

import datetime

import pytest

from helpers import DEFAULT_MODEL, MODELS, UnknownModelError, model_info


@pytest.mark.parametrize("name", sorted(MODELS))
def test_exact_name_returns_its_own_row(name):
    assert model_info(name) is MODELS[name]
    assert MODELS[name].name == name


@pytest.mark.parametrize("snapshot,family", [
    ("gpt-4o-mini-2024-07-18", "gpt-4o-mini"),  # longest prefix wins: not gpt-4o
    ("gpt-4o-2024-08-06", "gpt-4o"),
    ("gpt-4.1-mini-2025-04-14", "gpt-4.1-mini"),
    ("gpt-4.1-2025-04-14", "gpt-4.1"),
    ("gpt-3.5-turbo-0125", "gpt-3.5-turbo"),
    ("o1-2024-12-17", "o1"),
    ("o4-mini-2025-04-16", "o4-mini"),
    ("gpt-5-nano-2025-08-07", "gpt-5-nano"),
])
def test_dated_snapshot_maps_to_its_family(snapshot, family):
    assert model_info(snapshot) is MODELS[family]


@pytest.mark.parametrize("name", [
    "gpt-4",  # a prefix of gpt-4o, but a different model
    "o3-mini",  # o3 followed by a word, not a date: another model
    "gpt-4o-mini-tts",
    "gpt-4o-",
    "GPT-4O",
    "",
])
def test_unknown_model_raises_listing_the_known_ones(name):
    with pytest.raises(UnknownModelError) as info:
        model_info(name)
    message = str(info.value)
    assert repr(name) in message
    assert all(known in message for known in MODELS)
    assert "helpers/models.py" in message  # says how to add one
    assert isinstance(info.value, KeyError)  # callers may catch KeyError
    assert not message.startswith(("'", '"'))  # not KeyError's quoted repr


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_row_has_a_dated_sourced_price(name):
    m = MODELS[name]
    checked = datetime.date.fromisoformat(m.as_of)
    assert datetime.date(2023, 1, 1) <= checked <= datetime.date.today()
    assert m.source.startswith("https://")
    assert m.input_price > 0 and m.output_price > 0
    if m.cached_input_price is not None:
        assert 0 < m.cached_input_price < m.input_price  # caching is a discount
    assert 0 < m.max_output_tokens < m.context_window


def test_reasoning_flag_matches_the_model_families():
    reasoning = {name for name, m in MODELS.items() if m.reasoning}
    assert reasoning == {n for n in MODELS if n.startswith(("o1", "o3", "o4", "gpt-5"))}


def test_default_model_is_a_cheap_non_reasoning_row():
    assert DEFAULT_MODEL in MODELS
    assert not MODELS[DEFAULT_MODEL].reasoning  # lessons pass temperature and max_tokens
