"""The offline model, round two (issue 11), through the real SDK: tool calling, JSON modes and
structured outputs, the spec's types and enums, malformed bodies, headers, logprobs, async,
name recall, and the bounded request log."""

import asyncio
import json
import re

import httpx2
import jsonschema
import openai
import pydantic
import pytest

from helpers import DEFAULT_MODEL, OfflineAPI, count_message_tokens, count_tokens, model_info, offline_client
from helpers._offline import LOG_SIZE, MARKER, find_name
from helpers._offline import structured as offline_structured
from helpers._offline import tools as offline_tools
from helpers._offline.request import Request
from helpers._offline.request_schema import SCHEMAS
from helpers._offline.schema import kinds
from tools.openapi_schema import schemas, validate

URL = "https://offline.test/v1/chat/completions"
NONE = {"reasoning_effort": "none"}  # gpt-6-luna calls functions only at this effort
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather for a city.",
        "strict": True,
        "parameters": {
            "type": "object",
            "additionalProperties": False,
            "required": ["city", "unit", "days"],
            "properties": {
                "city": {"type": "string"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "days": {"type": "integer", "minimum": 1, "maximum": 7},
            },
        },
    },
}
TIME = {
    "type": "function",
    "function": {
        "name": "get_time",
        "description": "Current local time in a timezone.",
        "parameters": {"type": "object", "properties": {"timezone": {"type": "string"}}, "required": ["timezone"]},
    },
}
ASK = [{"role": "user", "content": "What's the weather in Seoul for 3 days, in fahrenheit?"}]
PLAIN = [{"role": "user", "content": "Tell me about tokens"}]


@pytest.fixture
def api():
    return OfflineAPI(seed=1)


@pytest.fixture
def client(api):
    return offline_client(api, max_retries=0)


def post(body, api=None, headers=None, content=None) -> httpx2.Response:
    request = httpx2.Request(
        "POST",
        URL,
        json=body if content is None else None,
        content=content,
        headers={"authorization": "Bearer k", **(headers or {})},
    )
    response = (api or OfflineAPI()).handle(request)
    response.read()
    return response


def refused(client, **params) -> openai.BadRequestError:
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(**{"model": DEFAULT_MODEL, "messages": PLAIN, **params})
    return info.value


# ---------------------------------------------------------------- the spec's types and enums


def test_the_packaged_request_schema_matches_the_tests_copy_of_the_spec():
    kept = schemas()
    assert set(SCHEMAS) <= set(kept) and "CreateChatCompletionRequest" in SCHEMAS
    for name, schema in SCHEMAS.items():
        assert schema == kept[name], name


def _top_level_properties() -> dict:
    props = {}
    stack = [SCHEMAS["CreateChatCompletionRequest"]]
    while stack:
        schema = stack.pop()
        if "$ref" in schema:
            schema = SCHEMAS[schema["$ref"].rsplit("/", 1)[1]]
        stack += schema.get("allOf", [])
        props.update(schema.get("properties", {}))
    return props


# A value of each JSON type, with the types that would accept it.
WRONG = [
    ("seven", {"string"}),
    (7, {"integer", "number"}),
    ([1], {"array"}),
    ({"a": 1}, {"object"}),
    (True, {"boolean"}),
]
NAMES = {
    "string": "a string",
    "integer": "an integer",
    "number": "a decimal",
    "boolean": "a boolean",
    "array": "an array",
    "object": "an object",
}
PROPERTIES = _top_level_properties()


@pytest.mark.parametrize("name", sorted(set(PROPERTIES) - {"model", "messages"}))
def test_every_parameter_of_the_spec_has_its_type_checked_with_the_api_wording(name):
    accepted = [k for k in kinds(PROPERTIES[name]) if k != "null"]
    wrong = next(value for value, types in WRONG if not types & set(accepted))
    response = post({"model": "gpt-4o", "messages": PLAIN, name: wrong})
    assert response.status_code == 400, (name, response.json())
    error = response.json()["error"]
    assert (error["param"], error["code"]) == (name, "invalid_type"), error
    assert error["message"].startswith(f"Invalid type for '{name}': expected ")
    assert re.search(r", but got (a|an) \w+ instead\.$", error["message"]), error["message"]
    if len(accepted) == 1:  # "expected a string", as the API says it
        assert f"expected {NAMES[accepted[0]]}, but got" in error["message"]


def _enums():
    for name, schema in PROPERTIES.items():
        if name == "model":  # any string is a model name: an unknown one is a 404 (test_offline.py)
            continue
        if "$ref" in schema:
            schema = SCHEMAS[schema["$ref"].rsplit("/", 1)[1]]
        for branch in [schema, *schema.get("anyOf", []), *schema.get("oneOf", [])]:
            if branch.get("type") == "string" and "enum" in branch:
                yield name, [v for v in branch["enum"] if v is not None]


