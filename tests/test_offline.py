"""The offline model behaves like the real endpoint: every body it sends conforms to
OpenAI's published schemas, and the real SDK sees real successes, errors and streams."""

import json
import time

import httpx2
import openai
import pytest

import helpers._offline.api
from helpers import DEFAULT_MODEL, MODELS, OfflineAPI, count_message_tokens, count_tokens, encoding_for, offline_client
from helpers._offline import HANGUL, MARKER, compose_reply, replies, wire
from helpers.models import EFFORTS, current_models
from tools.openapi_schema import validate

URL = "https://offline.test/v1/chat/completions"
REQUEST = "CreateChatCompletionRequest"
RESPONSE = "CreateChatCompletionResponse"
CHUNK = "CreateChatCompletionStreamResponse"
ERROR = "ErrorResponse"

# DEFAULT_MODEL (gpt-6-luna) reasons at "medium" unless told otherwise; it takes temperature,
# stop and the other sampling parameters only with reasoning_effort="none".
NO_REASONING = {"reasoning_effort": "none"}
# Completion tokens a finished reply of the default model reports beyond its visible text.
OVERHEAD = MODELS[DEFAULT_MODEL].rules.completion_overhead
RETIRED = [name for name, m in MODELS.items() if m.retired]

USER = [{"role": "user", "content": "Tell me about tokens"}]
LONG_EN = [{"role": "user", "content": "Give me a long answer please"}]
LONG_KO = [
    {"role": "system", "content": "너는 친절한 튜터야."},
    {"role": "user", "content": "스트리밍 테스트를 위해 길게 답해 줘"},
]


def sse_data(raw: bytes) -> list[str]:
    """The data payloads of a server-sent-event body, split on blank lines."""
    blocks = [b for b in raw.decode("utf-8").split("\n\n") if b.strip()]
    assert all(b.startswith("data: ") for b in blocks), blocks
    return [b.removeprefix("data: ") for b in blocks]


def check_body(response: httpx2.Response, path: str = "/v1/chat/completions") -> None:
    """Validate what the emulator sent to ``path`` against the OpenAPI schema for its kind."""
    if response.status_code != 200:
        validate(response.json(), ERROR)
    elif response.headers["content-type"] == "text/event-stream":
        payloads = sse_data(response.content)
        if payloads[-1] == "[DONE]":
            payloads.pop()
        else:  # only a stream that broke off ends without [DONE], on an error event
            validate(json.loads(payloads.pop()), ERROR)
        for payload in map(json.loads, payloads):
            validate(payload, CHUNK)
    elif path.endswith("/models"):
        validate(response.json(), "ListModelsResponse")
    elif "/models/" in path:
        validate(response.json(), "Model")
    else:
        validate(response.json(), RESPONSE)


class CheckedAPI(OfflineAPI):
    """An OfflineAPI that checks every body it answers with, and that every request it
    accepted was a valid CreateChatCompletionRequest (an invalid one must be refused)."""

    def handle(self, request: httpx2.Request) -> httpx2.Response:
        response = super().handle(request)
        response.read()  # a stream is read whole here, so the SDK gets checked bytes
        check_body(response, request.url.path)
        if response.status_code == 200 and request.method == "POST":
            validate(json.loads(request.content), REQUEST)
        return response


@pytest.fixture
def api():
    return CheckedAPI()


@pytest.fixture
def client(api):
    # No retries: a simulated 500 would otherwise be retried with back-off.
    return offline_client(api, max_retries=0)


def post(body, api=None, headers=None) -> httpx2.Response:
    """One raw HTTP exchange with the emulator, as the SDK would send it."""
    request = httpx2.Request("POST", URL, json=body, headers={"authorization": "Bearer k", **(headers or {})})
    response = (api or OfflineAPI()).handle(request)
    response.read()
    return response


def text_of(stream) -> str:
    return "".join(c.choices[0].delta.content or "" for c in stream if c.choices)


# ---------------------------------------------------------------- raw bodies


