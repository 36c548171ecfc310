"""Checks a request body against the spec's CreateChatCompletionRequest, raising the API's
400s: "Invalid type for 'n': expected an integer, but got a string instead.", "Invalid value:
'extreme'. Supported values are: ...", "Missing required parameter: 'messages[0].role'." ...

Only the keywords the request schema uses are implemented (type, enum, minimum/maximum,
min/maxItems, maxLength, required, properties, items, anyOf/oneOf/allOf, $ref). A union of
objects is resolved by its `role` or `type` field, as the API does with its discriminator.

Each schema is read once into a ``_Node`` with its keywords looked up in advance, and a path
such as ``messages[0].content`` is only spelled out when an error names it: the check runs on
every request, so it stays a small fraction of one (benchmarks/bench_helpers.py)."""

from __future__ import annotations

import functools
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
# The Python types json.loads makes for each JSON type (a float must also be finite).
_PYTHON = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
    "null": (type(None),),
}
_EXACT = frozenset(t for types in _PYTHON.values() for t in types)
_DISCRIMINATORS = ("role", "type")

# Where a value sits: None for the body, else (parent, key); spelled out by _text on error.
Path = tuple[Any, str | int] | None


def _text(path: Path) -> str:
    if path is None:
        return ""
    parent, key = path
    head = _text(parent)
    if isinstance(key, int):
        return f"{head}[{key}]"
    return f"{head}.{key}" if head else key


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


class _Types:
    """A test for a list of JSON types: exact Python types first, the slow way for others."""

    __slots__ = ("kinds", "python", "exact", "finite")

    def __init__(self, names: list[str]) -> None:
        self.kinds = names
        self.python = frozenset(t for name in names for t in _PYTHON[name])
        self.exact = self.python - {float}  # a value of one of these types fits: no more to ask
        self.finite = "number" in names

    def fit(self, value: Any) -> bool:
        kind = type(value)
        if kind not in _EXACT:  # a subclass (an IntEnum, an OrderedDict): ask each type
            return any(_is(value, name) for name in self.kinds)
        if kind is float:
            return self.finite and math.isfinite(value)
        return kind in self.python


def _expected(types: list[str]) -> str:
    shown = [t for t in types if t != "null"] or types
    names = [_KINDS[t] for t in dict.fromkeys("number" if t == "integer" and "number" in shown else t for t in shown)]
    return names[0] if len(names) == 1 else "one of " + ", ".join(names[:-1]) + " or " + names[-1]


def _type_error(path: Path, types: list[str], value: Any) -> APIError:
    where = _text(path)
    return bad(
        f"Invalid type for '{where}': expected {_expected(types)}, but got {json_type(value)} instead.",
        where,
        "invalid_type",
    )


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


def _discriminated(value: dict, options: tuple[str, dict[str, _Node]], path: Path) -> _Node:
    """The branch of a union of objects that ``value``'s role/type selects."""
    field, nodes = options
    where = (path, field)
    if field not in value:
        raise bad(f"Missing required parameter: '{_text(where)}'.", _text(where), "missing_required_parameter")
    chosen = value[field]
    if not isinstance(chosen, str):
        raise _type_error(where, ["string"], chosen)
    node = nodes.get(chosen)
    if node is None:
        raise bad(
            f"Invalid value: '{chosen[:80]}'. Supported values are: {listed(list(nodes))}.",
            _text(where),
            "invalid_value",
        )
    return node


_FINITE = "finite float"  # the plans of a union for finite floats (NaN and infinity fit no number)


def _plan_key(value: Any) -> Any:
    """What a union's plan for ``value`` is kept under: its type (a finite float apart), or None
    when no plan is kept (NaN, infinity, a subclass of a JSON type)."""
    kind = type(value)
    if kind is float:
        return _FINITE if math.isfinite(value) else None
    return kind if kind in _EXACT else None


_NODES: dict[int, _Node] = {}


