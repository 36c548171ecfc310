"""Function calling: tool checks with the API's 400s, when the offline model calls a tool,
the arguments it passes, and what tools cost in the prompt.

When it calls a tool (a small deterministic rule):
- tool_choice "none": never; "required": always (at least one call); a named function: that one;
- "auto" (the default): when the last message is the user's and it plainly asks for what a
  tool offers: a word of the tool's name (get_weather -> "weather") appears in the message,
  or two of the longer words of its description do. Korean words count as their English ones
  (structured.KOREAN_WORDS: 날씨 -> weather, 바꿔/변환 -> convert, 환율 -> exchange rate...), so
  "오늘 서울 날씨 어때?" calls get_weather. After tool results it answers in text.
- parallel_tool_calls (default true) lets it call every tool that matches, and a tool whose one
  place-like required argument (city, location...) could take several places the message names
  once per place ("weather in Seoul and in Tokyo": two calls); false, one call of the best tool.

Arguments are a valid instance of the tool's parameters schema (structured.instance), with
values taken from the user's message where it can."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from ..tokens import encoding_for
from .errors import bad, unsupported
from .structured import (
    NAME,
    PLACE_WORDS,
    Hints,
    Place,
    english_words,
    find_places,
    instance,
    name_words,
    strict_problem,
)
from .validated import Request

_WORD = re.compile(r"[a-z0-9가-힣]+")
MAX_PARALLEL = 8  # calls of one tool for the places a message lists: a long list must not flood a reply
_STOP = frozenset(
    "the a an and or of to for in on at with from this that get set make use call return "
    "returns tool function data value current".split()
)


def check(request: Request) -> None:
    """Tool definitions, tool_choice, the model's tool rule and the tool history."""
    body = request.body
    raw = body.get("tools")
    if body.get("tool_choice") is not None and not raw:
        raise bad(
            "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.", "tool_choice"
        )
    if body.get("parallel_tool_calls") is not None and not raw:
        # Assumed wording, on the pattern of the tool_choice error above.
        raise bad(
            "Invalid value for 'parallel_tool_calls': 'parallel_tool_calls' is only allowed when 'tools' "
            "are specified.",
            "parallel_tool_calls",
        )
    if request.tool_turns:
        _check_history(request.messages)
    if raw is None:
        return
    if not raw:
        raise bad(
            "Invalid 'tools': empty array. Expected an array with minimum length 1, but got an empty array instead.",
            "tools",
            "empty_array",
        )
    rule = request.model.rules.tools
    if rule == "responses_only":
        # Assumed wording (none recorded): the unsupported_parameter style, pointing to the Responses API.
        raise unsupported("tools", " Function calling with this model is available only in the Responses API.")
    if rule == "effort_none" and request.effort != "none":
        # Assumed wording (none recorded): this model calls functions only with reasoning_effort="none".
        raise unsupported("tools", " Use reasoning_effort='none' to call functions in Chat Completions.")
    functions = []
    for i, tool in enumerate(raw):
        if tool.get("type") != "function":
            raise bad(
                f"Invalid 'tools[{i}]': the offline model emulates only tools of type 'function'.",
                f"tools[{i}].type",
                "invalid_value",
            )
        fn = tool["function"]
        if not NAME.match(fn["name"]):
            raise bad(
                f"Invalid 'tools[{i}].function.name': string does not match pattern. Expected a string "
                "that matches the pattern '^[a-zA-Z0-9_-]+$'.",
                f"tools[{i}].function.name",
                "invalid_value",
            )
        if fn.get("strict"):
            problem = strict_problem(
                fn.get("parameters") or {"type": "object", "properties": {}, "additionalProperties": False}
            )
            if problem:
                raise bad(
                    f"Invalid schema for function '{fn['name']}': {problem}",
                    f"tools[{i}].function.parameters",
                    "invalid_function_parameters",
                )
        functions.append(fn)
    names = [f["name"] for f in functions]
    choice = body.get("tool_choice", "auto")
    if choice is None:
        choice = "auto"
    if isinstance(choice, dict):
        if choice.get("type") == "function":
            wanted = choice["function"]["name"]
            if wanted not in names:
                # Assumed wording (none recorded).
                raise bad(
                    f"Invalid value for 'tool_choice': function '{wanted}' not found in 'tools'.",
                    "tool_choice",
                    "invalid_value",
                )
            choice = wanted
        elif choice.get("type") == "allowed_tools":
            allowed = choice["allowed_tools"]
            request.allowed = [
                t.get("function", {}).get("name") for t in allowed["tools"] if isinstance(t.get("function"), dict)
            ]
            choice = allowed["mode"]
        else:
            raise bad(
                "Invalid 'tool_choice': the offline model emulates only function tools.", "tool_choice", "invalid_value"
            )
    request.tools, request.tool_choice = functions, choice
    request.parallel_tool_calls = body.get("parallel_tool_calls") is not False


