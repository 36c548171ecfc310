"""The bookkeeping behind ``helpers.chat.Conversation``: a turn is kept only when it completes.

Each turn holds a token (``Turn``): only the stream that started a turn can commit it. A
stream left open (neither read to the end nor closed) when the next turn starts is stopped: it
never adds to, or removes from, the later history. A ``Conversation`` can be shared between
threads: a turn started while another thread's turn is running waits for it to end (a stream
another thread left open blocks it until that thread ends or closes the stream). A reply that
is not a chat completion (a web page, a broken event stream, an empty reply, a tool call) fails
the turn with a ``ChatError`` that says what happened and what to do.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx2
import openai
import pydantic

# Parameters a Conversation sets itself, and why a caller cannot.
RESERVED_PARAMS = {
    "model": "pass model=... to Conversation, or set conversation.model",
    "messages": "the conversation sends its own history",
    "stream": "call conversation.stream(text) for a streamed reply, conversation.send(text) for a whole one",
    "stream_options": "conversation.stream asks for the usage itself",
}


class ChatError(RuntimeError):
    """A turn failed for a reason other than an API error (a reply that is not a chat
    completion, an empty reply, a stream left open...). The turn was not kept."""


@dataclass
class Interrupted:
    """A turn that did not complete: what was asked and what had arrived."""

    user: str
    partial_reply: str
    error: BaseException


@dataclass(eq=False)
class Turn:
    """One turn in progress: the token that alone may commit it."""

    user: str
    base: list[dict[str, Any]]  # the history this turn was sent with
    thread: threading.Thread
    pieces: list[str] = field(default_factory=list)
    source: Any = None  # the open HTTP stream, to release it if the turn is abandoned
    finished: bool = False  # committed, failed or superseded: nothing more may change


def check_params(params: Mapping[str, Any], where: str = "params") -> None:
    """Refuse parameters that would break the history (a ValueError saying what to do)."""
    for name, why in RESERVED_PARAMS.items():
        if name in params:
            raise ValueError(f"{where} has {name!r}, which a Conversation sets itself: {why}.")
    n = params.get("n")
    if n is not None and n != 1:
        raise ValueError(
            f"{where} has n={n!r}, but a Conversation keeps one reply per turn (n={n!r} would bill "
            f"{n!r} replies and keep one). To compare several replies, call "
            "client.chat.completions.create(n=...) yourself."
        )


def server_of(client: Any) -> str:
    """The client's base URL without credentials or query (safe to show)."""
    url = getattr(client, "base_url", None)
    try:
        url = httpx2.URL(str(url))
        port = f":{url.port}" if url.port else ""
        return f"{url.scheme}://{url.host}{port}{url.path}".rstrip("/")
    except Exception:  # not an SDK client (a test double): say so rather than guess
        return "the server"


def _snippet(text: str, secret: str | None, limit: int = 60) -> str:
    """The start of a body, on one line, with the client's key removed if it was echoed."""
    flat = " ".join(text.split())
    if secret:
        flat = flat.replace(secret, "[key]")
    return flat[:limit] + ("…" if len(flat) > limit else "")


def empty_reply_hint(finish_reason: Any) -> str:
    if finish_reason == "length":
        return (
            "it was cut at the token limit before any text (a reasoning model can spend the whole "
            "max_completion_tokens thinking): raise max_completion_tokens or lower reasoning_effort"
        )
    if finish_reason == "content_filter":
        return "the content filter withheld it: rephrase the message"
    return "try again, or rephrase the message"


