"""Lesson 09 · Wrap-up: the capstone's checks (a costed chatbot in three steps) and the quiz.

Each check builds the learner's class with a client of its own: it hands every request to an
offline model (whatever key the learner has) and keeps what really came back, the streamed
text and the usage, to compare with what the bot printed, kept and counted.
"""

from __future__ import annotations

import contextlib
import io
import math
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

from ..client import offline_client
from ..pricing import usage_cost
from . import Question, Verdict, correct, guarded, not_yet

SYSTEM = "You are a friendly tutor. Answer in two sentences."
TURNS = ("Hi, I'm Mina.", "What is a token?", "What is my name?")
BIG_LIMIT = 1.0  # USD: far more than three offline turns cost
BELOW_LIMIT = "below its limit, a CappedChat works as a CostedChat does, but "


class _Call:
    """One request the bot made, and what came back."""

    def __init__(self, kwargs: dict[str, Any]) -> None:
        self.kwargs = kwargs
        self.text = ""
        self.usage: Any = None
        self.printed_live = False  # the first piece was on screen before the next chunk was asked for


class _Recording:
    """A client that passes every request to an offline model and records the reply as it
    streams through, and what the bot had printed meanwhile."""

    def __init__(self, screen: io.StringIO) -> None:
        self.client = offline_client(max_retries=0)
        self.screen = screen
        self.calls: list[_Call] = []
        self.chat = SimpleNamespace(completions=SimpleNamespace(create=self.create))
        self.base_url = self.client.base_url

    def create(self, **kwargs: Any) -> Any:
        call = _Call(kwargs)
        self.calls.append(call)
        response = self.client.chat.completions.create(**kwargs)
        if not kwargs.get("stream"):
            call.text = response.choices[0].message.content or ""
            call.usage = response.usage
            return response
        return self._tap(response, call)

    def _tap(self, stream: Any, call: _Call) -> Iterator[Any]:
        first = None
        try:
            for chunk in stream:
                if first is not None and not call.printed_live:
                    call.printed_live = first in self.screen.getvalue()
                piece = chunk.choices[0].delta.content if chunk.choices else None
                if piece:
                    call.text += piece
                    first = first or piece
                call.usage = chunk.usage or call.usage
                yield chunk
        finally:
            stream.close()


def _chat(bot: Any) -> Any:
    chat = getattr(bot, "chat", None)
    if chat is None or not hasattr(chat, "messages"):
        raise AttributeError("the bot keeps no Conversation in self.chat: keep the __init__ you were given")
    return chat


def _talk(bot: Any, screen: io.StringIO, turns: tuple[str, ...] = TURNS) -> tuple[list[Any], list[str]]:
    """Say each turn; return the replies and what was printed during each."""
    replies, printed = [], []
    for text in turns:
        start = len(screen.getvalue())
        with contextlib.redirect_stdout(screen):
            replies.append(bot.say(text))
        printed.append(screen.getvalue()[start:])
    return replies, printed


def _history(turns: tuple[str, ...], replies: list[str]) -> list[dict[str, str]]:
    messages = [{"role": "system", "content": SYSTEM}]
    for text, reply in zip(turns, replies, strict=True):
        messages += [{"role": "user", "content": text}, {"role": "assistant", "content": reply}]
    return messages