def _check_history(messages: list[dict[str, Any]]) -> None:
    """Every tool message answers a call of the assistant message before it; every call is answered."""
    open_calls: list[str] = []
    open_at = -1
    for i, m in enumerate(messages):
        if m["role"] == "tool":
            if open_at < 0:
                raise bad(
                    "Invalid parameter: messages with role 'tool' must be a response to a preceeding "
                    "message with 'tool_calls'.",
                    f"messages.[{i}].role",
                )
            if m.get("tool_call_id") not in open_calls:
                raise bad(
                    f"Invalid parameter: 'tool_call_id' of '{m.get('tool_call_id')}' not found in "
                    "'tool_calls' of previous message.",
                    f"messages.[{i}].tool_call_id",
                )
            open_calls.remove(m["tool_call_id"])
            continue
        if open_calls:
            _unanswered(open_at, open_calls)
        open_at, open_calls = -1, []
        if m["role"] == "assistant" and m.get("tool_calls"):
            open_at, open_calls = i, [c.get("id") for c in m["tool_calls"]]
    if open_calls:
        _unanswered(open_at, open_calls)


def _unanswered(index: int, ids: list[str]) -> None:
    raise bad(
        "An assistant message with 'tool_calls' must be followed by tool messages responding to each "
        f"'tool_call_id'. The following tool_call_ids did not have response messages: {', '.join(ids)}",
        f"messages.[{index}].role",
    )


# ---------------------------------------------------------------- prompt tokens


def _ts_type(schema: Any, indent: int) -> str:
    if not isinstance(schema, dict):
        return "any"
    if isinstance(schema.get("enum"), list):
        return " | ".join(json.dumps(v) for v in schema["enum"])
    kind = schema.get("type")
    if kind == "object" and isinstance(schema.get("properties"), dict):
        return "{\n" + _ts_properties(schema, indent + 2) + "\n}"
    if kind == "array":
        return _ts_type(schema.get("items"), indent) + "[]" if schema.get("items") else "any[]"
    return {"string": "string", "integer": "number", "number": "number", "boolean": "boolean", "null": "null"}.get(
        kind if isinstance(kind, str) else "", "any"
    )


def _ts_properties(schema: dict, indent: int) -> str:
    required = schema.get("required") if isinstance(schema.get("required"), list) else []
    lines = []
    for name, prop in (schema.get("properties") or {}).items():
        if isinstance(prop, dict) and prop.get("description") and indent < 2:
            lines.append(f"// {prop['description']}")
        lines.append(f"{name}{'' if name in required else '?'}: {_ts_type(prop, indent)},")
    return "\n".join(" " * indent + line for line in lines)


def definitions_text(functions: list[dict[str, Any]]) -> str:
    """The tools as the model is believed to see them: a TypeScript-like namespace."""
    lines = ["namespace functions {", ""]
    for fn in functions:
        if fn.get("description"):
            lines.append(f"// {fn['description']}")
        params = fn.get("parameters") or {}
        if isinstance(params, dict) and params.get("properties"):
            lines += [f"type {fn['name']} = (_: {{", _ts_properties(params, 0), "}) => any;", ""]
        else:
            lines += [f"type {fn['name']} = () => any;", ""]
    lines.append("} // namespace functions")
    return "\n".join(lines)


