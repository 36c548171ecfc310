"""Lesson 05 · Tokens: the checks of its two exercises and its quiz.

1. ``tokens_for(text, model)``: the tokens of a text for a model, in the model's own encoding;
2. ``prompt_estimate(messages, model)``: the message-counting rule written out by hand.
"""

from __future__ import annotations

from ..models import DEFAULT_MODEL
from ..tokens import count_message_tokens, count_tokens, encoding_for, rules_for
from . import Question, Verdict, correct, guarded, not_yet
from ._kit import not_a_function, returns_none

SENTENCE = "아버지가 방에 들어가신다."
ENGLISH = "Streaming makes a chatbot feel fast."
NEWS = (
    "한빛시는 다음 달부터 시립도서관 열두 곳에서 인공지능 도서 추천 서비스를 시범 운영한다고 "
    "3일 밝혔다. 대출 기록은 이용자가 동의한 경우에만 추천에 쓰인다."
)


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _other_encoding(text: str, model: str) -> int:
    """The count in the encoding ``model`` does not use (o200k_base or cl100k_base)."""
    other = "gpt-4o" if encoding_for(model).name == "cl100k_base" else "gpt-3.5-turbo"
    return count_tokens(text, other)


# (text, model): a gpt-6 model (tiktoken alone does not know it), gpt-4.1, the retired
# gpt-3.5-turbo (cl100k_base), Korean and English, and the empty text.
COUNT_CASES = [
    (SENTENCE, DEFAULT_MODEL),
    (SENTENCE, "gpt-3.5-turbo"),
    (ENGLISH, "gpt-4.1"),
    (NEWS, "gpt-6.1-terra"),
    ("", DEFAULT_MODEL),
]


@guarded
def check_1(tokens_for, *, lang: str = "en") -> Verdict:
    """``tokens_for(text, model)`` counts ``text`` in ``model``'s own encoding."""
    problem = not_a_function("tokens_for", tokens_for, 1, lang)
    if problem:
        return problem
    for text, model in COUNT_CASES:
        try:
            answer = tokens_for(text, model)
        except KeyError:
            return not_yet(
                lang,
                f"tokens_for(..., {model!r}) raised KeyError. tiktoken alone does not know the gpt-6 "
                "models yet: which helper falls back to the course's table?",
                f"tokens_for(..., {model!r})에서 KeyError가 났어요. tiktoken만으로는 gpt-6 모델을 아직 "
                "모릅니다. 강좌의 모델 표로 대신 정해 주는 헬퍼는 무엇일까요?",
            )
        if answer is None:
            return returns_none("tokens_for", lang)
        if _is_count(answer) and answer == count_tokens(text, model):
            continue
        where, ko = f"for {model} and {text[:12]!r}", f"{model}, {text[:12]!r}에서"
        if not _is_count(answer):
            return not_yet(
                lang,
                f"{where}, it returned {type(answer).__name__}: return the number of tokens, an int.",
                f"{ko} {type(answer).__name__}을(를) 돌려줬어요. 토큰 수(int)를 돌려주세요.",
            )
        if answer == len(text):
            return not_yet(
                lang,
                f"{where}, that is the number of characters, not of tokens.",
                f"{ko} 글자 수를 셌어요. 토큰 수를 세야 합니다.",
            )
        if answer == count_message_tokens([{"role": "user", "content": text}], model):
            return not_yet(
                lang,
                f"{where}, that counts a whole request (with the message overhead), not the text.",
                f"{ko} 메시지 오버헤드까지 더한 요청 전체를 셌어요. 텍스트만 세야 합니다.",
            )
        if answer == _other_encoding(text, model):
            return not_yet(
                lang,
                f"{where}, that is the count in another encoding. Let the model choose its "
                "encoding instead of naming one.",
                f"{ko} 다른 인코딩으로 센 값이에요. 인코딩 이름을 직접 쓰지 말고 모델이 고르게 하세요.",
            )
        return not_yet(
            lang,
            f"{where}, {answer!r} is not the number of tokens.",
            f"{ko} {answer!r}은(는) 토큰 수가 아니에요.",
        )
    return correct(
        lang,
        "Each model counted in its own encoding, gpt-6 included.",
        "모델마다 자기 인코딩으로 셌어요. gpt-6도 포함해서요.",
    )