@pytest.mark.parametrize("name,values", sorted(_enums()))
def test_every_enum_of_the_spec_is_checked_with_the_api_wording(name, values):
    response = post({"model": "gpt-4o", "messages": PLAIN, name: "extreme"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["param"], error["code"]) == (name, "invalid_value")
    assert error["message"].startswith("Invalid value: 'extreme'. Supported values are: ")
    assert all(f"'{v}'" in error["message"] for v in values)


@pytest.mark.parametrize(
    "params,param,message",
    [
        (dict(stream="yes"), "stream", "Invalid type for 'stream': expected a boolean, but got a string instead."),
        (dict(n="2"), "n", "Invalid type for 'n': expected an integer, but got a string instead."),
        (
            dict(messages=[{"role": "user", "content": "hi", "name": "Ann Lee"}]),
            "messages[0].name",
            "Invalid 'messages[0].name': string does not match pattern. Expected a string that matches the "
            "pattern '^[a-zA-Z0-9_-]+$'.",
        ),
        (
            dict(messages=[{"role": "user", "content": 5}]),
            "messages[0].content",
            "Invalid type for 'messages[0].content': expected one of a string or an array, but got an integer instead.",
        ),
        (dict(reasoning_effort="extreme"), "reasoning_effort", None),
    ],
)
def test_type_errors_through_the_sdk(client, params, param, message):
    err = refused(client, **params)
    assert err.param == param
    if message:
        assert err.body["message"] == message


# ---------------------------------------------------------------- never a traceback


@pytest.mark.parametrize("value", [True, "yes", [1], 3, {"include_usage": "yes"}])
def test_stream_options_of_a_wrong_type_is_a_400(value):
    response = post({"model": DEFAULT_MODEL, "messages": PLAIN, "stream": True, "stream_options": value})
    assert response.status_code == 400
    validate(response.json(), "ErrorResponse")
    assert response.json()["error"]["code"] == "invalid_type"
    assert response.json()["error"]["param"].startswith("stream_options")


@pytest.mark.parametrize(
    "content",
    [
        b'{"model": "gpt-4o", "messages": ' + b"[" * 5000 + b"]" * 5000 + b"}",
        b'{"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], "metadata": '
        + b'{"a":' * 5000
        + b"1"
        + b"}" * 5001,
        b'{"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], "temperature": NaN}',
        b"\xff\xfe not utf-8",
    ],
)
def test_malformed_bodies_are_400s(content):
    response = post(None, content=content)
    assert response.status_code == 400
    validate(response.json(), "ErrorResponse")
    assert "x-request-id" in response.headers


def _nested_tool(levels):
    params = {"type": "object", "properties": {}}
    inner = params
    for _ in range(levels):
        inner["properties"]["x"] = {"type": "object", "properties": {}}
        inner = inner["properties"]["x"]
    return {"type": "function", "function": {"name": "deep", "parameters": params}}


def test_a_tool_schema_nested_deeply_is_answered_not_crashed(client):
    # 40 levels (about 85 levels of JSON in the body): arguments depth-limited, still JSON.
    response = client.chat.completions.create(
        model="gpt-4o", messages=PLAIN, tools=[_nested_tool(40)], tool_choice="required"
    )
    json.loads(response.choices[0].message.tool_calls[0].function.arguments)
    # 300 levels: past the body's nesting limit (api.MAX_JSON_DEPTH), the API's 400, not a 500.
    with pytest.raises(openai.BadRequestError, match="nested too deeply"):
        client.chat.completions.create(
            model="gpt-4o", messages=PLAIN, tools=[_nested_tool(300)], tool_choice="required"
        )


def test_an_unknown_simulate_value_is_a_400_not_a_crash(client):
    err = refused(client, extra_headers={"x-offline-simulate": "meltdown"})
    assert "x-offline-simulate" in err.message and "rate_limit" in err.message
    assert client.chat.completions.create(model=DEFAULT_MODEL, messages=PLAIN).choices


def test_the_request_log_is_bounded(api, client):
    for i in range(LOG_SIZE + 30):
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": f"turn {i}"}])
    assert len(api.requests) == LOG_SIZE
    assert api.requests[-1]["messages"][0]["content"] == f"turn {LOG_SIZE + 29}"
    assert api.requests[0]["messages"][0]["content"] == "turn 30"  # the oldest went first
    assert OfflineAPI().requests == []


# ---------------------------------------------------------------- tools


def call(client, messages=ASK, **params):
    return client.chat.completions.create(
        **{"model": DEFAULT_MODEL, "messages": messages, "tools": [WEATHER], **NONE, **params}
    )


def test_required_calls_a_tool_with_arguments_valid_against_its_schema(client):
    response = call(client, tool_choice="required")
    choice = response.choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.content is None
    (tool_call,) = choice.message.tool_calls
    assert tool_call.type == "function" and tool_call.id.startswith("call_")
    args = json.loads(tool_call.function.arguments)
    jsonschema.validate(args, WEATHER["function"]["parameters"])
    assert args == {"city": "Seoul", "unit": "fahrenheit", "days": 3}  # taken from the message


@pytest.mark.parametrize(
    "choice,called",
    [
        ("none", None),
        ("auto", "get_weather"),
        ("required", "get_weather"),
        ({"type": "function", "function": {"name": "get_time"}}, "get_time"),
    ],
)
def test_tool_choice(client, choice, called):
    response = call(client, tools=[WEATHER, TIME], tool_choice=choice)
    calls = response.choices[0].message.tool_calls
    assert (calls[0].function.name if calls else None) == called
    if called is None:
        assert response.choices[0].message.content.startswith(MARKER)


def test_auto_answers_in_text_when_no_tool_fits(client):
    response = call(client, PLAIN, tool_choice="auto")
    assert response.choices[0].message.tool_calls is None
    assert response.choices[0].finish_reason == "stop"


def test_parallel_tool_calls(client):
    both = [{"role": "user", "content": "What's the weather in Paris and the time in Europe/Paris?"}]
    names = [c.function.name for c in call(client, both, tools=[WEATHER, TIME]).choices[0].message.tool_calls]
    assert sorted(names) == ["get_time", "get_weather"]
    one = call(client, both, tools=[WEATHER, TIME], parallel_tool_calls=False).choices[0].message.tool_calls
    assert len(one) == 1


def test_streamed_tool_calls_arrive_as_the_api_sends_them(client):
    plain = call(client, tool_choice="required", seed=3).choices[0].message.tool_calls[0]
    chunks = [c for c in call(client, tool_choice="required", seed=3, stream=True) if c.choices]
    deltas = [d for c in chunks for d in (c.choices[0].delta.tool_calls or [])]
    first, *rest = deltas
    assert (first.index, first.id, first.type, first.function.name, first.function.arguments) == (
        0,
        plain.id,
        "function",
        plain.function.name,
        "",
    )
    assert len(rest) >= 2 and all(d.index == 0 and d.id is None and d.function.name is None for d in rest)
    assert "".join(d.function.arguments for d in rest) == plain.function.arguments
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


def test_after_tool_results_it_answers_with_them(client):
    first = call(client, tool_choice="auto").choices[0].message
    history = [
        *ASK,
        first.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": first.tool_calls[0].id, "content": "21C and sunny"},
    ]
    answer = call(client, history).choices[0]
    assert answer.finish_reason == "stop" and "21C and sunny" in answer.message.content
    assert answer.message.content.startswith(MARKER)


@pytest.mark.parametrize(
    "params,param,message",
    [
        (
            dict(tools=None, tool_choice="auto"),
            "tool_choice",
            "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.",
        ),
        (
            dict(messages=[*ASK, {"role": "tool", "tool_call_id": "call_1", "content": "x"}]),
            "messages.[1].role",
            "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.",  # noqa: E501 (the API's words)
        ),
        (
            dict(
                messages=[
                    *ASK,
                    {
                        "role": "assistant",
                        "tool_calls": [
                            {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}
                        ],
                    },
                    {"role": "tool", "content": "x"},
                ]
            ),
            "messages[2].tool_call_id",
            None,
        ),
        (
            dict(
                messages=[
                    *ASK,
                    {
                        "role": "assistant",
                        "tool_calls": [
                            {
                                "id": "call_1",
                                "type": "function",
                                "function": {"name": "get_weather", "arguments": "{}"},
                            },
                            {
                                "id": "call_2",
                                "type": "function",
                                "function": {"name": "get_weather", "arguments": "{}"},
                            },
                        ],
                    },
                    {"role": "tool", "tool_call_id": "call_1", "content": "x"},
                ]
            ),
            "messages.[1].role",
            "An assistant message with 'tool_calls' must be followed by tool messages responding to each "
            "'tool_call_id'. The following tool_call_ids did not have response messages: call_2",
        ),
        (dict(tools=[{"type": "function", "function": {"name": "bad name"}}]), "tools[0].function.name", None),
        (
            dict(
                tools=[
                    {
                        "type": "function",
                        "function": {
                            "name": "f",
                            "strict": True,
                            "parameters": {"type": "object", "properties": {"a": {"type": "string"}}, "required": []},
                        },
                    }
                ]
            ),
            "tools[0].function.parameters",
            None,
        ),
    ],
)
def test_tool_histories_and_definitions_get_the_api_400s(client, params, param, message):
    params = {"tools": [WEATHER], **params}
    if params["tools"] is None:
        del params["tools"]
    err = refused(client, **NONE, **params)
    assert err.param == param
    if message:
        assert err.body["message"] == message


def test_the_model_tables_tool_rule_is_enforced(client):
    err = refused(client, tools=[WEATHER])  # gpt-6-luna at its default effort (medium)
    assert (err.param, err.code) == ("tools", "unsupported_parameter")
    assert model_info(DEFAULT_MODEL).rules.tools == "effort_none"
    assert call(client, tool_choice="required").choices[0].message.tool_calls  # at effort none it calls
    for model in ("gpt-6.1-terra", "gpt-6-astra"):
        assert model_info(model).rules.tools == "responses_only"
        err = refused(client, model=model, tools=[WEATHER])
        assert (err.param, err.code) == ("tools", "unsupported_parameter") and "Responses API" in err.message
    assert client.chat.completions.create(model="gpt-5.4", messages=ASK, tools=[WEATHER]).choices


def test_tool_definitions_and_calls_count_in_usage(client):
    without = client.chat.completions.create(model="gpt-4o", messages=ASK).usage
    with_tools = call(client, model="gpt-4o", reasoning_effort=None, tool_choice="required")
    definitions = count_tokens(offline_tools.definitions_text([WEATHER["function"]]), "gpt-4o")
    assert with_tools.usage.prompt_tokens == without.prompt_tokens + definitions + 9
    (tool_call,) = with_tools.choices[0].message.tool_calls
    assert (
        with_tools.usage.completion_tokens
        == count_tokens(tool_call.function.name + tool_call.function.arguments, "gpt-4o") + 3
    )


def _tool_recordings():
    data = json.loads(open("tests/data/realtraffic.json", encoding="utf-8").read())
    return [i for i in data["items"] if i["kind"] == "tools"]


@pytest.mark.parametrize("item", _tool_recordings(), ids=lambda i: i["request"]["model"])
def test_tool_prompt_tokens_are_within_3_of_the_recordings(item):
    body = item["request"]
    model = model_info(body["model"])
    functions = [t["function"] for t in body.get("tools") or []] or body.get("functions") or []
    messages = [
        {k: v for k, v in m.items() if k in ("role", "content", "name", "tool_calls")} for m in body["messages"]
    ]
    for m in messages:
        m["content"] = m.get("content") or ""
    request = Request(body=body, model=model, messages=messages, effort=None, prompt_tokens=0, tools=functions)
    estimate = count_message_tokens(messages, model.name) + offline_tools.prompt_tokens(request)
    assert abs(estimate - item["usage"]["prompt_tokens"]) <= 3, (estimate, item["usage"]["prompt_tokens"])


# ---------------------------------------------------------------- arguments from the message (round 3)


def _tool(name, description, properties, required=None):
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "parameters": {"type": "object", "properties": properties, "required": required or list(properties)},
        },
    }


