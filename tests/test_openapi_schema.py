"""The OpenAPI validator accepts real-shaped bodies and rejects broken ones."""

import copy

import pytest
from jsonschema import Draft202012Validator, ValidationError

from tools import openapi_schema
from tools.openapi_schema import errors, validate

RESPONSE = "CreateChatCompletionResponse"
CHUNK = "CreateChatCompletionStreamResponse"
ERROR = "ErrorResponse"

# Only what the spec requires, plus usage, which the real API always sends.
COMPLETION = {
    "id": "chatcmpl-123",
    "object": "chat.completion",
    "created": 1_700_000_000,
    "model": "gpt-6-luna",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Hello!", "refusal": None},
            "logprobs": None,
            "finish_reason": "stop",
        }
    ],
    "usage": {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11},
}
CHUNK_BASE = {"id": "chatcmpl-123", "object": "chat.completion.chunk", "created": 1_700_000_000, "model": "gpt-6-luna"}
CONTENT_CHUNK = {
    **CHUNK_BASE,
    "usage": None,
    "choices": [{"index": 0, "delta": {"content": "hi"}, "logprobs": None, "finish_reason": None}],
}
USAGE_CHUNK = {**CHUNK_BASE, "choices": [], "usage": COMPLETION["usage"]}
API_ERROR = {"error": {"message": "x", "type": "invalid_request_error", "param": None, "code": None}}


def mutated(body, path, value=KeyError):
    """Deep copy of body with the item at `path` replaced (or deleted)."""
    body = copy.deepcopy(body)
    *parents, last = path
    target = body
    for key in parents:
        target = target[key]
    if value is KeyError:
        del target[last]
    else:
        target[last] = value
    return body


def test_all_converted_schemas_are_valid_json_schema():
    for schema in openapi_schema.schemas().values():
        Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize(
    "body,name",
    [
        (COMPLETION, RESPONSE),
        (CONTENT_CHUNK, CHUNK),
        (USAGE_CHUNK, CHUNK),
        (API_ERROR, ERROR),
        (mutated(API_ERROR, ["error", "code"], "model_not_found"), ERROR),
        (
            {
                "object": "list",
                "data": [{"id": "gpt-6-luna", "object": "model", "created": 1_700_000_000, "owned_by": "system"}],
            },
            "ListModelsResponse",
        ),
    ],
)
def test_valid_bodies_pass(body, name):
    assert errors(body, name) == []
    validate(body, name)


def test_full_completion_with_tool_call_passes():
    body = mutated(
        COMPLETION,
        ["choices", 0],
        {
            "index": 0,
            "logprobs": None,
            "finish_reason": "tool_calls",
            "message": {
                "role": "assistant",
                "content": None,
                "refusal": None,
                "annotations": [],
                "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
            },
        },
    )
    body.update(service_tier="default", system_fingerprint="fp_1")
    validate(body, RESPONSE)


@pytest.mark.parametrize(
    "body,name,expected",
    [
        (mutated(COMPLETION, ["choices"]), RESPONSE, "'choices' is a required property"),
        (mutated(COMPLETION, ["object"], "chat.completion.chunk"), RESPONSE, "not one of"),
        (mutated(COMPLETION, ["created"], "1700000000"), RESPONSE, "not of type 'integer'"),
        (mutated(COMPLETION, ["choices", 0, "finish_reason"], "done"), RESPONSE, "'done'"),
        # Spec facts an emulator can easily get wrong:
        (mutated(COMPLETION, ["choices", 0, "message", "refusal"]), RESPONSE, "'refusal'"),
        (mutated(COMPLETION, ["choices", 0, "logprobs"]), RESPONSE, "'logprobs'"),
        (mutated(COMPLETION, ["choices", 0, "finish_reason"], None), RESPONSE, "None"),
        (mutated(COMPLETION, ["usage"], None), RESPONSE, "None"),
        (mutated(COMPLETION, ["usage", "total_tokens"]), RESPONSE, "'total_tokens'"),
        # nullable enum / nullable $ref still reject wrong non-null values:
        (mutated(CONTENT_CHUNK, ["choices", 0, "finish_reason"], "done"), CHUNK, "'done'"),
        (mutated(CONTENT_CHUNK, ["usage"], {"prompt_tokens": 1}), CHUNK, "required"),
        (mutated(CONTENT_CHUNK, ["choices", 0, "delta"]), CHUNK, "'delta'"),
        (mutated(CONTENT_CHUNK, ["object"], "chat.completion"), CHUNK, "is not one of"),
        (mutated(API_ERROR, ["error", "message"]), ERROR, "'message' is a required"),
        (mutated(API_ERROR, ["error", "code"]), ERROR, "'code' is a required"),
    ],
)
def test_invalid_bodies_fail(body, name, expected):
    found = errors(body, name)
    assert found and any(expected in e for e in found), found
    with pytest.raises(ValidationError, match=name):
        validate(body, name)


def test_error_message_names_location():
    body = mutated(COMPLETION, ["choices", 0, "finish_reason"], "done")
    with pytest.raises(ValidationError) as info:
        validate(body, RESPONSE)
    assert "$.choices[0].finish_reason: 'done' is not one of" in str(info.value)
    assert list(info.value.path) == ["choices", 0, "finish_reason"]


def test_request_schema():
    request = {
        "model": "gpt-6-luna",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": [{"type": "text", "text": "Weather?"}]},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {"id": "call_1", "type": "function", "function": {"name": "weather", "arguments": "{}"}}
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
        ],
        "tools": [
            {"type": "function", "function": {"name": "weather", "parameters": {"type": "object", "properties": {}}}}
        ],
        "tool_choice": "auto",
        "reasoning_effort": "none",  # the default model takes temperature only at this effort
        "verbosity": "low",
        "temperature": 0.2,
        "max_tokens": None,  # nullable: true on a plain type
        "stop": None,  # nullable: true on a oneOf
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    validate(request, "CreateChatCompletionRequest")
    assert errors(mutated(request, ["messages"], []), "CreateChatCompletionRequest")
    assert errors(mutated(request, ["messages", 1, "role"], "robot"), "CreateChatCompletionRequest")
    for effort in ("minimal", "low", "medium", "high", "xhigh", "max"):
        validate(mutated(request, ["reasoning_effort"], effort), "CreateChatCompletionRequest")
    assert errors(mutated(request, ["reasoning_effort"], "extreme"), "CreateChatCompletionRequest")
    assert errors(mutated(request, ["verbosity"], "loud"), "CreateChatCompletionRequest")


def test_unknown_schema_name():
    with pytest.raises(KeyError, match="CreateChatCompletionResponse"):
        validate({}, "ChatCompletion")
