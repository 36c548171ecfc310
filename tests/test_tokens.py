"""Token counting: tiktoken's encodings, and the chat overhead the API bills."""

import pytest
import tiktoken

from helpers import OfflineAPI, count_message_tokens, count_tokens, encoding_for, offline_client

KOREAN = "아버지가 방에 들어가신다."
MIXED = "아버지가 방에 들어가신다. The quick brown fox jumps over the lazy dog! 토큰은 모델이 읽는 조각입니다."


@pytest.mark.parametrize(
    "model,encoding",
    [
        ("gpt-4.1", "o200k_base"),
        ("gpt-4o", "o200k_base"),
        ("gpt-5.6-sol", "o200k_base"),  # tiktoken's "gpt-5" prefix covers the gpt-5.x names
        ("o1", "o200k_base"),
        ("gpt-4o-2024-08-06", "o200k_base"),  # snapshots resolve through tiktoken's prefixes
        ("gpt-3.5-turbo", "cl100k_base"),
        ("gpt-4", "cl100k_base"),
    ],
)
def test_encoding_follows_tiktokens_model_map(model, encoding):
    assert encoding_for(model).name == tiktoken.encoding_for_model(model).name == encoding


def test_gpt6_uses_the_tables_assumed_encoding_where_tiktoken_maps_none():
    with pytest.raises(KeyError):
        tiktoken.encoding_for_model("gpt-6-luna")
    assert encoding_for("gpt-6-luna").name == "o200k_base"
    assert count_tokens(MIXED, "gpt-6-luna") == count_tokens(MIXED, "gpt-4o")


def test_bad_arguments_raise_clear_type_errors():
    with pytest.raises(TypeError, match="model name"):
        count_tokens("hi", None)
    with pytest.raises(TypeError, match="text must be a str"):
        count_tokens(None, "gpt-6-luna")
    with pytest.raises(TypeError, match="dict"):
        count_message_tokens(["hi"], "gpt-6-luna")


def test_encoding_is_cached():
    assert encoding_for("gpt-4o") is encoding_for("gpt-4o")


def test_unknown_model_raises_a_helpful_key_error():
    with pytest.raises(KeyError) as info:
        encoding_for("my-local-llama")
    message = str(info.value)
    assert "my-local-llama" in message and "fallback=" in message
    with pytest.raises(KeyError):
        count_tokens("hi", "my-local-llama")  # no silent guess
    with pytest.raises(KeyError):
        count_message_tokens([{"role": "user", "content": "hi"}], "my-local-llama")


def test_fallback_is_used_only_when_asked_and_only_for_unknown_models():
    assert encoding_for("my-local-llama", fallback="cl100k_base").name == "cl100k_base"
    assert count_tokens(MIXED, "my-local-llama", fallback="o200k_base") == count_tokens(MIXED, "gpt-4o")
    # A known model keeps its own encoding whatever the fallback says.
    assert encoding_for("gpt-3.5-turbo", fallback="o200k_base").name == "cl100k_base"


def test_lecture_anchor_korean_sentence():
    # The lecture's example: the newer tokenizer needs fewer tokens for Korean.
    assert count_tokens(KOREAN, "gpt-3.5-turbo") == 13
    assert count_tokens(KOREAN, "gpt-4o") == 10


@pytest.mark.parametrize("model", ["gpt-3.5-turbo", "gpt-4o", "gpt-4.1-mini"])
def test_count_tokens_equals_tiktoken(model):
    assert count_tokens(MIXED, model) == len(tiktoken.encoding_for_model(model).encode(MIXED))
    assert count_tokens("", model) == 0


def test_special_token_text_is_counted_as_ordinary_text():
    text = "a user typed <|endoftext|> here"
    enc = tiktoken.encoding_for_model("gpt-4o")
    with pytest.raises(ValueError):
        enc.encode(text)  # what a naive counter would hit
    assert count_tokens(text, "gpt-4o") == len(enc.encode(text, disallowed_special=()))
    assert count_tokens(text, "gpt-4o") > count_tokens("a user typed  here", "gpt-4o") + 1