def _args(calls):
    return [(c.function.name, json.loads(c.function.arguments)) for c in calls or []]


def _ask(client, text, **params):
    """(name, arguments) of the tool calls the model makes for one user message."""
    return _args(call(client, [{"role": "user", "content": text}], **params).choices[0].message.tool_calls)


CITY_ENUM = _tool(
    "get_weather", "Get the current weather for a city.", {"city": {"type": "string", "enum": ["Busan", "Seoul"]}}
)
CITY_ENGLISH = _tool(
    "get_weather",
    "Get the current weather for a city.",
    {"city": {"type": "string", "description": "City name in English, e.g. Seoul"}},
)
CONVERT = _tool(
    "convert_temperature",
    "Convert a temperature between units.",
    {
        "value": {"type": "number"},
        "from_unit": {"type": "string", "enum": ["celsius", "fahrenheit", "kelvin"]},
        "to_unit": {"type": "string", "enum": ["celsius", "fahrenheit", "kelvin"]},
    },
)
RATE = _tool(
    "get_exchange_rate",
    "Get the exchange rate between two currencies.",
    {"base": {"type": "string", "enum": ["KRW", "USD", "JPY"]}, "quote": {"type": "string"}},
)


@pytest.mark.parametrize(
    "text,tools,expected",
    [
        ("오늘 서울 날씨 어때?", [WEATHER], ("get_weather", {"city": "서울"})),
        ("오늘 서울 날씨 어때?", [CITY_ENUM], ("get_weather", {"city": "Seoul"})),
        ("부산 날씨 알려 줘", [CITY_ENGLISH, TIME], ("get_weather", {"city": "Busan"})),
        ("섭씨 20도를 화씨로 바꿔 줘", [TIME, CONVERT], ("convert_temperature", {"value": 20})),
        ("원 달러 환율 좀 알려줘", [WEATHER, RATE], ("get_exchange_rate", {})),
    ],
)
def test_korean_questions_call_the_tool_they_ask_for(client, text, tools, expected):
    calls = _ask(client, text, tools=tools)
    assert len(calls) == 1, calls
    (name, args), (wanted_name, wanted) = calls[0], expected
    assert name == wanted_name and args.items() >= wanted.items(), args
    jsonschema.validate(args, next(t for t in tools if t["function"]["name"] == name)["function"]["parameters"])