@pytest.mark.parametrize(
    "body",
    [
        {"model": DEFAULT_MODEL, "messages": USER},
        {"model": DEFAULT_MODEL, "messages": USER, "n": 3, "temperature": 1.2, **NO_REASONING},
        {"model": DEFAULT_MODEL, "messages": LONG_KO, "max_completion_tokens": 7, **NO_REASONING},
        {"model": "gpt-4o", "messages": LONG_KO, "max_tokens": 7},  # the older limit, on a non-reasoning model
        {"model": DEFAULT_MODEL, "messages": USER, "stop": ["chunk", "text"], **NO_REASONING},
        {"model": "gpt-6-astra", "messages": USER, "reasoning_effort": "high", "verbosity": "low"},
        {"model": DEFAULT_MODEL, "messages": USER, "max_completion_tokens": 20},  # all reasoning
        {"model": DEFAULT_MODEL, "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]},
    ],
    ids=["plain", "n3", "length", "length-max-tokens", "stop", "reasoning", "reasoning-cut", "content-parts"],
)
def test_response_bodies_conform(body):
    response = post(body)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    check_body(response)
    validate(body, REQUEST)


@pytest.mark.parametrize(
    "body",
    [
        {"model": DEFAULT_MODEL, "messages": LONG_KO, "stream": True},
        {"model": DEFAULT_MODEL, "messages": USER, "stream": True, "n": 2, "stream_options": {"include_usage": True}},
        {
            "model": DEFAULT_MODEL,
            "messages": LONG_EN,
            "stream": True,
            "max_completion_tokens": 9,
            **NO_REASONING,
            "stream_options": {"include_usage": True},
        },
        {"model": "gpt-6-astra", "messages": USER, "stream": True, "stream_options": {"include_usage": True}},
    ],
    ids=["plain", "n2-usage", "length-usage", "reasoning-usage"],
)
def test_stream_bodies_conform_and_have_the_real_shape(body):
    response = post(body)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream"
    assert response.content.endswith(b"data: [DONE]\n\n")
    check_body(response)
    chunks = [json.loads(p) for p in sse_data(response.content)[:-1]]
    assert len({c["id"] for c in chunks}) == 1
    include_usage = "stream_options" in body
    if include_usage:
        assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["total_tokens"] > 0
        chunks = chunks[:-1]
        assert all(c["usage"] is None for c in chunks)  # present but null until the end
    else:
        assert all("usage" not in c for c in chunks)
    for index in range(body.get("n", 1)):
        mine = [c["choices"][0] for c in chunks if c["choices"][0]["index"] == index]
        assert mine[0]["delta"]["role"] == "assistant"
        assert [c["finish_reason"] for c in mine[:-1]] == [None] * (len(mine) - 1)
        assert mine[-1]["finish_reason"] in ("stop", "length") and mine[-1]["delta"] == {}


@pytest.mark.parametrize(
    "body,status,param,code",
    [
        ({"model": DEFAULT_MODEL, "messages": []}, 400, "messages", "empty_array"),
        ({"model": "nope", "messages": USER}, 404, None, "model_not_found"),
        ({"model": "o4-mini", "messages": USER}, 404, None, "model_not_found"),  # retired
        ({"model": DEFAULT_MODEL}, 400, "messages", "missing_required_parameter"),
        ({"messages": USER}, 400, None, None),
        ({"model": DEFAULT_MODEL, "messages": USER, "temprature": 0}, 400, None, None),
        ({"model": DEFAULT_MODEL, "messages": "hi"}, 400, "messages", "invalid_type"),
        ({"model": DEFAULT_MODEL, "messages": ["hi"]}, 400, "messages[0]", "invalid_type"),
        ({"model": DEFAULT_MODEL, "messages": USER, "temperature": 0.5}, 400, "temperature", "unsupported_value"),
        (
            {"model": DEFAULT_MODEL, "messages": USER, "reasoning_effort": "extreme"},
            400,
            "reasoning_effort",
            "invalid_value",
        ),
        (["not", "an", "object"], 400, None, None),
    ],
)
def test_raw_error_bodies_conform(body, status, param, code):
    response = post(body)
    assert response.status_code == status
    check_body(response)
    error = response.json()["error"]
    assert (error["param"], error["code"], error["type"]) == (param, code, "invalid_request_error")


def test_request_without_authorization_is_401():
    for headers in ({}, {"authorization": "Bearer "}):
        request = httpx2.Request("POST", URL, json={"model": DEFAULT_MODEL, "messages": USER}, headers=headers)
        api = OfflineAPI()
        response = api.handle(request)
        assert response.status_code == 401
        validate(response.json(), ERROR)
        assert "Authorization" in response.json()["error"]["message"]
        assert api.requests == []  # refused before the body is read


def test_unsupported_routes():
    api = OfflineAPI()
    for method, path, status in [("POST", "/v1/embeddings", 404), ("GET", "/v1/chat/completions", 405)]:
        response = api.handle(
            httpx2.Request(method, "https://offline.test" + path, headers={"authorization": "Bearer k"})
        )
        assert response.status_code == status
        validate(response.json(), ERROR)


def test_malformed_json_is_400():
    request = httpx2.Request("POST", URL, content=b"{not json", headers={"authorization": "Bearer k"})
    response = OfflineAPI().handle(request)
    assert response.status_code == 400
    validate(response.json(), ERROR)


def test_requests_sent_by_the_sdk_conform(api, client):
    calls = [
        dict(model=DEFAULT_MODEL, messages=USER, reasoning_effort="none", temperature=0, seed=1, n=2, stop=["x", "y"]),
        dict(
            model=DEFAULT_MODEL,
            messages=[
                {"role": "developer", "content": "Be brief."},
                {"role": "user", "content": "hi", "name": "alice"},
            ],
            reasoning_effort="none",
            max_completion_tokens=50,
            top_p=0.5,
            presence_penalty=1,
            frequency_penalty=-1,
            verbosity="low",
            user="u1",
        ),
        dict(model="gpt-6-astra", messages=USER, max_completion_tokens=3_000, reasoning_effort="xhigh"),
        dict(model="gpt-4o", messages=USER, max_tokens=50, temperature=0.3),
        dict(model=DEFAULT_MODEL, messages=USER, stream=True, stream_options={"include_usage": True}),
    ]
    for params in calls:
        result = client.chat.completions.create(**params)
        if params.get("stream"):
            list(result)
    assert len(api.requests) == len(calls)
    for body in api.requests:
        validate(body, REQUEST)
    assert api.requests[1]["messages"][1]["name"] == "alice"


# ---------------------------------------------------------------- validation through the SDK


@pytest.mark.parametrize(
    "params,param,code",
    [
        (dict(messages=[]), "messages", "empty_array"),
        (dict(messages=[{"role": "robot", "content": "hi"}]), "messages[0].role", "invalid_value"),
        (dict(messages=[{"content": "hi"}]), "messages[0].role", "missing_required_parameter"),
        (dict(messages=[*USER, {"role": "user"}]), "messages[1].content", "missing_required_parameter"),
        (
            dict(messages=[{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]),
            "messages[0].content[0]",
            "invalid_value",
        ),
        (dict(temperature=2.5), "temperature", "decimal_above_max_value"),
        (dict(temperature=-0.1), "temperature", "decimal_below_min_value"),
        (dict(temperature="hot"), "temperature", "invalid_type"),
        (dict(top_p=1.5), "top_p", "decimal_above_max_value"),
        (dict(n=0), "n", "integer_below_min_value"),
        (dict(n=True), "n", "invalid_type"),  # a bool is not an integer, as in JSON
        (dict(n=1.5), "n", "invalid_type"),
        (dict(presence_penalty=3), "presence_penalty", "decimal_above_max_value"),
        (dict(frequency_penalty=-3), "frequency_penalty", "decimal_below_min_value"),
        (dict(max_tokens=0), "max_tokens", "integer_below_min_value"),
        (dict(max_completion_tokens=128_001), "max_completion_tokens", "invalid_value"),  # above its output limit
        (dict(stop=["a", "b", "c", "d", "e"]), "stop", "array_above_max_length"),
        (dict(stop=[1]), "stop[0]", "invalid_type"),  # the spec's type, checked item by item
        (dict(stream_options={"include_usage": True}), "stream_options", "invalid_value"),
    ],
)
def test_invalid_parameters_raise_bad_request(client, params, param, code):
    # At reasoning_effort="none" every sampling parameter is allowed: only its value is wrong.
    params = {"model": DEFAULT_MODEL, "messages": USER, **NO_REASONING, **params}
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(**params)
    err = info.value
    assert err.status_code == 400
    assert (err.param, err.code, err.type) == (param, code, "invalid_request_error")
    assert err.body["param"] == param and err.body["code"] == code


@pytest.mark.parametrize("value,bound", [(2.5, "<= 2"), (-0.1, ">= 0")])
def test_range_error_message_names_the_bound_and_the_value(client, value, bound):
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model=DEFAULT_MODEL, messages=USER, temperature=value, **NO_REASONING)
    assert bound in info.value.message and str(value) in info.value.message


def test_unknown_model_is_404(client):
    with pytest.raises(openai.NotFoundError) as info:
        client.chat.completions.create(model="gpt-99", messages=USER)
    assert info.value.status_code == 404
    assert info.value.code == "model_not_found"
    assert "gpt-99" in info.value.message and "does not exist" in info.value.message


@pytest.mark.parametrize("model", RETIRED)
def test_retired_model_is_404_has_been_deprecated(client, model):
    assert "o4-mini" in RETIRED
    for stream in (False, True):
        with pytest.raises(openai.NotFoundError) as info:
            client.chat.completions.create(model=model, messages=USER, stream=stream)
        err = info.value
        assert (err.status_code, err.code, err.type) == (404, "model_not_found", "invalid_request_error")
        assert f"`{model}` has been deprecated" in err.message
        assert "does not exist" not in err.message


def test_dated_snapshot_is_accepted_and_echoed(client):
    response = client.chat.completions.create(model="gpt-4o-2024-08-06", messages=USER)
    assert response.model == "gpt-4o-2024-08-06"
    assert response.usage.prompt_tokens == count_message_tokens(USER, "gpt-4o")
    # A snapshot of a retired model is retired with it.
    with pytest.raises(openai.NotFoundError, match="has been deprecated"):
        client.chat.completions.create(model="o4-mini-2025-04-16", messages=USER)


def test_unrecognised_parameter_is_400(client):
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model=DEFAULT_MODEL, messages=USER, extra_body={"temprature": 0})
    assert info.value.status_code == 400
    assert "temprature" in info.value.message


