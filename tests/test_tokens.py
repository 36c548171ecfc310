"""Token counting: tiktoken's encodings, and the chat overhead the API bills."""

import pytest
import tiktoken

from helpers import OfflineAPI, count_message_tokens, count_tokens, encoding_for, offline_client

KOREAN = "아버지가 방에 들어가신다."
MIXED = "아버지가 방에 들어가신다. The quick brown fox jumps over the lazy dog! 토큰은 모델이 읽는 조각입니다."


@pytest.mark.parametrize("model,encoding", [
    ("gpt-4.1", "o200k_base"),
    ("gpt-4o", "o200k_base"),
    ("gpt-4o-mini", "o200k_base"),
    ("o1", "o200k_base"),
    ("gpt-4o-2024-08-06", "o200k_base"),  # snapshots resolve through tiktoken's prefixes
    ("gpt-3.5-turbo", "cl100k_base"),
    ("gpt-4", "cl100k_base"),
])
def test_encoding_follows_tiktokens_model_map(model, encoding):
    assert encoding_for(model).name == tiktoken.encoding_for_model(model).name == encoding


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


def by_rule(messages, model):
    """The billing rule written out: 3 per message, its values, +1 per name, +3 priming."""
    enc = tiktoken.encoding_for_model(model)
    total = 3
    for m in messages:
        total += 3 + sum(len(enc.encode(v)) for v in m.values() if isinstance(v, str))
        total += 1 if "name" in m else 0
    return total


def test_single_message_anchor():
    # 3 (message) + 1 ("user") + 10 (content) + 3 (reply priming)
    assert count_message_tokens([{"role": "user", "content": KOREAN}], "gpt-4o") == 17


def test_name_costs_its_tokens_plus_one():
    plain = [{"role": "user", "content": "hi"}]
    named = [{"role": "user", "content": "hi", "name": "alice"}]
    extra = count_message_tokens(named, "gpt-4o") - count_message_tokens(plain, "gpt-4o")
    assert extra == count_tokens("alice", "gpt-4o") + 1


def test_content_none_is_skipped():
    messages = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": None}]
    assistant_turn = 3 + count_tokens("assistant", "gpt-4o")  # the role only
    assert count_message_tokens(messages, "gpt-4o") == by_rule(messages[:1], "gpt-4o") + assistant_turn


CONVERSATIONS = {
    "korean": [{"role": "system", "content": "너는 친절한 한국어 튜터야."},
               {"role": "user", "content": KOREAN}],
    "english": [{"role": "system", "content": "You are a helpful tutor."},
                {"role": "user", "content": "What is a token?"},
                {"role": "assistant", "content": "A piece of text."},
                {"role": "user", "content": "And temperature?"}],
    "with_name": [{"role": "user", "content": "My name is Alice", "name": "alice"},
                  {"role": "user", "content": "What's my name?", "name": "alice"}],
    "mixed": [{"role": "developer", "content": MIXED}, {"role": "user", "content": MIXED * 3}],
}


@pytest.mark.parametrize("model", ["gpt-3.5-turbo", "gpt-4o-mini", "o4-mini"])
@pytest.mark.parametrize("case", sorted(CONVERSATIONS))
def test_message_count_is_the_rule_and_equals_usage_prompt_tokens(case, model):
    messages = CONVERSATIONS[case]
    expected = count_message_tokens(messages, model)
    assert expected == by_rule(messages, model)
    response = offline_client(OfflineAPI()).chat.completions.create(model=model, messages=messages)
    assert response.usage.prompt_tokens == expected
