"""Wire format: a chat.completion JSON body, or its server-sent events, and logprobs.

Each reply is encoded once (``Choice.tokens``); the stream cuts those tokens into pieces of a
few tokens without re-encoding and never splits a UTF-8 character. The replies come from a few
templates, so the content chunks of a reply are kept once encoded (``_content_chunks``): each
request then only adds its own id and time in front."""

from __future__ import annotations

import codecs
import functools
import json
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import tiktoken

from .errors import simulated_error

# Built once: json.dumps(obj, **options) builds a new encoder on every call.
_COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode  # JSON bodies
_EVENT = json.JSONEncoder(ensure_ascii=False).encode  # stream chunks, spaced as the API sends them


@dataclass(slots=True)
class Choice:
    index: int
    text: str | None  # visible content; None when the choice calls tools
    tokens: Sequence[int]  # the visible reply's tokens (for tool calls: the calls' tokens)
    reasoning_tokens: int
    finish_reason: str
    overhead: int = 0  # completion tokens reported beyond reasoning + visible
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    refusal: str | None = None  # a declined request: the refusal's text (then text is None)

    @property
    def completion_tokens(self) -> int:
        return len(self.tokens) + self.reasoning_tokens + self.overhead


def _logprob(position: int, token: int) -> float:
    """A made-up but deterministic log-probability in [-0.35, 0]: the offline model is sure."""
    return -round((zlib.crc32(f"{position}:{token}".encode()) % 1000) / 1000 * 0.35, 6)


def _entry(enc: tiktoken.Encoding, token: int, logprob: float) -> dict[str, Any]:
    raw = enc.decode_single_token_bytes(token)
    return {"token": raw.decode("utf-8", errors="replace"), "logprob": logprob, "bytes": list(raw)}


def logprobs(enc: tiktoken.Encoding, tokens: Sequence[int], start: int, top: int) -> list[dict[str, Any]]:
    """The logprobs entries of ``tokens`` (positions from ``start``), each with ``top`` alternatives:
    the chosen token first, then other tokens with lower, decreasing log-probabilities."""
    out = []
    for offset, token in enumerate(tokens):
        position = start + offset
        chosen = _logprob(position, token)
        entry = _entry(enc, token, chosen)
        alternatives = [_entry(enc, token, chosen)] if top else []
        step = 1
        while len(alternatives) < top:
            other = (token * 31 + step * 7919) % 100_000
            step += 1
            if other == token:
                continue
            try:
                alternatives.append(_entry(enc, other, round(chosen - 2.0 - 0.75 * len(alternatives), 6)))
            except KeyError:  # a gap in the vocabulary
                continue
        entry["top_logprobs"] = alternatives
        out.append(entry)
    return out


def completion(
    head: dict[str, Any], choices: list[Choice], usage: dict[str, Any], enc: tiktoken.Encoding, top_logprobs: int | None
) -> dict[str, Any]:
    """The body of a plain (not streamed) response. ``top_logprobs`` None: no logprobs asked."""
    out = []
    for c in choices:
        lp = None
        if top_logprobs is not None:
            tokens_lp = logprobs(enc, c.tokens, 0, top_logprobs) if c.text or c.refusal else None
            lp = {"content": tokens_lp if c.text else None, "refusal": tokens_lp if c.refusal else None}
        out.append(_choice(c.index, c.text, c.refusal, c.finish_reason, c.tool_calls, lp))
    return {**head, "object": "chat.completion", "usage": usage, "choices": out}


def _choice(
    index: int, text: str | None, refusal: str | None, finish: str, tool_calls: list[Any] | None = None, lp: Any = None
) -> dict[str, Any]:
    """One choice of a plain response."""
    message: dict[str, Any] = {"role": "assistant", "content": text, "refusal": refusal, "annotations": []}
    if tool_calls:
        message["tool_calls"] = tool_calls
    return {"index": index, "logprobs": lp, "finish_reason": finish, "message": message}


def encode(body: Any) -> bytes:
    """A JSON body as the API sends it: compact, UTF-8, no NaN."""
    return _COMPACT(body).encode()


def usage(prompt: int, completion: int, reasoning: int) -> dict[str, Any]:
    """A reply's usage object, as the API sends it (reasoning tokens are part of completion)."""
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": reasoning,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


@functools.lru_cache(maxsize=1024)
def _usage_json(prompt: int, completion: int, reasoning: int) -> bytes:
    return encode(usage(prompt, completion, reasoning))  # the same counts come back often


def completion_json(
    head: dict[str, Any],
    choices: list[Choice],
    counts: tuple[int, int, int],
    enc: tiktoken.Encoding,
    top_logprobs: int | None,
) -> bytes:
    """``encode(completion(head, choices, usage(*counts), ...))``, with a text reply's choice and its
    usage kept encoded (the replies come from a few templates, the counts recur): only the head of
    each request is encoded anew."""
    if top_logprobs is not None or any(c.tool_calls for c in choices):
        return encode(completion(head, choices, usage(*counts), enc, top_logprobs))
    listed = b",".join([_text_choice(c.index, c.text, c.refusal, c.finish_reason) for c in choices])
    start = encode({**head, "object": "chat.completion"})[:-1]
    return b"".join((start, b',"usage":', _usage_json(*counts), b',"choices":[', listed, b"]}"))