def prompt_tokens(request: Request) -> int:
    """Tokens the tools add to ``usage.prompt_tokens``.

    Rule (the community's reverse-engineered one, as in hmarr/openai-chat-tokens): the
    definitions rendered as a TypeScript namespace + 9 tokens, - 4 when the messages have a
    system or developer message; reasoning models (gpt-5 and later) add a longer tool preamble:
    + 90 instead of + 9, no system discount (fitted to 3 recordings). Each tool call in the history
    costs its name and arguments + 3. Against the 7 tool recordings in tests/data/realtraffic.json
    it is within 3 tokens of every one (tests/test_offline_tools.py checks each)."""
    enc = encoding_for(request.model.name)
    extra = 0
    if request.tools:
        extra += len(enc.encode_ordinary(definitions_text(request.tools)))
        if request.model.rules.reasoning:
            extra += 90
        else:
            extra += 9 - 4 * any(m["role"] in ("system", "developer") for m in request.messages)
    for m in request.messages if request.tool_turns else ():
        for call in m.get("tool_calls") or []:
            fn = call.get("function") or {}
            extra += len(enc.encode_ordinary(str(fn.get("name", "")) + str(fn.get("arguments", "")))) + 3
    return extra


# ---------------------------------------------------------------- calling


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP}


def _score(fn: dict[str, Any], text: str) -> int:
    said = _words(text) | english_words(text)
    said |= {w[:-1] for w in said if w.endswith("s")}  # "secrets" asks for "secret"
    name = set(_words(re.sub(r"([a-z])([A-Z])", r"\1 \2", fn["name"]).replace("_", " ").replace("-", " ")))
    described = {w for w in _words(fn.get("description") or "") if len(w) >= 5}
    if name & said:
        return 10 + len(name & said)
    return len(described & said) if len(described & said) >= 2 else 0


def calls(request: Request, call_id: Any = None) -> list[dict[str, Any]]:
    """The tool calls the offline model makes for ``request`` ([] when it answers in text)."""
    if not request.tools or request.tool_choice == "none":
        return []
    pool = [f for f in request.tools if request.allowed is None or f["name"] in request.allowed]
    last = request.messages[-1]
    user = next((m["content"] for m in reversed(request.messages) if m["role"] == "user"), "")
    if isinstance(request.tool_choice, str) and request.tool_choice not in ("auto", "required"):
        chosen = [f for f in pool if f["name"] == request.tool_choice]
    else:
        if request.tool_choice == "auto" and last["role"] != "user":
            return []  # after tool results, answer with them
        ranked = sorted(((s, i, f) for i, f in enumerate(pool) if (s := _score(f, user))), key=lambda t: (-t[0], t[1]))
        chosen = [f for _, _, f in ranked]
        if request.tool_choice == "required" and not chosen:
            chosen = pool[:1]
        if not request.parallel_tool_calls:
            chosen = chosen[:1]
    new_id = call_id or (lambda: f"call_{uuid.uuid4().hex[:24]}")
    out = []
    for fn in chosen:
        params = fn.get("parameters") or {"type": "object", "properties": {}}
        places = _places_for(params, user) if request.parallel_tool_calls else []
        for place in places or [None]:
            args = instance(params, Hints(user, place=place))
            out.append(
                {
                    "id": new_id(),
                    "type": "function",
                    "function": {"name": fn["name"], "arguments": json.dumps(args, ensure_ascii=False)},
                }
            )
    return out


def _places_for(params: dict[str, Any], text: str) -> list[Place]:
    """The places to call a tool for, one call each: the message's places when the tool has exactly
    one place-like required argument (a string, or an enum holding them) and the message names
    more than one; else [] (one call)."""
    props = params.get("properties") if isinstance(params.get("properties"), dict) else {}
    required = params.get("required") if isinstance(params.get("required"), list) else list(props)
    fields = [
        k
        for k in required
        if isinstance(k, str)
        and isinstance(props.get(k), dict)
        and props[k].get("type", "string") == "string"
        and PLACE_WORDS.intersection(name_words(k))
    ]
    if len(fields) != 1:
        return []
    places = find_places(text)
    enum = props[fields[0]].get("enum")
    if isinstance(enum, list):  # only the places the enum holds
        names = {str(v).lower() for v in enum}
        places = [p for p in places if p.written.lower() in names or (p.english or "").lower() in names]
    return places[:MAX_PARALLEL] if len(places) > 1 else []


def results(messages: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(function name, result) for the tool messages that end the conversation."""
    names: dict[str, str] = {}
    for m in messages:
        for call in m.get("tool_calls") or []:
            names[call.get("id")] = (call.get("function") or {}).get("name", "tool")
    out = []
    for m in reversed(messages):
        if m["role"] != "tool":
            break
        out.append((names.get(m.get("tool_call_id"), "tool"), m["content"]))
    return out[::-1]