def test_korean_small_talk_calls_no_tool(client):
    reply = call(client, [{"role": "user", "content": "안녕하세요, 반가워요!"}], tools=[WEATHER, CONVERT, RATE])
    assert reply.choices[0].message.tool_calls is None


def test_korean_unit_words_fill_enums_in_order_of_mention(client):
    calls = _ask(client, "섭씨 20도를 화씨로 바꿔 줘", tools=[CONVERT])
    assert calls == [("convert_temperature", {"value": 20, "from_unit": "celsius", "to_unit": "fahrenheit"})]


def _extract(client, text, properties, **params):
    schema = {"type": "object", "properties": properties, "required": list(properties), "additionalProperties": False}
    response = client.chat.completions.create(
        model=DEFAULT_MODEL,
        messages=[{"role": "user", "content": text}],
        response_format={"type": "json_schema", "json_schema": {"name": "x", "strict": True, "schema": schema}},
        **params,
    )
    value = json.loads(response.choices[0].message.content)
    jsonschema.validate(value, schema)
    return value


@pytest.mark.parametrize(
    "text,field,expected",
    [
        ("부산에서 3박, 2명 묵을 방을 예약해 주세요.", "city", "부산"),
        ("서울로 가는 기차표 두 장", "destination", "서울"),
        ("부산 날씨 어때?", "location", "부산"),
        ("제주도는 처음이에요", "place", "제주도"),
        ("춘천에서 만나요", "town", "춘천"),
        ("I'd like to book a room, please.", "city", "unknown"),
        ("We fly from Incheon next week.", "departure_city", "Incheon"),
    ],
)
def test_a_place_field_takes_a_place_never_the_canned_reply(client, text, field, expected):
    value = _extract(client, text, {"summary": {"type": "string"}, field: {"type": "string"}})
    assert value["summary"].startswith(MARKER)  # the first free text field still carries the reply
    assert value[field] == expected


