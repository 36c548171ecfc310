"""Checks a request body against the spec's CreateChatCompletionRequest, raising the API's
400s: "Invalid type for 'n': expected an integer, but got a string instead.", "Invalid value:
'extreme'. Supported values are: ...", "Missing required parameter: 'messages[0].role'." ...

Only the keywords the request schema uses are implemented (type, enum, minimum/maximum,
min/maxItems, maxLength, required, properties, items, anyOf/oneOf/allOf, $ref). A union of
objects is resolved by its `role` or `type` field, as the API does with its discriminator."""

from __future__ import annotations

import math
from typing import Any

from .errors import APIError, bad, json_type, listed
from .request_schema import SCHEMAS

_REF = "#/components/schemas/"
_KINDS = {
    "string": "a string",
    "integer": "an integer",
    "number": "a decimal",
    "boolean": "a boolean",
    "array": "an array",
    "object": "an object",
    "null": "null",
}
_DISCRIMINATORS = ("role", "type")


def _resolve(schema: dict) -> dict:
    while "$ref" in schema:
        schema = SCHEMAS[schema["$ref"].removeprefix(_REF)]
    return schema


def _is(value: Any, kind: str) -> bool:
    if kind == "null":
        return value is None
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if kind == "string":
        return isinstance(value, str)
    if kind == "array":
        return isinstance(value, list)
    return isinstance(value, dict)


_KINDS_CACHE: dict[int, list[str]] = {}  # by id: the schemas are module constants, never freed


def kinds(schema: dict) -> list[str]:
    """The JSON types a schema accepts (every type when it names none)."""
    found = _KINDS_CACHE.get(id(schema))
    if found is None:
        found = _KINDS_CACHE[id(schema)] = _kinds(schema)
    return found


def _kinds(schema: dict) -> list[str]:
    schema = _resolve(schema)
    if "type" in schema:
        return [schema["type"]] if isinstance(schema["type"], str) else list(schema["type"])
    branches = schema.get("anyOf") or schema.get("oneOf")
    if branches:
        return list(dict.fromkeys(k for b in branches for k in kinds(b)))
    if "allOf" in schema:
        return kinds(schema["allOf"][-1])
    return list(_KINDS)


def _expected(types: list[str]) -> str:
    shown = [t for t in types if t != "null"] or types
    names = [_KINDS[t] for t in dict.fromkeys("number" if t == "integer" and "number" in shown else t for t in shown)]
    return names[0] if len(names) == 1 else "one of " + ", ".join(names[:-1]) + " or " + names[-1]


def _type_error(path: str, types: list[str], value: Any) -> APIError:
    return bad(
        f"Invalid type for '{path}': expected {_expected(types)}, but got {json_type(value)} instead.",
        path,
        "invalid_type",
    )


