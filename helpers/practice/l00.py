"""Lesson 00 · Setup: the checks of its three exercises and its quiz."""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Callable
from unittest import mock

import openai

from ..client import get_client
from ..models import DEFAULT_MODEL
from . import Question, Verdict, correct, guarded, not_yet

# A computer with a key and no COURSE_OFFLINE: there, only offline=True gives the offline model.
MADE_UP_KEY = "sk-" + "madeUpForTheCheck" * 3
WITH_A_KEY = {"OPENAI_API_KEY": MADE_UP_KEY, "COURSE_OFFLINE": "0", "COURSE_IGNORE_DOTENV": "1"}
QUESTION = [{"role": "user", "content": "What is a token?"}]


@guarded
def check_1(make_client: Callable[[], object], *, lang: str = "en") -> Verdict:
    """``make_client()`` returns an offline client, even with a key set, and prints nothing."""
    if isinstance(make_client, openai.OpenAI):
        return not_yet(
            lang,
            "pass the function itself, quiet_offline_client, without (): the check calls it with a key set.",
            "함수 자체(quiet_offline_client, 괄호 없이)를 넘기세요. 검사가 키를 설정한 뒤 직접 부릅니다.",
        )
    if not callable(make_client):
        return not_yet(
            lang,
            f"pass the function quiet_offline_client, not {type(make_client).__name__}.",
            f"{type(make_client).__name__} 말고 함수 quiet_offline_client를 넘기세요.",
        )
    printed = io.StringIO()
    with mock.patch.dict(os.environ, WITH_A_KEY):
        os.environ.pop("OPENAI_BASE_URL", None)  # the key goes to OpenAI itself (restored on exit)
        with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
            made = make_client()
    if made is None:
        return not_yet(
            lang,
            "quiet_offline_client() returns None. Make the client and return it.",
            "quiet_offline_client()가 None을 돌려줘요. 클라이언트를 만들어 return 하세요.",
        )
    if not isinstance(made, openai.OpenAI):
        return not_yet(
            lang,
            f"return the client (an openai.OpenAI), not {type(made).__name__}.",
            f"{type(made).__name__} 말고 클라이언트(openai.OpenAI)를 돌려주세요.",
        )
    offline_url = get_client(offline=True, quiet=True).base_url
    if made.base_url != offline_url:
        return not_yet(
            lang,
            f"with a key in the environment your client sends requests to {made.base_url}. "
            "Which argument of get_client forces the offline model?",
            f"환경에 키가 있으면 이 클라이언트는 {made.base_url}로 요청을 보내요. "
            "get_client의 어떤 인자가 오프라인 모델을 강제할까요?",
        )
    if printed.getvalue().strip():
        return not_yet(
            lang,
            f"your function printed {printed.getvalue().strip()[:70]!r}... "
            "Which argument of get_client keeps it quiet?",
            f"함수가 {printed.getvalue().strip()[:70]!r}... 를 출력했어요. get_client의 어떤 인자가 배너를 끌까요?",
        )
    reply = made.chat.completions.create(model=DEFAULT_MODEL, messages=QUESTION, reasoning_effort="none")
    text = reply.choices[0].message.content or ""
    if not text.startswith("[offline]"):
        return not_yet(
            lang,
            f"your client's reply does not come from the offline model: {text[:70]!r}",
            f"답이 오프라인 모델에서 오지 않았어요: {text[:70]!r}",
        )
    return correct(
        lang,
        f"With a made-up key set, your client printed nothing and answered:\n{text}",
        f"가짜 키가 설정된 상태에서도 아무것도 출력하지 않고 이렇게 답했어요:\n{text}",
    )


MASK_CASES = {
    "sk-abcdefghij": "sk-...ij",
    "sk-test-0123456789": "sk-...89",
    "123456789": "123...89",
    "12345678": "***",
    "sk-1": "***",
    "": "***",
}


@guarded
def check_2(mask: Callable[[str], str], *, lang: str = "en") -> Verdict:
    """``mask(key)``: the first three characters, ``...``, the last two; ``***`` up to 8 characters."""
    if not callable(mask):
        return not_yet(
            lang,
            f"pass your function mask itself, not {type(mask).__name__}.",
            f"{type(mask).__name__} 말고 함수 mask 자체를 넘기세요.",
        )
    for key, expected in MASK_CASES.items():
        got = mask(key)
        if got is None:
            return not_yet(lang, "mask() returns None. Write its body.", "mask()가 None을 돌려줘요. 본문을 채우세요.")
        if got != expected:
            return not_yet(
                lang,
                f"mask({key!r}) returned {got!r}; it should return {expected!r}.",
                f"mask({key!r})가 {got!r}을(를) 돌려줬어요. {expected!r}이어야 해요.",
            )
    return correct(
        lang,
        "Your mask() never shows more than five characters of a key, the rule find_key() uses.",
        "mask()는 키를 다섯 글자 넘게 보여 주지 않아요. find_key()와 같은 규칙이에요.",
    )


