"""Lesson 08 · Structured outputs and tools: the checks and the quiz.

Each check runs the learner's answer against an offline model of its own (whatever key the
learner has), so a check costs nothing and always sees the same replies.
"""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import openai

from ..client import offline_client
from ..models import DEFAULT_MODEL
from . import Question, Verdict, correct, guarded, not_yet

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
        return error.body.get("message") if isinstance(error.body, dict) else str(error)
    return None


@guarded
def check_1(schema: Any, *, lang: str = "en") -> Verdict:
    """A strict JSON Schema for a contact: name and email strings, phone a string or null."""
    if schema is None:
        return not_yet(lang, "answer_1 is still None: write the schema as a dict, run its cell, then this one.")
    if not isinstance(schema, dict) or schema.get("type") != "object":
        return not_yet(lang, "the schema is a dict that describes an object: start with {'type': 'object', ...}.")
    properties = schema.get("properties")
    if not isinstance(properties, dict) or set(properties) != set(FIELDS):
        found = sorted(properties) if isinstance(properties, dict) else properties
        return not_yet(lang, f"'properties' should hold exactly name, email and phone; yours holds {found}.")
    problem = _strict_refusal(schema)
    if problem:
        return not_yet(lang, f"the API refuses this schema in strict mode (400): {problem}")
    good = {"name": "Mina Park", "email": "mina@example.com", "phone": "010-1234-5678"}
    if not _fits(schema, good):
        return not_yet(lang, "a contact with three strings must fit: give name, email and phone the type 'string'.")
    if not _fits(schema, {**good, "phone": None}):
        return not_yet(lang, "phone may be missing: let it be null too, with the types ['string', 'null'].")
    for key in ("name", "email"):
        for bad in (None, 42):
            if _fits(schema, {**good, key: bad}):
                return not_yet(lang, f"{key} must be a string, but your schema lets {bad!r} through.")
    return correct(lang, "Strict, no extra fields, every field required, and only phone may be null.")


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


class _Recording:
    """A client that hands every request to an offline model and keeps the request and its
    reply, so the check sees what the learner's loop sent and what came back."""

    def __init__(self) -> None:
        self.client = offline_client(max_retries=0)
        self.calls: list[tuple[dict, Any]] = []
        self.chat = SimpleNamespace(completions=SimpleNamespace(create=self.create))
        self.base_url = self.client.base_url

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


def _api_hint(message: str) -> str:
    if "did not have response messages" in message:
        return " Answer every tool call of the reply with its own tool message before asking again."
    if "must be a response to a preceeding message" in message or "not found in" in message:
        return " Add the assistant's message (with its tool_calls) to the history before the tool messages."
    if "tool_call_id" in message:
        return " A tool message names the call it answers: 'tool_call_id': call.id."
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
        return not_yet(lang, "ask returns None and sends nothing yet: write its loop, run its cell, then this one.")
    if not client.calls:
        return not_yet(lang, "ask sent nothing through the client it was given: use client.chat.completions.create.")
    if not client.calls[0][0].get("tools"):
        return not_yet(lang, "the first request carries no tools, so the model cannot ask for one: send tools=tools.")
    if not tools.ran:
        return not_yet(
            lang,
            "the model asked for get_weather, but it never ran: for each call in message.tool_calls, "
            "run functions[call.function.name](**json.loads(call.function.arguments)).",
        )
    if tools.ran != [("get_weather", "Busan")]:
        return not_yet(lang, f"get_weather should run once, for Busan; your loop ran {tools.ran}.")
    if len(client.calls) < 2:
        return not_yet(lang, "the loop stops at the tool's result: send it back to the model and return its answer.")
    for message in _tool_messages(client):
        try:
            json.loads(message.get("content"))
        except (TypeError, ValueError):
            return not_yet(lang, "send a tool's result as JSON text, json.dumps(result), not str(result).")
    if answer != client.last_text():
        return not_yet(lang, f"return the model's last answer, message.content; you returned {answer!r:.80}.")
    return None


@guarded
def check_2(function: Any, *, lang: str = "en") -> Verdict:
    """ask(client, question, tools, functions, max_rounds=5): the model's final answer, after
    running every tool call it asks for; RuntimeError after max_rounds requests."""
    if not callable(function):
        return not_yet(lang, "check_2 takes your function itself: ex.check_2(ask), without calling it.")
    try:
        return _judge_loop(function, lang)
    except openai.BadRequestError as error:
        message = error.body.get("message") if isinstance(error.body, dict) else str(error)
        return not_yet(lang, f"the API refused a request of your loop (400): {message}{_api_hint(message)}")
    except TypeError as error:
        if "NoneType" not in str(error):
            raise
        return not_yet(
            lang,
            f"your loop raised TypeError: {error}. A reply without tool calls has message.tool_calls None: "
            "then its content is the answer.",
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
        )
    if len(client.calls) != 2 or answer != client.last_text():
        return not_yet(lang, "answer both calls of one reply, then ask once more and return that answer.")

    answer, client, tools = _run(function, "What is a token?")
    if tools.ran or len(client.calls) != 1 or answer != client.last_text():
        return not_yet(lang, "a reply without tool calls is the answer: return its content after one request.")

    client, tools = _Recording(), _Tools()
    try:
        answer = function(client, "What's the weather in Seoul?", TOOLS, tools.functions(), max_rounds=1)
    except RuntimeError:
        if len(client.calls) > 1:
            return not_yet(lang, "with max_rounds=1, send one request at most, then raise RuntimeError.")
        return correct(lang, "Your loop runs every tool call, sends the results back, and knows when to stop.")
    return not_yet(
        lang,
        "with max_rounds=1 a weather question has no answer after one request: stop after max_rounds requests "
        f"and raise RuntimeError (yours returned {answer!r:.60}).",
    )


# ---------------------------------------------------------------- the quiz

QUIZ = [
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
]
