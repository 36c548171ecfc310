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
from typing import Any

from ..pricing import usage_cost
from . import Question, Verdict, correct, guarded, not_yet, say
from ._kit import RecordingClient

SYSTEM = "You are a friendly tutor. Answer in two sentences."
TURNS = ("Hi, I'm Mina.", "What is a token?", "What is my name?")
BIG_LIMIT = 1.0  # USD: far more than three offline turns cost
BELOW_LIMIT = (
    "below its limit, a CappedChat works as a CostedChat does, but ",
    "한도 아래에서는 CappedChat이 CostedChat처럼 동작해야 하는데, ",
)


class _Call:
    """One request the bot made, and what came back."""

    def __init__(self, kwargs: dict[str, Any]) -> None:
        self.kwargs = kwargs
        self.text = ""
        self.usage: Any = None
        self.printed_live = False  # the first piece was on screen before the next chunk was asked for


class _Recording(RecordingClient):
    """A client that passes every request to an offline model and records the reply as it
    streams through, and what the bot had printed meanwhile."""

    def __init__(self, screen: io.StringIO) -> None:
        super().__init__()
        self.screen = screen
        self.calls: list[_Call] = []

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


def _new_bot(cls: Any, with_limit: bool) -> tuple[io.StringIO, _Recording, Any]:
    """The learner's class on a recording client (for step 3, with a limit it never reaches),
    and the screen the bot prints to."""
    screen = io.StringIO()
    client = _Recording(screen)
    return screen, client, cls(client, SYSTEM, *([BIG_LIMIT] if with_limit else []))


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
    screen, client, bot = _new_bot(cls, step == "3")
    replies, printed = _talk(bot, screen)
    prefix = say(lang, *BELOW_LIMIT) if step else ""
    if not client.calls:
        if all(reply is None for reply in replies):
            return not_yet(
                lang,
                f"{prefix}say returns None and sends nothing: stream the reply with self.chat.stream.",
                f"{prefix}say가 None을 돌려주고 아무것도 보내지 않아요. self.chat.stream으로 응답을 스트리밍하세요.",
            )
        return not_yet(
            lang,
            f"{prefix}say sent nothing through the client the bot was given: use self.chat.",
            f"{prefix}say가 봇이 받은 client로 아무것도 보내지 않았어요. self.chat을 쓰세요.",
        )
    if len(client.calls) != len(TURNS):
        return not_yet(
            lang,
            f"{prefix}{len(TURNS)} turns made {len(client.calls)} requests: one per turn.",
            f"{prefix}{len(TURNS)}번의 턴에 요청이 {len(client.calls)}번 갔어요. 턴마다 한 번이어야 해요.",
        )
    if not all(call.kwargs.get("stream") for call in client.calls):
        return not_yet(
            lang,
            f"{prefix}the replies were not streamed: use self.chat.stream(text), not send.",
            f"{prefix}응답이 스트리밍되지 않았어요. send가 아니라 self.chat.stream(text)를 쓰세요.",
        )
    said = [call.text for call in client.calls]
    if replies != said:
        return not_yet(
            lang,
            f"{prefix}say should return the whole reply as a str; it returned {replies[0]!r:.60}.",
            f"{prefix}say는 응답 전체를 str로 돌려줘야 해요. 지금 돌려준 값: {replies[0]!r:.60}.",
        )
    if not all(reply in shown for reply, shown in zip(said, printed, strict=True)):
        return not_yet(
            lang,
            f"{prefix}print each piece as it arrives: the reply did not appear on screen whole.",
            f"{prefix}조각이 올 때마다 출력하세요. 응답 전체가 화면에 나오지 않았어요.",
        )
    if not all(call.printed_live for call in client.calls if len(call.text) > 1):
        return not_yet(
            lang,
            f"{prefix}print each piece as it arrives, inside the loop, not the whole reply at the end.",
            f"{prefix}끝에 응답 전체를 한 번에 출력하지 말고, 루프 안에서 조각이 올 때마다 출력하세요.",
        )
    if _chat(bot).messages != _history(TURNS, said):
        return not_yet(
            lang,
            f"{prefix}the history should hold the system prompt and every turn, as streamed.",
            f"{prefix}기록에는 시스템 프롬프트와 모든 턴이 스트리밍된 그대로 있어야 해요.",
        )
    return None


def _not_a_class(lang: str, number: int, name: str) -> Verdict:
    return not_yet(
        lang,
        f"check_{number} takes the class itself: ex.check_{number}({name}).",
        f"클래스 자체를 넘기세요: ex.check_{number}({name}).",
    )