def _messages(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    return [{"role": role, "content": content} for role, content in pairs]


TUTOR = _messages(("system", "너는 친절한 파이썬 튜터야. 짧게 답해."), ("user", "토큰이 뭐야?"))
# (messages, model): gpt-4.1 primes the reply with 3 tokens, the reasoning models with 2.
ESTIMATE_CASES = [
    (TUTOR, "gpt-4.1"),
    (TUTOR, DEFAULT_MODEL),
    (_messages(("user", NEWS)), "gpt-6-sol"),
    (_messages(("system", "Be brief."), ("user", ENGLISH)), "gpt-5.4-mini"),
]


def _estimate_hint(answer: object, messages: list[dict[str, str]], model: str, lang: str) -> Verdict:
    right = count_message_tokens(messages, model)
    priming = rules_for(model).reply_priming
    where = f"for {len(messages)} message(s) on {model}"
    where_ko = f"{model}의 메시지 {len(messages)}개에서"
    roles = sum(count_tokens(m["role"], model) for m in messages)
    content = sum(count_tokens(m["content"], model) for m in messages)
    if not _is_count(answer):
        en = f"it returned {type(answer).__name__}: return the number of tokens, an int."
        ko = f"{type(answer).__name__}을(를) 돌려줬어요. 토큰 수(int)를 돌려주세요."
    elif answer == right - priming:
        en, ko = "the reply priming is missing.", "답변 프라이밍 토큰이 빠졌어요."
    elif answer == right - priming + 3:
        en = f"the priming is not always 3: {model} primes with rules_for(model).reply_priming."
        ko = f"프라이밍이 늘 3은 아니에요. {model}은(는) rules_for(model).reply_priming만큼입니다."
    elif answer == right - roles:
        en, ko = "the tokens of each message's role are missing.", "각 메시지 역할(role)의 토큰이 빠졌어요."
    elif answer == right - 3 * len(messages):
        en, ko = "the 3 tokens around each message are missing.", "메시지마다 붙는 3토큰이 빠졌어요."
    elif answer == content:
        en = "that is the content alone: add the roles, 3 a message and the priming."
        ko = "내용만 셌어요. 역할, 메시지마다 3, 프라이밍을 더하세요."
    else:
        en, ko = f"{answer!r} is not the estimate.", f"{answer!r}은(는) 추정값이 아니에요."
    return not_yet(lang, f"{where}, {en}", f"{where_ko} {ko}")


@guarded
def check_2(prompt_estimate, *, lang: str = "en") -> Verdict:
    """``prompt_estimate(messages, model)`` adds up the rule as count_message_tokens does."""
    problem = not_a_function("prompt_estimate", prompt_estimate, 2, lang)
    if problem:
        return problem
    for messages, model in ESTIMATE_CASES:
        answer = prompt_estimate([dict(m) for m in messages], model)  # a copy: the answer may edit it
        if answer is None:
            return returns_none("prompt_estimate", lang)
        if not (_is_count(answer) and answer == count_message_tokens(messages, model)):
            return _estimate_hint(answer, messages, model, lang)
    return correct(
        lang,
        "Your estimate matches count_message_tokens on every case.",
        "모든 경우에 count_message_tokens와 같은 추정값이에요.",
    )


QUIZ = {
    "en": (
        Question(
            "gpt-4.1 uses o200k_base. What happens if you count its Korean prompts with cl100k_base?",
            (
                "Nothing: all OpenAI encodings give the same counts",
                "The count comes out far too high, and so does every cost computed from it",
                "The API rejects the request",
            ),
            1,
            "cl100k_base has far fewer Korean pieces: this lesson's Korean text is 362 tokens in "
            "o200k_base and 634 in cl100k_base.",
        ),
        Question(
            "tiktoken does not map gpt-6-luna to an encoding yet. What does helpers.encoding_for do?",
            (
                "It uses the course table's o200k_base, marked as an assumption",
                "It raises KeyError",
                "It calls the API to ask",
            ),
            0,
            "The table records encoding_assumed=True; with a key, compare your count with usage.",
        ),
        Question(
            "A Korean text copied from a macOS file name is in NFD (decomposed jamo). What should you do?",
            (
                "Nothing: it looks the same on screen",
                "Normalize it to NFKC",
                "Normalize it to NFC before counting or sending it",
            ),
            2,
            "NFD Korean costs several times as many tokens; NFC composes the jamo back. NFKC would "
            "also rewrite other characters such as ① and full-width letters.",
        ),
        Question(
            "What is count_message_tokens's result?",
            (
                "The exact number the API will bill, for any request",
                "An estimate of usage.prompt_tokens, checked against recorded traffic",
                "The number of characters in the messages",
            ),
            1,
            "It matches the recordings of today's families, yet an early gpt-3.5 snapshot counted "
            "differently, and tools or schemas add tokens it leaves out. usage has the last word.",
        ),
    ),
    "ko": (
        Question(
            "gpt-4.1은 o200k_base를 씁니다. 한국어 프롬프트를 cl100k_base로 세면 어떻게 될까요?",
            (
                "아무 문제 없다: OpenAI 인코딩은 모두 같은 수를 낸다",
                "토큰 수가 훨씬 크게 나오고, 그걸로 계산한 비용도 모두 부풀려진다",
                "API가 요청을 거절한다",
            ),
            1,
            "cl100k_base에는 한국어 조각이 훨씬 적어요. 이 레슨의 한국어 글은 o200k_base로 362토큰, "
            "cl100k_base로 634토큰입니다.",
        ),
        Question(
            "tiktoken은 아직 gpt-6-luna의 인코딩을 모릅니다. helpers.encoding_for는 어떻게 할까요?",
            (
                "강좌의 모델 표에 적힌 o200k_base를 쓰고, 가정이라고 표시해 둔다",
                "KeyError를 낸다",
                "API에 물어본다",
            ),
            0,
            "표에 encoding_assumed=True로 적혀 있어요. 키가 있으면 usage와 비교해 확인하세요.",
        ),
        Question(
            "macOS 파일 이름에서 복사한 한국어가 NFD(자모 분리)로 되어 있습니다. 어떻게 할까요?",
            (
                "그대로 둔다: 화면에서는 똑같이 보인다",
                "NFKC로 정규화한다",
                "세거나 보내기 전에 NFC로 정규화한다",
            ),
            2,
            "NFD 한국어는 토큰이 몇 배로 늘어요. NFC는 자모를 다시 음절로 합칩니다. NFKC는 ①이나 "
            "전각 문자 같은 다른 글자까지 바꿔 버려요.",
        ),
        Question(
            "count_message_tokens가 돌려주는 값은 무엇일까요?",
            (
                "어떤 요청이든 API가 청구할 정확한 수",
                "usage.prompt_tokens의 추정값 (기록된 실제 트래픽으로 확인한 규칙)",
                "메시지의 글자 수",
            ),
            1,
            "지금 모델들의 기록과는 맞지만, 초기 gpt-3.5 스냅샷은 다르게 셌고, 도구나 스키마는 "
            "이 규칙에 없는 토큰을 더해요. 최종 답은 usage입니다.",
        ),
    ),
}
