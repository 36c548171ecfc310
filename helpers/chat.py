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

Each turn holds a token: only the stream that started a turn can commit it. A stream left
open (neither read to the end nor closed) when the next turn starts is stopped: it never
adds to, or removes from, the later history. A ``Conversation`` can be shared between
threads: a turn started while another thread's turn is running waits for it to end (a
stream another thread left open blocks it until that thread ends or closes the stream).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx2
import openai
import pydantic

from .models import DEFAULT_MODEL

EXIT_WORDS = ("exit", "quit", "종료")

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
class _Turn:
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


def _empty_reply_hint(finish_reason: Any) -> str:
    if finish_reason == "length":
        return (
            "it was cut at the token limit before any text (a reasoning model can spend the whole "
            "max_completion_tokens thinking): raise max_completion_tokens or lower reasoning_effort"
        )
    if finish_reason == "content_filter":
        return "the content filter withheld it: rephrase the message"
    return "try again, or rephrase the message"


@dataclass
class Conversation:
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
    _active: _Turn | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        check_params(self.params, "Conversation params")
        self._idle = threading.Condition(self._lock)
        if self.system and not self.messages:
            self.messages.append({"role": "system", "content": self.system})

    # -- the turn protocol: begin, then exactly one of commit or fail

    def _call_params(self, params: Mapping[str, Any]) -> dict[str, Any]:
        check_params(self.params, "Conversation params")  # params is a plain dict: it may have changed
        check_params(params, "this call")
        return {**self.params, **params}

    def _begin(self, text: str) -> _Turn:
        me = threading.current_thread()
        with self._idle:
            # Another thread's turn: wait for it (unless that thread is gone and left it open).
            while self._active is not None and self._active.thread is not me and self._active.thread.is_alive():
                self._idle.wait(timeout=0.5)
            if self._active is not None:
                # Ours, so not running: a stream this thread left open. It must not touch this turn.
                self._abandon(self._active)
            turn = _Turn(text, list(self.messages), me)
            self._active = turn
            return turn

    def _abandon(self, turn: _Turn) -> None:
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

    def _commit(self, turn: _Turn, reply: str, usage: Any) -> None:
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

    def _fail(self, turn: _Turn, error: BaseException, usage: Any = None) -> BaseException:
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
                f"The reply was empty: {_empty_reply_hint(getattr(choice, 'finish_reason', None))}. "
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
                raise ChatError(f"The reply was empty: {_empty_reply_hint(finished_because)}. This turn was not kept.")
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


def chat_loop(
    conversation: Conversation,
    *,
    input_fn: Callable[[str], str] = input,
    print_fn: Callable[..., None] = print,
    stream: bool = True,
    exit_words: str | Iterable[str] = EXIT_WORDS,
) -> Conversation:
    """Chat until the user types an exit word (or input ends). ``input_fn`` is injectable
    so the loop runs in tests and notebooks without a person (see ``scripted``).
    ``exit_words`` is one word ("quit") or several (("quit", "bye"))."""
    exits = {exit_words.lower()} if isinstance(exit_words, str) else {w.lower() for w in exit_words}
    print_fn(f"Type {' / '.join(sorted(exits))} to stop.")
    while True:
        try:
            text = input_fn("User: ").strip()
        except EOFError:
            break
        except NotImplementedError:  # e.g. input() in a notebook run without a person (nbval)
            print_fn("[no input] this kernel cannot ask for input; pass input_fn=scripted([...]).")
            break
        if text.lower() in exits:
            break
        if not text:
            continue
        print_fn("Assistant: ", end="")
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
    print_fn("Chat ended.")
    return conversation