def test_prompt_plus_max_tokens_beyond_the_context_window(client):
    window = MODELS[DEFAULT_MODEL].context_window
    messages = [{"role": "user", "content": "word " * 1_000_000}]
    prompt = count_message_tokens(messages, DEFAULT_MODEL)
    limit = MODELS[DEFAULT_MODEL].max_output_tokens
    assert prompt < window < prompt + limit  # only the two together are too many
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model=DEFAULT_MODEL, messages=messages, max_completion_tokens=limit)
    err = info.value
    assert (err.code, err.param) == ("context_length_exceeded", "messages")
    for number in (window, prompt + limit, prompt, limit):
        assert str(number) in err.message
    # The same prompt with room for the reply is fine.
    ok = client.chat.completions.create(model=DEFAULT_MODEL, messages=messages, max_completion_tokens=window - prompt)
    assert ok.usage.prompt_tokens == prompt


def test_prompt_alone_beyond_the_context_window(client):
    messages = [{"role": "user", "content": "word " * 1_060_000}]
    prompt = count_message_tokens(messages, DEFAULT_MODEL)
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model=DEFAULT_MODEL, messages=messages)
    assert info.value.code == "context_length_exceeded"
    assert str(MODELS[DEFAULT_MODEL].context_window) in info.value.message
    assert str(prompt) in info.value.message


@pytest.mark.parametrize("model", [DEFAULT_MODEL, "gpt-6-astra", "gpt-6.1-terra", "gpt-5.6-luna", "gpt-5.5"])
def test_reasoning_models_refuse_max_tokens_and_temperature(client, model):
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model=model, messages=USER, max_tokens=100)
    assert (info.value.param, info.value.code) == ("max_tokens", "unsupported_parameter")
    assert "max_completion_tokens" in info.value.message
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model=model, messages=USER, temperature=0.5)
    assert (info.value.param, info.value.code) == ("temperature", "unsupported_value")
    # What they do accept:
    response = client.chat.completions.create(
        model=model, messages=USER, max_completion_tokens=2_000, temperature=1
    )  # the default value is allowed
    assert response.choices[0].message.content.startswith(MARKER)


@pytest.mark.parametrize(
    "params", [{"model": "gpt-4o"}, {"model": DEFAULT_MODEL, **NO_REASONING}], ids=["gpt-4o", "effort-none"]
)
def test_non_reasoning_model_accepts_max_completion_tokens(client, params):
    response = client.chat.completions.create(**params, messages=LONG_EN, max_completion_tokens=5)
    assert (response.choices[0].finish_reason, response.usage.completion_tokens) == ("length", 5)
    assert response.usage.completion_tokens_details.reasoning_tokens == 0


# ---------------------------------------------------------------- reasoning rules through the SDK


def bad_request(client, **params) -> openai.BadRequestError:
    """The 400 the SDK raises for a request; fails the test if the request goes through."""
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(**{"model": DEFAULT_MODEL, "messages": USER, **params})
    err = info.value
    assert (err.status_code, err.type) == (400, "invalid_request_error")
    return err


