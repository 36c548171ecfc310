"""Request validation: a body in, a typed ``Request`` out, or the API's 4xx.

Order, as the API's: unknown top-level names, the required ones, the spec's types and enums
(``schema.check_request``), the model, the model's reasoning rules, tools and JSON modes, then
the token limits."""

from __future__ import annotations

import re
from typing import Any

from ..models import EFFORTS, ModelInfo, UnknownModelError, model_info
from ..tokens import count_message_tokens, encoding_for
from . import structured, tools
from .errors import APIError, bad, json_type, listed, unsupported
from .schema import check_request
from .validated import Request

# Every parameter the real endpoint accepts (from the official OpenAPI spec). The
# emulator acts on some; the others are accepted and ignored, as a typo is not.
KNOWN_PARAMS = frozenset(
    "audio frequency_penalty function_call functions logit_bias logprobs "
    "max_completion_tokens max_tokens messages metadata modalities model moderation n "
    "parallel_tool_calls prediction presence_penalty prompt_cache_key prompt_cache_options "
    "prompt_cache_retention reasoning_effort response_format safety_identifier seed "
    "service_tier stop store stream stream_options temperature tool_choice tools "
    "top_logprobs top_p user verbosity web_search_options".split()
)
FUNCTION_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
PIECE = 1 << 16  # characters: a message field longer than this is counted a piece at a time


def message_tokens(messages: list[dict[str, Any]], model: str) -> int:
    """``count_message_tokens``, with each long field counted in pieces of about PIECE characters.

    tiktoken counts without holding the GIL, but it hands the tokens back as one Python list
    built while holding it: about 0.1 s for 5 MB of text, during which the served model's event
    loop cannot answer anyone. Pieces hold it for a millisecond or so at a time. A field with no
    such place to cut (a long run without spaces) is counted whole."""
    if all(len(value) <= PIECE for m in messages for value in m.values() if isinstance(value, str)):
        return count_message_tokens(messages, model)
    enc = encoding_for(model)
    short, extra = [], 0
    for message in messages:
        kept = {}
        for key, value in message.items():
            if isinstance(value, str) and len(value) > PIECE:
                extra += sum(len(enc.encode_ordinary(piece)) for piece in _pieces(value))
                value = ""  # counts 0 in count_message_tokens, which still adds the field's rules
            kept[key] = value
        short.append(kept)
    return count_message_tokens(short, model) + extra


def _pieces(text: str) -> list[str]:
    """``text`` in pieces of at most about PIECE characters, each cut where a letter meets a space
    or a line break. No token of tiktoken's encodings spans such a point (a word's tokens never
    take the space after it), so the pieces' token counts add up to the whole text's exactly."""
    pieces, start = [], 0
    while len(text) - start > PIECE:
        lowest, cut = start + PIECE // 2, start + PIECE
        while cut > lowest and not (text[cut] in " \n" and text[cut - 1].isalpha()):
            cut = max(text.rfind(" ", lowest, cut), text.rfind("\n", lowest, cut))
        if cut <= lowest:
            break  # no such point: the rest is counted whole
        pieces.append(text[start:cut])
        start = cut
    pieces.append(text[start:])
    return pieces


def served_model(name: Any) -> ModelInfo:
    """The table's row for a model the API serves on the course date, else the API's 404."""
    if not isinstance(name, str):
        raise bad(
            f"Invalid type for 'model': expected a string, but got {json_type(name)} instead.", "model", "invalid_type"
        )
    try:
        model = model_info(name)
    except UnknownModelError:
        model = None
    if model is None:
        raise APIError(
            404, f"The model `{name[:200]}` does not exist or you do not have access to it.", code="model_not_found"
        )
    if model.retired:  # the API's wording for a shut-down model (recorded traffic)
        raise APIError(
            404,
            f"The model `{name}` has been deprecated, learn more here: https://platform.openai.com/docs/deprecations",
            code="model_not_found",
        )
    return model


