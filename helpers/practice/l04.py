"""Lesson 04 (streaming): the checks and the quiz.

Both checks stream from an offline model of their own (free, the same reply every time):
exercise 1 hands ``reply_and_usage(chunks)`` the chunks of two streams, one with the usage
chunk and one without; exercise 2 runs two turns of ``stream_turn(client, messages, text)``
and reads what it printed, what it kept and the requests the model received.
"""

from __future__ import annotations

import contextlib
import io
from typing import Any

from ..models import DEFAULT_MODEL
from . import Question, Verdict, correct, guarded, not_yet
from ._kit import own_model, roles_of, wrong_turn_roles

STEADY = {"reasoning_effort": "none", "temperature": 0}


def _chunks(client: Any, include_usage: bool) -> list[Any]:
    options = {"stream_options": {"include_usage": True}} if include_usage else {}
    messages = [{"role": "user", "content": "What is a token?"}]
    stream = client.chat.completions.create(model=DEFAULT_MODEL, messages=messages, stream=True, **STEADY, **options)
    return list(stream)


def _text_of(chunks: list[Any]) -> str:
    return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)


def _first_difference(expected: str, got: str) -> int:
    shorter = min(len(expected), len(got))
    return next((i for i in range(shorter) if expected[i] != got[i]), shorter)


@guarded
def check_1(reply_and_usage: Any, *, lang: str = "en") -> Verdict:
    """reply_and_usage(chunks) -> (text, usage), with and without the usage chunk."""
    if not callable(reply_and_usage):
        return not_yet(
            lang,
            "reply_and_usage should be a function: def reply_and_usage(chunks): ...",
            "reply_and_usage는 함수여야 해요: def reply_and_usage(chunks): ...",
        )
    _, client = own_model()
    total = None  # the usage chunk's count, for the verdict
    for include_usage in (True, False):
        chunks = _chunks(client, include_usage)
        expected_text, expected_usage = _text_of(chunks), chunks[-1].usage
        total = total or getattr(expected_usage, "total_tokens", None)
        try:
            result = reply_and_usage(list(chunks))
        except IndexError as error:
            return not_yet(
                lang,
                f"reply_and_usage raised IndexError ({error}): the usage chunk at the end has no "
                "choices[0]. Check chunk.choices before reading it.",
                f"reply_and_usage가 IndexError({error})를 냈어요: 마지막 usage 청크에는 choices[0]이 없어요. "
                "읽기 전에 chunk.choices를 확인하세요.",
            )
        if not isinstance(result, tuple) or len(result) != 2:
            return not_yet(lang, "return a pair: return text, usage.", "두 값을 돌려주세요: return text, usage.")
        text, usage = result
        if text is None and usage is None:
            return not_yet(
                lang,
                "reply_and_usage returns (None, None): fill in both lines, run its cell, then this one.",
                "reply_and_usage가 (None, None)을 돌려줘요: 두 줄을 채우고 그 셀을 실행한 뒤 이 셀을 실행하세요.",
            )
        if text != expected_text:
            if isinstance(text, str) and "None" in text and "None" not in expected_text:
                return not_yet(
                    lang,
                    "the text contains 'None': the last chunk's content is None; treat it as ''.",
                    "텍스트에 'None'이 들어 있어요: 마지막 청크의 content는 None이니 ''로 다루세요.",
                )
            at = _first_difference(expected_text, str(text))
            return not_yet(
                lang,
                f"at character {at} the reply has {expected_text[at : at + 20]!r}, your text "
                f"{str(text)[at : at + 20]!r}. Join the content of every delta, in order.",
                f"{at}번째 글자에서 답변은 {expected_text[at : at + 20]!r}, 여러분의 텍스트는 "
                f"{str(text)[at : at + 20]!r}예요. 모든 delta의 content를 순서대로 이으세요.",
            )
        if include_usage and getattr(usage, "total_tokens", None) != expected_usage.total_tokens:
            return not_yet(
                lang,
                "the text is right, but the usage is not the one the stream reports: it comes in the "
                "last chunk, the one whose choices list is empty.",
                "텍스트는 맞지만 usage가 스트림이 알려 준 값이 아니에요: usage는 choices가 빈 마지막 청크에 와요.",
            )
        if not include_usage and usage is not None:
            return not_yet(
                lang,
                "without include_usage no chunk carries a usage: return None for it then.",
                "include_usage가 없으면 usage를 가진 청크가 없어요: 그때는 None을 돌려주세요.",
            )
    return correct(
        lang,
        f"{len(expected_text)} characters, and the usage from the last chunk ({total} tokens) "
        "when the stream sends one.",
        f"{len(expected_text)}글자, 그리고 스트림이 보내 줄 때는 마지막 청크의 usage({total}토큰)까지 맞아요.",
    )


