"""An offline stand-in for the Chat Completions HTTP API.

``OfflineAPI.handle`` answers ``POST /v1/chat/completions`` the way the real service
does: it validates the request with the real status codes and error bodies, counts
``usage`` with tiktoken, and streams real server-sent events. The real ``openai.OpenAI``
client talks to it through ``httpx2.MockTransport``, so responses are parsed into the
SDK's real types and errors raise the SDK's real exception classes.

Its replies are canned and always start with ``[offline]``: it is a way to learn the
API without a key, not a language model.
"""

from __future__ import annotations

import codecs
import json
import os
import random
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx2

from .models import EFFORTS, ModelInfo, UnknownModelError, current_models, model_info
from .tokens import count_message_tokens, encoding_for

MARKER = "[offline]"
ROLES = ("system", "developer", "user", "assistant", "tool", "function")
# Every parameter the real endpoint accepts (from the official OpenAPI spec). The
# emulator acts on a few; the others are accepted and ignored, as a typo is not.
KNOWN_PARAMS = frozenset(
    "audio frequency_penalty function_call functions logit_bias logprobs "
    "max_completion_tokens max_tokens messages metadata modalities model moderation n "
    "parallel_tool_calls prediction presence_penalty prompt_cache_key prompt_cache_options "
    "prompt_cache_retention reasoning_effort response_format safety_identifier seed "
    "service_tier stop store stream stream_options temperature tool_choice tools "
    "top_logprobs top_p user verbosity web_search_options".split()
)
# Hidden reasoning tokens the offline model reports per effort: made-up, plausible figures
# (real ones vary with the question; recorded ones come in steps of 64).
REASONING_TOKENS = {"none": 0, "minimal": 0, "low": 64, "medium": 192, "high": 448, "xhigh": 960, "max": 1984}
SIMULATE_HEADER = "x-offline-simulate"  # per-request failure, e.g. extra_headers={...: "rate_limit"}