def test_single_message_anchors():
    # 3 (message) + 1 ("user") + 10 (content) + 3 (reply priming) on gpt-4o;
    # reasoning models prime the reply with 2 (recorded traffic, tests/test_realtraffic.py).
    message = [{"role": "user", "content": KOREAN}]
    assert count_message_tokens(message, "gpt-4o") == 17
    assert count_message_tokens(message, "gpt-6-luna") == 16
    assert count_message_tokens(message, "gpt-3.5-turbo") == 3 + 1 + 13 + 3


def cookbook_count(messages, model):
    """The OpenAI Cookbook's num_tokens_from_messages, written out independently of helpers."""
    enc = tiktoken.encoding_for_model(model)
    total = 3  # every reply is primed with <|start|>assistant<|message|>
    for message in messages:
        total += 3
        for key, value in message.items():
            total += len(enc.encode(value))
            if key == "name":
                total += 1
    return total


def test_a_name_costs_one_token_on_cl100k_as_the_cookbook_says():
    plain = [{"role": "user", "content": "hi"}]
    named = [{"role": "user", "content": "hi", "name": "alice"}]
    added = count_message_tokens(named, "gpt-3.5-turbo") - count_message_tokens(plain, "gpt-3.5-turbo")
    assert added == count_tokens("alice", "gpt-3.5-turbo") + 1
    assert count_message_tokens(named, "gpt-3.5-turbo") == cookbook_count(named, "gpt-3.5-turbo")


@pytest.mark.parametrize("named", [1, 2, 3, 4])
def test_gpt4o_names_cost_the_cookbooks_rule_minus_one_once_per_request(named):
    # Recorded gpt-4o traffic (shared/realtraffic/README.md, corrected 2026-12): with 1 to 4 named
    # messages the prompt is the cookbook's count (+1 a name) minus 1, once per request (14 of 14).
    speakers = ["alice", "bob", "chae", "dana"]
    messages = [{"role": "system", "content": "A study group."}]
    messages += [{"role": "user", "content": f"Hi, I am {s}.", "name": s} for s in speakers[:named]]
    messages += [{"role": "user", "content": "What is a token?"}]
    assert count_message_tokens(messages, "gpt-4o") == cookbook_count(messages, "gpt-4o") - 1
    unnamed = [{k: v for k, v in m.items() if k != "name"} for m in messages]
    assert count_message_tokens(unnamed, "gpt-4o") == cookbook_count(unnamed, "gpt-4o")  # no name: no discount


def test_an_assistant_turn_costs_two_more_on_the_gpt5_families():
    turn = [{"role": "assistant", "content": "ok"}]
    user = [{"role": "user", "content": "ok"}]
    role_gap = count_tokens("assistant", "gpt-4o") - count_tokens("user", "gpt-4o")
    for model, extra in (("gpt-4o", 0), ("gpt-5-mini", 2), ("gpt-6-luna", 2)):
        assert count_message_tokens(turn, model) - count_message_tokens(user, model) == role_gap + extra


def test_content_none_is_skipped_and_text_parts_are_joined():
    messages = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": None}]
    assert count_message_tokens(messages, "gpt-4o") == count_message_tokens(messages[:1], "gpt-4o") + 3 + 1
    parts = [{"role": "user", "content": [{"type": "text", "text": "Hello "}, {"type": "text", "text": "zebra"}]}]
    joined = [{"role": "user", "content": "Hello zebra"}]
    assert count_message_tokens(parts, "gpt-4o") == count_message_tokens(joined, "gpt-4o")
    image = [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://x"}}]}]
    with pytest.raises(ValueError, match="image_url"):
        count_message_tokens(image, "gpt-4o")


@pytest.mark.parametrize("model", ["gpt-4o", "gpt-5-mini", "gpt-6-luna"])
def test_offline_usage_equals_the_estimate(model):
    messages = [
        {"role": "system", "content": "You are a helpful tutor."},
        {"role": "user", "content": "What is a token?"},
        {"role": "assistant", "content": "A piece of text."},
        {"role": "user", "content": KOREAN},
    ]
    response = offline_client(OfflineAPI()).chat.completions.create(model=model, messages=messages)
    assert response.usage.prompt_tokens == count_message_tokens(messages, model)