@guarded
def check_2(stream_turn: Any, *, lang: str = "en") -> Verdict:
    """Two streamed turns (a name, then a question about it) through the learner's function."""
    if not callable(stream_turn):
        return not_yet(
            lang,
            "stream_turn should be a function: def stream_turn(client, messages, text): ...",
            "stream_turn은 함수여야 해요: def stream_turn(client, messages, text): ...",
        )
    api, client = own_model()
    messages = [{"role": "system", "content": "You are a friendly tutor."}]
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        replies = [stream_turn(client, messages, text) for text in ("Hi, my name is Jun.", "What is my name?")]
    roles = roles_of(messages)
    if replies == [None, None] and roles == ["system"] and not api.requests:
        return not_yet(
            lang,
            "stream_turn does nothing yet: fill it in, run its cell, then this one.",
            "stream_turn이 아직 아무것도 하지 않아요: 채워 넣고 그 셀을 실행한 뒤 이 셀을 실행하세요.",
        )
    if not api.requests or not all(request.get("stream") for request in api.requests):
        return not_yet(
            lang,
            "stream the reply: client.chat.completions.create(..., stream=True), then loop over the chunks.",
            "답변을 스트리밍하세요: client.chat.completions.create(..., stream=True) 후 청크를 반복하세요.",
        )
    if roles == ["system", "user", "user"]:
        return not_yet(
            lang,
            "the streamed replies are missing from the history: append each one as an assistant message.",
            "스트리밍한 답변이 기록에 없어요: 답변마다 assistant 메시지로 추가하세요.",
        )
    problem = wrong_turn_roles(roles, lang)
    if problem:
        return problem
    if [messages[2].get("content"), messages[4].get("content")] != replies:
        return not_yet(
            lang,
            "the history's assistant messages must be the replies you streamed and returned (the pieces "
            "joined), not a variable left over from another cell.",
            "기록의 assistant 메시지는 스트리밍해서 돌려준 답변(조각을 이은 것)이어야 해요. "
            "다른 셀에서 남은 변수가 아니라요.",
        )
    if not all(isinstance(reply, str) and reply for reply in replies) or "Jun" not in replies[1]:
        return not_yet(
            lang,
            f"each turn should return the new reply, and the second one should know the name: {replies[1]!r}.",
            f"턴마다 새 답변을 돌려줘야 하고, 두 번째 답변은 이름을 알아야 해요: {replies[1]!r}.",
        )
    if not all(reply in printed.getvalue() for reply in replies):
        return not_yet(
            lang,
            "print each piece as it arrives: print(piece, end='', flush=True).",
            "조각이 도착할 때마다 출력하세요: print(piece, end='', flush=True).",
        )
    return correct(
        lang,
        "The history holds exactly what was streamed, and the reply showed as it arrived.",
        "기록에는 스트리밍한 그대로가 들어 있고, 답변은 도착하는 대로 보였어요.",
    )


