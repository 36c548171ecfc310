"""A multi-turn conversation: the API is stateless, so we keep the history and send
all of it every turn.

A turn is kept only when it completes. ``messages`` changes once per turn, when the
reply is in: the user message and the reply are added together. Until then the user
message travels only in the request, so a turn that fails leaves ``messages`` exactly as
it was. That covers an API error, any other failure (a server that answers with a web
page, a broken event stream, a dropped connection), an empty or malformed reply, and
Ctrl-C or the stop button during a stream. A stream that ends early (``stream.close()``,
the stop button, a ``break`` out of ``for piece in conv.stream(...)``) is rolled back the
same way: no partial reply is kept. The lost turn goes to ``interrupted`` (what was asked, what had arrived,
the error), so nothing is lost, and the error is raised: an ``openai.APIError`` as the
SDK raised it, ``KeyboardInterrupt`` as it is, anything else as a ``ChatError`` that says
what happened and what to do.

How a turn is kept or rolled back, across threads and streams left open, is the private
``helpers._turns``: read it last.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import openai

from ._turns import ChatError, Interrupted, Turn, TurnKeeper, check_params, empty_reply_hint, server_of
from .models import DEFAULT_MODEL

__all__ = ["ChatError", "Conversation", "EXIT_WORDS", "Interrupted", "chat_loop", "describe_error", "scripted"]

EXIT_WORDS = ("exit", "quit", "종료")


@dataclass
class Conversation(TurnKeeper):
    """The history of one chat, and the settings used for every call."""

    client: Any  # an openai.OpenAI
    model: str = DEFAULT_MODEL
    system: str | None = None
    # Sent with every call, e.g. {"reasoning_effort": "none", "temperature": 0} (DEFAULT_MODEL
    # reasons, and takes a temperature only with reasoning_effort="none"), or a seed.
    params: dict[str, Any] = field(default_factory=dict)
    messages: list[dict[str, str]] = field(default_factory=list)
    interrupted: list[Interrupted] = field(default_factory=list)
    # The usage of every call the server reported one for: a turn that was not kept
    # because its reply was empty was still billed.
    usages: list[Any] = field(default_factory=list)
    # Re-entrant: a stream abandoned on this thread may be finalised by the garbage
    # collector while this thread is inside a locked section.
    _lock: threading.RLock = field(default_factory=threading.RLock, init=False, repr=False, compare=False)
    _active: Turn | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        check_params(self.params, "Conversation params")
        self._idle = threading.Condition(self._lock)
        if self.system and not self.messages:
            self.messages.append({"role": "system", "content": self.system})

    def _call_params(self, params: Mapping[str, Any]) -> dict[str, Any]:
        check_params(self.params, "Conversation params")  # params is a plain dict: it may have changed
        check_params(params, "this call")
        return {**self.params, **params}

    # -- the public API

    def send(self, text: str, **params: Any) -> str:
        """Ask ``text`` with the whole history; return the reply and keep both turns."""
        call = self._call_params(params)
        turn = self._begin(text)
        response = None
        try:
            response = self.client.chat.completions.create(
                model=self.model, messages=[*turn.base, {"role": "user", "content": text}], **call
            )
            reply = self._read_reply(response)
        except BaseException as error:
            shown = self._fail(turn, error, getattr(response, "usage", None))
            if shown is error:
                raise
            raise shown from error
        self._commit(turn, reply, getattr(response, "usage", None))
        return reply

    def stream(self, text: str, **params: Any) -> Iterator[str]:
        """Like ``send``, but yield the reply's pieces as they arrive. The history gets
        the streamed text itself once the stream has ended; a stream closed before its
        end keeps nothing (see the module's docstring).

        Parameters are checked now; the request is made when the first piece is asked for."""
        return self._stream(text, self._call_params(params))

    def _stream(self, text: str, call: dict[str, Any]) -> Iterator[str]:
        turn = self._begin(text)
        usage = None
        try:
            turn.source = self.client.chat.completions.create(
                model=self.model,
                messages=[*turn.base, {"role": "user", "content": text}],
                stream=True,
                stream_options={"include_usage": True},
                **call,
            )
            arrived = finished_because = None
            for chunk in turn.source:
                choices = getattr(chunk, "choices", None)
                if not isinstance(choices, list):
                    raise self._not_a_completion("an event that is not a chat completion chunk")
                arrived = True
                usage = getattr(chunk, "usage", None) or usage
                for choice in choices:
                    if getattr(choice, "index", 0) != 0:
                        continue  # one reply per turn: only choice 0 is kept
                    delta = getattr(choice, "delta", None)
                    if getattr(delta, "tool_calls", None):
                        raise self._tool_call_error()
                    finished_because = getattr(choice, "finish_reason", None) or finished_because
                    piece = getattr(delta, "content", None)
                    if isinstance(piece, str) and piece:
                        turn.pieces.append(piece)
                        yield piece
                        if turn.finished:  # a later turn started while this one was paused
                            raise ChatError(
                                "This stream was stopped because a later turn started before it "
                                "ended; its reply was not kept."
                            )
            if not arrived:
                raise self._not_a_completion("a stream without a single chunk (an empty body, a web page, plain JSON)")
            if finished_because is None:
                raise ChatError(
                    f"The stream from {server_of(self.client)} ended before the reply was finished (the "
                    "connection dropped). This turn was not kept; send it again."
                )
            if not turn.pieces:
                raise ChatError(f"The reply was empty: {empty_reply_hint(finished_because)}. This turn was not kept.")
        except BaseException as error:  # KeyboardInterrupt and GeneratorExit too: keep the history consistent
            # Release the HTTP connection now: the traceback kept in `interrupted` would
            # otherwise hold the half-read stream open.
            if hasattr(turn.source, "close"):
                turn.source.close()
            shown = self._fail(turn, error, usage)
            if shown is error:
                raise
            raise shown from error
        self._commit(turn, "".join(turn.pieces), usage)

    @property
    def turns(self) -> int:
        """Completed user turns."""
        return sum(1 for m in self.messages if m["role"] == "user")

    def reset(self) -> None:
        """Forget the history but keep the system prompt."""
        with self._lock:
            self.messages[:] = self.messages[:1] if self.system else []


def describe_error(error: BaseException) -> str:
    """One readable line for an API error: its class, status, the API's message and
    what to do next."""
    status = getattr(error, "status_code", None)
    body = getattr(error, "body", None)
    message = (
        (body.get("message") if isinstance(body, dict) else None) or getattr(error, "message", None) or str(error)
    )  # the body's message, without the SDK's "Error code: NNN - " prefix
    code = body.get("code") if isinstance(body, dict) else None
    if code == "insufficient_quota":
        hint = ""  # the message itself says which budget ran out and what to do
    elif status == 401:
        hint = "Check OPENAI_API_KEY."
    elif status == 404:
        hint = "Check the model name."
    elif status == 429:
        hint = "Wait a moment and try again, or check your plan's rate limits."
    elif status and status >= 500:
        hint = "Try again; if it keeps failing, check https://status.openai.com."
    elif isinstance(error, openai.APIConnectionError) and error.__cause__ is not None:
        hint = str(error.__cause__)  # the client's transport names the address and its setting
    else:
        hint = ""
    head = type(error).__name__ + (f" ({status})" if status else "")
    return " ".join(f"{head}: {message} {hint}".split())  # one line, whatever the message holds


def scripted(lines: Iterable[str], echo: Callable[[str], None] = print) -> Callable[[str], str]:
    """An ``input()`` replacement that types ``lines`` one by one, showing each like a
    person typing it. After the last line it raises EOFError, as ``input()`` does."""
    remaining = iter(lines)

    def fake_input(prompt: str = "") -> str:
        try:
            line = next(remaining)
        except StopIteration:
            raise EOFError from None
        echo(f"{prompt}{line}")
        return line

    return fake_input


# What chat_loop says, by language: how to stop, the two prompts, the goodbye.
LOOP_WORDS = {
    "en": ("Type {} to stop.", "User: ", "Assistant: ", "Chat ended."),
    "ko": ("끝내려면 {}를 입력하세요.", "사용자: ", "어시스턴트: ", "대화를 마쳤습니다."),
}


def chat_loop(
    conversation: Conversation,
    *,
    input_fn: Callable[[str], str] = input,
    print_fn: Callable[..., None] = print,
    stream: bool = True,
    exit_words: str | Iterable[str] = EXIT_WORDS,
    lang: str = "en",
) -> Conversation:
    """Chat until the user types an exit word (or input ends). ``input_fn`` is injectable
    so the loop runs in tests and notebooks without a person (see ``scripted``).
    ``exit_words`` is one word ("quit") or several (("quit", "bye")); ``lang``: "en" or "ko"."""
    if lang not in LOOP_WORDS:
        raise ValueError(f"lang must be one of {', '.join(LOOP_WORDS)}, not {lang!r}")
    how_to_stop, user, assistant, goodbye = LOOP_WORDS[lang]
    exits = {exit_words.lower()} if isinstance(exit_words, str) else {w.lower() for w in exit_words}
    print_fn(how_to_stop.format(" / ".join(sorted(exits))))
    while True:
        try:
            text = input_fn(user).strip()
        except EOFError:
            break
        except NotImplementedError:  # e.g. input() in a notebook run without a person (nbval)
            print_fn("[no input] this kernel cannot ask for input; pass input_fn=scripted([...]).")
            break
        if text.lower() in exits:
            break
        if not text:
            continue
        print_fn(assistant, end="")
        try:
            if stream:
                for piece in conversation.stream(text):
                    print_fn(piece, end="", flush=True)
                print_fn()
            else:
                print_fn(conversation.send(text))
        except KeyboardInterrupt:
            print_fn("\n[interrupted] that turn was not kept in the history.")
            break
        except Exception as error:  # an API error, a ChatError, a refused parameter: say it, carry on
            # The turn was rolled back; say why and let the user try again.
            print_fn(f"\n[error] {describe_error(error)}")
    print_fn(goodbye)
    return conversation
