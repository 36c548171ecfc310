"""Counting tokens with tiktoken, and estimating what a list of messages costs.

tiktoken downloads its encoding files on first use; the course ships the two it needs
(o200k_base, cl100k_base) in ``helpers/_encodings``, so counting works without internet.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache, lru_cache

import tiktoken

from . import _encodings
from .models import Rules, UnknownModelError, model_info

_encodings.register()  # tiktoken.get_encoding and encoding_for_model now need no download

# The cookbook's chat overhead: every message costs 3 tokens around its fields, and the
# reply is primed with 3 more (<|start|>assistant<|message|>). Recorded traffic refines it
# per model family (helpers.models.Rules): reasoning models from o3-mini on prime with 2,
# on gpt-4o a request with names costs one token less than the cookbook's +1 per name, and
# on gpt-5 and later each assistant turn in the history costs 2 more.
TOKENS_PER_MESSAGE = 3
COOKBOOK = Rules()


def _check_model(model: object) -> None:
    if not isinstance(model, str):
        raise TypeError(f"model must be a model name such as 'gpt-6-luna', not {type(model).__name__}")


@cache
def encoding_for(model: str, fallback: str | None = None) -> tiktoken.Encoding:
    """The tokenizer for ``model`` (e.g. gpt-4o -> o200k_base).

    tiktoken's own mapping comes first; for a course model tiktoken does not map yet
    (the gpt-6 family) the table's assumed encoding is used. Any other unknown model
    raises KeyError, unless ``fallback`` names an encoding (e.g. ``fallback="o200k_base"``)."""
    _check_model(model)
    try:
        return tiktoken.encoding_for_model(model)
    except KeyError:
        pass
    try:
        return tiktoken.get_encoding(model_info(model).encoding)
    except UnknownModelError:
        if fallback is None:
            raise KeyError(
                f"tiktoken does not know the model {model!r}. Pass fallback='o200k_base' "
                "(current models) or 'cl100k_base' (gpt-3.5/gpt-4) to count anyway."
            ) from None
        return tiktoken.get_encoding(fallback)


def count_tokens(text: str, model: str, fallback: str | None = None) -> int:
    """Number of tokens ``text`` becomes for ``model``."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, not {type(text).__name__}")
    # encode_ordinary skips the special-token check: user text is never a control token.
    return len(encoding_for(model, fallback).encode_ordinary(text))


@lru_cache(maxsize=4096)
def _remembered(encoding: tiktoken.Encoding, text: str) -> int:
    """Tokens in one message field. A chat sends its whole history again on every turn, so the
    fields of earlier turns are remembered (up to _REMEMBER_UP_TO characters)."""
    return len(encoding.encode_ordinary(text))


_REMEMBER_UP_TO = 4000  # characters: a longer field is counted every time, not kept


def content_text(content: object) -> str:
    """The text of a message's ``content``: a string, or the text parts of a list joined
    (as the API counts them). Other parts (images, audio, files) raise ValueError."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for part in content:
            if not (isinstance(part, Mapping) and part.get("type") == "text" and isinstance(part.get("text"), str)):
                kind = part.get("type") if isinstance(part, Mapping) else type(part).__name__
                raise ValueError(f"cannot count a {kind!r} content part: only text parts are counted here")
            texts.append(part["text"])
        return "".join(texts)
    raise TypeError(f"content must be a str or a list of content parts, not {type(content).__name__}")


def rules_for(model: str) -> Rules:
    """The counting rules of ``model``'s family (the cookbook's for a model outside the table)."""
    try:
        return model_info(model).rules
    except UnknownModelError:
        return COOKBOOK


def count_message_tokens(messages: Iterable[Mapping[str, object]], model: str, fallback: str | None = None) -> int:
    """Estimated ``usage.prompt_tokens`` for a list of chat messages.

    The rule: 3 per message + the tokens of each string field (role, content, name) +
    the family's name and assistant-turn costs (helpers.models.Rules) + the reply priming
    (3, or 2 for reasoning models). Checked
    against recorded API traffic (tests/test_realtraffic.py); tools, images and
    ``response_format`` schemas add tokens this rule leaves out."""
    enc = encoding_for(model, fallback)
    rules = rules_for(model)
    total = rules.reply_priming
    named = False
    for message in messages:
        if type(message) is not dict and not isinstance(message, Mapping):
            raise TypeError(f"each message must be a dict with 'role' and 'content', not {type(message).__name__}")
        total += TOKENS_PER_MESSAGE
        for key, value in message.items():
            if key == "content" and not isinstance(value, str):
                value = content_text(value)
            if not isinstance(value, str):
                continue  # e.g. tool_calls, which this rule does not count
            total += _remembered(enc, value) if len(value) <= _REMEMBER_UP_TO else len(enc.encode_ordinary(value))
            if key == "name":
                total += rules.name_tokens
                named = True
        if message.get("role") == "assistant":
            total += rules.assistant_tokens
    return total + (rules.named_request_tokens if named else 0)