def test_a_place_asked_for_in_english_is_translated(client):
    english = {"type": "string", "description": "The city, written in English"}
    assert _extract(client, "부산에서 3박 묵고 싶어요", {"city": english}) == {"city": "Busan"}
    assert _extract(client, "서울에서 부산까지 가요", {"origin": english, "destination": english}) == {
        "origin": "Seoul",
        "destination": "Busan",
    }


@pytest.mark.parametrize(
    "text,expected",
    [
        ("조식도 포함해 주세요.", True),
        ("네", True),
        ("예, 조식 부탁해요", True),
        ("좋아요!", True),
        ("아니요", False),
        ("조식은 빼 주세요.", False),
        ("조식은 필요 없어요.", False),
        ("방을 예약해 주세요.", False),  # 예 inside 예약 is no "yes"
        ("Breakfast included, yes please.", True),
        ("No breakfast, thanks.", False),
        ("Yes to the room, but no breakfast.", False),  # the clause about breakfast decides
    ],
)
def test_yes_and_no_fill_booleans_in_korean_and_english(client, text, expected):
    assert _extract(client, text, {"breakfast": {"type": "boolean"}}) == {"breakfast": expected}


@pytest.mark.parametrize(
    "text,cities",
    [
        ("What's the weather in Seoul and in Tokyo?", ["Seoul", "Tokyo"]),
        ("Weather in Seoul, Busan and Jeju, please", ["Seoul", "Busan", "Jeju"]),
        ("서울과 도쿄 날씨 알려줘", ["서울", "도쿄"]),
        ("What's the weather in Paris, France?", ["Paris, France"]),
        ("What's the weather in Jeju, and what is 25 Celsius in Fahrenheit?", ["Jeju"]),
    ],
)
def test_one_call_per_place_mentioned(client, text, cities):
    messages = [{"role": "user", "content": text}]
    calls = _args(call(client, messages, tools=[WEATHER]).choices[0].message.tool_calls)
    assert [args["city"] for _, args in calls] == cities
    assert len({tool_call.id for tool_call in call(client, messages).choices[0].message.tool_calls}) == len(cities)
    single = call(client, messages, parallel_tool_calls=False).choices[0].message.tool_calls
    assert [json.loads(c.function.arguments)["city"] for c in single] == cities[:1]


