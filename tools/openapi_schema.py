"""Validate JSON bodies against OpenAI's published chat-completion schemas.

The schemas live in tests/data/openai_chat_schemas.json, a subset of the
openai/openai-openapi spec (MIT, see tests/data/OPENAI_OPENAPI_LICENSE).
Regenerate it with:

    python -m tools.openapi_schema --extract /path/to/openapi.json
"""

from __future__ import annotations

import argparse
import datetime
import functools
import json
import re
import shutil
from pathlib import Path

from jsonschema import Draft202012Validator, ValidationError
from jsonschema.exceptions import best_match
from referencing import Registry
from referencing.jsonschema import DRAFT202012

DATA_DIR = Path(__file__).resolve().parents[1] / "tests" / "data"
DATA = DATA_DIR / "openai_chat_schemas.json"
LICENSE = DATA_DIR / "OPENAI_OPENAPI_LICENSE"
ROOTS = (
    "CreateChatCompletionRequest",
    "CreateChatCompletionResponse",
    "CreateChatCompletionStreamResponse",
    "ErrorResponse",
)
OPTIONAL_ROOTS = ("ListModelsResponse",)  # GET /models; kept if the spec has it

_URI = "urn:openai-openapi"  # any absolute URI works; the file has no $id
_REF = "#/components/schemas/"
# Keywords whose values are subschemas. Everything else (enum, default,
# required, ...) is data and must be copied untouched, even if it happens to
# contain a key such as "description".
_ONE = {"items", "additionalProperties", "not", "contains", "propertyNames"}
_MANY = {"allOf", "anyOf", "oneOf", "prefixItems"}
_MAP = {"properties", "patternProperties", "$defs"}
_ANNOTATIONS = {"description", "title", "example", "examples"}
# OpenAPI-only keywords; JSON Schema would ignore them, drop them for clarity.
_OPENAPI_ONLY = {"discriminator", "example", "examples", "deprecated", "nullable"}


def _walk(schema, fn):
    """Rebuild `schema` bottom-up, applying `fn` to every (sub)schema."""
    if not isinstance(schema, dict):
        return schema  # boolean schema
    out = {}
    for key, value in schema.items():
        if key in _ONE:
            value = _walk(value, fn)
        elif key in _MANY:
            value = [_walk(s, fn) for s in value]
        elif key in _MAP:
            value = {name: _walk(s, fn) for name, s in value.items()}
        out[key] = value
    return fn(out)


def _to_json_schema(schema: dict) -> dict:
    """Translate one OpenAPI schema object to plain JSON Schema."""
    nullable = schema.get("nullable") is True
    schema = {k: v for k, v in schema.items() if k not in _OPENAPI_ONLY and not k.startswith("x-")}
    if not nullable:
        return schema
    if isinstance(schema.get("type"), str) and not schema.keys() & {"$ref", *_MANY}:
        # Plain typed schema: widen in place so error messages stay specific.
        # enum is checked independently of type, so it needs None too.
        schema["type"] = [schema["type"], "null"]
        if "enum" in schema and None not in schema["enum"]:
            schema["enum"] = [*schema["enum"], None]
        return schema
    # $ref / allOf / anyOf / oneOf: the referenced or combined schemas know
    # nothing about `nullable`, so null has to be a separate alternative.
    return {"anyOf": [schema, {"type": "null"}]}


@functools.cache
def schemas() -> dict:
    """Converted schemas by name (loaded once)."""
    doc = json.loads(DATA.read_text(encoding="utf-8"))
    return {name: _walk(s, _to_json_schema) for name, s in doc["components"]["schemas"].items()}


@functools.cache
def _validator(schema_name: str) -> Draft202012Validator:
    if schema_name not in schemas():
        raise KeyError(f"unknown schema {schema_name!r}; have {sorted(schemas())}")
    doc = {"components": {"schemas": schemas()}}
    registry = Registry().with_resource(_URI, DRAFT202012.create_resource(doc))
    return Draft202012Validator({"$ref": f"{_URI}{_REF}{schema_name}"}, registry=registry)


def _causes(error: ValidationError) -> list[ValidationError]:
    """Most specific errors behind an anyOf/oneOf failure.

    For the common "X or null" pattern the null alternative is noise, so
    report X's own errors; otherwise let best_match pick an alternative.
    """
    causes = [e for e in error.context if e.schema != {"type": "null"}]
    if len({e.relative_schema_path[0] for e in causes}) == 1:
        return [leaf for e in causes for leaf in _causes(e)]
    return [best_match([error])] if error.context else [error]


def _errors(body, schema_name: str) -> list[ValidationError]:
    found = _validator(schema_name).iter_errors(body)
    return sorted((c for e in found for c in _causes(e)), key=lambda e: e.json_path)


def errors(body, schema_name: str) -> list[str]:
    """Every violation as '<json path>: <message>'; [] if `body` conforms."""
    return [f"{e.json_path}: {e.message}" for e in _errors(body, schema_name)]


def validate(body: dict, schema_name: str) -> None:
    """Raise jsonschema.ValidationError listing all violations, if any."""
    found = _errors(body, schema_name)
    if found:
        lines = "".join(f"\n  {e.json_path}: {e.message}" for e in found)
        # Short message for pytest output; full detail is chained as __cause__.
        raise ValidationError(
            f"body does not conform to {schema_name}:{lines}", path=found[0].absolute_path
        ) from found[0]


def extract(openapi_path: Path, source: str) -> dict:
    """The ROOTS schemas plus everything they $ref, minus annotations."""
    spec = json.loads(openapi_path.read_text(encoding="utf-8"))["components"]["schemas"]
    todo = [*ROOTS, *(r for r in OPTIONAL_ROOTS if r in spec)]
    keep: dict = {}
    while todo:
        name = todo.pop()
        if name in keep:
            continue
        keep[name] = _walk(
            spec[name], lambda s: {k: v for k, v in s.items() if k not in _ANNOTATIONS and not k.startswith("x-")}
        )
        # $ref can only appear in schema positions, so a text scan is enough.
        todo += re.findall(r'"\$ref": "#/components/schemas/([^"/]+)"', json.dumps(keep[name]))
    today = datetime.date.today().isoformat()
    return {
        "_source": f"{source}; MIT, see tests/data/OPENAI_OPENAPI_LICENSE; extracted {today}",
        "components": {"schemas": keep},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--extract", type=Path, required=True, metavar="OPENAPI_JSON")
    parser.add_argument("--source", help="provenance (default: SOURCE file next to it)")
    args = parser.parse_args()
    source_file = args.extract.with_name("SOURCE")
    source = args.source or source_file.read_text(encoding="utf-8").strip()
    if not source.startswith("http"):  # SOURCE reads "owner/repo at <commit>"
        source = f"https://github.com/{source}"
    out = extract(args.extract, source)
    text = json.dumps(out, indent=1, sort_keys=True, ensure_ascii=False)
    DATA.write_text(text + "\n", encoding="utf-8")
    if args.extract.with_name("LICENSE").exists():
        shutil.copyfile(args.extract.with_name("LICENSE"), LICENSE)
    print(f"wrote {DATA} ({len(out['components']['schemas'])} schemas)")


if __name__ == "__main__":
    main()
