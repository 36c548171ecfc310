"""Lesson 08 · Structured outputs and tools: the checks and the quiz.

Each check runs the learner's answer against an offline model of its own (whatever key the
learner has), so a check costs nothing and always sees the same replies.
"""

from __future__ import annotations

import json
from typing import Any

import openai

from ..client import offline_client
from ..models import DEFAULT_MODEL
from . import Question, Verdict, correct, guarded, not_yet, say
from ._kit import RecordingClient

NO_THINKING = {"reasoning_effort": "none"}

# ---------------------------------------------------------------- exercise 1: a strict schema

FIELDS = ("name", "email", "phone")
_TYPES = {
    "string": lambda v: isinstance(v, str),
    "null": lambda v: v is None,
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),  # JSON true is no number
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
}


def _allows(schema: Any, value: Any) -> bool:
    """Whether ``value`` fits one property's schema: its type (or list of types), anyOf, enum.
    A schema that names no type lets any value through, as JSON Schema does."""
    if not isinstance(schema, dict):
        return True
    if "anyOf" in schema and not any(_allows(option, value) for option in schema["anyOf"] or []):
        return False
    if "enum" in schema and value not in schema["enum"]:
        return False
    kind = schema.get("type")
    kinds = kind if isinstance(kind, list) else [kind] if kind else []
    return not kinds or any(_TYPES.get(k, lambda v: False)(value) for k in kinds)


def _fits(schema: dict, value: dict) -> bool:
    """Whether ``value`` fits a flat object schema: required keys present, no extra keys when
    additionalProperties is false, every value of its property's type."""
    properties = schema.get("properties") or {}
    if any(key not in value for key in schema.get("required") or []):
        return False
    if schema.get("additionalProperties") is False and set(value) - set(properties):
        return False
    return all(_allows(properties.get(key, {}), item) for key, item in value.items())


def _strict_refusal(schema: dict) -> str | None:
    """The API's 400 message when ``schema`` breaks a rule of strict mode, else None."""
    client = offline_client(max_retries=0)
    try:
        client.chat.completions.create(
            model=DEFAULT_MODEL,
            messages=[{"role": "user", "content": "Contact: Mina Park, mina@example.com, no phone."}],
            response_format={
                "type": "json_schema",
                "json_schema": {"name": "contact", "schema": schema, "strict": True},
            },
            **NO_THINKING,
        )
    except openai.BadRequestError as error:
        return _message(error)
    return None


def _message(error: openai.BadRequestError) -> str:
    """The API's own words for a 400."""
    return error.body.get("message") if isinstance(error.body, dict) else str(error)


@guarded
def check_1(schema: Any, *, lang: str = "en") -> Verdict:
    """A strict JSON Schema for a contact: name and email strings, phone a string or null."""
    if schema is None:
        return not_yet(
            lang,
            "answer_1 is still None: write the schema as a dict, run its cell, then this one.",
            "answer_1이 아직 None이에요. 스키마를 dict로 쓰고 그 셀을 실행한 뒤 이 셀을 다시 실행하세요.",
        )
    if not isinstance(schema, dict) or schema.get("type") != "object":
        return not_yet(
            lang,
            "the schema is a dict that describes an object: start with {'type': 'object', ...}.",
            "스키마는 객체를 설명하는 dict예요. {'type': 'object', ...}로 시작하세요.",
        )
    properties = schema.get("properties")
    if not isinstance(properties, dict) or set(properties) != set(FIELDS):
        found = sorted(properties) if isinstance(properties, dict) else properties
        return not_yet(
            lang,
            f"'properties' should hold exactly name, email and phone; yours holds {found}.",
            f"'properties'에는 name, email, phone 세 개만 있어야 해요. 지금은 {found}예요.",
        )
    problem = _strict_refusal(schema)
    if problem:
        return not_yet(
            lang,
            f"the API refuses this schema in strict mode (400): {problem}",
            f"API가 strict 모드에서 이 스키마를 거부해요(400): {problem}",
        )
    good = {"name": "Mina Park", "email": "mina@example.com", "phone": "010-1234-5678"}
    if not _fits(schema, good):
        return not_yet(
            lang,
            "a contact with three strings must fit: give name, email and phone the type 'string'.",
            "문자열 세 개로 된 연락처는 통과해야 해요. name, email, phone에 'string' 타입을 주세요.",
        )
    if not _fits(schema, {**good, "phone": None}):
        return not_yet(
            lang,
            "phone may be missing: let it be null too, with the types ['string', 'null'].",
            "phone은 없을 수도 있어요. ['string', 'null'] 타입으로 null도 허용하세요.",
        )
    for key in ("name", "email"):
        for bad in (None, 42):
            if _fits(schema, {**good, key: bad}):
                return not_yet(
                    lang,
                    f"{key} must be a string, but your schema lets {bad!r} through.",
                    f"{key}는 문자열이어야 하는데, 지금 스키마는 {bad!r}도 통과시켜요.",
                )
    return correct(
        lang,
        "Strict, no extra fields, every field required, and only phone may be null.",
        "strict 규칙대로 다른 필드는 막고, 세 필드 모두 required이며 phone만 null이 될 수 있어요.",
    )