class TurnKeeper:
    """The turn protocol of a Conversation: ``_begin``, then exactly one of ``_commit`` or
    ``_fail``. It uses the conversation's ``client``, ``messages``, ``interrupted``, ``usages``
    and its lock."""

    client: Any
    messages: list[dict[str, str]]
    interrupted: list[Interrupted]
    usages: list[Any]
    _lock: threading.RLock
    _idle: threading.Condition
    _active: Turn | None

    def _begin(self, text: str) -> Turn:
        me = threading.current_thread()
        with self._idle:
            # Another thread's turn: wait for it (unless that thread is gone and left it open).
            while self._active is not None and self._active.thread is not me and self._active.thread.is_alive():
                self._idle.wait(timeout=0.5)
            if self._active is not None:
                # Ours, so not running: a stream this thread left open. It must not touch this turn.
                self._abandon(self._active)
            turn = Turn(text, list(self.messages), me)
            self._active = turn
            return turn

    def _abandon(self, turn: Turn) -> None:
        turn.finished = True  # first: a finaliser running during what follows must see it
        self._active = None
        error = ChatError(
            "This stream was left open (neither read to the end nor closed) when the next turn "
            "started, so it was stopped and its reply was not kept. Read a stream to the end, "
            "or close it, before sending the next message."
        )
        self.interrupted.append(Interrupted(turn.user, "".join(turn.pieces), error))
        if hasattr(turn.source, "close"):
            try:
                turn.source.close()  # release the HTTP connection now
            except Exception:  # closing is a courtesy: it must never break the new turn
                pass

    def _commit(self, turn: Turn, reply: str, usage: Any) -> None:
        with self._idle:
            if usage is not None:
                self.usages.append(usage)
            if turn.finished:  # superseded by a later turn: recorded in `interrupted` then
                raise ChatError(
                    "This stream was stopped because a later turn started before it ended; its reply "
                    "was not kept. Read a stream to the end, or close it, before the next message."
                )
            turn.finished = True
            self._active = None
            self._idle.notify_all()
            if self.messages != turn.base:
                error = ChatError(
                    "The history changed while this reply was on its way (reset() or an edit of "
                    "messages), so the reply was not kept: send the message again."
                )
                self.interrupted.append(Interrupted(turn.user, reply, error))
                raise error
            self.messages.append({"role": "user", "content": turn.user})
            self.messages.append({"role": "assistant", "content": reply})

    def _fail(self, turn: Turn, error: BaseException, usage: Any = None) -> BaseException:
        """Record a failed turn; return the exception to raise (the original one, or a
        ChatError that explains it)."""
        shown = (
            error
            if isinstance(error, openai.APIError | ChatError) or not isinstance(error, Exception)
            else self._explain(error)
        )
        with self._idle:
            if usage is not None:
                self.usages.append(usage)
            if not turn.finished:
                turn.finished = True
                if self._active is turn:
                    self._active = None
                    self._idle.notify_all()
                self.interrupted.append(Interrupted(turn.user, "".join(turn.pieces), shown))
        return shown

    def _explain(self, error: Exception) -> ChatError:
        """A ChatError for a failure the SDK did not turn into an API error."""
        detail = f"{type(error).__name__}: {error}"
        if isinstance(error, json.JSONDecodeError | UnicodeDecodeError | pydantic.ValidationError | httpx2.HTTPError):
            return ChatError(
                f"The server at {server_of(self.client)} answered with something that is not a chat "
                f"completion ({detail}). Check OPENAI_BASE_URL: it should point at an "
                "OpenAI-compatible /v1 endpoint. This turn was not kept; send it again."
            )
        return ChatError(
            f"The turn failed ({detail}). It was not kept in the history; fix the cause and send the message again."
        )

    def _not_a_completion(self, what: str) -> ChatError:
        return ChatError(
            f"The server at {server_of(self.client)} answered with {what}, not a chat completion. "
            "Check OPENAI_BASE_URL (an OpenAI-compatible /v1 endpoint) and your network (a Wi-Fi "
            "login page answers like this). This turn was not kept; send it again."
        )

    def _read_reply(self, response: Any) -> str:
        """The text of a (non-streamed) response, or a ChatError saying what is wrong."""
        if isinstance(response, str):  # the SDK hands back the body as text when it is not JSON
            secret = getattr(self.client, "api_key", None)
            raise self._not_a_completion(
                f"a body that is not JSON (it starts {_snippet(response, secret)!r})"
                if response.strip()
                else "an empty body"
            )
        choices = getattr(response, "choices", None)
        if not isinstance(choices, list):
            raise self._not_a_completion("JSON without `choices`")
        if not choices:
            raise ChatError(
                f"The server at {server_of(self.client)} sent a response with no choices, so there is "
                "no reply. This turn was not kept; send it again."
            )
        choice = choices[0]
        message = getattr(choice, "message", None)
        if getattr(message, "tool_calls", None):
            raise self._tool_call_error()
        content = getattr(message, "content", None)
        refusal = getattr(message, "refusal", None)
        if content is None and isinstance(refusal, str) and refusal:
            content = refusal  # the model declined: that is its reply
        if not isinstance(content, str) or not content:
            raise ChatError(
                f"The reply was empty: {empty_reply_hint(getattr(choice, 'finish_reason', None))}. "
                "This turn was not kept."
            )
        return content

    @staticmethod
    def _tool_call_error() -> ChatError:
        return ChatError(
            "The model asked to call a tool, and a Conversation does not run tools: leave `tools` "
            "out of its params, or call client.chat.completions.create yourself. This turn was "
            "not kept."
        )