def _child(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


_DISCRIMINATED: dict[tuple[int, ...], tuple[str, dict[str, dict]] | None] = {}


def _discriminator(branches: list[dict]) -> tuple[str, dict[str, dict]] | None:
    """(field, {value: branch}) when every object branch requires a `role` (or `type`) enum."""
    key = tuple(map(id, branches))
    if key not in _DISCRIMINATED:
        _DISCRIMINATED[key] = None
        objects = [_resolve(b) for b in branches if "object" in kinds(b)]
        for field in _DISCRIMINATORS:
            options: dict[str, dict] = {}
            for branch in objects:
                enum = (branch.get("properties", {}).get(field) or {}).get("enum")
                if not enum or field not in branch.get("required", ()):
                    break
                options.update({v: branch for v in enum})
            else:
                if options:
                    _DISCRIMINATED[key] = (field, options)
                    break
    return _DISCRIMINATED[key]


def _discriminate(value: dict, branches: list[dict], path: str) -> dict | None:
    """The branch of a union of objects that ``value``'s role/type selects."""
    found = _discriminator(branches)
    if found is None:
        return None
    field, options = found
    if field not in value:
        raise bad(
            f"Missing required parameter: '{_child(path, field)}'.", _child(path, field), "missing_required_parameter"
        )
    chosen = value[field]
    if not isinstance(chosen, str):
        raise _type_error(_child(path, field), ["string"], chosen)
    if chosen not in options:
        raise bad(
            f"Invalid value: '{chosen[:80]}'. Supported values are: {listed(list(options))}.",
            _child(path, field),
            "invalid_value",
        )
    return options[chosen]


def check(value: Any, schema: dict, path: str = "") -> None:
    """Raise the API's 400 for the first way ``value`` breaks ``schema``."""
    schema = _resolve(schema)
    for part in schema.get("allOf", ()):
        check(value, part, path)
    branches = schema.get("anyOf") or schema.get("oneOf")
    if branches:
        _check_union(value, branches, path)
    types = kinds(schema) if "type" in schema else None
    if types is not None and not any(_is(value, t) for t in types):
        raise _type_error(path, types, value)
    if value is None:
        return
    if "enum" in schema and value not in schema["enum"]:
        shown = value if isinstance(value, str) else str(value)
        raise bad(
            f"Invalid value: '{shown[:80]}'. Supported values are: "
            f"{listed([str(v) for v in schema['enum'] if v is not None])}.",
            path,
            "invalid_value",
        )
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        _check_range(
            value, schema, path, "integer" if types == ["integer"] or types == ["integer", "null"] else "decimal"
        )
    if isinstance(value, str) and "maxLength" in schema and len(value) > schema["maxLength"]:
        raise bad(
            f"Invalid '{path}': string too long. Expected a string with maximum length "
            f"{schema['maxLength']}, but got a string with length {len(value)} instead.",
            path,
            "string_above_max_length",
        )
    if isinstance(value, list):
        _check_array(value, schema, path)
    if isinstance(value, dict) and "properties" in schema:
        for name in schema.get("required", ()):
            if name not in value:
                raise bad(
                    f"Missing required parameter: '{_child(path, name)}'.",
                    _child(path, name),
                    "missing_required_parameter",
                )
        props = schema["properties"]
        for name in value:  # only what was sent: a body names a few of the many properties
            if name in props:
                check(value[name], props[name], _child(path, name))


def _check_union(value: Any, branches: list[dict], path: str) -> None:
    fitting = [b for b in branches if any(_is(value, t) for t in kinds(b))]
    if not fitting:
        raise _type_error(path, [k for b in branches for k in kinds(b)], value)
    if isinstance(value, dict) and len(fitting) > 1:
        chosen = _discriminate(value, fitting, path)
        if chosen is not None:
            check(value, chosen, path)
            return
    first_error = None
    for branch in fitting:
        try:
            check(value, branch, path)
            return
        except APIError as err:
            first_error = first_error or err
    raise first_error  # type: ignore[misc]


def _check_range(value: float, schema: dict, path: str, kind: str) -> None:
    low, high = schema.get("minimum"), schema.get("maximum")
    if low is not None and value < low:
        raise bad(
            f"Invalid '{path}': {kind} below minimum value. Expected a value >= {low:g}, but got {value} instead.",
            path,
            f"{kind}_below_min_value",
        )
    if high is not None and value > high:
        raise bad(
            f"Invalid '{path}': {kind} above maximum value. Expected a value <= {high:g}, but got {value} instead.",
            path,
            f"{kind}_above_max_value",
        )


def _check_array(value: list, schema: dict, path: str) -> None:
    low, high = schema.get("minItems"), schema.get("maxItems")
    if low is not None and len(value) < low:
        if not value:
            raise bad(
                f"Invalid '{path}': empty array. Expected an array with minimum length {low}, "
                "but got an empty array instead.",
                path,
                "empty_array",
            )
        raise bad(
            f"Invalid '{path}': array too short. Expected an array with minimum length {low}, "
            f"but got an array with length {len(value)} instead.",
            path,
            "array_below_min_length",
        )
    if high is not None and len(value) > high:
        raise bad(
            f"Invalid '{path}': array too long. Expected an array with maximum length {high}, "
            f"but got an array with length {len(value)} instead.",
            path,
            "array_above_max_length",
        )
    if "items" in schema:
        for i, item in enumerate(value):
            check(item, schema["items"], _child(path, i))


def check_request(body: dict) -> None:
    """The whole body against CreateChatCompletionRequest."""
    check(body, SCHEMAS["CreateChatCompletionRequest"])