@pytest.mark.parametrize(
    "text,from_unit,to_unit",
    [
        ("convert 20 celsius to fahrenheit", "celsius", "fahrenheit"),
        ("What is 68 fahrenheit in celsius?", "fahrenheit", "celsius"),
        ("Turn 300 kelvin into celsius", "kelvin", "celsius"),
        ("To fahrenheit, please: 20 celsius", "celsius", "fahrenheit"),
    ],
)
def test_two_enum_fields_take_the_values_by_their_roles(client, text, from_unit, to_unit):
    props = CONVERT["function"]["parameters"]["properties"]
    # The same tool with to_unit listed first: the fields' roles decide, not their order.
    reordered = _tool("convert_temperature", "Convert.", {k: props[k] for k in ("to_unit", "from_unit", "value")})
    for tool in (CONVERT, reordered):
        ((_, args),) = _ask(client, text, tools=[tool], tool_choice="required")
        assert (args["from_unit"], args["to_unit"]) == (from_unit, to_unit), args


NOTE = _tool(
    "save_note",
    "Save a note for the user.",
    {"title": {"type": "string"}, "body": {"type": "string"}, "tag": {"type": "string"}},
)


@pytest.mark.parametrize(
    "text,expected",
    [
        ('Save a note titled "Dentist" that says "Tuesday 3pm"', {"title": "Dentist", "body": "Tuesday 3pm"}),
        ("Save a note. Title: Shopping list. Body: milk and eggs", {"title": "Shopping list", "body": "milk and eggs"}),
    ],
)
def test_free_string_arguments_come_from_the_message(client, text, expected):
    ((_, args),) = _ask(client, text, tools=[NOTE])
    assert args.items() >= expected.items(), args
    assert args["tag"] not in ("tag", "")


def test_free_string_arguments_without_a_hint_are_not_the_field_names(client):
    text = "Please remember to water the plants tomorrow"
    ((_, args),) = _ask(client, text, tools=[NOTE], tool_choice="required")
    assert args["title"] != "title" and args["title"] in text  # a phrase of the message
    assert all(args[k] != k for k in args), args
    contact = _extract(
        client,
        "Contact: Mina Park, mina@example.com, no phone.",
        {"name": {"type": "string"}, "email": {"type": "string"}, "phone": {"type": ["string", "null"]}},
    )
    assert contact == {"name": "Mina Park", "email": "mina@example.com", "phone": None}


# ---------------------------------------------------------------- refusals


def test_a_refusal_can_be_simulated_for_structured_outputs(api, client):
    for text in ("[refuse] Solve 8x + 7 = -23", "Solve 8x + 7 = -23"):
        response = client.chat.completions.parse(
            model=DEFAULT_MODEL, response_format=Solution, messages=[{"role": "user", "content": text}], **NONE
        )
        message = response.choices[0].message
        if text.startswith("[refuse]"):
            assert message.parsed is None and message.content is None
            assert message.refusal and message.refusal.startswith("I'm sorry")
            assert response.choices[0].finish_reason == "stop"
        else:
            assert message.refusal is None and isinstance(message.parsed, Solution)
    header = client.chat.completions.with_raw_response.parse(
        model=DEFAULT_MODEL,
        response_format=Solution,
        messages=[{"role": "user", "content": "Solve 8x + 7 = -23"}],
        extra_headers={"x-offline-simulate": "refusal"},
    ).parse()
    assert header.choices[0].message.refusal and header.choices[0].message.parsed is None
    korean = client.chat.completions.parse(
        model=DEFAULT_MODEL, response_format=Solution, messages=[{"role": "user", "content": "[refuse] 풀어 줘"}]
    )
    assert re.search(r"[가-힣]", korean.choices[0].message.refusal)
    api.fail_next("refusal")
    queued = client.chat.completions.create(model=DEFAULT_MODEL, messages=PLAIN).choices[0].message
    assert queued.refusal and queued.content is None
    stream = client.chat.completions.create(
        model=DEFAULT_MODEL,
        messages=[{"role": "user", "content": "[refuse] Solve 8x + 7 = -23"}],
        response_format={"type": "json_schema", "json_schema": {"name": "s", "schema": {"type": "object"}}},
        stream=True,
    )
    deltas = [c.choices[0].delta for c in stream if c.choices]
    assert "".join(d.refusal or "" for d in deltas) == offline_structured.REFUSALS["en"]
    assert all(d.content in (None, "") for d in deltas)


def test_the_refusal_marker_is_found_by_the_structured_module():
    request = Request(
        body={},
        model=model_info(DEFAULT_MODEL),
        messages=[{"role": "user", "content": "[refuse] anything"}],
        effort="none",
        prompt_tokens=0,
        response_format={"type": "json_schema", "json_schema": {"name": "x", "schema": {}}},
    )
    assert offline_structured.refusal(request).startswith("I'm sorry")
    request.messages = [{"role": "user", "content": "anything"}]
    assert offline_structured.refusal(request) is None
    assert offline_structured.refusal(request, forced=True) == offline_structured.REFUSALS["en"]
    request.response_format = {"type": "json_object"}
    request.messages = [{"role": "user", "content": "[refuse] json"}]
    assert offline_structured.refusal(request) is None  # the marker works with structured outputs only