# ---------------------------------------------------------------- exercise 2: the tool loop


def _tool(name: str, description: str) -> dict:
    city = {"type": "string", "description": "City name in English"}
    parameters = {"type": "object", "properties": {"city": city}, "required": ["city"], "additionalProperties": False}
    return {
        "type": "function",
        "function": {"name": name, "description": description, "parameters": parameters, "strict": True},
    }


TOOLS = [
    _tool("get_weather", "Get today's weather in a city."),
    _tool("get_local_time", "Get the local time in a city."),
]


class _Recording(RecordingClient):
    """A client that hands every request to an offline model and keeps the request and its
    reply, so the check sees what the learner's loop sent and what came back."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[dict, Any]] = []

    def create(self, **kwargs: Any) -> Any:
        if kwargs.get("stream"):
            raise ValueError("ask without stream=True here: the loop reads whole replies")
        reply = self.client.chat.completions.create(**kwargs)
        self.calls.append((kwargs, reply))
        return reply

    def last_text(self) -> str | None:
        return self.calls[-1][1].choices[0].message.content if self.calls else None


class _Tools:
    """The functions the check hands the learner's loop, and the calls they received."""

    def __init__(self) -> None:
        self.ran: list[tuple[str, str]] = []

    def weather(self, city: str) -> dict:
        self.ran.append(("get_weather", city))
        return {"city": city, "celsius": 7, "sky": "foggy"}

    def time(self, city: str) -> dict:
        self.ran.append(("get_local_time", city))
        return {"city": city, "time": "09:30"}

    def functions(self) -> dict:
        return {"get_weather": self.weather, "get_local_time": self.time}


def _api_hint(message: str, lang: str) -> str:
    """What to change for one of the API's 400s about a tool history."""
    if "did not have response messages" in message:
        return say(
            lang,
            " Answer every tool call of the reply with its own tool message before asking again.",
            " 다시 묻기 전에 응답의 도구 호출마다 tool 메시지로 하나씩 답하세요.",
        )
    if "must be a response to a preceeding message" in message or "not found in" in message:
        return say(
            lang,
            " Add the assistant's message (with its tool_calls) to the history before the tool messages.",
            " tool 메시지보다 먼저 assistant 메시지(tool_calls 포함)를 기록에 넣으세요.",
        )
    if "tool_call_id" in message:
        return say(
            lang,
            " A tool message names the call it answers: 'tool_call_id': call.id.",
            " tool 메시지에는 답하는 호출을 적어요: 'tool_call_id': call.id.",
        )
    return ""


def _run(function: Any, question: str, **extra: Any) -> tuple[Any, _Recording, _Tools]:
    """The learner's answer to ``question``, the requests it made and the tools it ran."""
    client, tools = _Recording(), _Tools()
    return function(client, question, TOOLS, tools.functions(), **extra), client, tools


def _tool_messages(client: _Recording) -> list[dict]:
    last = client.calls[-1][0].get("messages") or []
    return [m for m in last if isinstance(m, dict) and m.get("role") == "tool"]


def _first_question(function: Any, lang: str) -> Verdict | None:
    """One tool call, end to end: what is missing, or None when it all happened."""
    answer, client, tools = _run(function, "What's the weather in Busan?")
    if answer is None and not client.calls:
        return not_yet(
            lang,
            "ask returns None and sends nothing yet: write its loop, run its cell, then this one.",
            "ask가 None을 돌려주고 아직 아무것도 보내지 않아요. 루프를 쓰고 그 셀을 실행한 뒤 이 셀을 다시 실행하세요.",
        )
    if not client.calls:
        return not_yet(
            lang,
            "ask sent nothing through the client it was given: use client.chat.completions.create.",
            "ask가 인자로 받은 client로 아무것도 보내지 않았어요. client.chat.completions.create를 쓰세요.",
        )
    if not client.calls[0][0].get("tools"):
        return not_yet(
            lang,
            "the first request carries no tools, so the model cannot ask for one: send tools=tools.",
            "첫 요청에 tools가 없어서 모델이 도구를 요청할 수 없어요. tools=tools를 보내세요.",
        )
    if not tools.ran:
        return not_yet(
            lang,
            "the model asked for get_weather, but it never ran: for each call in message.tool_calls, "
            "run functions[call.function.name](**json.loads(call.function.arguments)).",
            "모델이 get_weather를 요청했는데 실행되지 않았어요. message.tool_calls의 호출마다 "
            "functions[call.function.name](**json.loads(call.function.arguments))를 실행하세요.",
        )
    if tools.ran != [("get_weather", "Busan")]:
        return not_yet(
            lang,
            f"get_weather should run once, for Busan; your loop ran {tools.ran}.",
            f"get_weather는 Busan에 대해 한 번 실행돼야 해요. 루프가 실행한 것: {tools.ran}.",
        )
    if len(client.calls) < 2:
        return not_yet(
            lang,
            "the loop stops at the tool's result: send it back to the model and return its answer.",
            "루프가 도구 결과에서 멈춰요. 결과를 모델에 돌려보내고 모델의 답을 돌려주세요.",
        )
    for message in _tool_messages(client):
        try:
            json.loads(message.get("content"))
        except (TypeError, ValueError):
            return not_yet(
                lang,
                "send a tool's result as JSON text, json.dumps(result), not str(result).",
                "도구 결과는 str(result)가 아니라 JSON 텍스트, json.dumps(result)로 보내세요.",
            )
    if answer != client.last_text():
        return not_yet(
            lang,
            f"return the model's last answer, message.content; you returned {answer!r:.80}.",
            f"모델의 마지막 답인 message.content를 돌려주세요. 지금 돌려준 값: {answer!r:.80}.",
        )
    return None