def _streaming_problem(cls: Any, lang: str, step: str = "") -> Verdict | None:
    """What is wrong with the bot's streaming (step 1), or None."""
    screen = io.StringIO()
    client = _Recording(screen)
    bot = cls(client, SYSTEM, *([BIG_LIMIT] if step == "3" else []))
    replies, printed = _talk(bot, screen)
    prefix = BELOW_LIMIT if step else ""
    if not client.calls:
        if all(reply is None for reply in replies):
            return not_yet(lang, f"{prefix}say returns None and sends nothing: stream the reply with self.chat.stream.")
        return not_yet(lang, f"{prefix}say sent nothing through the client the bot was given: use self.chat.")
    if len(client.calls) != len(TURNS):
        return not_yet(lang, f"{prefix}{len(TURNS)} turns made {len(client.calls)} requests: one per turn.")
    if not all(call.kwargs.get("stream") for call in client.calls):
        return not_yet(lang, f"{prefix}the replies were not streamed: use self.chat.stream(text), not send.")
    said = [call.text for call in client.calls]
    if replies != said:
        return not_yet(lang, f"{prefix}say should return the whole reply as a str; it returned {replies[0]!r:.60}.")
    if not all(reply in shown for reply, shown in zip(said, printed, strict=True)):
        return not_yet(lang, f"{prefix}print each piece as it arrives: the reply did not appear on screen whole.")
    if not all(call.printed_live for call in client.calls if len(call.text) > 1):
        return not_yet(
            lang, f"{prefix}print each piece as it arrives, inside the loop, not the whole reply at the end."
        )
    if _chat(bot).messages != _history(TURNS, said):
        return not_yet(lang, f"{prefix}the history should hold the system prompt and every turn, as streamed.")
    return None


@guarded
def check_1(cls: Any, *, lang: str = "en") -> Verdict:
    """Chatbot(client, system): say(text) streams the reply, prints it as it comes, returns it."""
    if not isinstance(cls, type):
        return not_yet(lang, "check_1 takes the class itself: ex.check_1(Chatbot).")
    problem = _streaming_problem(cls, lang)
    return problem or correct(lang, "Your bot streams every reply, shows it as it comes, and keeps the history.")


def _costs_problem(cls: Any, lang: str, step: str = "") -> Verdict | None:
    """What is wrong with the bot's costs (step 2), or None."""
    screen = io.StringIO()
    client = _Recording(screen)
    bot = cls(client, SYSTEM, *([BIG_LIMIT] if step == "3" else []))
    replies, printed = _talk(bot, screen)
    prefix = BELOW_LIMIT if step else ""
    if not client.calls or replies != [call.text for call in client.calls]:
        return not_yet(lang, f"{prefix}finish step 1 first: check_1 says what your Chatbot still needs.")
    costs = getattr(bot, "costs", None)
    if not isinstance(costs, list) or not costs:
        return not_yet(lang, f"{prefix}self.costs is empty after {len(TURNS)} turns: append each turn's cost.")
    if len(costs) != len(TURNS):
        return not_yet(lang, f"{prefix}{len(TURNS)} turns, but self.costs holds {len(costs)}: one cost per turn.")
    model = client.calls[0].kwargs.get("model")
    real = [usage_cost(model, call.usage) for call in client.calls]
    if not all(
        isinstance(c, (int, float)) and math.isclose(c, r, rel_tol=1e-9) for c, r in zip(costs, real, strict=True)
    ):
        if all(isinstance(c, (int, float)) for c in costs) and math.isclose(costs[-1], sum(real), rel_tol=1e-9):
            return not_yet(lang, f"{prefix}keep each turn's own cost, not the total so far.")
        return not_yet(
            lang,
            f"{prefix}the costs should be usage_cost(self.chat.model, self.chat.usages[-1]) of each turn: "
            f"{[round(r, 8) for r in real]}; yours are {costs}.",
        )
    for call, reply, shown in zip(client.calls, replies, printed, strict=True):
        after = shown.split(reply, 1)[-1]
        tokens = (str(call.usage.prompt_tokens), str(call.usage.completion_tokens))
        if not all(count in after for count in tokens):
            return not_yet(
                lang,
                f"{prefix}after the reply, print the turn's tokens and cost, e.g. "
                f"[{tokens[0]} + {tokens[1]} tokens, ...]: prompt_tokens and completion_tokens of its usage.",
            )
    return None


@guarded
def check_2(cls: Any, *, lang: str = "en") -> Verdict:
    """CostedChat(client, system): each turn's cost in self.costs, its tokens printed."""
    if not isinstance(cls, type):
        return not_yet(lang, "check_2 takes the class itself: ex.check_2(CostedChat).")
    problem = _costs_problem(cls, lang)
    return problem or correct(lang, "Every turn is priced from the usage the API sent, and the costs add up.")