# ---------------------------------------------------------------- JSON modes


def test_json_object_needs_the_word_json(client):
    err = refused(client, model="gpt-4o", response_format={"type": "json_object"})
    assert err.body["message"] == (
        "'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'."
    )
    messages = [{"role": "system", "content": "Answer in JSON."}, *PLAIN]
    for stream in (False, True):
        response = client.chat.completions.create(
            model="gpt-4o", messages=messages, stream=stream, response_format={"type": "json_object"}
        )
        text = (
            "".join(c.choices[0].delta.content or "" for c in response if c.choices)
            if stream
            else response.choices[0].message.content
        )
        assert isinstance(json.loads(text), dict)


SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "age", "tags", "level", "address"],
    "properties": {
        "name": {"type": "string"},
        "age": {"type": "integer", "minimum": 18},
        "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2},
        "level": {"anyOf": [{"type": "string", "enum": ["low", "high"]}, {"type": "null"}]},
        "address": {"$ref": "#/$defs/address"},
    },
    "$defs": {
        "address": {
            "type": "object",
            "additionalProperties": False,
            "required": ["city"],
            "properties": {"city": {"type": "string"}},
        }
    },
}


def test_json_schema_replies_are_instances_of_the_schema(client):
    response = client.chat.completions.create(
        model=DEFAULT_MODEL,
        messages=[{"role": "user", "content": "I'm 30 and live in Busan, level high"}],
        response_format={"type": "json_schema", "json_schema": {"name": "person", "strict": True, "schema": SCHEMA}},
    )
    value = json.loads(response.choices[0].message.content)
    jsonschema.validate(value, SCHEMA)
    assert value["age"] == 30 and value["level"] == "high" and value["address"]["city"] == "Busan"


@pytest.mark.parametrize(
    "broken,expected",
    [
        ({**SCHEMA, "additionalProperties": True}, "'additionalProperties' is required to be supplied and to be false"),
        ({**SCHEMA, "required": ["name"]}, "Missing 'age'"),
    ],
)
def test_strict_schemas_follow_the_rules(client, broken, expected):
    err = refused(
        client,
        response_format={"type": "json_schema", "json_schema": {"name": "person", "strict": True, "schema": broken}},
    )
    assert err.param == "response_format" and expected in err.message
    assert err.body["message"].startswith("Invalid schema for response_format 'person': In context=()")
    # Without strict the same schema is accepted.
    assert client.chat.completions.create(
        model=DEFAULT_MODEL,
        messages=PLAIN,
        response_format={"type": "json_schema", "json_schema": {"name": "person", "schema": broken}},
    ).choices


class Step(pydantic.BaseModel):
    explanation: str
    output: str


class Solution(pydantic.BaseModel):
    steps: list[Step]
    final_answer: str
    confidence: float


def test_parse_with_a_pydantic_model_works_offline(client):
    for model in (DEFAULT_MODEL, "gpt-4o"):
        response = client.chat.completions.parse(
            model=model, response_format=Solution, messages=[{"role": "user", "content": "Solve 8x + 7 = -23"}]
        )
        parsed = response.choices[0].message.parsed
        assert isinstance(parsed, Solution) and parsed.steps and isinstance(parsed.steps[0], Step)
        assert parsed.steps[0].explanation.startswith(MARKER)


# ---------------------------------------------------------------- headers and logprobs


def test_every_response_has_a_request_id_and_rate_limit_headers(api, client):
    raw = client.chat.completions.with_raw_response.create(model=DEFAULT_MODEL, messages=PLAIN)
    headers = raw.headers
    assert re.fullmatch(r"req_[0-9a-f]{32}", headers["x-request-id"])
    assert int(headers["x-ratelimit-limit-requests"]) > int(headers["x-ratelimit-remaining-requests"]) >= 0
    assert int(headers["x-ratelimit-limit-tokens"]) > int(headers["x-ratelimit-remaining-tokens"]) >= 0
    assert headers["x-ratelimit-reset-requests"].endswith("ms")
    second = client.chat.completions.with_raw_response.create(model=DEFAULT_MODEL, messages=PLAIN).headers
    assert second["x-request-id"] != headers["x-request-id"]
    assert int(second["x-ratelimit-remaining-requests"]) == int(headers["x-ratelimit-remaining-requests"]) - 1
    create = client.chat.completions.create
    for make in (
        lambda: create(model="gpt-4o", messages=PLAIN, temperature=5),  # 400
        lambda: api.fail_next("rate_limit") or create(model=DEFAULT_MODEL, messages=PLAIN),  # 429
        lambda: client.models.retrieve("gpt-99"),
    ):  # 404
        with pytest.raises(openai.APIStatusError) as info:
            make()
        assert re.fullmatch(r"req_[0-9a-f]{32}", info.value.response.headers["x-request-id"])
        assert info.value.request_id == info.value.response.headers["x-request-id"]