@guarded
def check_2(function: Any, *, lang: str = "en") -> Verdict:
    """ask(client, question, tools, functions, max_rounds=5): the model's final answer, after
    running every tool call it asks for; RuntimeError after max_rounds requests."""
    if not callable(function):
        return not_yet(
            lang,
            "check_2 takes your function itself: ex.check_2(ask), without calling it.",
            "함수 자체를 넘기세요: ex.check_2(ask), 호출하지 말고요.",
        )
    try:
        return _judge_loop(function, lang)
    except openai.BadRequestError as error:
        message = _message(error)
        message = message.rstrip() if message.rstrip().endswith(".") else f"{message.rstrip()}."
        return not_yet(
            lang,
            f"the API refused a request of your loop (400): {message}{_api_hint(message, 'en')}",
            f"API가 루프의 요청을 거부했어요(400): {message}{_api_hint(message, 'ko')}",
        )
    except TypeError as error:
        if "NoneType" not in str(error):
            raise
        return not_yet(
            lang,
            f"your loop raised TypeError: {error}. A reply without tool calls has message.tool_calls None: "
            "then its content is the answer.",
            f"루프가 TypeError를 냈어요: {error}. 도구 호출이 없는 응답은 message.tool_calls가 None이에요. "
            "그때는 content가 답이에요.",
        )


def _judge_loop(function: Any, lang: str) -> Verdict:
    problem = _first_question(function, lang)
    if problem:
        return problem

    answer, client, tools = _run(function, "What's the weather and the local time in Jeju?")
    if sorted(tools.ran) != [("get_local_time", "Jeju"), ("get_weather", "Jeju")]:
        return not_yet(
            lang,
            f"one reply asked for get_weather and get_local_time; your loop ran {tools.ran}. Run every call, "
            "each through functions, by its name.",
            f"한 응답이 get_weather와 get_local_time을 함께 요청했는데, 루프가 실행한 것은 {tools.ran}이에요. "
            "모든 호출을 이름으로 functions에서 찾아 실행하세요.",
        )
    if len(client.calls) != 2 or answer != client.last_text():
        return not_yet(
            lang,
            "answer both calls of one reply, then ask once more and return that answer.",
            "한 응답의 두 호출에 모두 답한 뒤 한 번 더 묻고, 그 답을 돌려주세요.",
        )

    answer, client, tools = _run(function, "What is a token?")
    if tools.ran or len(client.calls) != 1 or answer != client.last_text():
        return not_yet(
            lang,
            "a reply without tool calls is the answer: return its content after one request.",
            "도구 호출이 없는 응답이 곧 답이에요. 요청 한 번 뒤 그 content를 돌려주세요.",
        )

    client, tools = _Recording(), _Tools()
    try:
        answer = function(client, "What's the weather in Seoul?", TOOLS, tools.functions(), max_rounds=1)
    except RuntimeError:
        if len(client.calls) > 1:
            return not_yet(
                lang,
                "with max_rounds=1, send one request at most, then raise RuntimeError.",
                "max_rounds=1이면 요청은 많아야 한 번이고, 그다음 RuntimeError를 내세요.",
            )
        return correct(
            lang,
            "Your loop runs every tool call, sends the results back, and knows when to stop.",
            "루프가 모든 도구 호출을 실행하고, 결과를 돌려보내고, 멈출 때를 알아요.",
        )
    return not_yet(
        lang,
        "with max_rounds=1 a weather question has no answer after one request: stop after max_rounds requests "
        f"and raise RuntimeError (yours returned {answer!r:.60}).",
        "max_rounds=1이면 날씨 질문은 요청 한 번으로 답이 나오지 않아요. max_rounds번 요청한 뒤 멈추고 "
        f"RuntimeError를 내세요(지금 돌려준 값: {answer!r:.60}).",
    )


