"""Lesson 07 · Errors, retries, timeouts and rate limits: the checks and the quiz.

Each check makes its own offline model fail on purpose (``OfflineAPI.fail_next`` and
``script``) and hands the real SDK's errors, or the real failing requests, to the learner's
code. Nothing here talks to the real API.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, NamedTuple

import httpx2
import openai

from .. import DEFAULT_MODEL, OfflineAPI
from . import Question, Verdict, correct, guarded, not_yet
from ._kit import own_model

HELLO = [{"role": "user", "content": "Hello!"}]
ACTIONS = ("retry", "fix the request", "fix the key", "top up billing")


def _ask(client: openai.OpenAI, **params: Any) -> Any:
    return client.chat.completions.create(**{"model": DEFAULT_MODEL, "messages": HELLO, **params})


def _error_of(call: Callable[[], Any]) -> openai.APIError:
    try:
        call()
    except openai.APIError as error:
        return error
    raise AssertionError("the request was meant to fail")  # a bug in this module, not the learner's


def _unreachable_client() -> openai.OpenAI:
    """A client whose every connection is refused, without touching the network."""

    def refuse(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ConnectError("Connection refused", request=request)

    http = openai.DefaultHttpx2Client(transport=httpx2.MockTransport(refuse))
    # No SDK retries: the learner sees the error at once, not after two backoff waits.
    return openai.OpenAI(
        api_key="no-key-needed", base_url="https://unreachable.invalid/v1", http_client=http, max_retries=0
    )


class _Case(NamedTuple):
    """One failure handed to classify: what it is (in English and Korean), the SDK's error,
    the reaction it needs, and a hint (English, Korean) for a learner who answers otherwise."""

    what: str
    what_ko: str
    error: openai.APIError
    action: str
    hint: str
    hint_ko: str


RETRY_HINT = ("the same request can succeed a moment later.", "같은 요청이 잠시 뒤에는 성공할 수 있어요.")
REQUEST_HINT = ("sending the same request again fails the same way.", "같은 요청을 다시 보내도 똑같이 실패해요.")
KEY_HINT = (
    "the request is fine; what it carries to prove who you are is not.",
    "요청은 멀쩡해요. 누구인지 증명하는 부분이 문제예요.",
)
QUOTA_HINT = (
    "both 429s are RateLimitError; read error.code. Does waiting bring credit back?",
    "두 429 모두 RateLimitError예요. error.code를 읽어 보세요. 기다리면 크레딧이 생기나요?",
)
TIMEOUT_HINT = (
    "APITimeoutError is a kind of APIConnectionError: no answer arrived in time.",
    "APITimeoutError는 APIConnectionError의 한 종류예요. 제시간에 답이 오지 않았을 뿐이에요.",
)
CONNECTION_HINT = (
    "no answer came back at all: the network may be back in a moment.",
    "답이 아예 오지 않았어요. 네트워크는 잠시 뒤 돌아올 수 있어요.",
)


def _sample_errors() -> list[_Case]:
    """The real SDK errors of nine failures, made by an offline model told to fail."""
    api, quick = own_model()

    def failing(kind: str | None = None, **params: Any) -> openai.APIError:
        if kind:
            api.fail_next(kind)
        return _error_of(lambda: _ask(quick, **params))

    return [
        _Case(
            "a bad parameter (400)",
            "잘못된 매개변수 (400)",
            failing(reasoning_effort="none", temperature=3),
            "fix the request",
            *REQUEST_HINT,
        ),
        _Case(
            "an unknown model (404)", "없는 모델 (404)", failing(model="gpt-6-lnua"), "fix the request", *REQUEST_HINT
        ),
        _Case("a wrong key (401)", "잘못된 키 (401)", failing("invalid_api_key"), "fix the key", *KEY_HINT),
        _Case(
            "a rate limit (429 rate_limit_exceeded)",
            "속도 제한 (429 rate_limit_exceeded)",
            failing("rate_limit"),
            "retry",
            *RETRY_HINT,
        ),
        _Case(
            "no credit left (429 insufficient_quota)",
            "크레딧 소진 (429 insufficient_quota)",
            failing("insufficient_quota"),
            "top up billing",
            *QUOTA_HINT,
        ),
        _Case("a server error (500)", "서버 오류 (500)", failing("server_error"), "retry", *RETRY_HINT),
        _Case("an overloaded server (503)", "과부하 서버 (503)", failing("overloaded"), "retry", *RETRY_HINT),
        _Case("a timeout", "시간 초과", failing("slow:1", timeout=0.05), "retry", *TIMEOUT_HINT),
        _Case(
            "a lost connection", "끊긴 연결", _error_of(lambda: _ask(_unreachable_client())), "retry", *CONNECTION_HINT
        ),
    ]


@guarded
def check_1(classify: Any, *, lang: str = "en") -> Verdict:
    """Exercise 1: ``classify(error)`` names what to do about each kind of failure."""
    if not callable(classify):
        return not_yet(
            lang,
            "pass your function itself: ex.check_1(classify), without calling it.",
            "함수 자체를 넘기세요: ex.check_1(classify), 호출하지 말고요.",
        )
    cases = _sample_errors()
    answers = [classify(case.error) for case in cases]
    if all(answer is None for answer in answers):
        return not_yet(
            lang,
            "classify returns None for every error. Fill it in, run its cell, then run this one again.",
            "classify가 모든 오류에 None을 돌려줘요. 함수를 채우고 그 셀을 실행한 뒤 이 셀을 다시 실행하세요.",
        )
    choices = ", ".join(map(repr, ACTIONS))
    for case, answer in zip(cases, answers, strict=True):
        if answer not in ACTIONS:
            return not_yet(
                lang,
                f"for {case.what} classify returned {answer!r}; return one of {choices}.",
                f"{case.what_ko}에 대해 classify가 {answer!r}를 돌려줬어요. {choices} 중 하나를 돌려주세요.",
            )
        if answer != case.action:
            name = type(case.error).__name__
            return not_yet(
                lang,
                f"for {case.what} ({name}) classify said {answer!r}. Think again: {case.hint}",
                f"{case.what_ko} ({name})에 대해 classify가 {answer!r}라고 했어요. 다시 생각해 보세요: {case.hint_ko}",
            )
    return correct(
        lang,
        f"All {len(cases)} failures get the right reaction, both 429s included.",
        f"{len(cases)}가지 실패 모두, 두 가지 429까지 올바르게 분류했어요.",
    )


class _Overtime(BaseException):
    """Raised by the check's requests to stop a wrapper that retries long past its budget
    (a BaseException, so the wrapper's own ``except Exception`` does not swallow it)."""


# A learner's wrapper may overrun its budget by one request and a little scheduling.
SLACK = 0.3
MAX_REQUESTS = 40  # far more than backoff allows in one second: the wrapper does not wait


def _run_wrapper(
    call_with_retries: Callable[..., Any], api: OfflineAPI, budget: float, *, hopeless: bool = False, **params: Any
):
    """Run the learner's wrapper on one request: (result or exception, seconds, requests sent, why stopped).
    ``hopeless``: the request can never succeed, so a second try is stopped at once (the verdict
    is the same, and the learner does not wait out the budget to hear it)."""
    _, quick = own_model(api, timeout=0.2)  # every retry is the wrapper's own
    sent: list[float] = []
    stopped: list[str] = []
    start = time.monotonic()

    def call() -> Any:
        if len(sent) >= MAX_REQUESTS:
            stopped.append("hammering")
            raise _Overtime
        if time.monotonic() - start > budget + 0.5:
            stopped.append("overtime")
            raise _Overtime
        sent.append(time.monotonic())
        if hopeless and len(sent) > 1:
            stopped.append("retried")
            raise _Overtime
        return _ask(quick, **params)

    try:
        result = call_with_retries(call, budget)
    except _Overtime:
        result = None
    except Exception as error:  # the error the wrapper gave up with
        result = error
    finally:
        api.clear_failures()
    return result, time.monotonic() - start, len(sent), stopped[0] if stopped else ""


@guarded
def check_2(call_with_retries: Any, *, lang: str = "en") -> Verdict:
    """Exercise 2: ``call_with_retries(call, budget)`` retries what can succeed later, with a
    wait between tries, never what cannot, and gives up in time by raising the last error."""
    if not callable(call_with_retries):
        return not_yet(
            lang,
            "pass your function itself: ex.check_2(call_with_retries).",
            "함수 자체를 넘기세요: ex.check_2(call_with_retries).",
        )
    api, _ = own_model()

    # A rate limit, a timeout, a server error, then a reply.
    api.script("rate_limit", "slow:1", "server_error", "ok")
    result, seconds, tries, stopped = _run_wrapper(call_with_retries, api, 5.0)
    if result is None and tries <= 1 and not stopped:
        return not_yet(
            lang,
            "call_with_retries returned None. Fill it in, run its cell, then run this one again.",
            "call_with_retries가 None을 돌려줬어요. 함수를 채우고 그 셀을 실행한 뒤 이 셀을 다시 실행하세요.",
        )
    if stopped == "hammering":
        return not_yet(
            lang,
            f"it sent {tries} requests without pause. Wait between tries: backoff(attempt).",
            f"쉬지 않고 요청을 {tries}번 보냈어요. 시도 사이에 기다리세요: backoff(attempt).",
        )
    if isinstance(result, BaseException) or stopped:
        name = type(result).__name__ if result is not None else "no answer"
        return not_yet(
            lang,
            f"a 429, a timeout, then a 500 before a reply: it ended with {name} after {tries} request(s). "
            "Retry all three kinds: RateLimitError, APIConnectionError (timeouts too), InternalServerError.",
            f"429, 시간 초과, 500 다음에 답이 오는데 요청 {tries}번 뒤 {name}로 끝났어요. "
            "RateLimitError, APIConnectionError(시간 초과 포함), InternalServerError를 모두 재시도하세요.",
        )
    if not hasattr(result, "choices"):
        return not_yet(
            lang,
            f"return what call() returned (the completion), not {type(result).__name__}.",
            f"{type(result).__name__} 말고 call()이 돌려준 것(응답)을 돌려주세요.",
        )
    if tries != 4:
        return not_yet(
            lang,
            f"three failures then a reply took {tries} requests; one request per try.",
            f"실패 세 번 뒤 답이 오는 데 요청이 {tries}번 갔어요. 시도 한 번에 요청 한 번이에요.",
        )

    result, seconds, tries, stopped = _run_wrapper(
        call_with_retries, api, 2.0, hopeless=True, reasoning_effort="none", temperature=3
    )
    if stopped or not isinstance(result, openai.BadRequestError):
        what = "was sent again" if stopped else f"ended with {type(result).__name__}"
        what_ko = "을 다시 보냈어요" if stopped else f"이 {type(result).__name__}로 끝났어요"
        return not_yet(
            lang,
            f"a 400 {what}. The same request fails the same way: raise it at once.",
            f"400 요청{what_ko}. 같은 요청은 똑같이 실패하니 바로 raise 하세요.",
        )

    api.fail_next("insufficient_quota", 5)
    result, seconds, tries, stopped = _run_wrapper(call_with_retries, api, 2.0, hopeless=True)
    if stopped or not (isinstance(result, openai.RateLimitError) and result.code == "insufficient_quota"):
        what = "was sent again" if stopped else f"ended with {type(result).__name__}"
        what_ko = "를 다시 보냈어요" if stopped else f"가 {type(result).__name__}로 끝났어요"
        return not_yet(
            lang,
            f"an insufficient_quota 429 {what}. Waiting never brings credit back: "
            "look at error.code and raise it at once.",
            f"insufficient_quota 429{what_ko}. 기다려도 크레딧은 생기지 않아요. error.code를 보고 바로 raise 하세요.",
        )

    budget = 0.5
    api.fail_next("overloaded", 1000)
    result, seconds, tries, stopped = _run_wrapper(call_with_retries, api, budget)
    if stopped == "hammering":
        return not_yet(
            lang,
            f"against a server that stays overloaded it sent {tries} requests without pause. "
            "Wait between tries: backoff(attempt).",
            f"계속 과부하인 서버에 쉬지 않고 요청을 {tries}번 보냈어요. 시도 사이에 기다리세요: backoff(attempt).",
        )
    if stopped == "overtime" or seconds > budget + SLACK:
        return not_yet(
            lang,
            f"with a budget of {budget} s and a server that stays overloaded it was still going after "
            f"{seconds:.1f} s. Before each wait, check that it ends before the deadline; if not, raise.",
            f"예산 {budget}초에 계속 과부하인 서버인데 {seconds:.1f}초 뒤에도 계속했어요. "
            "기다리기 전에 마감 전에 끝나는지 보고, 아니면 raise 하세요.",
        )
    if not isinstance(result, openai.InternalServerError):
        return not_yet(
            lang,
            f"when the budget runs out, raise the last error (it was a 503), not {type(result).__name__}.",
            f"예산이 다 되면 마지막 오류(503)를 raise 하세요. {type(result).__name__} 말고요.",
        )
    return correct(
        lang,
        "It got through a 429, a timeout and a 500, left the 400 and insufficient_quota alone, "
        f"and gave up on the overloaded server after {tries} request(s) within {budget} s.",
        "429, 시간 초과, 500을 넘겼고, 400과 insufficient_quota는 건드리지 않았고, "
        f"계속 과부하인 서버는 {budget}초 안에 요청 {tries}번 뒤 포기했어요.",
    )


QUIZ = {
    "en": [
        Question(
            "A request fails with RateLimitError, and error.code is 'insufficient_quota'. What helps?",
            (
                "Wait a minute and send it again",
                "Let the SDK retry it with more max_retries",
                "Add credit or raise the budget in the dashboard",
                "Send shorter prompts",
            ),
            2,
            "The account is out of credit; no amount of waiting or retrying changes that.",
        ),
        Question(
            "Which of these failures does the SDK retry on its own by default?",
            ("400 Bad Request", "401 Authentication", "404 Not Found", "503 Service Unavailable"),
            3,
            "Its README lists connection errors, 408, 409, 429 and every 5xx. A 4xx such as 400, 401 "
            "or 404 would fail again unchanged.",
        ),
        Question(
            "Your loop makes up to 5 tries and calls a client left at max_retries=2. The server "
            "answers 500 every time. How many requests go out?",
            ("5", "7", "10", "15"),
            3,
            "Each of your 5 tries is 1 request plus 2 SDK retries: 15. Set max_retries=0 under your own loop.",
        ),
        Question(
            "A stream raises openai.APIError after 40 characters of the reply. What do you do?",
            (
                "Ask again from the start and show the new reply alone",
                "Ask for the rest and append it to the 40 characters",
                "Wait: the SDK resumes the stream by itself",
                "Store the 40 characters in the conversation history",
            ),
            0,
            "A stream cannot be resumed and the SDK does not retry one that has started; a new "
            "request brings a new reply, which may differ from the cut one.",
        ),
        Question(
            "Where do you read x-ratelimit-remaining-requests?",
            (
                "response.usage",
                "client.chat.completions.with_raw_response.create(...).headers",
                "error.body, only after a 429",
                "client.max_retries",
            ),
            1,
            "It is an HTTP header on every reply; with_raw_response keeps the headers, and .parse() "
            "still gives the completion.",
        ),
    ],
    "ko": [
        Question(
            "요청이 RateLimitError로 실패했고 error.code가 'insufficient_quota'예요. 무엇이 도움이 될까요?",
            (
                "1분 기다렸다가 다시 보낸다",
                "max_retries를 늘려 SDK가 재시도하게 한다",
                "대시보드에서 크레딧을 충전하거나 예산을 올린다",
                "프롬프트를 짧게 보낸다",
            ),
            2,
            "계정의 크레딧이 바닥났어요. 아무리 기다리거나 재시도해도 바뀌지 않아요.",
        ),
        Question(
            "SDK가 기본으로 알아서 재시도하는 실패는 어느 것일까요?",
            ("400 Bad Request", "401 Authentication", "404 Not Found", "503 Service Unavailable"),
            3,
            "README에 따르면 연결 오류, 408, 409, 429, 모든 5xx를 재시도해요. 400, 401, 404 같은 4xx는 "
            "그대로 다시 실패할 뿐이에요.",
        ),
        Question(
            "직접 만든 반복문이 최대 5번 시도하고, 그 안의 클라이언트는 max_retries=2 그대로예요. "
            "서버가 매번 500을 돌려주면 요청은 몇 번 나갈까요?",
            ("5", "7", "10", "15"),
            3,
            "5번의 시도마다 요청 1번과 SDK 재시도 2번: 15번이에요. 직접 재시도할 때는 max_retries=0으로 두세요.",
        ),
        Question(
            "스트림이 답의 40글자를 보낸 뒤 openai.APIError를 냈어요. 어떻게 할까요?",
            (
                "처음부터 다시 요청하고 새 답만 보여 준다",
                "나머지를 요청해 40글자 뒤에 이어 붙인다",
                "기다린다: SDK가 스트림을 알아서 이어 준다",
                "40글자를 대화 기록에 저장한다",
            ),
            0,
            "스트림은 이어 받을 수 없고, SDK는 시작된 스트림을 재시도하지 않아요. 새 요청은 새 답을 "
            "가져오며, 끊긴 답과 다를 수 있어요.",
        ),
        Question(
            "x-ratelimit-remaining-requests는 어디서 읽을까요?",
            (
                "response.usage",
                "client.chat.completions.with_raw_response.create(...).headers",
                "429 뒤의 error.body에서만",
                "client.max_retries",
            ),
            1,
            "모든 응답에 붙는 HTTP 헤더예요. with_raw_response가 헤더를 남겨 주고, .parse()로 응답 객체도 얻어요.",
        ),
    ],
}