def test_reasoning_effort_outside_the_enum_is_invalid_value(client):
    for model in (DEFAULT_MODEL, "gpt-4o"):  # checked against the enum before the model's rules
        err = bad_request(client, model=model, reasoning_effort="extreme")
        assert (err.param, err.code) == ("reasoning_effort", "invalid_value")
        assert err.body["message"] == (
            "Invalid value: 'extreme'. Supported values are: 'none', 'minimal', 'low', "
            "'medium', 'high', 'xhigh', and 'max'."
        )
    assert EFFORTS == ("none", "minimal", "low", "medium", "high", "xhigh", "max")


@pytest.mark.parametrize(
    "model,effort",
    [("gpt-6-astra", "none"), ("gpt-6.2-sol", "none"), ("gpt-5.4-mini", "max"), (DEFAULT_MODEL, "minimal")],
)
def test_an_effort_the_model_does_not_take_is_unsupported_value(client, model, effort):
    assert effort in EFFORTS and effort not in MODELS[model].rules.efforts
    err = bad_request(client, model=model, reasoning_effort=effort)
    assert (err.param, err.code) == ("reasoning_effort", "unsupported_value")
    assert f"does not support '{effort}' with this model" in err.message
    supported = MODELS[model].rules.efforts
    assert err.message.endswith(", ".join(f"'{e}'" for e in supported[:-1]) + f", and '{supported[-1]}'.")
    for good in supported:  # every effort it lists does work
        assert client.chat.completions.create(model=model, messages=USER, reasoning_effort=good).choices


@pytest.mark.parametrize(
    "name,value,code",
    [
        ("temperature", 0.5, "unsupported_value"),
        ("temperature", 0, "unsupported_value"),
        ("top_p", 0.5, "unsupported_parameter"),
    ],
)
def test_temperature_needs_reasoning_effort_none(client, name, value, code):
    err = bad_request(client, **{name: value})  # default effort: medium
    assert (err.param, err.code) == (name, code)
    if code == "unsupported_value":
        assert err.body["message"] == (
            f"Unsupported value: '{name}' does not support {value} with this model. "
            "Only the default (1) value is supported."
        )
    else:  # top_p is refused as a parameter (issue 11)
        assert err.body["message"] == f"Unsupported parameter: '{name}' is not supported with this model."
    for effort in ("low", "high"):
        assert bad_request(client, reasoning_effort=effort, **{name: value}).code == code
    response = ask(client, reasoning_effort="none", **{name: value})
    assert response.choices[0].message.content.startswith(MARKER)
    assert response.usage.completion_tokens_details.reasoning_tokens == 0
    assert ask(client, **{name: 1}).choices  # the default value is always allowed


@pytest.mark.parametrize(
    "params",
    [
        {"stop": "chunk"},
        {"stop": ["a", "b"]},
        {"logprobs": True},
        {"logprobs": True, "top_logprobs": 2},
        {"presence_penalty": 0.5},
        {"frequency_penalty": -0.5},
        {"logit_bias": {"1734": 5}},
    ],
    ids=lambda p: "+".join(p),
)
def test_stop_logprobs_and_penalties_need_reasoning_effort_none(client, params):
    err = bad_request(client, **params)
    name = next(iter(params))
    assert (err.param, err.code) == (name, "unsupported_parameter")
    assert err.body["message"] == f"Unsupported parameter: '{name}' is not supported with this model."
    assert ask(client, reasoning_effort="none", **params).choices
    assert ask(client, model="gpt-4o", **params).choices  # a model that does not reason takes them freely


def test_sampling_defaults_are_accepted_at_any_effort(client):
    response = ask(client, temperature=1, top_p=1, presence_penalty=0, frequency_penalty=0, logprobs=False)
    assert response.usage.completion_tokens_details.reasoning_tokens > 0


def test_models_without_a_none_effort_never_take_sampling_parameters(client):
    model = "gpt-6-astra"
    for effort in MODELS[model].rules.efforts:
        assert bad_request(client, model=model, reasoning_effort=effort, temperature=0.2).code == "unsupported_value"
        assert bad_request(client, model=model, reasoning_effort=effort, stop="x").code == "unsupported_parameter"


def test_a_model_whose_default_effort_is_none_takes_temperature_unasked(client):
    model = "gpt-5.4-mini"
    assert MODELS[model].rules.default_effort == "none"
    response = ask(client, model=model, temperature=0.2, stop="zzz")
    assert response.usage.completion_tokens_details.reasoning_tokens == 0
    assert bad_request(client, model=model, reasoning_effort="low", temperature=0.2).param == "temperature"


def test_reasoning_effort_on_a_model_that_does_not_reason_is_unsupported_parameter(client):
    err = bad_request(client, model="gpt-4o", reasoning_effort="low")
    assert (err.param, err.code) == ("reasoning_effort", "unsupported_parameter")
    assert err.body["message"] == "Unsupported parameter: 'reasoning_effort' is not supported with this model."
    assert ask(client, model="gpt-4o", temperature=0.2).choices  # it takes temperature without one


@pytest.mark.parametrize("verbosity", ["low", "medium", "high"])
def test_verbosity_is_for_gpt5_and_later(client, verbosity):
    err = bad_request(client, model="gpt-4o", verbosity=verbosity)
    assert (err.param, err.code) == ("verbosity", "unsupported_parameter")
    assert err.body["message"] == "Unsupported parameter: 'verbosity' is not supported with this model."
    for params in ({}, NO_REASONING, {"reasoning_effort": "high"}):
        assert ask(client, verbosity=verbosity, **params).choices[0].message.content.startswith(MARKER)
    assert ask(client, model="gpt-6-astra", verbosity=verbosity).choices


def test_verbosity_outside_its_enum_is_invalid_value(client):
    err = bad_request(client, verbosity="loud")
    assert (err.param, err.code) == ("verbosity", "invalid_value")
    assert err.body["message"] == "Invalid value: 'loud'. Supported values are: 'low', 'medium', and 'high'."