@guarded
def check_1(cls: Any, *, lang: str = "en") -> Verdict:
    """Chatbot(client, system): say(text) streams the reply, prints it as it comes, returns it."""
    if not isinstance(cls, type):
        return _not_a_class(lang, 1, "Chatbot")
    return _streaming_problem(cls, lang) or correct(
        lang,
        "Your bot streams every reply, shows it as it comes, and keeps the history.",
        "봇이 모든 응답을 스트리밍하고, 오는 대로 보여 주고, 기록을 지켜요.",
    )


def _costs_problem(cls: Any, lang: str, step: str = "") -> Verdict | None:
    """What is wrong with the bot's costs (step 2), or None."""
    screen, client, bot = _new_bot(cls, step == "3")
    replies, printed = _talk(bot, screen)
    prefix = say(lang, *BELOW_LIMIT) if step else ""
    if not client.calls or replies != [call.text for call in client.calls]:
        return not_yet(
            lang,
            f"{prefix}finish step 1 first: check_1 says what your Chatbot still needs.",
            f"{prefix}1단계를 먼저 끝내세요. check_1이 Chatbot에 무엇이 더 필요한지 알려 줘요.",
        )
    costs = getattr(bot, "costs", None)
    if not isinstance(costs, list) or not costs:
        return not_yet(
            lang,
            f"{prefix}self.costs is empty after {len(TURNS)} turns: append each turn's cost.",
            f"{prefix}{len(TURNS)}번의 턴 뒤에도 self.costs가 비어 있어요. 턴마다 비용을 추가하세요.",
        )
    if len(costs) != len(TURNS):
        return not_yet(
            lang,
            f"{prefix}{len(TURNS)} turns, but self.costs holds {len(costs)}: one cost per turn.",
            f"{prefix}턴은 {len(TURNS)}번인데 self.costs에는 {len(costs)}개가 있어요. 턴마다 비용 하나예요.",
        )
    model = client.calls[0].kwargs.get("model")
    real = [usage_cost(model, call.usage) for call in client.calls]
    numbers = all(isinstance(c, (int, float)) for c in costs)
    if not numbers or not all(math.isclose(c, r, rel_tol=1e-9) for c, r in zip(costs, real, strict=True)):
        if numbers and math.isclose(costs[-1], sum(real), rel_tol=1e-9):
            return not_yet(
                lang,
                f"{prefix}keep each turn's own cost, not the total so far.",
                f"{prefix}지금까지의 합계가 아니라, 턴마다 그 턴의 비용을 넣으세요.",
            )
        expected = [round(r, 8) for r in real]
        return not_yet(
            lang,
            f"{prefix}each cost should be usage_cost(self.chat.model, self.chat.usages[-1]) of its turn: "
            f"{expected}; yours are {costs}.",
            f"{prefix}비용은 턴마다 usage_cost(self.chat.model, self.chat.usages[-1])여야 해요: {expected}. "
            f"지금 값: {costs}.",
        )
    for call, reply, shown in zip(client.calls, replies, printed, strict=True):
        after = shown.split(reply, 1)[-1]
        tokens = (str(call.usage.prompt_tokens), str(call.usage.completion_tokens))
        if not all(count in after for count in tokens):
            return not_yet(
                lang,
                f"{prefix}after the reply, print the turn's tokens and cost, e.g. "
                f"[{tokens[0]} + {tokens[1]} tokens, ...]: prompt_tokens and completion_tokens of its usage.",
                f"{prefix}응답 뒤에 그 턴의 토큰과 비용을 출력하세요. 예: [{tokens[0]} + {tokens[1]} tokens, ...] "
                "(usage의 prompt_tokens와 completion_tokens).",
            )
    return None


@guarded
def check_2(cls: Any, *, lang: str = "en") -> Verdict:
    """CostedChat(client, system): each turn's cost in self.costs, its tokens printed."""
    if not isinstance(cls, type):
        return _not_a_class(lang, 2, "CostedChat")
    return _costs_problem(cls, lang) or correct(
        lang,
        "Every turn is priced from the usage the API sent, and the costs add up.",
        "모든 턴의 비용을 API가 보낸 usage로 계산했고, 합계도 맞아요.",
    )


def _stops(cls: Any, before: int, limit_of: Any) -> tuple[bool, _Recording, Any]:
    """Talk to a bot for ``before`` turns, set its limit to ``limit_of(bot)``, then try one
    more turn; return whether it raised RuntimeError, the client and the bot."""
    screen, client, bot = _new_bot(cls, True)
    _talk(bot, screen, TURNS[:before])
    bot.limit_usd = limit_of(bot)
    try:
        with contextlib.redirect_stdout(screen):
            bot.say(TURNS[before])
    except RuntimeError:
        return True, client, bot
    return False, client, bot


