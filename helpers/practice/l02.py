"""Lesson 02 · The parameters: the checks of its two exercises and its quiz.

Exercise 1's check sends the learner's parameters to an offline model of its own (free, and
the same answer on every run, with or without a key), which validates them like the API.
Exercise 2's check calls the learner's ``safe_ask``, which talks to whatever client the
lesson made.
"""

from __future__ import annotations

import functools

import openai

from .. import DEFAULT_MODEL
from ..chat import describe_error
from . import Question, Verdict, correct, guarded, not_yet
from ._kit import own_model

QUESTION = "What is a token?"


@functools.cache
def _client() -> openai.OpenAI:
    return own_model()[1]


@guarded
def check_1(params, *, lang: str = "en") -> Verdict:
    """Parameters for one steady sentence: the most likely reply (temperature 0, or top_p 0,
    which this model takes only with reasoning_effort="none"), ended by stop just before the
    first "."."""
    if params is None:
        return not_yet(lang, "answer_1 is still None: fill in the dict.", "answer_1이 아직 None이에요.")
    if not isinstance(params, dict):
        return not_yet(
            lang,
            f"answer_1 should be a dict of parameters, not {type(params).__name__}.",
            f"answer_1은 파라미터의 dict여야 해요. 지금은 {type(params).__name__}이에요.",
        )
    if {"model", "messages"} & set(params):
        return not_yet(
            lang,
            "leave model and messages out: ask(...) sends those; give only the other parameters.",
            "model과 messages는 빼 주세요. ask(...)가 보내요.",
        )
    messages = [{"role": "user", "content": QUESTION}]
    try:
        response = _client().chat.completions.create(model=DEFAULT_MODEL, messages=messages, **params)
    except openai.BadRequestError as error:
        return not_yet(
            lang,
            f"the API refused it ({error.param}): {error.body['message']} Section 1 says what "
            "the sampling parameters need on this model.",
            f"API가 거절했어요({error.param}): {error.body['message']} 1절에서 샘플링 파라미터의 조건을 보세요.",
        )
    except TypeError as error:  # a name the SDK does not know
        return not_yet(lang, f"{error}")
    if params.get("temperature") != 0 and params.get("top_p") != 0:  # either picks the likeliest token
        return not_yet(
            lang,
            "the most likely reply, every time, needs one sampling parameter at 0. Which one?",
            "매번 가장 그럴듯한 답을 얻으려면 샘플링 파라미터 하나를 0으로 두어야 해요. 어느 것일까요?",
        )
    choice = response.choices[0]
    text = choice.message.content or ""
    if choice.finish_reason != "stop" or not text or "." in text:
        return not_yet(
            lang,
            f"the reply should end just before its first full stop; got {text!r} "
            f"(finish_reason {choice.finish_reason!r}).",
            f"답이 첫 마침표 바로 앞에서 끝나야 해요. 지금은 {text!r} (finish_reason {choice.finish_reason!r}).",
        )
    return correct(lang, f"one steady sentence: {text!r}", f"한결같은 한 문장: {text!r}")


@guarded
def check_2(safe_ask, *, lang: str = "en") -> Verdict:
    """``safe_ask(question, **params)`` returns the reply text, or "Invalid request: <param>"
    when the API refuses the request as invalid, instead of raising."""
    if not callable(safe_ask):
        return not_yet(lang, "answer with the function safe_ask itself.", "safe_ask 함수 자체를 넘겨 주세요.")
    try:
        good = safe_ask(QUESTION, reasoning_effort="none", temperature=0.2)
        bad = {name: safe_ask(QUESTION, **{name: value}) for name, value in (("temperature", 0.2), ("top_p", 0.5))}
    except openai.APIError as error:
        return not_yet(
            lang,
            f"safe_ask let an error through: {describe_error(error)}",
            f"safe_ask가 오류를 그대로 내보냈어요: {describe_error(error)}",
        )
    if good is None:
        return not_yet(lang, "safe_ask returns None: write its body.", "safe_ask가 None을 돌려줘요.")
    if not isinstance(good, str) or not good or good.startswith("Invalid request"):
        return not_yet(
            lang,
            f"a valid call should return the reply's text (a str), got {good!r:.80}.",
            f"올바른 호출은 답의 텍스트(str)를 돌려줘야 해요. 지금은 {good!r:.80}.",
        )
    for name, said in bad.items():
        if said != f"Invalid request: {name}":
            return not_yet(
                lang,
                f"{name} at the default effort should give 'Invalid request: {name}', got {said!r:.80}. "
                "Which attribute of the error names the parameter?",
                f"기본 effort에서 {name}은 'Invalid request: {name}'이어야 해요. 지금은 {said!r:.80}.",
            )
    return correct(
        lang,
        "valid calls give text, invalid ones a message naming the parameter.",
        "올바른 호출은 텍스트를, 잘못된 호출은 파라미터 이름이 담긴 메시지를 돌려줘요.",
    )


