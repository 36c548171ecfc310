"""JSON modes and structured outputs: response_format checks, strict-schema rules, and a small
valid instance of any JSON schema (also used for tool-call arguments).

``instance`` fills a schema's fields with values taken from the user's message where it can
(a number it mentions, an enum value it names, a quoted phrase, a capitalised place after
"in"/"for"), else with short placeholders. It honours type, enum, const, required, min/max,
minItems/maxItems, minLength/maxLength, anyOf/oneOf/allOf, $ref (#/$defs and #/definitions)
and common formats; a `pattern` is not solved (the value is left as a plain string)."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from .errors import bad

if TYPE_CHECKING:
    from .request import Request

MAX_DEPTH = 10  # the API's nesting limit for structured-output schemas
NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_FORMATS = {
    "date-time": "2026-11-25T09:00:00Z",
    "date": "2026-11-25",
    "time": "09:00:00",
    "email": "learner@example.com",
    "uri": "https://example.com",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "hostname": "example.com",
    "ipv4": "127.0.0.1",
    "duration": "P1D",
}
_PLACE = re.compile(r"\b(?:in|for|at|to|from)\s+([A-Z][\w'-]*(?:[ ,]+[A-Z][\w'-]*)*)")
_QUOTED = re.compile(r"[\"“']([^\"”']{1,80})[\"”']")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_PLACE_WORDS = ("city", "location", "place", "country", "town", "destination", "region", "address")
_FREE_TEXT = ("query", "q", "text", "prompt", "input", "question", "search", "message", "content", "topic")


class Hints:
    """Values found in the user's message, handed out once each."""

    def __init__(self, text: str, reply: str = "") -> None:
        self.text, self.reply = text.strip(), reply
        self.numbers = [float(n) for n in _NUMBER.findall(text)]
        place = _PLACE.search(text)
        self.place = place.group(1).strip(" ,") if place else None
        quoted = _QUOTED.search(text)
        self.quoted = quoted.group(1) if quoted else None
        self.used_reply = False

    def string(self, name: str) -> str:
        low = name.lower()
        if self.place and any(w in low for w in _PLACE_WORDS):
            return self.place
        if self.quoted:
            return self.quoted
        if low in _FREE_TEXT or any(low.endswith("_" + w) for w in _FREE_TEXT):
            return self.text[:200]
        if self.reply and not self.used_reply:  # the first free text field carries the answer
            self.used_reply = True
            return self.reply
        if self.place and low in ("name", "title"):
            return self.place
        return name.replace("_", " ") if name else "value"

    def number(self, low: float | None, high: float | None, integer: bool) -> float:
        for i, value in enumerate(self.numbers):
            fits = (low is None or value >= low) and (high is None or value <= high)
            if fits and (not integer or value == int(value)):
                return self.numbers.pop(i)
        base = 0 if low is None else low
        if high is not None and base > high:
            base = high
        return base


def _deref(schema: dict, root: dict) -> dict:
    seen = 0
    while isinstance(schema, dict) and isinstance(schema.get("$ref"), str) and seen < 20:
        ref = schema["$ref"]
        target: Any = root if ref.startswith("#") else {}
        for part in ref.lstrip("#").strip("/").split("/") if ref != "#" else []:
            target = target.get(part, {}) if isinstance(target, dict) else {}
        schema, seen = target if isinstance(target, dict) else {}, seen + 1
    return schema if isinstance(schema, dict) else {}


