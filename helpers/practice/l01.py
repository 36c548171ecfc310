"""Lesson 01 · Your first call: the checks of its two exercises and its quiz.

The checks send their requests to an offline model of their own (free, and the same answer on
every run, with or without a key): it validates like the API and answers in the language the
system message is written in.
"""

from __future__ import annotations

import functools
import re

import openai

from .. import DEFAULT_MODEL
from . import Question, Verdict, correct, guarded, not_yet
from ._kit import own_model

HANGUL = re.compile("[가-힣]")


@functools.cache
def _client() -> openai.OpenAI:
    return own_model()[1]


def _ask(content: str, **params) -> openai.types.chat.ChatCompletion:
    messages = [{"role": "user", "content": content}]
    return _client().chat.completions.create(model=DEFAULT_MODEL, messages=messages, **params)


def _text(message) -> str:
    content = message.get("content") if isinstance(message, dict) else None
    return content if isinstance(content, str) else ""


@guarded
def check_1(messages, *, lang: str = "en") -> Verdict:
    """A system (or developer) message in Korean, then an English question: the reply is Korean."""
    if messages is None:
        return not_yet(lang, "answer_1 is still None: build the list of messages.", "answer_1이 아직 None이에요.")
    if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
        return not_yet(
            lang,
            f"answer_1 should be a list of messages (dicts), not {type(messages).__name__}.",
            f"answer_1은 메시지(dict)의 리스트여야 해요. 지금은 {type(messages).__name__}이에요.",
        )
    if len(messages) < 2:
        return not_yet(
            lang, "two messages are needed: the instructions, then the question.", "메시지가 두 개 필요해요."
        )
    first, last = messages[0], messages[-1]
    if first.get("role") not in ("system", "developer"):
        return not_yet(
            lang,
            "the first message should set the rules: which role is that?",
            "첫 메시지는 규칙을 정하는 메시지여야 해요. 어떤 역할일까요?",
        )
    if not HANGUL.search(_text(first)):
        return not_yet(lang, "write the instructions themselves in Korean.", "지시문을 한국어로 써 보세요.")
    if last.get("role") != "user":
        return not_yet(lang, "the last message should be the learner's question.", "마지막 메시지는 질문이어야 해요.")
    if not _text(last).strip() or HANGUL.search(_text(last)):
        return not_yet(
            lang,
            "ask the question in English: the point is that the system message alone picks the language.",
            "질문은 영어로 해 보세요. 언어를 정하는 것이 system 메시지뿐이라는 걸 보려는 거예요.",
        )
    try:
        response = _client().chat.completions.create(model=DEFAULT_MODEL, messages=messages)
    except openai.BadRequestError as error:
        return not_yet(lang, f"the API refused the messages ({error.param}): {error.body['message']}")
    reply = response.choices[0].message.content or ""
    if not HANGUL.search(reply):
        return not_yet(
            lang,
            f"the reply is not in Korean: {reply[:80]!r}. Say plainly that every answer must be in Korean.",
            f"답이 한국어가 아니에요: {reply[:80]!r}. 항상 한국어로 답하라고 분명히 써 보세요.",
        )
    return correct(
        lang,
        f"an English question, a Korean reply (from the check's offline model):\n{reply}",
        f"영어 질문에 한국어 답(검사용 오프라인 모델의 답):\n{reply}",
    )