QUIZ = {
    "en": [
        Question(
            "On this lesson's model, temperature=0.2 alone is refused with a 400. Why?",
            (
                "0.2 is out of range",
                "Reasoning models take sampling parameters only with reasoning_effort='none'",
                "temperature needs top_p too",
            ),
            1,
            "With thinking on, the API refuses temperature, top_p, stop and the penalties; "
            "reasoning_effort='none' switches thinking off.",
        ),
        Question(
            "You want the most likely reply, the same on every call. Which setting?",
            ("temperature=0", "temperature=2", "n=1"),
            0,
            "At 0 the most likely token nearly always wins; higher values flatten the odds and replies vary.",
        ),
        Question(
            "What does top_p=0.1 do?",
            (
                "It keeps only the top 10% of replies",
                "It samples only from the most likely tokens that together make up 10% of the probability",
                "It cuts the reply at 10% of the budget",
            ),
            1,
            "Nucleus sampling: the unlikely tail is never picked, so replies vary less.",
        ),
        Question(
            "What does seed promise?",
            (
                "The same reply forever",
                "Nothing: it is ignored",
                "The same reply for the same request, on a best-effort basis while system_fingerprint stays the same",
            ),
            2,
            "The API makes a best effort; a new backend configuration (a new system_fingerprint) may change it.",
        ),
        Question(
            "A call with n=3: how is it billed?",
            (
                "The prompt once, and the tokens of all three replies as output",
                "Everything three times",
                "Only the first reply",
            ),
            0,
            "usage.completion_tokens adds up all the choices; the prompt is sent once.",
        ),
    ],
    "ko": [
        Question(
            "이 레슨의 모델에 temperature=0.2만 보내면 400으로 거절됩니다. 왜일까요?",
            (
                "0.2가 범위 밖이라서",
                "추론 모델은 reasoning_effort='none'일 때만 샘플링 파라미터를 받아서",
                "top_p도 함께 보내야 해서",
            ),
            1,
            "추론이 켜져 있으면 temperature, top_p, stop, 페널티를 거절합니다. "
            "reasoning_effort='none'이 추론을 끕니다.",
        ),
        Question(
            "매번 같은, 가장 그럴듯한 답을 원해요. 어떤 설정일까요?",
            ("temperature=0", "temperature=2", "n=1"),
            0,
            "0이면 가장 그럴듯한 토큰이 거의 항상 뽑히고, 값이 클수록 답이 다양해집니다.",
        ),
        Question(
            "top_p=0.1은 무엇을 하나요?",
            (
                "답 중 상위 10%만 남긴다",
                "확률을 합쳐 10%가 되는 가장 그럴듯한 토큰들에서만 뽑는다",
                "예산의 10%에서 답을 자른다",
            ),
            1,
            "뉴클리어스 샘플링: 가능성 낮은 꼬리는 뽑히지 않아 답이 덜 달라집니다.",
        ),
        Question(
            "seed는 무엇을 약속하나요?",
            ("영원히 같은 답", "아무것도: 무시된다", "system_fingerprint가 같은 동안 같은 요청에 같은 답(최선의 노력)"),
            2,
            "API는 최선을 다할 뿐이고, 백엔드 구성이 바뀌면(새 system_fingerprint) 답이 달라질 수 있어요.",
        ),
        Question(
            "n=3인 호출은 어떻게 과금되나요?",
            ("프롬프트는 한 번, 세 답의 토큰은 모두 출력으로", "모든 것이 세 번", "첫 답만"),
            0,
            "usage.completion_tokens는 모든 choice를 합친 값이고, 프롬프트는 한 번 보냅니다.",
        ),
    ],
}