def _stops(cls: Any, before: int, limit_of: Any) -> tuple[bool, _Recording, Any]:
    """Talk to a bot for ``before`` turns, set its limit to ``limit_of(bot)``, then try one
    more turn; return whether it raised RuntimeError, the client and the bot."""
    screen = io.StringIO()
    client = _Recording(screen)
    bot = cls(client, SYSTEM, BIG_LIMIT)
    _talk(bot, screen, TURNS[:before])
    bot.limit_usd = limit_of(bot)
    try:
        with contextlib.redirect_stdout(screen):
            bot.say(TURNS[before])
    except RuntimeError:
        return True, client, bot
    return False, client, bot


@guarded
def check_3(cls: Any, *, lang: str = "en") -> Verdict:
    """CappedChat(client, system, limit_usd): say raises RuntimeError before sending once the
    turns so far cost limit_usd or more."""
    if not isinstance(cls, type):
        return not_yet(lang, "check_3 takes the class itself: ex.check_3(CappedChat).")
    # With a limit it never reaches, it must work as a CostedChat does.
    problem = _streaming_problem(cls, lang, "3") or _costs_problem(cls, lang, "3")
    if problem:
        return problem
    raised, client, bot = _stops(cls, 0, lambda bot: 0.0)
    if not raised:
        if client.calls:
            return not_yet(lang, "a limit of $0 allows nothing: say must raise RuntimeError before the first turn.")
        return not_yet(
            lang, "when the limit is reached, raise RuntimeError: returning quietly hides it from the caller."
        )
    if client.calls:
        return not_yet(lang, "raise before sending: the turn that hits the limit must not be sent (nor paid).")
    if len(_chat(bot).messages) != 1:
        return not_yet(lang, "the refused turn must leave no trace in the history.")
    # Two turns in, a limit just under what they cost together (but above each alone).
    raised, client, bot = _stops(cls, 2, lambda bot: sum(bot.costs) * (1 - 1e-9))
    if not raised:
        return not_yet(
            lang,
            "two turns have cost the limit, yet a third was sent: compare the total of self.costs (every turn so "
            "far), not the last turn's cost, with limit_usd.",
        )
    if len(client.calls) != 2:
        return not_yet(lang, "raise before sending: the turn that hits the limit must not be sent (nor paid).")
    return correct(lang, "Your chatbot streams, prices every turn, and stops at its limit before paying more.")


# ---------------------------------------------------------------- the quiz

QUIZ = [
    Question(
        "Where should your code keep model names, prices and limits?",
        (
            "Wherever each one is used, so it is easy to find",
            "In one table, with the date each fact was checked and its source",
            "Nowhere: ask the API for prices at run time",
        ),
        1,
        "Facts change every few months; one dated table is one place to update (the API does not serve prices).",
    ),
    Question(
        "A model your code calls has been shut down. What does the API answer?",
        (
            "A 404 (model_not_found): change the model name",
            "The reply of a newer model, without a word",
            "A 429: wait and retry",
        ),
        0,
        "Retrying a 404 never helps. python3 course.py doctor warns before a course model's shutdown date.",
    ),
    Question(
        "Why does each turn of the same chat cost a little more than the one before?",
        (
            "Prices rise during a conversation",
            "Streaming costs extra after the first turn",
            "The whole history is sent again every turn, as prompt tokens",
        ),
        2,
        "The API is stateless: every request carries the conversation so far, and you pay for all of it.",
    ),
    Question(
        "Where does a streamed reply's usage come from?",
        (
            "From the last chunk, when the request asks for stream_options={'include_usage': True}",
            "From counting the pieces yourself with tiktoken",
            "It has none: streamed replies are not billed",
        ),
        0,
        "Streams are billed like any reply; with include_usage the last chunk carries the usage (Conversation asks).",
    ),
]