# ---------------------------------------------------------------- the quiz

QUIZ = {
    "en": [
        Question(
            "With response_format={'type': 'json_object'}, what does the API promise about the reply?",
            (
                "It has the keys your system message asked for",
                "It is valid JSON, if it was not cut short; its keys are up to the model",
                "It follows the JSON Schema you described in the messages",
            ),
            1,
            "JSON mode guarantees the syntax only. For the shape, send a schema with strict: true (or use parse()).",
        ),
        Question(
            "In a strict schema, how do you write a field that may have no value?",
            (
                "List it in 'required' and let its type include null, e.g. ['string', 'null']",
                "Leave it out of 'required'",
                "Set 'additionalProperties': true",
            ),
            0,
            "Strict mode wants every property in 'required' and additionalProperties false; 'may be empty' is null.",
        ),
        Question(
            "The model answers with finish_reason 'tool_calls'. Who runs the function?",
            (
                "The API, on OpenAI's servers, before it replies",
                "The model itself, inside its reasoning",
                "Your code: the model only names the function and its arguments",
            ),
            2,
            "The model never runs anything: you run the function and send its result back in a tool message.",
        ),
        Question(
            "The model asked for two tool calls in one reply. What must the next request add to the history?",
            (
                "Only the two results, in one user message",
                "The assistant message with its tool_calls, then one tool message per call, each with its tool_call_id",
                "One tool message for the first call: the model asks for the second one later",
            ),
            1,
            "Every call is answered under its own id, after the assistant message that made it; else the API says 400.",
        ),
        Question(
            "Where do your tool definitions show up on the bill?",
            (
                "As prompt tokens, on every request that carries them",
                "Nowhere: tools are free",
                "As completion tokens, once per conversation",
            ),
            0,
            "The API writes the definitions into the prompt, so every request with tools pays for them again.",
        ),
    ],
    "ko": [
        Question(
            "response_format={'type': 'json_object'}일 때 API는 응답에 대해 무엇을 보장할까요?",
            (
                "시스템 메시지가 요청한 키가 들어 있다",
                "잘리지 않았다면 올바른 JSON이다. 어떤 키가 올지는 모델에 달렸다",
                "메시지에서 설명한 JSON Schema를 따른다",
            ),
            1,
            "JSON 모드는 문법만 보장해요. 모양까지 원하면 strict: true 스키마를 보내거나 parse()를 쓰세요.",
        ),
        Question(
            "strict 스키마에서 값이 없을 수도 있는 필드는 어떻게 쓸까요?",
            (
                "'required'에 넣고 타입에 null을 포함한다. 예: ['string', 'null']",
                "'required'에서 뺀다",
                "'additionalProperties': true로 둔다",
            ),
            0,
            "strict 모드는 모든 속성을 required에 넣고 additionalProperties를 false로 두라고 해요. "
            "'비어 있을 수 있음'은 null로 나타내요.",
        ),
        Question(
            "모델이 finish_reason 'tool_calls'로 답했어요. 함수는 누가 실행할까요?",
            (
                "API가 OpenAI 서버에서, 답하기 전에",
                "모델이 추론하면서 직접",
                "내 코드. 모델은 함수 이름과 인자만 알려 준다",
            ),
            2,
            "모델은 아무것도 실행하지 않아요. 내가 함수를 실행하고 그 결과를 tool 메시지로 돌려보내요.",
        ),
        Question(
            "모델이 한 응답에서 도구 호출 두 개를 요청했어요. 다음 요청의 기록에 무엇을 더해야 할까요?",
            (
                "두 결과만, user 메시지 하나에 담아서",
                "tool_calls가 담긴 assistant 메시지, 그리고 호출마다 tool_call_id가 있는 tool 메시지 하나씩",
                "첫 호출에 답하는 tool 메시지 하나. 두 번째는 모델이 나중에 다시 요청한다",
            ),
            1,
            "호출마다 그 id로 답해야 하고, 그 호출을 만든 assistant 메시지 뒤에 와야 해요. "
            "아니면 API가 400을 돌려줘요.",
        ),
        Question(
            "도구 정의는 청구서의 어디에 나타날까요?",
            (
                "도구를 싣는 모든 요청의 프롬프트 토큰으로",
                "어디에도 없다. 도구는 무료다",
                "대화마다 한 번, 완성 토큰으로",
            ),
            0,
            "API가 도구 정의를 프롬프트에 써 넣기 때문에, 도구를 싣는 요청마다 그 비용을 다시 내요.",
        ),
    ],
}