def check_reasoning(body: dict, model: ModelInfo) -> str | None:
    """The reasoning rules of ``model`` (helpers.models.Rules), with the API's codes and
    wording; returns the effort in force. Sampling parameters work on a reasoning model
    only with reasoning_effort="none", where the model takes it (deployment checklist)."""
    for name, values in (("reasoning_effort", EFFORTS), ("verbosity", ("low", "medium", "high"))):
        value = body.get(name)
        if value is not None and value not in values:  # the schema check has run: a str
            raise bad(f"Invalid value: '{value}'. Supported values are: {listed(values)}.", name, "invalid_value")
    rules = model.rules
    if body.get("verbosity") is not None and not rules.verbosity:
        raise unsupported("verbosity")
    if not rules.reasoning:
        if body.get("reasoning_effort") is not None:
            raise unsupported("reasoning_effort")
        return None
    effort = body.get("reasoning_effort") or rules.default_effort
    if effort not in rules.efforts:
        raise bad(
            f"Unsupported value: 'reasoning_effort' does not support '{effort}' with this model. "
            f"Supported values are: {listed(rules.efforts)}.",
            "reasoning_effort",
            "unsupported_value",
        )
    if body.get("max_tokens") is not None:
        raise bad(
            "Unsupported parameter: 'max_tokens' is not supported with this model. "
            "Use 'max_completion_tokens' instead.",
            "max_tokens",
            "unsupported_parameter",
        )
    if not model.accepts_sampling(effort):
        if body.get("temperature") not in (None, 1):
            raise bad(
                f"Unsupported value: 'temperature' does not support {body['temperature']} with this model. "
                "Only the default (1) value is supported.",
                "temperature",
                "unsupported_value",
            )
        # top_p is refused as a parameter, not a value (issue 11: the API's code differs from temperature's).
        if body.get("top_p") not in (None, 1):
            raise unsupported("top_p")
        for name in ("presence_penalty", "frequency_penalty"):
            if body.get(name) not in (None, 0):
                raise unsupported(name)
        for name in ("stop", "logprobs", "top_logprobs", "logit_bias"):
            if body.get(name) is not None and body.get(name) is not False:
                raise unsupported(name)
    return effort


def _text_of(content: Any, where: str) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    parts = []
    for i, part in enumerate(content):  # the schema check has made it a list of typed parts
        if part.get("type") not in ("text", "refusal"):
            raise bad(
                f"Invalid '{where}[{i}]': the offline model understands only "
                "{'type': 'text', 'text': ...} content parts.",
                f"{where}[{i}]",
                "invalid_value",
            )
        parts.append(part.get("text") or part.get("refusal") or "")
    return "".join(parts)


def _messages(raw: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], bool]:
    """The messages with their content as text, and whether any of them calls tools or answers a call."""
    clean = []
    tool_turns = False
    for i, m in enumerate(raw):
        content = m.get("content")
        if content is None and not (m["role"] == "assistant" and (m.get("tool_calls") or m.get("function_call"))):
            where = f"messages[{i}].content"
            raise bad(f"Missing required parameter: '{where}'.", where, "missing_required_parameter")
        text = content if isinstance(content, str) else _text_of(content, f"messages[{i}].content")
        entry: dict[str, Any] = {"role": m["role"], "content": text}
        clean.append(entry)
        if len(m) == 2 and "content" in m and entry["role"] != "tool":  # a role and a text: most messages
            continue
        if isinstance(m.get("name"), str) and not FUNCTION_NAME.match(m["name"]):
            where = f"messages[{i}].name"
            raise bad(
                f"Invalid '{where}': string does not match pattern. Expected a string that matches the "
                "pattern '^[a-zA-Z0-9_-]+$'.",
                where,
                "invalid_value",
            )
        for key in ("name", "tool_call_id"):
            if isinstance(m.get(key), str):
                entry[key] = m[key]
        if m.get("tool_calls"):
            entry["tool_calls"] = m["tool_calls"]
        tool_turns = tool_turns or m["role"] == "tool" or "tool_calls" in entry or "tool_call_id" in entry
    return clean, tool_turns