class APIError(Exception):
    """An error the emulator answers with, as the real API would."""

    def __init__(self, status: int, message: str, *, type: str = "invalid_request_error",
                 param: str | None = None, code: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.headers = status, headers or {}
        self.body = {"error": {"message": message, "type": type, "param": param, "code": code}}


def _bad(message: str, param: str | None = None, code: str | None = None) -> APIError:
    return APIError(400, message, param=param, code=code)


def simulated_error(kind: str, model: str = "the model", retry_after_ms: int = 20) -> APIError:
    """The errors a lesson can ask for: invalid_api_key, rate_limit, server_error."""
    if kind == "invalid_api_key":
        return APIError(401, "Incorrect API key provided: sk-of***ine. You can find your API key "
                        "at https://platform.openai.com/account/api-keys.", code="invalid_api_key")
    if kind == "rate_limit":
        seconds = retry_after_ms / 1000
        return APIError(
            429, f"Rate limit reached for {model} on requests per min (RPM): Limit 3, Used 3, "
            f"Requested 1. Please try again in {seconds:g}s.", type="requests",
            code="rate_limit_exceeded",
            headers={"retry-after-ms": str(retry_after_ms), "retry-after": str(max(1, round(seconds)))})
    if kind == "server_error":
        return APIError(500, "The server had an error while processing your request. Sorry about that!",
                        type="server_error")
    raise ValueError(f"unknown simulated error {kind!r}: use invalid_api_key, rate_limit, "
                     "server_error or stream_error")


# ---------------------------------------------------------------- validation

def _number(body: dict, name: str, low: float, high: float | None, integer: bool = False) -> None:
    if name not in body or body[name] is None:
        return
    value = body[name]
    kind = "integer" if integer else "decimal"
    if isinstance(value, bool) or not isinstance(value, int if integer else (int, float)):
        raise _bad(f"Invalid type for '{name}': expected {'an' if integer else 'a'} {kind}, but got "
                   f"{type(value).__name__} instead.", name, "invalid_type")
    if value < low:
        raise _bad(f"Invalid '{name}': {kind} below minimum value. Expected a value >= {low:g}, "
                   f"but got {value} instead.", name, f"{kind}_below_min_value")
    if high is not None and value > high:
        raise _bad(f"Invalid '{name}': {kind} above maximum value. Expected a value <= {high:g}, "
                   f"but got {value} instead.", name, f"{kind}_above_max_value")


def _text_of(content: Any, where: str) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts: only text parts are emulated
        parts = []
        for i, part in enumerate(content):
            if not isinstance(part, dict) or part.get("type") != "text" or not isinstance(part.get("text"), str):
                raise _bad(f"Invalid '{where}[{i}]': the offline model understands only "
                           "{'type': 'text', 'text': ...} content parts.", f"{where}[{i}]", "invalid_value")
            parts.append(part["text"])
        return "".join(parts)
    raise _bad(f"Invalid type for '{where}': expected a string or an array of content parts, "
               f"but got {type(content).__name__} instead.", where, "invalid_type")


def validate(body: Any) -> tuple[ModelInfo, list[dict[str, str]], str | None]:
    """Check a request body as the API does; return the model, text-only messages and
    the reasoning effort in force (None for a model that does not reason)."""
    if not isinstance(body, dict):
        raise _bad("We could not parse the JSON body of your request. The body must be a JSON object.")
    unknown = sorted(set(body) - KNOWN_PARAMS)
    if unknown:
        raise _bad(f"Unrecognized request argument supplied: {unknown[0]}")
    if "model" not in body:
        raise _bad("you must provide a model parameter")
    if "messages" not in body:
        raise _bad("Missing required parameter: 'messages'.", "messages", "missing_required_parameter")
    model = served_model(body["model"])

    messages = body["messages"]
    if not isinstance(messages, list):
        raise _bad("Invalid type for 'messages': expected an array, but got "
                   f"{type(messages).__name__} instead.", "messages", "invalid_type")
    if not messages:
        raise _bad("Invalid 'messages': empty array. Expected an array with minimum length 1, "
                   "but got an empty array instead.", "messages", "empty_array")
    clean = []
    for i, m in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(m, dict):
            raise _bad(f"Invalid type for '{where}': expected an object, but got "
                       f"{type(m).__name__} instead.", where, "invalid_type")
        if "role" not in m:
            raise _bad(f"Missing required parameter: '{where}.role'.", f"{where}.role",
                       "missing_required_parameter")
        if m["role"] not in ROLES:
            raise _bad(f"Invalid value: '{m['role']}'. Supported values are: 'system', 'assistant', "
                       "'user', 'function', 'tool', and 'developer'.", f"{where}.role", "invalid_value")
        content = m.get("content")
        if content is None and not (m["role"] == "assistant" and m.get("tool_calls")):
            raise _bad(f"Missing required parameter: '{where}.content'.", f"{where}.content",
                       "missing_required_parameter")
        entry = {"role": m["role"], "content": _text_of(content, f"{where}.content") if content is not None else ""}
        if isinstance(m.get("name"), str):
            entry["name"] = m["name"]
        clean.append(entry)

    _number(body, "temperature", 0, 2)
    _number(body, "top_p", 0, 1)
    _number(body, "n", 1, 128, integer=True)
    _number(body, "presence_penalty", -2, 2)
    _number(body, "frequency_penalty", -2, 2)
    _number(body, "max_tokens", 1, None, integer=True)
    _number(body, "max_completion_tokens", 1, None, integer=True)
    _number(body, "seed", -(2**63), 2**63 - 1, integer=True)
    stop = body.get("stop")
    if stop is not None:
        stops = [stop] if isinstance(stop, str) else stop
        if not isinstance(stops, list) or not all(isinstance(s, str) for s in stops):
            raise _bad("Invalid type for 'stop': expected a string or an array of strings.", "stop", "invalid_type")
        if len(stops) > 4:
            raise _bad(f"Invalid 'stop': array too long. Expected an array with maximum length 4, "
                       f"but got an array with length {len(stops)} instead.", "stop", "array_above_max_length")
    if body.get("stream_options") is not None and not body.get("stream"):
        raise _bad("The 'stream_options' parameter is only allowed when 'stream' is enabled.",
                   "stream_options", "invalid_value")

    effort = check_reasoning(body, model)
    limit_name = "max_completion_tokens" if body.get("max_completion_tokens") is not None else "max_tokens"
    limit = body.get(limit_name)
    if limit is not None and limit > model.max_output_tokens:
        raise _bad(f"{limit_name} is too large: {limit}. This model supports at most "
                   f"{model.max_output_tokens} completion tokens, whereas you provided {limit}.",
                   limit_name, "invalid_value")
    prompt = count_message_tokens(clean, model.name)
    if prompt + (limit or 0) > model.context_window:
        detail = (f"you requested {prompt + limit} tokens ({prompt} in the messages, {limit} in the "
                  "completion). Please reduce the length of the messages or completion."
                  if limit else f"your messages resulted in {prompt} tokens. Please reduce the length "
                  "of the messages.")
        raise _bad(f"This model's maximum context length is {model.context_window} tokens. However, "
                   + detail, "messages", "context_length_exceeded")
    return model, clean, effort


def _listed(values: tuple[str, ...] | list[str]) -> str:
    """'a', 'b', and 'c': how the API lists the values it supports."""
    quoted = [f"'{v}'" for v in values]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + ", and " + quoted[-1]


def served_model(name: Any) -> ModelInfo:
    """The table's row for a model the API serves on the course date, else the API's 404."""
    if not isinstance(name, str):
        raise _bad(f"Invalid type for 'model': expected a string, but got {_json_type(name)} instead.",
                   "model", "invalid_type")
    try:
        model = model_info(name)
    except UnknownModelError:
        model = None
    if model is None:
        raise APIError(404, f"The model `{name}` does not exist or you do not have access to it.",
                       code="model_not_found")
    if model.retired:  # the API's wording for a shut-down model (recorded traffic)
        raise APIError(404, f"The model `{name}` has been deprecated, learn more here: "
                       "https://platform.openai.com/docs/deprecations", code="model_not_found")
    return model


def _json_type(value: Any) -> str:
    """A value's JSON type as the API names it in errors."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a decimal"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _enum(body: dict, name: str, values: tuple[str, ...]) -> None:
    value = body.get(name)
    if value is None:
        return
    if not isinstance(value, str):
        raise _bad(f"Invalid type for '{name}': expected one of {_listed(values)}, but got "
                   f"{_json_type(value)} instead.", name, "invalid_type")
    if value not in values:
        raise _bad(f"Invalid value: '{value}'. Supported values are: {_listed(values)}.", name, "invalid_value")


def _unsupported(name: str) -> APIError:
    return _bad(f"Unsupported parameter: '{name}' is not supported with this model.", name,
                "unsupported_parameter")


def check_reasoning(body: dict, model: ModelInfo) -> str | None:
    """The reasoning rules of ``model`` (helpers.models.Rules), with the API's codes and
    wording; returns the effort in force. Sampling parameters work on a reasoning model
    only with reasoning_effort="none", where the model takes it (deployment checklist)."""
    _enum(body, "reasoning_effort", EFFORTS)
    _enum(body, "verbosity", ("low", "medium", "high"))
    rules = model.rules
    if body.get("verbosity") is not None and not rules.verbosity:
        raise _unsupported("verbosity")
    if not rules.reasoning:
        if body.get("reasoning_effort") is not None:
            raise _unsupported("reasoning_effort")
        return None
    effort = body.get("reasoning_effort") or rules.default_effort
    if effort not in rules.efforts:
        raise _bad(f"Unsupported value: 'reasoning_effort' does not support '{effort}' with this model. "
                   f"Supported values are: {_listed(rules.efforts)}.", "reasoning_effort", "unsupported_value")
    if body.get("max_tokens") is not None:
        raise _bad("Unsupported parameter: 'max_tokens' is not supported with this model. "
                   "Use 'max_completion_tokens' instead.", "max_tokens", "unsupported_parameter")
    if not model.accepts_sampling(effort):
        for name in ("temperature", "top_p"):
            if body.get(name) not in (None, 1):
                raise _bad(f"Unsupported value: '{name}' does not support {body[name]} with this model. "
                           "Only the default (1) value is supported.", name, "unsupported_value")
        for name in ("presence_penalty", "frequency_penalty"):
            if body.get(name) not in (None, 0):
                raise _unsupported(name)
        for name in ("stop", "logprobs", "top_logprobs", "logit_bias"):
            if body.get(name) is not None and body.get(name) is not False:
                raise _unsupported(name)
    return effort


# ---------------------------------------------------------------- replies

HANGUL = re.compile(r"[\uac00-\ud7a3]")
NAME_INTRO = [
    re.compile(r"\bmy name is ([A-Z][\w-]*)", re.I),
    # Case-sensitive so "I am tired" is no name, but "I'm" and "Call me" may start a sentence.
    re.compile(r"\b(?:[Ii] am|[Ii]['’]m|[Cc]all me) ([A-Z][\w-]*)"),
    re.compile(r"(?:내|제) 이름은 ([\w가-힣]+?)(?:이야|야|입니다|이에요|예요|이고|$|[\s.,!~])"),
    re.compile(r"(?:나는|저는) ([\w가-힣]+?)(?:이야|야|입니다|이에요|예요)(?:[\s.,!~]|$)"),
]
NAME_QUESTION = re.compile(r"what(?:['’]s| is) my name|who am i|내 이름|제 이름", re.I)

# Short tutor answers, keyed by words that trigger them: (english, korean).
TOPICS: dict[tuple[str, ...], tuple[str, str]] = {
    ("token", "토큰"): (
        "A token is a chunk of text the model reads and writes, often a word piece. "
        "You pay per token, so count them with tiktoken.",
        "토큰은 모델이 읽고 쓰는 텍스트 조각으로, 보통 단어의 일부입니다. "
        "요금이 토큰 단위로 매겨지므로 tiktoken으로 세어 보세요."),
    ("temperature", "온도"): (
        "temperature controls randomness: 0 gives the most likely reply every time, "
        "higher values (up to 2) give more varied replies.",
        "temperature는 무작위성을 조절합니다. 0이면 매번 가장 그럴듯한 답을, "
        "값이 클수록(최대 2) 더 다양한 답을 냅니다."),
    ("stream", "스트림", "스트리밍"): (
        "With stream=True the reply arrives in small chunks as it is generated, "
        "so users see text appear right away.",
        "stream=True로 요청하면 답변이 만들어지는 대로 작은 조각(chunk)으로 도착해서 "
        "사용자가 바로 글자를 볼 수 있습니다."),
    ("attention", "어텐션"): (
        "Attention lets each word look at the other words and decide which ones matter most, "
        "like listening for the teacher's voice in a noisy classroom.",
        "어텐션은 각 단어가 다른 단어들을 살펴보고 어떤 단어가 중요한지 정하는 방법입니다. "
        "시끄러운 교실에서 선생님 목소리에 집중하는 것과 비슷해요."),
    ("transformer", "트랜스포머"): (
        "A Transformer is the neural network behind GPT models: layers of self-attention and "
        "feed-forward blocks that read the whole sequence at once.",
        "트랜스포머는 GPT 모델의 바탕이 되는 신경망으로, 셀프 어텐션과 피드포워드 층을 쌓아 "
        "문장 전체를 한 번에 처리합니다."),
    ("stateless", "history", "remember", "기억", "대화 내역"): (
        "The API is stateless: it remembers nothing between calls, so you send the whole "
        "conversation history in messages every time.",
        "API는 상태가 없습니다(stateless). 호출 사이에 아무것도 기억하지 않으므로 "
        "매번 messages에 대화 내역 전체를 보내야 합니다."),
    ("cost", "price", "비용", "가격", "요금"): (
        "Cost = input tokens x input price + output tokens x output price, with prices "
        "quoted per million tokens.",
        "비용 = 입력 토큰 수 x 입력 단가 + 출력 토큰 수 x 출력 단가이며, 단가는 "
        "100만 토큰당 가격입니다."),
    ("role", "system", "역할"): (
        "Messages have roles: system sets the assistant's behaviour, user is the person, "
        "assistant is the model's earlier replies.",
        "메시지에는 역할이 있습니다. system은 어시스턴트의 태도를 정하고, user는 사용자, "
        "assistant는 모델의 이전 답변입니다."),
}
OPENERS = {
    "en": ["", "Sure! ", "Good question. ", "Happy to help. ", "Here is the short version: "],
    "ko": ["", "좋아요! ", "좋은 질문이에요. ", "기꺼이 도와드릴게요. ", "짧게 설명하면, "],
}
TEXT = {
    "en": {
        "hello": "Hello! I'm the course's offline model. Ask me about tokens, temperature or streaming.",
        "meet": "Nice to meet you, {name}! What would you like to learn about the API today?",
        "recall": "Your name is {name}: you told me earlier in this conversation.",
        "unknown_name": "I don't know your name: nothing in the messages I was sent says it. "
                        "The API is stateless, so send the earlier turns if I should remember.",
        "summary": "Summary: {text}",
        "long": "Here is a long reply for testing streaming. ",
        "echo": "You said: \"{text}\". I am the course's offline model and only know a few "
                "topics; set OPENAI_API_KEY for real answers.",
        "more": "Want to know more about {topic}?",
        "new": "Something new to explore: {topic}.",
    },
    "ko": {
        "hello": "안녕하세요! 저는 코스용 오프라인 모델이에요. 토큰, temperature, 스트리밍에 대해 물어보세요.",
        "meet": "반가워요, {name}님! 오늘은 API의 어떤 부분을 배워 볼까요?",
        "recall": "당신의 이름은 {name}입니다. 이 대화 앞부분에서 알려 주셨어요.",
        "unknown_name": "이름을 모르겠어요. 제가 받은 메시지 어디에도 이름이 없어요. "
                        "API는 상태가 없으니 기억하게 하려면 이전 대화를 함께 보내세요.",
        "summary": "요약: {text}",
        "long": "스트리밍 테스트를 위한 긴 답변입니다. ",
        "echo": "\"{text}\"라고 하셨네요. 저는 코스용 오프라인 모델이라 몇 가지 주제만 답할 수 "
                "있어요. 실제 답변은 OPENAI_API_KEY를 설정하세요.",
        "more": "{topic}에 대해 더 알고 싶으신가요?",
        "new": "새로운 주제도 있어요: {topic}.",
    },
}


def language(messages: list[dict[str, str]]) -> str:
    """'ko' or 'en': the system prompt's language, else the last user message's."""
    system = [m["content"] for m in messages if m["role"] in ("system", "developer")]
    users = [m["content"] for m in messages if m["role"] == "user"]
    sample = system[0] if system else (users[-1] if users else "")
    return "ko" if HANGUL.search(sample) else "en"


def find_name(text: str) -> str | None:
    for pattern in NAME_INTRO:
        match = pattern.search(text)
        if match:
            return match.group(1)
    return None


def _topic(text: str) -> tuple[tuple[str, ...], tuple[str, str]] | None:
    low = text.lower()
    hits = [(low.find(w), keys) for keys in TOPICS for w in keys if w in low]
    if not hits:
        return None
    keys = min(hits)[1]  # the topic mentioned first
    return keys, TOPICS[keys]


def compose_reply(messages: list[dict[str, str]], rng: random.Random | None, *,
                  top_p: float = 1.0, presence_penalty: float = 0.0,
                  frequency_penalty: float = 0.0) -> str:
    """The offline model's reply. ``rng`` is None at temperature 0 (no randomness)."""
    lang = language(messages)
    t = TEXT[lang]
    users = [m["content"] for m in messages if m["role"] == "user"]
    last = users[-1].strip() if users else ""
    low = last.lower()
    closer = ""

    if NAME_QUESTION.search(last) and find_name(last) is None:
        names = [n for n in map(find_name, users[:-1]) if n]
        body = t["recall"].format(name=names[-1]) if names else t["unknown_name"]
    elif find_name(last):
        body = t["meet"].format(name=find_name(last))
    elif any(w in low for w in ("summarize", "summarise", "summary", "요약")):
        source = max((m["content"] for m in messages if m["role"] == "user"), key=len)
        sentences = re.split(r"(?<=[.!?다])\s+", source.strip())
        body = t["summary"].format(text=" ".join(s for s in sentences[:2] if s)[:300])
    elif re.search(r"\blong\b|긴 |길게|긴응답", low):  # not "belong" or "along"
        body = t["long"] + " ".join(TOPICS[k][lang == "ko"] for k in TOPICS)
    elif (found := _topic(last)) is not None:
        keys, answers = found
        body = answers[lang == "ko"]
        closer = t["more"].format(topic=keys[lang == "ko" and len(keys) > 1])
    elif re.search(r"\b(hello|hi|hey)\b|안녕", low):
        body = t["hello"]
    else:
        body = t["echo"].format(text=last[:80] + ("..." if len(last) > 80 else ""))

    # Sampling stand-in: temperature > 0 picks among phrasings; top_p keeps only the
    # most likely share of them (top_p=0.1 leaves just the first).
    openers = OPENERS[lang]
    pool = openers[: max(1, round(len(openers) * top_p))]
    opener = rng.choice(pool) if rng else pool[0]
    if body.startswith(t["long"]):
        opener = ""  # "Here is the short version: Here is a long reply" reads badly
    # A positive frequency penalty discourages repeating words: drop the closer, which
    # repeats the topic. A positive presence penalty pushes towards new topics.
    if frequency_penalty > 0:
        closer = ""
    if presence_penalty > 0:
        seen = " ".join(m["content"] for m in messages).lower()
        fresh = [k for k in TOPICS if not any(w in seen for w in k)]
        if fresh:
            keys = fresh[rng.randrange(len(fresh))] if rng else fresh[0]
            closer = t["new"].format(topic=keys[lang == "ko" and len(keys) > 1])
    parts = [f"{MARKER} {opener}{body}", closer]
    if frequency_penalty < 0 and closer:  # negative: repetition is rewarded
        parts.append(closer)
    return " ".join(p for p in parts if p)


# ---------------------------------------------------------------- the API

@dataclass
class Choice:
    index: int
    text: str  # visible content
    tokens: int  # visible completion tokens
    reasoning_tokens: int
    finish_reason: str
    overhead: int = 0  # completion tokens reported beyond reasoning + visible


@dataclass
class OfflineAPI:
    """The offline Chat Completions service. One instance keeps its own settings,
    the queue of failures to simulate, and a log of the request bodies it received."""

    seed: int | None = None  # used when a request gives no seed: pins variety for tests
    chunk_delay: float = 0.0  # seconds between stream chunks, for live demos
    tokens_per_chunk: int = 3
    requests: list[dict[str, Any]] = field(default_factory=list)
    _failures: list[str] = field(default_factory=list)

    @classmethod
    def from_env(cls) -> OfflineAPI:
        """Settings from COURSE_OFFLINE_SEED and COURSE_OFFLINE_DELAY (seconds per chunk)."""
        seed = os.environ.get("COURSE_OFFLINE_SEED")
        return cls(seed=int(seed) if seed else None,
                   chunk_delay=float(os.environ.get("COURSE_OFFLINE_DELAY") or 0))

    def fail_next(self, kind: str, times: int = 1) -> None:
        """Make the next ``times`` requests fail: invalid_api_key, rate_limit,
        server_error, or stream_error (a streamed request breaks off half way)."""
        if kind != "stream_error":
            simulated_error(kind)  # raises for an unknown kind
        self._failures.extend([kind] * times)

    def transport(self) -> httpx2.MockTransport:
        return httpx2.MockTransport(self.handle)

    # -- HTTP

    def handle(self, request: httpx2.Request) -> httpx2.Response:
        """Answer one HTTP request."""
        try:
            return self._route(request)
        except APIError as err:
            return httpx2.Response(err.status, json=err.body, headers=err.headers)

    def _route(self, request: httpx2.Request) -> httpx2.Response:
        path = request.url.path.rstrip("/")
        if request.method == "GET" and path.endswith("/models"):
            data = [self._model_object(name) for name in current_models()]
            return httpx2.Response(200, json={"object": "list", "data": data})
        if request.method == "GET" and "/models/" in path:
            name = path.rsplit("/", 1)[1]
            if name not in current_models():
                raise APIError(404, f"The model '{name}' does not exist", param="model",
                               code="model_not_found")
            return httpx2.Response(200, json=self._model_object(name))
        if not path.endswith("/chat/completions"):
            raise APIError(404, f"Invalid URL ({request.method} {path}): the offline model emulates "
                           "only POST /v1/chat/completions and GET /v1/models.")
        if request.method != "POST":
            raise APIError(405, f"Invalid method for URL ({request.method} {path}).")
        if not request.headers.get("authorization", "").removeprefix("Bearer ").strip():
            raise APIError(401, "You didn't provide an API key. You need to provide your API key "
                           "in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).")
        try:
            body = json.loads(request.content or b"null")
        except ValueError:
            raise _bad("We could not parse the JSON body of your request. (HINT: This likely means you "
                       "aren't using your HTTP library correctly.)") from None
        if isinstance(body, dict):
            self.requests.append(body)
        simulate = request.headers.get(SIMULATE_HEADER) or (self._failures.pop(0) if self._failures else None)
        streamed = isinstance(body, dict) and bool(body.get("stream"))
        if simulate == "stream_error" and not streamed:
            simulate = "server_error"  # a plain request cannot break off half way
        if simulate and simulate != "stream_error":
            model = body.get("model", "the model") if isinstance(body, dict) else "the model"
            raise simulated_error(simulate, str(model))
        return self.complete(body, stream_error=simulate == "stream_error")

    @staticmethod
    def _model_object(name: str) -> dict[str, Any]:
        return {"id": name, "object": "model", "created": 1_700_000_000, "owned_by": "offline"}

    # -- completions

    def choices(self, body: dict[str, Any], model: ModelInfo, messages: list[dict[str, str]],
                effort: str | None = None) -> list[Choice]:
        """Generate the ``n`` choices for a validated request."""
        enc = encoding_for(model.name)
        temperature = 1.0 if body.get("temperature") is None else body["temperature"]
        seed = body.get("seed", self.seed)
        limit = body.get("max_completion_tokens") or body.get("max_tokens")
        stops = body.get("stop") or []
        stops = [stops] if isinstance(stops, str) else stops
        out = []
        for index in range(body.get("n") or 1):
            rng = None
            if temperature > 0:
                rng = random.Random(f"{seed}:{index}") if seed is not None else random.Random()
            text = compose_reply(messages, rng, top_p=1.0 if body.get("top_p") is None else body["top_p"],
                                 presence_penalty=body.get("presence_penalty") or 0,
                                 frequency_penalty=body.get("frequency_penalty") or 0)
            finish = "stop"
            cuts = [text.find(s) for s in stops if s and s in text]
            if cuts:
                text = text[: min(cuts)]
            # Reasoning models think before they answer; those hidden tokens count
            # against max_completion_tokens and bill as output. A finished reply also
            # reports the family's few extra completion tokens (recorded traffic).
            reasoning = REASONING_TOKENS[effort] if effort else 0
            overhead = model.rules.completion_overhead
            tokens = enc.encode_ordinary(text)
            if limit is not None and reasoning + len(tokens) + overhead > limit:
                reasoning = min(reasoning, limit)
                tokens = tokens[: limit - reasoning]
                overhead = limit - reasoning - len(tokens)  # a cut reply reports exactly the budget
                # The cut can fall inside a multi-byte character (Korean often): drop that
                # half character rather than show U+FFFD. The tokens are still billed.
                text = enc.decode_bytes(tokens).decode("utf-8", errors="ignore")
                finish = "length"
            out.append(Choice(index, text, len(tokens), reasoning, finish, overhead))
        return out

    def complete(self, body: Any, stream_error: bool = False) -> httpx2.Response:
        """A validated request's response: JSON, or a stream of server-sent events."""
        model, messages, effort = validate(body)
        prompt_tokens = count_message_tokens(messages, model.name)
        choices = self.choices(body, model, messages, effort)
        completion = sum(c.tokens + c.reasoning_tokens + c.overhead for c in choices)
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion,
            "total_tokens": prompt_tokens + completion,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": sum(c.reasoning_tokens for c in choices), "audio_tokens": 0,
                "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0},
        }
        head = {"id": f"chatcmpl-{uuid.uuid4().hex[:24]}", "created": int(time.time()),
                "model": body["model"], "service_tier": "default", "system_fingerprint": "fp_offline"}
        headers = {"x-request-id": f"req_{uuid.uuid4().hex}", "openai-processing-ms": "1"}
        if body.get("stream"):
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            events = self.events(head, choices, usage if include_usage else None, model, stream_error)
            return httpx2.Response(200, headers={**headers, "content-type": "text/event-stream"},
                                   content=events)
        return httpx2.Response(200, headers=headers, json={
            **head, "object": "chat.completion", "usage": usage,
            "choices": [{"index": c.index, "logprobs": None, "finish_reason": c.finish_reason,
                         "message": {"role": "assistant", "content": c.text, "refusal": None,
                                     "annotations": []}} for c in choices],
        })

    def deltas(self, text: str, model: ModelInfo) -> Iterator[str]:
        """``text`` in pieces of a few tokens, never splitting a UTF-8 character."""
        enc = encoding_for(model.name)
        tokens = enc.encode_ordinary(text)
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        for start in range(0, len(tokens), self.tokens_per_chunk):
            piece = decoder.decode(enc.decode_bytes(tokens[start:start + self.tokens_per_chunk]))
            if piece:
                yield piece
        tail = decoder.decode(b"", final=True)
        if tail:
            yield tail

    def events(self, head: dict[str, Any], choices: list[Choice], usage: dict[str, Any] | None,
               model: ModelInfo, stream_error: bool = False) -> Iterator[bytes]:
        """The server-sent events of a streamed response, ending with ``data: [DONE]``."""
        extra = {"usage": None} if usage is not None else {}

        def chunk(index: int, delta: dict[str, Any], finish: str | None = None) -> bytes:
            data = {**head, "object": "chat.completion.chunk", **extra,
                    "choices": [{"index": index, "delta": delta, "logprobs": None, "finish_reason": finish}]}
            return f"data: {json.dumps(data, ensure_ascii=False)}\n\n".encode()

        for c in choices:
            yield chunk(c.index, {"role": "assistant", "content": "", "refusal": None})
            pieces = list(self.deltas(c.text, model))
            # A simulated failure breaks off half way, or at once when there is no text
            # (e.g. a reasoning model cut by max_completion_tokens): it is never lost.
            sent = len(pieces) // 2 if stream_error else len(pieces)
            for piece in pieces[:sent]:
                if self.chunk_delay:
                    time.sleep(self.chunk_delay)
                yield chunk(c.index, {"content": piece})
            if stream_error:
                error = simulated_error("server_error").body
                yield f"data: {json.dumps(error)}\n\n".encode()
                return
            yield chunk(c.index, {}, c.finish_reason)
        if usage is not None:
            data = {**head, "object": "chat.completion.chunk", "choices": [], "usage": usage}
            yield f"data: {json.dumps(data)}\n\n".encode()
        yield b"data: [DONE]\n\n"