def test_reasoning_models_refuse_max_tokens_even_at_effort_none(client):
    err = bad_request(client, max_tokens=50, **NO_REASONING)
    assert (err.param, err.code) == ("max_tokens", "unsupported_parameter")
    assert ask(client, max_completion_tokens=50, **NO_REASONING).choices


def test_a_budget_between_the_reasoning_and_the_full_reply_cuts_the_text(client):
    full = ask(client, seed=1)  # temperature 1 only: the seed pins the reply
    thinking = full.usage.completion_tokens_details.reasoning_tokens
    text = full.choices[0].message.content
    budget = thinking + 5
    assert budget < full.usage.completion_tokens
    response = ask(client, seed=1, max_completion_tokens=budget)
    content = response.choices[0].message.content
    assert response.choices[0].finish_reason == "length"
    assert content and text.startswith(content) and content != text
    assert response.usage.completion_tokens == budget
    assert response.usage.completion_tokens_details.reasoning_tokens == thinking


def test_a_budget_that_leaves_no_room_for_the_overhead_still_spends_the_budget(client):
    full = ask(client, seed=1, **NO_REASONING)
    budget = full.usage.completion_tokens - 1  # room for the text, not for the closing tokens
    response = ask(client, seed=1, max_completion_tokens=budget, **NO_REASONING)
    assert response.choices[0].finish_reason == "length"
    assert response.usage.completion_tokens == budget


def test_top_logprobs_zero_is_still_refused_at_the_default_effort(client):
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model=DEFAULT_MODEL, messages=USER, top_logprobs=0)
    assert info.value.body["param"] == "top_logprobs"


# ---------------------------------------------------------------- simulated failures


def test_invalid_api_key_once(api, client):
    api.fail_next("invalid_api_key")
    with pytest.raises(openai.AuthenticationError) as info:
        client.chat.completions.create(model=DEFAULT_MODEL, messages=USER)
    assert (info.value.status_code, info.value.code) == (401, "invalid_api_key")
    assert client.chat.completions.create(model=DEFAULT_MODEL, messages=USER).choices  # only once
    assert len(api.requests) == 2


def test_rate_limit_is_retried_by_the_sdk(api):
    client = offline_client(api)  # the SDK's default: 2 retries
    api.fail_next("rate_limit", 2)
    start = time.perf_counter()
    response = client.chat.completions.create(model=DEFAULT_MODEL, messages=USER)
    assert response.choices[0].message.content.startswith(MARKER)
    assert len(api.requests) == 3
    assert api.requests[0] == api.requests[2]  # the same request, sent again
    # The SDK waited the 20 ms the server asked for, not its own back-off (>= 1.1 s for two).
    assert time.perf_counter() - start < 0.5


def test_rate_limit_without_retries_raises_with_retry_after(api, client):
    api.fail_next("rate_limit", 5)
    with pytest.raises(openai.RateLimitError) as info:
        client.chat.completions.create(model=DEFAULT_MODEL, messages=USER)
    err = info.value
    assert (err.status_code, err.code) == (429, "rate_limit_exceeded")
    assert err.response.headers["retry-after-ms"] == "20"
    assert DEFAULT_MODEL in err.message
    assert len(api.requests) == 1


def test_simulate_header_gives_a_server_error(api, client):
    with pytest.raises(openai.InternalServerError) as info:
        client.chat.completions.create(
            model=DEFAULT_MODEL, messages=USER, extra_headers={"x-offline-simulate": "server_error"}
        )
    assert info.value.status_code == 500 and info.value.type == "server_error"
    assert client.chat.completions.create(model=DEFAULT_MODEL, messages=USER).choices  # one request only


def test_stream_error_breaks_off_after_some_content(api, client):
    full = client.chat.completions.create(model=DEFAULT_MODEL, messages=LONG_EN, temperature=0, **NO_REASONING)
    full = full.choices[0].message.content
    api.fail_next("stream_error")
    pieces = []
    stream = client.chat.completions.create(
        model=DEFAULT_MODEL, messages=LONG_EN, temperature=0, stream=True, **NO_REASONING
    )
    with pytest.raises(openai.APIError) as info:
        for chunk in stream:
            pieces.append(chunk.choices[0].delta.content or "")
    assert not isinstance(info.value, openai.APIStatusError)  # the status was 200
    assert info.value.type == "server_error"
    partial = "".join(pieces)
    assert partial and full.startswith(partial) and len(partial) < len(full)


def test_stream_error_without_any_text_still_fails(api, client):
    # A reasoning model whose limit is spent on thinking streams no text at all.
    api.fail_next("stream_error")
    stream = client.chat.completions.create(model=DEFAULT_MODEL, messages=USER, max_completion_tokens=10, stream=True)
    with pytest.raises(openai.APIError):
        list(stream)
    assert ask(client).choices  # the failure was used up by that stream


def test_stream_error_on_a_plain_request_is_a_server_error(api, client):
    api.fail_next("stream_error")
    with pytest.raises(openai.InternalServerError):
        client.chat.completions.create(model=DEFAULT_MODEL, messages=USER)


def test_unknown_simulated_failure_is_refused():
    with pytest.raises(ValueError, match="rate_limit"):
        OfflineAPI().fail_next("rate-limit")


# ---------------------------------------------------------------- models endpoint


def test_models_list_and_retrieve(client):
    listed = [m.id for m in client.models.list()]
    assert listed == current_models()
    assert DEFAULT_MODEL in listed and not set(RETIRED) & set(listed)  # only the models served today
    assert client.models.retrieve(DEFAULT_MODEL).id == DEFAULT_MODEL
    for name in ("gpt-99", "o4-mini"):
        with pytest.raises(openai.NotFoundError):
            client.models.retrieve(name)


# ---------------------------------------------------------------- behaviour