def validate(body: Any) -> Request:
    """Check a request body as the API does; return it typed, with the prompt counted."""
    if not isinstance(body, dict):
        raise bad("We could not parse the JSON body of your request. The body must be a JSON object.")
    if not KNOWN_PARAMS.issuperset(body):
        unknown = sorted(set(body) - KNOWN_PARAMS)
        raise bad(f"Unrecognized request argument supplied: {unknown[0][:100]}")
    if "model" not in body:
        raise bad("you must provide a model parameter")
    if "messages" not in body:
        raise bad("Missing required parameter: 'messages'.", "messages", "missing_required_parameter")
    check_request(body)
    model = served_model(body["model"])
    messages, tool_turns = _messages(body["messages"])

    for name in ("max_tokens", "max_completion_tokens"):
        if body.get(name) is not None and body[name] < 1:
            raise bad(
                f"Invalid '{name}': integer below minimum value. Expected a value >= 1, but got {body[name]} instead.",
                name,
                "integer_below_min_value",
            )
    stop = body.get("stop")
    stops = [stop] if isinstance(stop, str) else list(stop or [])
    stream = bool(body.get("stream"))
    if body.get("stream_options") is not None and not stream:
        raise bad(
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
            "stream_options",
            "invalid_value",
        )

    effort = check_reasoning(body, model)
    if body.get("top_logprobs") is not None and not body.get("logprobs"):
        # Assumed wording (none recorded): the spec says logprobs must be true for top_logprobs.
        raise bad(
            "Invalid value for 'top_logprobs': 'logprobs' must be set to true to use 'top_logprobs'.",
            "top_logprobs",
            "invalid_value",
        )
    request = Request(
        body=body,
        model=model,
        messages=messages,
        effort=effort,
        prompt_tokens=0,
        n=body.get("n") or 1,
        temperature=1.0 if body.get("temperature") is None else body["temperature"],
        top_p=1.0 if body.get("top_p") is None else body["top_p"],
        presence_penalty=body.get("presence_penalty") or 0.0,
        frequency_penalty=body.get("frequency_penalty") or 0.0,
        seed=body.get("seed"),
        stops=[s for s in stops if s],
        limit=body.get("max_completion_tokens") or body.get("max_tokens"),
        stream=stream,
        include_usage=bool((body.get("stream_options") or {}).get("include_usage")),
        logprobs=bool(body.get("logprobs")),
        top_logprobs=body.get("top_logprobs") or 0,
        tool_turns=tool_turns,
    )
    tools.check(request)
    structured.check(request)

    limit_name = "max_completion_tokens" if body.get("max_completion_tokens") is not None else "max_tokens"
    limit = request.limit
    if limit is not None and limit > model.max_output_tokens:
        raise bad(
            f"{limit_name} is too large: {limit}. This model supports at most "
            f"{model.max_output_tokens} completion tokens, whereas you provided {limit}.",
            limit_name,
            "invalid_value",
        )
    # A tool message's tool_call_id is not counted (recordings); tools add their own share.
    counted = messages
    if tool_turns and any("tool_call_id" in m for m in messages):
        counted = [{k: v for k, v in m.items() if k != "tool_call_id"} for m in messages]
    prompt = message_tokens(counted, model.name) + tools.prompt_tokens(request)
    if prompt + (limit or 0) > model.context_window:
        detail = (
            f"you requested {prompt + limit} tokens ({prompt} in the messages, {limit} in the "
            "completion). Please reduce the length of the messages or completion."
            if limit
            else f"your messages resulted in {prompt} tokens. Please reduce the length of the messages."
        )
        raise bad(
            f"This model's maximum context length is {model.context_window} tokens. However, " + detail,
            "messages",
            "context_length_exceeded",
        )
    request.prompt_tokens = prompt
    return request