@functools.lru_cache(maxsize=256)
def _text_choice(index: int, text: str | None, refusal: str | None, finish_reason: str) -> bytes:
    return encode(_choice(index, text, refusal, finish_reason))


def pieces(enc: tiktoken.Encoding, tokens: Sequence[int], per_chunk: int) -> Iterator[tuple[str, int, int]]:
    """(text, first token, end token) pieces of a few tokens, never splitting a UTF-8 character:
    a piece that would end inside a character waits for the next tokens."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    begin = 0
    for start in range(0, len(tokens), per_chunk):
        end = min(start + per_chunk, len(tokens))
        text = decoder.decode(enc.decode_bytes(tokens[start:end]), final=end == len(tokens))
        if text:
            yield text, begin, end
            begin = end


def events(
    head: dict[str, Any],
    choices: list[Choice],
    usage: dict[str, Any] | None,
    enc: tiktoken.Encoding,
    per_chunk: int,
    top_logprobs: int | None,
    stream_error: bool = False,
) -> Iterator[tuple[bytes, bool]]:
    """The server-sent events of a streamed response, ending with ``data: [DONE]``, each with
    whether it carries content (the caller paces those)."""
    extra = {"usage": None} if usage is not None else {}
    # What every chunk repeats is encoded once: `data: {"id": ..., "choices": [` + the choice + `]}`.
    fixed = _EVENT({**head, "object": "chat.completion.chunk", **extra})
    prefix = ("data: " + fixed[:-1] + ', "choices": [').encode()

    for c in choices:
        first = {"role": "assistant", "content": "" if c.text is not None else None, "refusal": None}
        yield prefix + _suffix(c.index, first), False
        if c.tool_calls:
            middle: Sequence[bytes] = [_suffix(c.index, delta) for delta in _tool_call_deltas(c.tool_calls)]
        elif c.refusal is not None:  # a refusal streams as refusal deltas, content stays null
            middle = [_suffix(c.index, {"refusal": text}) for text, _, _ in pieces(enc, c.tokens, per_chunk)]
        elif top_logprobs is None:  # the usual stream: its chunks are kept, only the prefix is new
            middle = _content_chunks(enc, tuple(c.tokens), per_chunk, c.index)
        else:
            middle = [
                _suffix(
                    c.index,
                    {"content": text},
                    None,
                    {"content": logprobs(enc, c.tokens[begin:end], begin, top_logprobs), "refusal": None},
                )
                for text, begin, end in pieces(enc, c.tokens, per_chunk)
            ]
        # A simulated failure breaks off half way, or at once when there is nothing to send
        # (e.g. a reasoning model cut by max_completion_tokens): it is never lost.
        for part in middle[: len(middle) // 2 if stream_error else None]:
            yield prefix + part, True
        if stream_error:
            yield f"data: {json.dumps(simulated_error('server_error').body)}\n\n".encode(), False
            return
        yield prefix + _suffix(c.index, {}, c.finish_reason), False
    if usage is not None:
        data = {**head, "object": "chat.completion.chunk", "choices": [], "usage": usage}
        yield f"data: {json.dumps(data)}\n\n".encode(), False
    yield b"data: [DONE]\n\n", False


def _suffix(index: int, delta: dict[str, Any], finish: str | None = None, lp: Any = None) -> bytes:
    """What follows a chunk's prefix: its one choice and the closing brackets."""
    choice = {"index": index, "delta": delta, "logprobs": lp, "finish_reason": finish}
    return (_EVENT(choice) + "]}\n\n").encode()


@functools.lru_cache(maxsize=256)
def _content_chunks(enc: tiktoken.Encoding, tokens: tuple[int, ...], per_chunk: int, index: int) -> tuple[bytes, ...]:
    """The content chunks of one reply, each without the prefix its request puts in front."""
    return tuple(_suffix(index, {"content": text}) for text, _, _ in pieces(enc, tokens, per_chunk))


def _tool_call_deltas(calls: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Tool calls as the API streams them: the first delta of a call has its index, id, type and
    name with empty arguments; the next ones carry pieces of the arguments under the same index."""
    for index, call in enumerate(calls):
        fn = call["function"]
        yield (
            {
                "tool_calls": [
                    {
                        "index": index,
                        "id": call["id"],
                        "type": "function",
                        "function": {"name": fn["name"], "arguments": ""},
                    }
                ]
            }
        )
        args = fn["arguments"]
        for start in range(0, len(args), 12):
            yield {"tool_calls": [{"index": index, "function": {"arguments": args[start : start + 12]}}]}