def ask(client, messages=USER, model=DEFAULT_MODEL, **params):
    return client.chat.completions.create(model=model, messages=messages, **params)


def test_usage_counts_the_prompt_and_the_reply(client):
    for model, params in (("gpt-4o", {}), (DEFAULT_MODEL, NO_REASONING)):
        response = ask(client, LONG_KO, model=model, **params)
        usage, content = response.usage, response.choices[0].message.content
        assert usage.prompt_tokens == count_message_tokens(LONG_KO, model)
        overhead = MODELS[model].rules.completion_overhead  # 0 for gpt-4o
        assert usage.completion_tokens == count_tokens(content, model) + overhead
        assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
        assert usage.completion_tokens_details.reasoning_tokens == 0


def test_temperature_zero_is_deterministic(client):
    first = ask(client, temperature=0, **NO_REASONING).choices[0].message.content
    assert ask(client, temperature=0, **NO_REASONING).choices[0].message.content == first
    assert ask(offline_client(OfflineAPI()), temperature=0, **NO_REASONING).choices[0].message.content == first


def test_temperature_without_seed_varies():
    client = offline_client(OfflineAPI(seed=None))
    replies = {ask(client, temperature=1).choices[0].message.content for _ in range(10)}
    assert len(replies) >= 2
    replies = {ask(client, temperature=1.5, **NO_REASONING).choices[0].message.content for _ in range(10)}
    assert len(replies) >= 2


def test_same_seed_same_reply(client):
    by_seed = {}
    for seed in range(8):
        first = ask(client, temperature=1, seed=seed).choices[0].message.content
        assert ask(client, temperature=1, seed=seed).choices[0].message.content == first
        by_seed[seed] = first
    assert len(set(by_seed.values())) >= 2  # the seed does matter


def test_api_seed_pins_requests_without_one():
    client = offline_client(OfflineAPI(seed=3))
    replies = {ask(client, temperature=1.5, **NO_REASONING).choices[0].message.content for _ in range(5)}
    assert len(replies) == 1


def test_n_choices_have_their_indexes_and_all_count(client):
    response = ask(client, n=3, temperature=1, seed=2)
    assert [c.index for c in response.choices] == [0, 1, 2]
    contents = [c.message.content for c in response.choices]
    reasoning = response.usage.completion_tokens_details.reasoning_tokens
    one = ask(client, temperature=1, seed=2).usage.completion_tokens_details.reasoning_tokens
    assert reasoning == 3 * one > 0  # each choice thinks on its own
    visible = sum(count_tokens(c, DEFAULT_MODEL) + OVERHEAD for c in contents)
    assert response.usage.completion_tokens == visible + reasoning
    assert response.usage.prompt_tokens == count_message_tokens(USER, DEFAULT_MODEL)  # counted once


def test_stop_cuts_before_the_stop_text(client):
    full = ask(client, temperature=0, **NO_REASONING).choices[0].message.content
    assert "chunk" in full and "text" in full[full.index("chunk") :]
    response = ask(client, temperature=0, stop=["text", "chunk"], **NO_REASONING)  # the earliest one wins
    content = response.choices[0].message.content
    assert content == full[: full.index("chunk")]
    assert response.choices[0].finish_reason == "stop"
    assert response.usage.completion_tokens == count_tokens(content, DEFAULT_MODEL) + OVERHEAD


@pytest.mark.parametrize("messages", [LONG_EN, LONG_KO], ids=["en", "ko"])
def test_max_tokens_truncates_with_finish_reason_length(client, messages):
    full = ask(client, messages, temperature=0, **NO_REASONING).choices[0].message.content
    limits = range(1, 40)
    if messages is LONG_KO:  # make sure some limits do fall inside a character
        tokens = encoding_for(DEFAULT_MODEL).encode_ordinary(full)
        assert any("\ufffd" in encoding_for(DEFAULT_MODEL).decode(tokens[:k]) for k in limits)
    for limit in limits:
        response = ask(client, messages, temperature=0, max_completion_tokens=limit, **NO_REASONING)
        content = response.choices[0].message.content
        assert response.choices[0].finish_reason == "length"
        assert response.usage.completion_tokens == limit
        assert full.startswith(content)
        assert "\ufffd" not in content  # a cut inside a Korean character is not shown


@pytest.mark.parametrize("model", [DEFAULT_MODEL, "gpt-6-astra", "gpt-6.1-terra", "gpt-5.6-luna", "gpt-5.5"])
def test_reasoning_tokens_are_reported_and_billed_as_completion(client, model):
    response = ask(client, model=model)
    usage = response.usage
    reasoning = usage.completion_tokens_details.reasoning_tokens
    assert reasoning > 0
    content = response.choices[0].message.content
    overhead = MODELS[model].rules.completion_overhead
    assert overhead > 0
    assert usage.completion_tokens == reasoning + count_tokens(content, model) + overhead
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


def test_reasoning_tokens_grow_with_the_effort(client):
    efforts = MODELS[DEFAULT_MODEL].rules.efforts
    assert efforts == ("none", "low", "medium", "high", "xhigh", "max")
    reasoning = []
    for effort in efforts:
        response = ask(client, reasoning_effort=effort)
        usage, content = response.usage, response.choices[0].message.content
        assert response.choices[0].finish_reason == "stop" and content.startswith(MARKER)
        reasoning.append(usage.completion_tokens_details.reasoning_tokens)
        assert usage.completion_tokens == reasoning[-1] + count_tokens(content, DEFAULT_MODEL) + OVERHEAD
    assert reasoning[0] == 0 and reasoning == sorted(set(reasoning)), reasoning  # strictly growing
    # Naming no effort is the model's default effort.
    default = efforts.index(MODELS[DEFAULT_MODEL].rules.default_effort)
    assert ask(client).usage.completion_tokens_details.reasoning_tokens == reasoning[default]


