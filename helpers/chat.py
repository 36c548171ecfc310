"""A multi-turn conversation: the API is stateless, so we keep the history and send
all of it every turn.

When a reply fails or is interrupted half way (an API error, or Ctrl-C / the stop
button during a stream), the turn is rolled back: neither the user message nor the
partial reply stays in ``messages``, so the history sent next time is consistent. The
lost turn is kept in ``interrupted`` so nothing is lost, and the error is re-raised.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import openai

from .models import DEFAULT_MODEL

EXIT_WORDS = ("exit", "quit", "종료")


@dataclass
class Interrupted:
    """A turn that did not complete: what was asked and what had arrived."""

    user: str
    partial_reply: str
    error: BaseException


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
    usages: list[Any] = field(default_factory=list)  # the usage of every completed call

    def __post_init__(self) -> None:
        if self.system and not self.messages:
            self.messages.append({"role": "system", "content": self.system})

    def _rollback(self, size: int, user: str, partial: str, error: BaseException) -> None:
        del self.messages[size:]
        self.interrupted.append(Interrupted(user, partial, error))

    def send(self, text: str, **params: Any) -> str:
        """Ask ``text`` with the whole history; return the reply and keep both turns."""
        size = len(self.messages)
        self.messages.append({"role": "user", "content": text})
        try:
            response = self.client.chat.completions.create(
                model=self.model, messages=self.messages, **{**self.params, **params})
        except BaseException as error:
            self._rollback(size, text, "", error)
            raise
        reply = response.choices[0].message.content or ""
        self.messages.append({"role": "assistant", "content": reply})
        self.usages.append(response.usage)
        return reply

    def stream(self, text: str, **params: Any) -> Iterator[str]:
        """Like ``send``, but yield the reply's pieces as they arrive. The history gets
        the streamed text itself once the stream has ended."""
        size = len(self.messages)
        self.messages.append({"role": "user", "content": text})
        pieces: list[str] = []
        chunks = None
        try:
            chunks = self.client.chat.completions.create(
                model=self.model, messages=self.messages, stream=True,
                stream_options={"include_usage": True}, **{**self.params, **params})
            for chunk in chunks:
                if chunk.usage is not None:
                    self.usages.append(chunk.usage)
                if chunk.choices and chunk.choices[0].delta.content:
                    pieces.append(chunk.choices[0].delta.content)
                    yield pieces[-1]
        except BaseException as error:  # KeyboardInterrupt too: keep the history consistent
            # Release the HTTP connection now: the traceback kept in `interrupted` would
            # otherwise hold the half-read stream open.
            if hasattr(chunks, "close"):
                chunks.close()
            self._rollback(size, text, "".join(pieces), error)
            raise
        self.messages.append({"role": "assistant", "content": "".join(pieces)})

    @property
    def turns(self) -> int:
        """Completed user turns."""
        return sum(1 for m in self.messages if m["role"] == "user")

    def reset(self) -> None:
        """Forget the history but keep the system prompt."""
        self.messages[:] = self.messages[:1] if self.system else []


def describe_error(error: BaseException) -> str:
    """One readable line for an API error: its class, status, the API's message and
    what to do next."""
    status = getattr(error, "status_code", None)
    body = getattr(error, "body", None)
    message = (body.get("message") if isinstance(body, dict) else None) or getattr(error, "message", None) \
        or str(error)  # the body's message, without the SDK's "Error code: NNN - " prefix
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
    else:
        hint = ""
    head = type(error).__name__ + (f" ({status})" if status else "")
    return f"{head}: {message} {hint}".strip()


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


def chat_loop(conversation: Conversation, *, input_fn: Callable[[str], str] = input,
              print_fn: Callable[..., None] = print, stream: bool = True,
              exit_words: Iterable[str] = EXIT_WORDS) -> Conversation:
    """Chat until the user types an exit word (or input ends). ``input_fn`` is injectable
    so the loop runs in tests and notebooks without a person (see ``scripted``)."""
    exits = {w.lower() for w in exit_words}
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
        except openai.APIError as error:
            # The turn was rolled back; say why and let the user try again.
            print_fn(f"\n[error] {describe_error(error)}")
        except KeyboardInterrupt:
            print_fn("\n[interrupted] that turn was not kept in the history.")
            break
    print_fn("Chat ended.")
    return conversation