def _sent_anyway(lang: str) -> Verdict:
    return not_yet(
        lang,
        "raise before sending: the turn that hits the limit must not be sent (nor paid).",
        "보내기 전에 오류를 내세요. 한도에 닿은 턴은 보내지도, 비용을 내지도 않아야 해요.",
    )


@guarded
def check_3(cls: Any, *, lang: str = "en") -> Verdict:
    """CappedChat(client, system, limit_usd): say raises RuntimeError before sending once the
    turns so far cost limit_usd or more."""
    if not isinstance(cls, type):
        return _not_a_class(lang, 3, "CappedChat")
    # With a limit it never reaches, it must work as a CostedChat does.
    problem = _streaming_problem(cls, lang, "3") or _costs_problem(cls, lang, "3")
    if problem:
        return problem
    raised, client, bot = _stops(cls, 0, lambda bot: 0.0)
    if not raised and client.calls:
        return not_yet(
            lang,
            "a limit of $0 allows nothing: say must raise RuntimeError before the first turn.",
            "한도가 $0이면 아무것도 보낼 수 없어요. 첫 턴 전에 say가 RuntimeError를 내야 해요.",
        )
    if not raised:
        return not_yet(
            lang,
            "when the limit is reached, raise RuntimeError: returning quietly hides it from the caller.",
            "한도에 닿으면 RuntimeError를 내세요. 조용히 돌아가면 호출한 쪽이 알 수 없어요.",
        )
    if client.calls:
        return _sent_anyway(lang)
    if len(_chat(bot).messages) != 1:
        return not_yet(
            lang,
            "the refused turn must leave no trace in the history.",
            "거부된 턴은 기록에 흔적을 남기지 않아야 해요.",
        )
    # Two turns in, a limit just under what they cost together (but above each alone).
    raised, client, bot = _stops(cls, 2, lambda bot: sum(bot.costs) * (1 - 1e-9))
    if not raised:
        return not_yet(
            lang,
            "two turns have cost the limit, yet a third was sent: compare the total of self.costs (every turn so "
            "far), not the last turn's cost, with limit_usd.",
            "두 턴의 비용이 한도에 닿았는데 세 번째 턴이 보내졌어요. 마지막 턴의 비용이 아니라 self.costs의 "
            "합계(지금까지의 모든 턴)를 limit_usd와 비교하세요.",
        )
    if len(client.calls) != 2:
        return _sent_anyway(lang)
    return correct(
        lang,
        "Your chatbot streams, prices every turn, and stops at its limit before paying more.",
        "챗봇이 스트리밍하고, 턴마다 비용을 계산하고, 더 내기 전에 한도에서 멈춰요.",
    )


# ---------------------------------------------------------------- the quiz

QUIZ = {
    "en": [
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
            "Streams are billed like any reply; with include_usage the last chunk carries the usage "
            "(Conversation asks for it).",
        ),
    ],
    "ko": [
        Question(
            "모델 이름, 가격, 한도는 코드의 어디에 두어야 할까요?",
            (
                "쓰는 곳마다, 찾기 쉽게",
                "한 표에, 각 사실을 확인한 날짜와 출처와 함께",
                "어디에도 두지 않고 실행할 때 API에 가격을 묻는다",
            ),
            1,
            "사실은 몇 달마다 바뀌어요. 날짜가 적힌 표 하나면 고칠 곳도 하나예요(API는 가격을 알려 주지 않아요).",
        ),
        Question(
            "코드가 부르는 모델이 종료됐어요. API는 무엇을 돌려줄까요?",
            (
                "404(model_not_found): 모델 이름을 바꾼다",
                "아무 말 없이 더 새로운 모델의 응답",
                "429: 기다렸다가 재시도한다",
            ),
            0,
            "404는 재시도해도 소용없어요. python3 course.py doctor가 강좌 모델의 종료일이 다가오면 미리 알려 줘요.",
        ),
        Question(
            "같은 대화에서 턴마다 비용이 조금씩 느는 이유는 무엇일까요?",
            (
                "대화하는 동안 가격이 오른다",
                "첫 턴 뒤로는 스트리밍에 추가 비용이 붙는다",
                "턴마다 기록 전체가 프롬프트 토큰으로 다시 간다",
            ),
            2,
            "API는 상태가 없어요. 요청마다 지금까지의 대화를 싣고, 그 전부에 비용을 내요.",
        ),
        Question(
            "스트리밍한 응답의 usage는 어디서 올까요?",
            (
                "요청에 stream_options={'include_usage': True}가 있으면 마지막 청크에서",
                "조각을 tiktoken으로 직접 세어서",
                "없다. 스트리밍한 응답은 청구되지 않는다",
            ),
            0,
            "스트림도 다른 응답처럼 청구돼요. include_usage가 있으면 마지막 청크에 usage가 담겨요"
            "(Conversation이 요청해 줘요).",
        ),
    ],
}