def test_reasoning_can_use_up_max_completion_tokens(client):
    thinking = ask(client).usage.completion_tokens_details.reasoning_tokens
    assert thinking > 10
    response = ask(client, max_completion_tokens=10)
    assert response.choices[0].message.content == ""
    assert response.choices[0].finish_reason == "length"
    assert response.usage.completion_tokens == response.usage.completion_tokens_details.reasoning_tokens == 10


@pytest.mark.parametrize(
    "prompt",
    ["hello", "Tell me about temperature", "Summarize: A. B. C.", "asdf", "토큰이 뭐야?", "Give me a long answer"],
)
def test_replies_are_marked_offline(client, prompt):
    assert ask(client, [{"role": "user", "content": prompt}]).choices[0].message.content.startswith(MARKER)


@pytest.mark.parametrize(
    "system,question,korean",
    [
        ("너는 친절한 튜터야.", "What is a token?", False),  # the learner's language
        ("You are a helpful tutor.", "토큰이 뭐야?", True),
        ("너는 친절한 튜터야. 항상 한국어로 대답해.", "What is a token?", True),  # unless the prompt says
        ("You are a tutor. Answer in Korean.", "What is a token?", True),
        ("You are a concise tutor. Answer in English.", "토큰이 뭐야?", False),
        ("너는 친절한 튜터야.", "?", True),  # no letters to go by: the system prompt's language
        (None, "토큰이 뭐야?", True),
        (None, "What is a token?", False),
    ],
)
def test_reply_language_follows_the_learner_unless_the_system_prompt_says(client, system, question, korean):
    messages = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": question}]
    reply = ask(client, messages, temperature=0, **NO_REASONING).choices[0].message.content
    assert bool(HANGUL.search(reply)) is korean


@pytest.mark.parametrize(
    "intro,name,question",
    [
        ("Hi! My name is Alice.", "Alice", "What's my name?"),
        ("I'm Alice, nice to meet you", "Alice", "what is my name?"),
        ("Call me Alice.", "Alice", "Who am I?"),
        ("안녕! 나는 차은우야.", "차은우", "내 이름이 뭐야?"),
        ("내 이름은 차은우야", "차은우", "내 이름 기억해?"),
    ],
)
def test_the_model_recalls_a_name_only_from_the_history_it_is_sent(client, intro, name, question):
    history = [
        {"role": "user", "content": intro},
        {"role": "assistant", "content": ask(client, [{"role": "user", "content": intro}]).choices[0].message.content},
        {"role": "user", "content": question},
    ]
    assert name in ask(client, history).choices[0].message.content
    forgotten = ask(client, [{"role": "user", "content": question}]).choices[0].message.content
    assert name not in forgotten


# ---------------------------------------------------------------- streaming


@pytest.mark.parametrize(
    "messages,params",
    [
        (LONG_EN, {"temperature": 0, **NO_REASONING}),
        (LONG_KO, {"temperature": 0, **NO_REASONING}),
        (LONG_KO, {"temperature": 0, "max_completion_tokens": 23, **NO_REASONING}),
        (USER, {"temperature": 0, "stop": "chunk", **NO_REASONING}),
        (USER, {"seed": 4}),  # reasoning: temperature 1 only, the seed pins it
        (USER, {"model": "gpt-6-astra", "reasoning_effort": "max", "seed": 4}),
    ],
    ids=["en", "ko", "ko-length", "stop", "reasoning", "reasoning-max"],
)
def test_stream_joins_to_exactly_the_plain_reply(client, messages, params):
    params = {"model": DEFAULT_MODEL, "messages": messages, **params}
    plain = client.chat.completions.create(**params)
    chunks = list(client.chat.completions.create(**params, stream=True, stream_options={"include_usage": True}))
    first, *rest, usage_chunk = chunks
    assert first.choices[0].delta.role == "assistant"
    streamed = "".join(c.choices[0].delta.content or "" for c in [first, *rest])
    assert streamed == plain.choices[0].message.content
    assert "\ufffd" not in streamed
    assert len(rest) >= 2  # it really came in pieces
    assert rest[-1].choices[0].finish_reason == plain.choices[0].finish_reason
    assert all(c.choices[0].finish_reason is None for c in [first, *rest[:-1]])
    assert usage_chunk.choices == []
    assert usage_chunk.usage == plain.usage
    assert all(c.usage is None for c in [first, *rest])


def test_stream_without_include_usage_has_no_usage(client):
    chunks = list(ask(client, stream=True))
    assert all(c.usage is None for c in chunks) and all(c.choices for c in chunks)


@pytest.mark.parametrize(
    "params",
    [
        {"temperature": 0},
        {"n": 2, "temperature": 1, "seed": 3},
        {"max_completion_tokens": 9},
        {"model": "gpt-4o", "logprobs": True, "top_logprobs": 2},
        {"tools": [{"type": "function", "function": {"name": "get_time", "description": "the time"}}]},
        {"tool_choice": "required", "tools": [{"type": "function", "function": {"name": "get_time"}}]},
    ],
    ids=["plain", "n-2", "cut", "logprobs", "tool-auto", "tool-call"],
)
@pytest.mark.parametrize("refuse", [False, True])
def test_the_kept_encoding_of_a_reply_is_the_generic_one(params, refuse):
    # completion_json keeps a text reply's choice encoded; it must give exactly encode(completion()).
    api = OfflineAPI(seed=1)
    body = {"model": DEFAULT_MODEL, "messages": LONG_KO, **NO_REASONING, **params}
    if body["model"] != DEFAULT_MODEL:
        del body["reasoning_effort"]
    request = helpers._offline.validate(body)
    choices = api.choices(request, refuse)
    head = {"id": "chatcmpl-1", "created": 1, "model": body["model"], "service_tier": "default"}
    counts = (10, 7, 3)
    top = request.top_logprobs if request.logprobs else None
    enc = encoding_for(request.model.name)
    for _ in range(2):  # the second time from what was kept
        kept = wire.completion_json(head, choices, counts, enc, top)
        assert kept == wire.encode(wire.completion(head, choices, wire.usage(*counts), enc, top))
        assert json.loads(kept)["choices"][0]["message"]["role"] == "assistant"