@guarded
def check_3(ids: object, *, lang: str = "en") -> Verdict:
    """``ids``: the sorted ids from ``client.models.list()`` that start with ``gpt-6``."""
    if ids is None:
        return not_yet(lang, "gpt_6_models is still None.", "gpt_6_models가 아직 None이에요.")
    if not isinstance(ids, list):
        return not_yet(
            lang,
            f"gpt_6_models should be a list of ids (str), not {type(ids).__name__}.",
            f"gpt_6_models는 {type(ids).__name__}이 아니라 id(str)의 리스트여야 해요.",
        )
    if not all(isinstance(i, str) for i in ids):
        return not_yet(
            lang,
            "put the ids (model.id, a str) in the list, not the model objects.",
            "모델 객체가 아니라 id(model.id, 문자열)를 리스트에 넣으세요.",
        )
    # The same settings as the learner's client: the real list with a key, the offline one without.
    listed = [model.id for model in get_client(quiet=True).models.list()]
    expected = sorted(i for i in listed if i.startswith("gpt-6"))
    strangers = [i for i in ids if not i.startswith("gpt-6")]
    if strangers:
        return not_yet(
            lang,
            f"{strangers[0]!r} does not start with 'gpt-6'. Keep only the ids that do.",
            f"{strangers[0]!r}는 'gpt-6'으로 시작하지 않아요. 그렇게 시작하는 id만 남기세요.",
        )
    missing = [i for i in expected if i not in ids]
    if missing:
        return not_yet(
            lang,
            f"{len(missing)} of the {len(expected)} ids are missing, e.g. {missing[0]!r}. "
            "Does your test keep every id that starts with 'gpt-6'?",
            f"{len(expected)}개 중 {len(missing)}개가 빠졌어요(예: {missing[0]!r}). "
            "'gpt-6'으로 시작하는 id를 모두 남기나요?",
        )
    if ids != expected:
        return not_yet(
            lang,
            "the right ids, but not sorted (or some twice). sorted() gives them in order.",
            "id는 맞지만 정렬되지 않았어요(또는 중복이 있어요). sorted()로 정렬하세요.",
        )
    return correct(lang, f"{len(ids)} models: {', '.join(ids)}", f"모델 {len(ids)}개: {', '.join(ids)}")


QUIZ = {
    "en": [
        Question(
            "On your own computer, where does your API key belong?",
            (
                "In the first code cell: OPENAI_API_KEY = 'sk-...'",
                "In a .env file in the course folder",
                "In a markdown cell, so that it is not run",
                "Anywhere, as long as you print it once to check it",
            ),
            1,
            "A notebook is saved with its cells and outputs, then shared; .env stays on your "
            "machine and the course's .gitignore keeps it out of git.",
        ),
        Question(
            "What is the course's offline model?",
            (
                "A small language model that runs on your computer",
                "Saved OpenAI answers that the helpers hand back without calling the SDK",
                "An emulator of the HTTP API: the real SDK sends it real requests, it checks and "
                "counts them like the service, and its replies start with [offline]",
            ),
            2,
            "The SDK, the requests, the errors and the usage counts are real; only the reply "
            "text is made up, so judge its shape, not its wisdom.",
        ),
        Question(
            "With no key anywhere, what does get_client(offline=False) do?",
            (
                "It quietly falls back to the offline model",
                "It raises MissingKeyError, which says where to put a key",
                "It asks for the key with getpass",
            ),
            1,
            "offline=False insists on the real API; without it you could believe you were "
            "talking to OpenAI while the offline model answered.",
        ),
        Question(
            "Your first call raises openai.AuthenticationError (401). What do you fix?",
            (
                "Add credit in Billing",
                "The key: copy it again, it is wrong, revoked or mistyped",
                "The model's name",
                "The timeout",
            ),
            1,
            "401 is about the key. No credit is a 429 (RateLimitError), a wrong model name a 404 (NotFoundError).",
        ),
    ],
    "ko": [
        Question(
            "내 컴퓨터에서 API 키는 어디에 두어야 할까요?",
            (
                "첫 코드 셀에: OPENAI_API_KEY = 'sk-...'",
                "강좌 폴더의 .env 파일에",
                "실행되지 않도록 마크다운 셀에",
                "한 번 출력해서 확인만 한다면 어디든",
            ),
            1,
            "노트북은 셀과 출력이 함께 저장되고 공유됩니다. .env는 내 컴퓨터에만 남고, "
            "강좌의 .gitignore가 git에 올라가지 않게 막아 줍니다.",
        ),
        Question(
            "강좌의 오프라인 모델은 무엇일까요?",
            (
                "내 컴퓨터에서 돌아가는 작은 언어 모델",
                "SDK를 거치지 않고 helpers가 돌려주는, 저장된 OpenAI 답변",
                "HTTP API의 에뮬레이터: 진짜 SDK가 진짜 요청을 보내고, 서비스처럼 검사하고 "
                "토큰을 세며, 답은 [offline]으로 시작한다",
            ),
            2,
            "SDK, 요청, 오류, usage 집계는 진짜이고 답의 내용만 꾸며낸 것이에요. "
            "답의 형태를 보고, 내용의 품질은 판단하지 마세요.",
        ),
        Question(
            "키가 어디에도 없을 때 get_client(offline=False)는 어떻게 할까요?",
            (
                "조용히 오프라인 모델로 바꾼다",
                "키를 어디에 두라고 알려 주는 MissingKeyError를 낸다",
                "getpass로 키를 묻는다",
            ),
            1,
            "offline=False는 진짜 API만 고집해요. 그렇지 않으면 OpenAI와 대화한다고 믿는 "
            "동안 오프라인 모델이 답할 수도 있으니까요.",
        ),
        Question(
            "첫 호출이 openai.AuthenticationError(401)를 냈어요. 무엇을 고칠까요?",
            (
                "Billing에서 크레딧을 충전한다",
                "키: 틀렸거나 폐기됐거나 오타가 있으니 다시 복사한다",
                "모델 이름",
                "타임아웃",
            ),
            1,
            "401은 키 문제예요. 크레딧 부족은 429(RateLimitError), 잘못된 모델 이름은 404(NotFoundError)입니다.",
        ),
    ],
}
