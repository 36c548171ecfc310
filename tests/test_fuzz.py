"""Schemathesis (the maintained OpenAPI fuzzer) against the official spec, through the offline
model's ASGI app: POST /chat/completions and GET /models. No answer may be a 5xx, and every
answer the spec describes must match it. Bounded: a fixed number of examples, well under a minute."""

import copy
import functools
import json
import time
from pathlib import Path

import pytest

from helpers import DEFAULT_MODEL, OfflineAPI
from helpers._offline.server import app

SPEC = Path("/work/shared/openai-openapi/openapi.json")
PATHS = {"/chat/completions": ["post"], "/models": ["get"]}
AUTH = {"Authorization": "Bearer offline"}
EXAMPLES = 40  # per operation and mode; the whole file runs in about 20 s here
MODELS = [DEFAULT_MODEL, "gpt-4o", "gpt-5.4", "gpt-6-astra"]


def fuzzer():
    """schemathesis, imported when a test of this file runs, not when the suite is collected
    (with hypothesis it is a second or more for every worker that never fuzzes)."""
    pytest.importorskip("starlette", reason="pip install -r requirements-dev.txt")
    return pytest.importorskip("schemathesis", reason="pip install -r requirements-dev.txt")


@functools.cache
def schema():
    schemathesis = fuzzer()
    if not SPEC.exists():
        pytest.skip(f"the official OpenAPI spec is not at {SPEC}")
    spec = json.loads(SPEC.read_text(encoding="utf-8"))
    # Only the two operations; components stay whole for their $refs.
    spec["paths"] = {
        path: {m: op for m, op in spec["paths"][path].items() if m in methods} for path, methods in PATHS.items()
    }
    loaded = schemathesis.openapi.from_dict(spec)
    loaded.app = app(OfflineAPI(seed=0))
    return loaded


def aimed(case, index: int):
    """Point most generated bodies at a served model, so they reach past the model check."""
    if isinstance(case.body, dict) and isinstance(case.body.get("model"), str) and index % 4:
        case.body = {**copy.deepcopy(case.body), "model": MODELS[index % len(MODELS)]}
    return case


def run(operation, mode: str, deadline: float) -> int:
    from hypothesis import HealthCheck, given, settings
    from schemathesis.checks import not_a_server_error
    from schemathesis.generation import GenerationMode
    from schemathesis.specs.openapi.checks import response_schema_conformance

    checks = [not_a_server_error, response_schema_conformance]
    seen = []

    @settings(
        max_examples=EXAMPLES, deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck)
    )
    @given(case=operation.as_strategy(generation_mode=GenerationMode(mode)))
    def one(case):
        if time.monotonic() > deadline:
            return
        case = aimed(case, len(seen))
        response = case.call(headers=AUTH)
        seen.append(response.status_code)
        assert response.status_code < 500, (case.body, response.text[:500])
        case.validate_response(response, checks=checks, headers=AUTH)

    one()
    return len(seen)


@pytest.mark.parametrize("path,method", [("/chat/completions", "POST"), ("/models", "GET")])
@pytest.mark.parametrize("mode", ["positive", "negative"])
def test_the_offline_model_survives_the_fuzzer(path, method, mode):
    operation = schema()[path][method]
    count = run(operation, mode, time.monotonic() + 12)
    assert count > 0