@guarded
def check_2(is_complete, *, lang: str = "en") -> Verdict:
    """``is_complete(response)`` tells a finished reply from one cut off by the token budget,
    including a cut reply that still has text and one whose budget went on thinking."""
    if not callable(is_complete):
        return not_yet(lang, "answer with the function is_complete itself.", "is_complete 함수 자체를 넘겨 주세요.")
    cases = [
        ("a finished reply", _ask("Hi!", reasoning_effort="none")),
        ("a reply cut after a few words", _ask("Explain tokens.", reasoning_effort="none", max_completion_tokens=5)),
        ("a reply whose budget went on thinking", _ask("What is a token?", max_completion_tokens=40)),
    ]
    if not any(r.choices[0].finish_reason == "length" for _, r in cases):
        return not_yet(lang, "the check could not get a cut-off reply to test with; run it again.")
    for label, response in cases:
        said = is_complete(response)
        if said is None:
            return not_yet(lang, "is_complete returns None: write its body.", "is_complete가 None을 돌려줘요.")
        if not isinstance(said, bool):
            return not_yet(
                lang,
                f"is_complete should return True or False, not {type(said).__name__} ({said!r}).",
                f"is_complete는 True나 False를 돌려줘야 해요. 지금은 {said!r}예요.",
            )
        finished = response.choices[0].finish_reason == "stop"
        if said != finished:
            text = response.choices[0].message.content
            return not_yet(
                lang,
                f"for {label} (content {text!r}) is_complete said {said}. Which field says why the model stopped?",
                f"{label}에 대해 is_complete가 {said}라고 했어요. 모델이 멈춘 이유는 어느 필드에 있나요?",
            )
    return correct(
        lang,
        "it tells a finished reply from a cut one, even when the cut one has text.",
        "끝난 답과 잘린 답을, 잘린 답에 글자가 있어도 구별해요.",
    )


QUIZ = {
    "en": [
        Question(
            "Which message sets the assistant's manner and language for the whole conversation?",
            ("The first user message", "A system (or developer) message", "The last assistant message"),
            1,
            "System (or developer) instructions steer every reply; user messages ask, assistant messages hold "
            "earlier replies.",
        ),
        Question(
            "A reply comes back with finish_reason 'length' and empty content. What happened?",
            (
                "The model had nothing to say",
                "The request was invalid",
                "The token budget was spent, here on hidden reasoning, before any visible text",
            ),
            2,
            "max_completion_tokens covers thinking and reply together; the tokens spent are still billed.",
        ),
        Question(
            "Where do a reasoning model's hidden thinking tokens show up?",
            (
                "In usage.completion_tokens, billed as output",
                "Nowhere: they are free",
                "In usage.prompt_tokens",
            ),
            0,
            "completion_tokens_details.reasoning_tokens says how many of the completion tokens were thinking.",
        ),
        Question(
            "You send max_tokens=300 to a reasoning model, then misspell the model's name. What do you get?",
            (
                "Two replies cut at 300 tokens",
                "A 400 BadRequestError (param 'max_tokens'), then a 404 NotFoundError",
                "A 404 both times",
            ),
            1,
            "An invalid parameter is a 400 that names it in error.param; a model the API does not know is a 404.",
        ),
    ],
    "ko": [
        Question(
            "대화 전체에서 어시스턴트의 말투와 언어를 정하는 메시지는?",
            ("첫 user 메시지", "system(또는 developer) 메시지", "마지막 assistant 메시지"),
            1,
            "system(또는 developer) 지시는 모든 답에 영향을 줍니다. user는 묻고, assistant는 이전 답을 담아요.",
        ),
        Question(
            "finish_reason이 'length'이고 content가 비어 있는 답이 왔어요. 무슨 일일까요?",
            ("모델이 할 말이 없었다", "요청이 잘못되었다", "보이는 글을 쓰기 전에 토큰 예산을 숨은 추론에 다 썼다"),
            2,
            "max_completion_tokens는 추론과 답을 합친 한도이고, 쓴 토큰은 그래도 과금됩니다.",
        ),
        Question(
            "추론 모델의 숨은 추론 토큰은 어디에 나타나나요?",
            ("usage.completion_tokens에, 출력으로 과금", "어디에도 없다: 무료다", "usage.prompt_tokens에"),
            0,
            "completion_tokens_details.reasoning_tokens가 그중 추론에 쓴 토큰 수를 알려 줍니다.",
        ),
        Question(
            "추론 모델에 max_tokens=300을 보내고, 다음엔 모델 이름을 잘못 쓰면?",
            (
                "300 토큰에서 잘린 답 두 개",
                "400 BadRequestError(param 'max_tokens'), 그다음 404 NotFoundError",
                "두 번 다 404",
            ),
            1,
            "잘못된 파라미터는 error.param에 그 이름이 담긴 400이고, API가 모르는 모델은 404입니다.",
        ),
    ],
}
