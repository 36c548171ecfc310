"""Counting tokens with tiktoken, the way the API bills them.

tiktoken downloads its encoding files on first use. Offline, point
``TIKTOKEN_CACHE_DIR`` at a folder that already holds them (see README.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache

import tiktoken

# Chat formatting overhead, as the API counts it for current chat models:
# every message costs 3 tokens around its fields, a `name` costs 1 more,
# and the reply is primed with 3 tokens (<|start|>assistant<|message|>).
TOKENS_PER_MESSAGE = 3
TOKENS_PER_NAME = 1
REPLY_PRIMING_TOKENS = 3


@cache
def encoding_for(model: str, fallback: str | None = None) -> tiktoken.Encoding:
    """The tokenizer tiktoken uses for ``model`` (e.g. gpt-4o -> o200k_base).

    An unknown model raises KeyError, unless ``fallback`` names an encoding to use
    instead (e.g. ``fallback="o200k_base"``)."""
    try:
        return tiktoken.encoding_for_model(model)
    except KeyError:
        if fallback is None:
            raise KeyError(
                f"tiktoken does not know the model {model!r}. Pass fallback='o200k_base' "
                "(current models) or 'cl100k_base' (gpt-3.5/gpt-4) to count anyway."
            ) from None
        return tiktoken.get_encoding(fallback)


def count_tokens(text: str, model: str, fallback: str | None = None) -> int:
    """Number of tokens ``text`` becomes for ``model``."""
    # encode_ordinary skips the special-token check: user text is never a control token.
    return len(encoding_for(model, fallback).encode_ordinary(text))


def count_message_tokens(
    messages: Iterable[Mapping[str, object]], model: str, fallback: str | None = None
) -> int:
    """Prompt tokens a list of chat messages costs: equals ``usage.prompt_tokens``
    for plain text messages."""
    enc = encoding_for(model, fallback)
    total = REPLY_PRIMING_TOKENS
    for message in messages:
        total += TOKENS_PER_MESSAGE
        for key, value in message.items():
            if not isinstance(value, str):
                continue  # e.g. content=None on an assistant message
            total += len(enc.encode_ordinary(value))
            if key == "name":
                total += TOKENS_PER_NAME
    return total