def test_a_repeated_reply_streams_with_each_requests_own_id_and_index(client):
    # The content chunks of a reply are kept once encoded; each stream still carries its own head.
    first = list(ask(client, temperature=0, stream=True, **NO_REASONING))
    again = list(ask(client, temperature=0, stream=True, **NO_REASONING))
    assert {c.id for c in first} != {c.id for c in again}
    assert len({c.id for c in first}) == 1 and len({c.id for c in again}) == 1
    assert [c.choices[0].delta.content for c in first] == [c.choices[0].delta.content for c in again]
    both = list(ask(client, n=2, temperature=0, stream=True, **NO_REASONING))
    assert sorted({ch.index for c in both for ch in c.choices}) == [0, 1]


def test_stream_with_n_2_gives_both_choices(client):
    plain = ask(client, n=2, temperature=1, seed=5)
    texts = {0: "", 1: ""}
    for chunk in ask(client, n=2, temperature=1, seed=5, stream=True):
        for choice in chunk.choices:
            texts[choice.index] += choice.delta.content or ""
    assert texts == {c.index: c.message.content for c in plain.choices}


@pytest.mark.parametrize("tokens_per_chunk", [1, 5])
def test_chunk_size_changes_the_pieces_not_the_text(tokens_per_chunk):
    plain = ask(offline_client(OfflineAPI()), LONG_KO, temperature=0, **NO_REASONING).choices[0].message.content
    client = offline_client(OfflineAPI(tokens_per_chunk=tokens_per_chunk))
    pieces = [
        c.choices[0].delta.content
        for c in ask(client, LONG_KO, temperature=0, stream=True, **NO_REASONING)
        if c.choices and c.choices[0].delta.content
    ]
    assert "".join(pieces) == plain
    # One piece per chunk of tokens, except a chunk that completes no character: it waits for the next.
    enc = encoding_for(DEFAULT_MODEL)
    tokens = enc.encode_ordinary(plain)
    ends = [*range(tokens_per_chunk, len(tokens), tokens_per_chunk), len(tokens)]
    shown = [enc.decode(tokens[:end]).rstrip("\ufffd") for end in [0, *ends]]  # whole characters so far
    assert len(pieces) == sum(before != after for before, after in zip(shown, shown[1:], strict=False))
    if tokens_per_chunk == 1:
        assert len(pieces) < len(ends)  # some tokens of the Korean reply do end inside a character


def test_chunk_delay_sleeps_between_content_chunks(monkeypatch):
    sleeps = []
    monkeypatch.setattr(helpers._offline.api.time, "sleep", sleeps.append)
    response = post({"model": DEFAULT_MODEL, "messages": LONG_EN, "stream": True}, OfflineAPI(chunk_delay=0.25))
    content_chunks = [p for p in sse_data(response.content)[:-1] if json.loads(p)["choices"][0]["delta"].get("content")]
    assert sleeps == [0.25] * len(content_chunks)
    sleeps.clear()
    post({"model": DEFAULT_MODEL, "messages": LONG_EN, "stream": True}, OfflineAPI())
    assert sleeps == []


def test_chunk_delay_paces_the_stream_the_sdk_reads():
    delay = 0.003
    client = offline_client(OfflineAPI(chunk_delay=delay))
    ask(client, LONG_EN)  # warm up the tokenizer
    start = time.perf_counter()
    arrivals = [
        time.perf_counter() - start
        for c in ask(client, LONG_EN, stream=True)
        if c.choices and c.choices[0].delta.content
    ]
    assert len(arrivals) >= 10
    assert arrivals[-1] >= delay * len(arrivals)
    assert arrivals[0] < arrivals[-1] / 2  # chunks arrive as they are made, not all at the end


def test_settings_from_the_environment(monkeypatch):
    monkeypatch.setenv("COURSE_OFFLINE_SEED", "5")
    monkeypatch.setenv("COURSE_OFFLINE_DELAY", "0.01")
    assert (OfflineAPI.from_settings().seed, OfflineAPI.from_settings().chunk_delay) == (5, 0.01)
    monkeypatch.delenv("COURSE_OFFLINE_SEED")
    monkeypatch.delenv("COURSE_OFFLINE_DELAY")
    assert (OfflineAPI.from_settings().seed, OfflineAPI.from_settings().chunk_delay) == (None, 0)


def test_a_long_reply_is_asked_for_by_the_word_long_not_by_words_containing_it():
    asked = compose_reply([{"role": "user", "content": "Send me a long reply"}], None)
    not_asked = compose_reply([{"role": "user", "content": "Where does this belong?"}], None)
    assert len(asked) > 3 * len(not_asked)
    assert "belong" in not_asked  # echoed back, not answered with the long text


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("How does temperature change the tokens I get?", "temperature"),
        ("Do tokens change with temperature?", "token"),
        ("What is the cost of a stream?", "cost"),
        ("스트리밍 요금은 어떻게 되나요?", "stream"),
        ("요금과 스트리밍", "cost"),
    ],
)
def test_the_topic_mentioned_first_is_answered(question, topic):
    reply = compose_reply([{"role": "user", "content": question}], None)
    answers = next(t.answers for t in replies.TOPICS if topic in t.words)
    assert answers["ko" if HANGUL.search(question) else "en"][0] in reply


def test_no_trigger_word_begins_another_topics_word():
    # The topic is the leftmost trigger word: two topics' words starting alike would make it
    # depend on the order of the pattern.
    for word, topic in replies.TOPIC_OF.items():
        assert not [w for w in replies.TOPIC_OF if w != word and w.startswith(word) and replies.TOPIC_OF[w] != topic]
