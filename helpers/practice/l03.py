"""Lesson 03 (multi-turn chat): the checks and the quiz.

Exercise 1 writes ``ask_with_history(client, messages, text)``, one turn that keeps the
history; the check runs it on an offline model of its own (free, the same replies every time)
and reads the requests that model received. Exercise 2 writes ``trim(messages, keep)``.
"""

from __future__ import annotations

from typing import Any

from ..models import DEFAULT_MODEL
from ..tokens import count_message_tokens
from . import Question, Verdict, correct, guarded, not_yet
from ._kit import own_model, roles_of, wrong_turn_roles

SYSTEM = {"role": "system", "content": "You are a friendly tutor."}


@guarded
def check_1(ask_with_history: Any, *, lang: str = "en") -> Verdict:
    """Two turns (a name, then a question about it) through the learner's function."""
    if not callable(ask_with_history):
        return not_yet(
            lang,
            "ask_with_history should be a function: def ask_with_history(client, messages, text): ...",
            "ask_with_history는 함수여야 해요: def ask_with_history(client, messages, text): ...",
        )
    api, client = own_model()
    history = [dict(SYSTEM)]
    first = ask_with_history(client, history, "Hi! My name is Alice.")
    if first is None and history == [SYSTEM] and not api.requests:
        return not_yet(
            lang,
            "ask_with_history does nothing yet: write its body (the three steps of section 2).",
            "ask_with_history가 아직 아무것도 하지 않아요: 2절의 세 단계로 본문을 써 보세요.",
        )
    second = ask_with_history(client, history, "What's my name?")
    if not api.requests:
        return not_yet(
            lang,
            "it made no call: send the list with client.chat.completions.create(...).",
            "호출을 하지 않았어요: client.chat.completions.create(...)로 목록을 보내세요.",
        )
    roles = roles_of(history)
    if roles == ["system"]:
        return not_yet(
            lang,
            "messages is unchanged after two turns: append to the list you were given "
            "(messages.append), not to a copy.",
            "두 턴이 지나도 messages가 그대로예요: 받은 목록 자체에 추가하세요(messages.append). 복사본이 아니라요.",
        )
    sent = api.requests[-1].get("messages", [])
    if not any("Alice" in str(m.get("content")) for m in sent if isinstance(m, dict)):
        return not_yet(
            lang,
            "the second request did not carry the first turn: send the whole messages list, not only the new message.",
            "두 번째 요청에 첫 턴이 없어요: 새 메시지만이 아니라 messages 목록 전체를 보내세요.",
        )
    if roles == ["system", "user", "user"]:
        return not_yet(
            lang,
            "the replies are missing from the history: append each one as an assistant message.",
            "기록에 답변이 없어요: 답변마다 assistant 메시지로 추가하세요.",
        )
    problem = wrong_turn_roles(roles, lang)
    if problem:
        return problem
    if [history[2].get("content"), history[4].get("content")] != [first, second]:
        return not_yet(
            lang,
            "the assistant messages should hold the reply texts your function returned.",
            "assistant 메시지에는 함수가 돌려준 답변 텍스트가 들어 있어야 해요.",
        )
    if not isinstance(second, str) or "Alice" not in second:
        return not_yet(
            lang,
            f"return the reply's text (response.choices[0].message.content); the second one was {second!r}.",
            f"답변 텍스트(response.choices[0].message.content)를 돌려주세요. 두 번째 값은 {second!r}였어요.",
        )
    return correct(
        lang,
        f"Your function keeps the history, and the second reply knows the name: {second}",
        f"함수가 기록을 지키고, 두 번째 답변이 이름을 알아요: {second}",
    )


def _trim_cases() -> list[tuple[list[dict[str, str]], int, list[dict[str, str]], str]]:
    """(messages, keep, expected, what the case is about)."""
    turns = [{"role": ("user", "assistant")[i % 2], "content": f"message {i}"} for i in range(8)]
    history = [dict(SYSTEM), *turns]
    return [
        (history, 4, [SYSTEM, *turns[-4:]], "the system message, then the last 4"),
        (history, 20, history, "keep is larger than the list: everything stays"),
        (turns, 2, turns[-2:], "a list without a system message: just the last 2"),
        (history, 0, [SYSTEM], "keep=0: only the system message (note that rest[-0:] is the whole list)"),
    ]


@guarded
def check_2(trim: Any, *, lang: str = "en") -> Verdict:
    """trim(messages, keep): a new list, the system message first, then the last ``keep``."""
    if not callable(trim):
        return not_yet(
            lang,
            "trim should be a function: def trim(messages, keep): ...",
            "trim은 함수여야 해요: def trim(messages, keep): ...",
        )
    for messages, keep, expected, about in _trim_cases():
        original = [dict(m) for m in messages]
        got = trim(messages, keep)
        if got is None:
            return not_yet(
                lang, "trim returns None: return the new list.", "trim이 None을 돌려줘요: 새 목록을 돌려주세요."
            )
        if messages != original:
            return not_yet(
                lang,
                f"trim(messages, {keep}) changed the list it was given: build a new one (slices do).",
                f"trim(messages, {keep})이 받은 목록을 바꿨어요: 새 목록을 만드세요(슬라이스가 그렇게 해요).",
            )
        if got is messages:
            return not_yet(
                lang, "return a new list, not the one you were given.", "받은 목록이 아니라 새 목록을 돌려주세요."
            )
        if list(got) != expected:
            if messages[0]["role"] == "system" and (not got or got[0] != SYSTEM):
                return not_yet(
                    lang,
                    f"trim(messages, {keep}) lost the system message: keep it first.",
                    f"trim(messages, {keep})에서 system 메시지가 사라졌어요: 맨 앞에 남겨 두세요.",
                )
            shown = [m.get("content") for m in got if isinstance(m, dict)]
            return not_yet(
                lang,
                f"trim(messages, {keep}) returned {shown}. The case: {about}.",
                f"trim(messages, {keep})이 {shown}을(를) 돌려줬어요. 확인한 경우: {about}.",
            )
    history = _trim_cases()[0][0]
    before = count_message_tokens(history, DEFAULT_MODEL)
    after = count_message_tokens(trim(history, 2), DEFAULT_MODEL)
    return correct(
        lang,
        f"Keeping the last 2 messages cuts this prompt from {before} to {after} tokens.",
        f"마지막 2개만 남기면 이 프롬프트가 {before}토큰에서 {after}토큰으로 줄어요.",
    )