QUIZ = {
    "en": [
        Question(
            "With stream=True, what does chunk.choices[0].delta.content hold?",
            (
                "The whole reply so far",
                "Only the text that is new since the previous chunk",
                "The token ids of the reply",
                "Always one complete sentence",
            ),
            1,
            "A delta is a difference: join every chunk's piece to get the reply ('' first, None in the last chunk).",
        ),
        Question(
            'With stream_options={"include_usage": True}, where is the usage?',
            (
                "In every chunk",
                "In the first chunk",
                "In one extra chunk at the end, whose choices list is empty",
                "In the response headers",
            ),
            2,
            "So a loop that reads chunk.choices[0] without checking breaks on that last chunk.",
        ),
        Question(
            "What does streaming improve?",
            (
                "The total time the model takes to write the reply",
                "The time until the first words appear",
                "The price of the reply",
                "The quality of the reply",
            ),
            1,
            "The reply takes about as long either way; the user just stops staring at an empty screen sooner.",
        ),
        Question(
            "You break out of a stream after 60 characters. What else should you do?",
            (
                "Nothing: break closes everything",
                "Close the stream (a with block, or stream.close()) so its connection is released",
                "Call create again to cancel the first call",
                "Set max_completion_tokens=60 afterwards",
            ),
            1,
            "A with block closes the stream however the loop ends. The closed stream sends no usage chunk.",
        ),
        Question(
            "In a streaming chat loop, what goes into the history as the assistant message?",
            (
                "The last chunk",
                "The pieces you streamed, joined",
                "assistant_message from the earlier, non-streaming loop",
                "Nothing: the server keeps streamed replies",
            ),
            1,
            "A variable left over in the kernel looks fine on screen and quietly stores an old reply.",
        ),
    ],
    "ko": [
        Question(
            "stream=True일 때 chunk.choices[0].delta.content에는 무엇이 있나요?",
            (
                "지금까지의 답변 전체",
                "직전 청크 이후 새로 온 텍스트만",
                "답변의 토큰 id",
                "항상 완전한 문장 하나",
            ),
            1,
            "delta는 차이예요. 모든 청크의 조각을 이어야 답변이 돼요(첫 청크는 '', 마지막 청크는 None).",
        ),
        Question(
            'stream_options={"include_usage": True}이면 usage는 어디에 있나요?',
            (
                "모든 청크에",
                "첫 청크에",
                "끝에 오는 추가 청크 하나에, 그 청크의 choices는 빈 목록",
                "응답 헤더에",
            ),
            2,
            "그래서 확인 없이 chunk.choices[0]을 읽는 루프는 그 마지막 청크에서 멈춰요.",
        ),
        Question(
            "스트리밍이 개선하는 것은?",
            (
                "모델이 답변을 다 쓰는 데 걸리는 전체 시간",
                "첫 글자가 보이기까지의 시간",
                "답변의 가격",
                "답변의 품질",
            ),
            1,
            "전체 시간은 비슷해요. 사용자가 빈 화면을 보는 시간이 줄어들 뿐이에요.",
        ),
        Question(
            "60글자를 받고 스트림 루프를 break로 빠져나왔어요. 그 밖에 할 일은?",
            (
                "없다: break가 모두 닫는다",
                "스트림을 닫아(with 블록이나 stream.close()) 연결을 놓아준다",
                "첫 호출을 취소하려고 create를 다시 부른다",
                "나중에 max_completion_tokens=60을 설정한다",
            ),
            1,
            "with 블록은 루프가 어떻게 끝나든 스트림을 닫아요. 일찍 닫힌 스트림은 usage 청크를 보내지 않아요.",
        ),
        Question(
            "스트리밍 채팅 루프에서 기록에 assistant 메시지로 넣는 것은?",
            (
                "마지막 청크",
                "스트리밍한 조각을 이은 것",
                "앞선 비스트리밍 루프의 assistant_message",
                "없다: 서버가 스트리밍한 답변을 보관한다",
            ),
            1,
            "커널에 남은 변수는 화면에서는 멀쩡해 보여도 기록에 오래된 답변을 조용히 넣어요.",
        ),
    ],
}