def _node(schema: dict) -> _Node:
    """The node of ``schema``, built once (registered before its children, so a cycle ends)."""
    schema = _resolve(schema)
    found = _NODES.get(id(schema))
    if found is None:
        found = _NODES[id(schema)] = _Node.__new__(_Node)
        found.build(schema)
    return found


class _Node:
    """One schema with its keywords read in advance."""

    def build(self, schema: dict) -> None:
        self.parts = [_node(p) for p in schema.get("allOf", ())]
        branches = schema.get("anyOf") or schema.get("oneOf")
        self.branches = [(b, _node(b), _Types(kinds(b))) for b in branches] if branches else None
        self.plans: dict[type, tuple[list[_Node], tuple[str, dict[str, _Node]] | None]] = {}
        self.types = _Types(kinds(schema)) if "type" in schema else None
        self.enum = schema.get("enum")
        self.low, self.high = schema.get("minimum"), schema.get("maximum")
        names = self.types.kinds if self.types else None
        self.number_kind = "integer" if names in (["integer"], ["integer", "null"]) else "decimal"
        self.max_length = schema.get("maxLength")
        self.min_items, self.max_items = schema.get("minItems"), schema.get("maxItems")
        self.items = _node(schema["items"]) if "items" in schema else None
        self.array = self.items is not None or self.min_items is not None or self.max_items is not None
        self.required = tuple(schema.get("required", ())) if "properties" in schema else ()
        self.props = {k: _node(v) for k, v in schema["properties"].items()} if "properties" in schema else None
        # The checks this schema needs, in the API's order: a node runs only its own (most run
        # one type test), and a node with a single check is that check.
        steps = [part.check for part in self.parts]
        for needed, step in (
            (self.branches is not None, self._union),
            (self.types is not None, self._typed),
            (self.enum is not None, self._enum),
            (self.low is not None or self.high is not None, self._bounds),
            (self.max_length is not None, self._length),
            (self.array, self._list),
            (self.props is not None, self._object),
        ):
            if needed:
                steps.append(step)
        self.steps = tuple(steps)
        if len(steps) == 1 and not self.parts:
            self.check = steps[0]  # type: ignore[method-assign]
        elif len(steps) == 2 and steps[0] == self._typed:  # a type, then one more check: most objects
            self.then = steps[1]
            self.check = self._typed_then  # type: ignore[method-assign]

    def check(self, value: Any, path: Path) -> None:
        """Raise the API's 400 for the first way ``value`` breaks this schema."""
        for step in self.steps:
            step(value, path)

    def _typed_then(self, value: Any, path: Path) -> None:
        if type(value) not in self.types.exact:  # type: ignore[union-attr]
            self._typed(value, path)  # a float or a subclass may fit too; anything else is an error
        self.then(value, path)

    def _typed(self, value: Any, path: Path) -> None:
        types = self.types
        if type(value) not in types.exact and not types.fit(value):  # type: ignore[union-attr]
            raise _type_error(path, types.kinds, value)  # type: ignore[union-attr]

    def _enum(self, value: Any, path: Path) -> None:
        if value is not None and value not in self.enum:  # type: ignore[operator]
            shown = value if isinstance(value, str) else str(value)
            raise bad(
                f"Invalid value: '{shown[:80]}'. Supported values are: "
                f"{listed([str(v) for v in self.enum if v is not None])}.",  # type: ignore[union-attr]
                _text(path),
                "invalid_value",
            )

    def _bounds(self, value: Any, path: Path) -> None:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            self._range(value, path)

    def _length(self, value: Any, path: Path) -> None:
        if isinstance(value, str) and len(value) > self.max_length:  # type: ignore[operator]
            where = _text(path)
            raise bad(
                f"Invalid '{where}': string too long. Expected a string with maximum length "
                f"{self.max_length}, but got a string with length {len(value)} instead.",
                where,
                "string_above_max_length",
            )

    def _list(self, value: Any, path: Path) -> None:
        if isinstance(value, list):
            self._array(value, path)

    def _object(self, value: Any, path: Path) -> None:
        if not isinstance(value, dict):
            return
        for name in self.required:
            if name not in value:
                where = _text((path, name))
                raise bad(f"Missing required parameter: '{where}'.", where, "missing_required_parameter")
        props = self.props
        if props.keys().isdisjoint(value):  # type: ignore[union-attr] # e.g. a part of an allOf the body skips
            return
        for name, item in value.items():  # only what was sent: a body names a few of many properties
            node = props.get(name)  # type: ignore[union-attr]
            if node is not None:
                node.check(item, (path, name))

    def _union(self, value: Any, path: Path) -> None:
        assert self.branches is not None
        key = _plan_key(value)
        plan = self.plans.get(key)
        if plan is None:
            plan = self._plan(value)
            if key is not None:
                self.plans[key] = plan
        fitting, options = plan
        if not fitting:
            raise _type_error(path, [k for _, _, types in self.branches for k in types.kinds], value)
        if options is not None:
            chosen = value.get(options[0])
            node = options[1].get(chosen) if type(chosen) is str else None
            (node or _discriminated(value, options, path)).check(value, path)
            return
        if len(fitting) == 1:  # the usual case: one branch takes values of this type
            fitting[0].check(value, path)
            return
        first_error = None
        for node in fitting:
            try:
                node.check(value, path)
                return
            except APIError as err:
                first_error = first_error or err
        raise first_error  # type: ignore[misc]

    def _plan(self, value: Any) -> tuple[list[_Node], tuple[str, dict[str, _Node]] | None]:
        """The branches a value of this type fits, and for an object the field choosing among them."""
        assert self.branches is not None
        fitting = [(schema, node) for schema, node, types in self.branches if types.fit(value)]
        options = None
        if isinstance(value, dict) and len(fitting) > 1:
            found = _discriminator([schema for schema, _ in fitting])
            if found is not None:
                options = (found[0], {v: _node(branch) for v, branch in found[1].items()})
        return [node for _, node in fitting], options

    def _range(self, value: float, path: Path) -> None:
        kind, low, high = self.number_kind, self.low, self.high
        if low is not None and value < low:
            where = _text(path)
            raise bad(
                f"Invalid '{where}': {kind} below minimum value. Expected a value >= {low:g}, but got {value} instead.",
                where,
                f"{kind}_below_min_value",
            )
        if high is not None and value > high:
            where = _text(path)
            raise bad(
                f"Invalid '{where}': {kind} above maximum value. Expected a value <= {high:g}, "
                f"but got {value} instead.",
                where,
                f"{kind}_above_max_value",
            )

    def _array(self, value: list, path: Path) -> None:
        low, high = self.min_items, self.max_items
        if low is not None and len(value) < low:
            where = _text(path)
            if not value:
                raise bad(
                    f"Invalid '{where}': empty array. Expected an array with minimum length {low}, "
                    "but got an empty array instead.",
                    where,
                    "empty_array",
                )
            raise bad(
                f"Invalid '{where}': array too short. Expected an array with minimum length {low}, "
                f"but got an array with length {len(value)} instead.",
                where,
                "array_below_min_length",
            )
        if high is not None and len(value) > high:
            where = _text(path)
            raise bad(
                f"Invalid '{where}': array too long. Expected an array with maximum length {high}, "
                f"but got an array with length {len(value)} instead.",
                where,
                "array_above_max_length",
            )
        if self.items is not None:
            items = self.items
            for i, item in enumerate(value):
                items.check(item, (path, i))


@functools.cache
def _request_node() -> _Node:
    return _node(SCHEMAS["CreateChatCompletionRequest"])


def check_request(body: dict) -> None:
    """The whole body against CreateChatCompletionRequest."""
    _request_node().check(body, None)