def test_logprobs_are_real_and_deterministic(client):
    params = dict(model="gpt-4o", messages=PLAIN, logprobs=True, top_logprobs=3, temperature=0)
    response = client.chat.completions.create(**params)
    content = response.choices[0].logprobs.content
    assert "".join(e.token for e in content) == response.choices[0].message.content
    assert len(content) == count_tokens(response.choices[0].message.content, "gpt-4o")
    for entry in content:
        assert entry.logprob <= 0 and bytes(entry.bytes).decode("utf-8", "replace") == entry.token
        assert len(entry.top_logprobs) == 3 and entry.top_logprobs[0].token == entry.token
        assert [t.logprob for t in entry.top_logprobs] == sorted((t.logprob for t in entry.top_logprobs), reverse=True)
    assert client.chat.completions.create(**params).choices[0].logprobs == response.choices[0].logprobs
    streamed = [
        e
        for c in client.chat.completions.create(**params, stream=True)
        if c.choices and c.choices[0].logprobs
        for e in c.choices[0].logprobs.content
    ]
    assert streamed == content
    assert client.chat.completions.create(model="gpt-4o", messages=PLAIN).choices[0].logprobs is None
    assert refused(client, model="gpt-4o", logprobs=True, top_logprobs=21).code == "integer_above_max_value"
    assert refused(client, model="gpt-4o", top_logprobs=2).param == "top_logprobs"


# ---------------------------------------------------------------- async


def test_async_client_plain_streamed_and_errors(api):
    async def run():
        client = openai.AsyncOpenAI(
            api_key="offline",
            base_url="https://offline.invalid/v1",
            max_retries=0,
            http_client=openai.DefaultAsyncHttpx2Client(transport=api.async_transport()),
        )
        plain = await client.chat.completions.create(model=DEFAULT_MODEL, messages=PLAIN, **NONE, temperature=0)
        stream = await client.chat.completions.create(
            model=DEFAULT_MODEL,
            messages=PLAIN,
            **NONE,
            temperature=0,
            stream=True,
            stream_options={"include_usage": True},
        )
        chunks = [c async for c in stream]
        with pytest.raises(openai.BadRequestError):
            await client.chat.completions.create(model=DEFAULT_MODEL, messages=[])
        await client.close()
        return plain, chunks

    plain, chunks = asyncio.run(run())
    assert plain.choices[0].message.content.startswith(MARKER)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == plain.choices[0].message.content
    assert chunks[-1].usage == plain.usage


# ---------------------------------------------------------------- names

NAME_PHRASES = [
    ("My name is Alice.", "Alice"),
    ("my name's Bob", "Bob"),
    ("I'm Alice, nice to meet you", "Alice"),
    ("I am Carol", "Carol"),
    ("Call me Dave.", "Dave"),
    ("Hi, I'm called Erin", "Erin"),
    ("Im Frank", "Frank"),
    ("내 이름은 차은우야", "차은우"),
    ("제 이름은 김민수입니다", "김민수"),
    ("저는 김민수라고 해요", "김민수"),
    ("나 민지야", "민지"),
    ("안녕! 나는 차은우야.", "차은우"),
    ("저는 이서연이에요", "이서연"),
    ("전 지호예요", "지호"),
]
NOT_NAMES = [
    "I'm Korean.",
    "I'm fine",
    "I'm Fine, thanks",
    "I am tired",
    "I'm learning Python",
    "저는 학생이에요",
    "나는 한국인이야",
    "저는 괜찮아요",
    "I'm American",
    "My name is not important",
]


@pytest.mark.parametrize("text,name", NAME_PHRASES)
def test_common_introductions_are_recalled(client, text, name):
    assert find_name(text) == name
    question = "내 이름이 뭐야?" if re.search(r"[가-힣]", text) else "What's my name?"
    history = [
        {"role": "user", "content": text},
        {"role": "assistant", "content": "OK"},
        {"role": "user", "content": question},
    ]
    reply = client.chat.completions.create(model=DEFAULT_MODEL, messages=history).choices[0].message.content
    assert name in reply
    assert bool(re.search(r"[가-힣]{2}", reply.replace(name, ""))) is (question != "What's my name?")


@pytest.mark.parametrize("text", NOT_NAMES)
def test_no_false_names(client, text):
    assert find_name(text) is None
    history = [
        {"role": "user", "content": text},
        {"role": "assistant", "content": "OK"},
        {"role": "user", "content": "What's my name?"},
    ]
    reply = client.chat.completions.create(model=DEFAULT_MODEL, messages=history).choices[0].message.content
    # The history was sent: the reply must not claim it was not.
    assert "earlier messages" in reply and "nothing in the messages" not in reply