QUIZ = {
    "en": [
        Question(
            "You send 'My name is Mina.' in one call, then 'What's my name?' alone in a second call. "
            "What can the model answer?",
            (
                "Mina: the server remembers the session",
                "Not the name: each request is answered from its own messages",
                "Mina, if the two calls come within a minute",
                "Mina, because both calls use the same client",
            ),
            1,
            "The API is stateless: nothing of the first call is kept, so the history must travel in every request.",
        ),
        Question(
            "Why append the model's reply to messages as an 'assistant' message?",
            (
                "The API refuses two user messages in a row",
                "So that the next request carries what the model said before",
                "It makes the next reply cheaper",
                "So that the server can cache the reply",
            ),
            1,
            "The assistant role is how you hand the model its own earlier replies; without them it loses the thread.",
        ),
        Question(
            "Why does chat_loop take an input_fn?",
            (
                "input() is slower than a function",
                "input() does not work in Jupyter at all",
                "So that a script can type the lines, and Run All or a test never waits for a person",
                "To keep the API key out of the notebook",
            ),
            2,
            "input() waits for someone at the keyboard; scripted([...]) types for them, and the same loop still "
            "serves a person when you pass input.",
        ),
        Question(
            "Your chat's 10th turn bills far more prompt tokens than its 1st. Why?",
            (
                "The model reads more slowly as the day goes on",
                "Every request resends all the earlier turns",
                "Prices rise with the number of calls",
                "Reply tokens are billed twice",
            ),
            1,
            "Turn n pays again for turns 1 to n-1, so the total grows about with the square of the number of turns.",
        ),
        Question(
            "You trim a history to the system message and the last 6 messages. What is the price?",
            (
                "The model forgets what was said in the older turns",
                "The API refuses a history that does not start at turn 1",
                "The system prompt is lost",
                "Nothing: the server still has the older turns",
            ),
            0,
            "Trimming caps the prompt, and anything only the dropped turns said is gone for the model.",
        ),
    ],
    "ko": [
        Question(
            "한 번의 호출로 '내 이름은 민아야.'를 보내고, 두 번째 호출에서 '내 이름이 뭐야?'만 "
            "보냈어요. 모델은 무엇을 답할 수 있을까요?",
            (
                "민아: 서버가 세션을 기억한다",
                "이름은 모른다: 요청마다 그 요청의 messages만 보고 답한다",
                "두 호출이 1분 안이면 민아",
                "같은 client를 썼으니 민아",
            ),
            1,
            "API는 상태가 없어요. 첫 호출의 내용은 남지 않으니 매 요청에 기록을 실어 보내야 해요.",
        ),
        Question(
            "모델의 답변을 'assistant' 메시지로 messages에 추가하는 이유는?",
            (
                "API가 user 메시지 두 개가 연달아 오면 거부해서",
                "다음 요청에 모델이 앞서 한 말이 함께 가도록",
                "다음 답변이 싸지니까",
                "서버가 답변을 캐시하도록",
            ),
            1,
            "assistant 역할로 모델에게 자신의 이전 답변을 돌려줘요. 그게 없으면 대화 흐름을 잃어요.",
        ),
        Question(
            "chat_loop가 input_fn을 받는 이유는?",
            (
                "input()이 함수보다 느려서",
                "input()은 Jupyter에서 전혀 동작하지 않아서",
                "스크립트가 대신 입력하게 해서 Run All이나 테스트가 사람을 기다리지 않도록",
                "API 키를 노트북에서 숨기려고",
            ),
            2,
            "input()은 키보드 앞의 사람을 기다려요. scripted([...])가 대신 입력하고, "
            "input을 넘기면 같은 루프가 사람과도 대화해요.",
        ),
        Question(
            "대화의 10번째 턴이 1번째 턴보다 프롬프트 토큰이 훨씬 많이 청구돼요. 왜일까요?",
            (
                "시간이 지날수록 모델이 느리게 읽어서",
                "요청마다 앞선 턴을 모두 다시 보내서",
                "호출 횟수에 따라 가격이 올라서",
                "답변 토큰이 두 번 청구돼서",
            ),
            1,
            "n번째 턴은 1~n-1번째 턴의 값을 다시 내요. 그래서 총량은 턴 수의 제곱에 가깝게 늘어요.",
        ),
        Question(
            "기록을 system 메시지와 마지막 메시지 6개로 줄였어요. 그 대가는?",
            (
                "모델이 오래된 턴에서 한 이야기를 잊는다",
                "1번째 턴부터 시작하지 않는 기록은 API가 거부한다",
                "system 프롬프트가 사라진다",
                "없다: 서버에 오래된 턴이 남아 있다",
            ),
            0,
            "잘라 내면 프롬프트가 작아지지만, 잘린 턴에만 있던 내용은 모델이 더는 알 수 없어요.",
        ),
    ],
}