def instance(schema: Any, hints: Hints, root: dict | None = None, name: str = "", depth: int = 0) -> Any:
    """A small value valid against ``schema``."""
    if not isinstance(schema, dict):
        return {}
    root = schema if root is None else root
    schema = _deref(schema, root)
    if depth > MAX_DEPTH:
        return None
    if "const" in schema:
        return schema["const"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        mentioned = [v for v in schema["enum"] if isinstance(v, str) and v.lower() in hints.text.lower()]
        return mentioned[0] if mentioned else schema["enum"][0]
    for key in ("anyOf", "oneOf"):
        if isinstance(schema.get(key), list) and schema[key]:
            options = [s for s in schema[key] if not (isinstance(s, dict) and s.get("type") == "null")]
            return instance((options or schema[key])[0], hints, root, name, depth + 1)
    if isinstance(schema.get("allOf"), list) and schema["allOf"]:
        merged: dict = {}
        for part in schema["allOf"]:
            part = _deref(part, root)
            for k, v in part.items():
                if k in ("properties",) and isinstance(v, dict):
                    merged.setdefault(k, {}).update(v)
                elif k == "required" and isinstance(v, list):
                    merged.setdefault(k, []).extend(v)
                else:
                    merged[k] = v
        return instance(merged, hints, root, name, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None:
        kind = "object" if "properties" in schema else "array" if "items" in schema else "string"
    if kind == "object":
        props = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
        required = (
            [r for r in schema.get("required", []) if isinstance(r, str)]
            if isinstance(schema.get("required"), list)
            else []
        )
        # Strict schemas list every property as required; others get their required ones, or all.
        keys = (
            list(props)
            if not required
            else [k for k in props if k in required] + [r for r in required if r not in props]
        )
        return {k: instance(props.get(k, {}), hints, root, k, depth + 1) for k in keys}
    if kind == "array":
        low = schema.get("minItems") if isinstance(schema.get("minItems"), int) else 0
        high = schema.get("maxItems") if isinstance(schema.get("maxItems"), int) else None
        count = max(low, 1) if high is None else min(max(low, 1), high)
        item_name = name[:-1] if name.endswith("s") else name
        return [instance(schema.get("items", {}), hints, root, item_name, depth + 1) for _ in range(count)]
    if kind in ("integer", "number"):
        low = schema.get("minimum", schema.get("exclusiveMinimum"))
        high = schema.get("maximum", schema.get("exclusiveMaximum"))
        low = low if isinstance(low, (int, float)) and not isinstance(low, bool) else None
        high = high if isinstance(high, (int, float)) and not isinstance(high, bool) else None
        value = hints.number(low, high, kind == "integer")
        if "exclusiveMinimum" in schema and low is not None and value <= low:
            value = low + 1
        if "exclusiveMaximum" in schema and high is not None and value >= high:
            value = high - 1
        return int(value) if kind == "integer" else value
    if kind == "boolean":
        return bool(re.search(r"\b(yes|true|on)\b", hints.text, re.I))
    if kind == "null":
        return None
    fmt = schema.get("format")
    text = _FORMATS[fmt] if fmt in _FORMATS else hints.string(name)
    low, high = schema.get("minLength"), schema.get("maxLength")
    if isinstance(high, int) and len(text) > high:
        text = text[:high]
    if isinstance(low, int) and len(text) < low:
        text = text + "x" * (low - len(text))
    return text


# ---------------------------------------------------------------- strict mode


def strict_problem(schema: Any, context: tuple = (), depth: int = 0) -> str | None:
    """The first rule of strict mode ``schema`` breaks, worded as the API ("In context=(...), ..."),
    or None. Rules: every object has additionalProperties false and lists every property in
    required; nesting stays within MAX_DEPTH."""
    if not isinstance(schema, dict):
        return None
    if depth > MAX_DEPTH:
        return f"In context={context}, the schema is nested too deeply (at most {MAX_DEPTH} levels)."
    kind = schema.get("type")
    is_object = kind == "object" or (isinstance(kind, list) and "object" in kind) or "properties" in schema
    if is_object:
        if schema.get("additionalProperties") is not False:
            return f"In context={context}, 'additionalProperties' is required to be supplied and to be false."
        props = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
        required = schema.get("required") if isinstance(schema.get("required"), list) else []
        missing = [k for k in props if k not in required]
        if missing:
            return (
                f"In context={context}, 'required' is required to be supplied and to be an array including "
                f"every key in properties. Missing '{missing[0]}'."
            )
        for key, sub in props.items():
            problem = strict_problem(sub, (*context, "properties", key), depth + 1)
            if problem:
                return problem
    for key in ("items",):
        if isinstance(schema.get(key), dict):
            problem = strict_problem(schema[key], (*context, key), depth + 1)
            if problem:
                return problem
    for key in ("anyOf", "allOf", "oneOf"):
        subs = schema.get(key) if isinstance(schema.get(key), list) else []
        for i, sub in enumerate(subs):
            problem = strict_problem(sub, (*context, key, str(i)), depth + 1)
            if problem:
                return problem
    for key in ("$defs", "definitions"):
        if isinstance(schema.get(key), dict):
            for name, sub in schema[key].items():
                problem = strict_problem(sub, (*context, key, name), depth + 1)
                if problem:
                    return problem
    return None


def mentions_json(messages: list[dict[str, Any]]) -> bool:
    return any("json" in (m.get("content") or "").lower() for m in messages)


def check(request: Request) -> None:
    """response_format's rules, with the API's 400s."""
    fmt = request.body.get("response_format")
    if fmt is None:
        return
    request.response_format = fmt
    if fmt["type"] == "json_object" and not mentions_json(request.messages):
        raise bad(
            "'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.",
            "messages",
            None,
        )
    if fmt["type"] == "json_schema":
        spec = fmt["json_schema"]
        if not NAME.match(spec["name"]):
            raise bad(
                "Invalid 'response_format.json_schema.name': string does not match pattern. Expected a "
                "string that matches the pattern '^[a-zA-Z0-9_-]+$'.",
                "response_format.json_schema.name",
                "invalid_value",
            )
        if spec.get("strict"):
            problem = strict_problem(spec.get("schema") or {})
            if problem:
                # Wording of the API's structured-outputs 400s; code assumed (none recorded).
                raise bad(
                    f"Invalid schema for response_format '{spec['name']}': {problem}",
                    "response_format",
                    "invalid_json_schema",
                )


def reply(request: Request, text: str, user_text: str) -> str:
    """The reply's content in a JSON mode: an object, or an instance of the schema."""
    fmt = request.response_format or {}
    if fmt.get("type") == "json_object":
        return json.dumps({"reply": text}, ensure_ascii=False)
    schema = (fmt.get("json_schema") or {}).get("schema") or {"type": "object"}
    return json.dumps(instance(schema, Hints(user_text, text)), ensure_ascii=False)
