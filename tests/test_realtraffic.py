"""Ground truth: token counts, usage and errors recorded against the real API.

tests/data/realtraffic.json holds request/response pairs recorded in public projects'
test cassettes (each with its source). The counting rule and the offline model must
reproduce what the API reported, family by family, for every model served on the course
date that the recordings cover.
"""

import collections
import json
import re
from pathlib import Path

import openai
import pytest

from helpers import OfflineAPI, count_message_tokens, count_tokens, model_info, offline_client
from helpers.models import AS_OF, UnknownModelError
from helpers.tokens import rules_for

DATA = json.loads((Path(__file__).parent / "data" / "realtraffic.json").read_text())["items"]
EXACT_SHARE = 0.97  # per family: the rule is an estimate, but a close one


def row(recording):
    """The table row of the model that answered, or None for a model outside the table."""
    name = recording.get("response_model") or recording["request"].get("model", "")
    try:
        return model_info(name)
    except UnknownModelError:
        return None


def family(name: str) -> str:
    """gpt-5-mini and gpt-5-nano count with gpt-5; gpt-4o-mini with gpt-4o."""
    return re.sub(r"-(mini|nano)$", "", name)


def countable(recording) -> bool:
    """Plain-text chat the rule covers: no tools and no JSON schema (their tokens are not in it)."""
    request = recording["request"]
    if recording["kind"] not in ("ok", "stream", "tools") or not recording.get("usage"):
        return False
    if any(k in request for k in ("tools", "functions")):
        return False
    if (request.get("response_format") or {}).get("type") == "json_schema":
        return False
    return all("tool_calls" not in m and m.get("role") != "tool" for m in request["messages"])


def live(recording) -> bool:
    m = row(recording)
    return m is not None and not m.shut_down_by(AS_OF)


LIVE = [r for r in DATA if countable(r) and live(r)]
BY_FAMILY = collections.defaultdict(list)
for _r in LIVE:
    BY_FAMILY[family(row(_r).name)].append(_r)


def test_the_recordings_cover_the_live_families():
    # If a future copy drops a family, the per-family tests below would silently shrink.
    assert {"gpt-4o", "gpt-4.1", "gpt-5", "gpt-5.6-sol"} <= set(BY_FAMILY)
    assert sum(map(len, BY_FAMILY.values())) >= 50
    assert all(r["source"].count("@") == 1 for r in DATA)  # every item says where it came from


@pytest.mark.parametrize("fam", sorted(BY_FAMILY))
def test_message_rule_matches_recorded_prompt_tokens(fam):
    recordings = BY_FAMILY[fam]
    misses = [
        (r["usage"]["prompt_tokens"], count_message_tokens(r["request"]["messages"], row(r).name)) for r in recordings
    ]
    exact = sum(real == ours for real, ours in misses)
    assert exact / len(recordings) >= EXACT_SHARE, f"{fam}: {exact}/{len(recordings)} exact; (real, ours): {misses}"


@pytest.mark.parametrize("fam", sorted(BY_FAMILY))
def test_offline_usage_matches_recorded_prompt_tokens(fam):
    client = offline_client(OfflineAPI(seed=0))
    exact = 0
    for r in BY_FAMILY[fam]:
        request = {k: v for k, v in r["request"].items() if k not in ("stream", "stream_options")}
        request["model"] = row(r).name
        response = client.chat.completions.create(**request)
        exact += response.usage.prompt_tokens == r["usage"]["prompt_tokens"]
    assert exact / len(BY_FAMILY[fam]) >= EXACT_SHARE


def test_reasoning_models_prime_the_reply_with_one_token_less():
    # The cookbook's +3 is one too many for every live reasoning family recorded.
    for fam, recordings in BY_FAMILY.items():
        m = row(recordings[0])
        assert rules_for(m.name).reply_priming == (2 if m.reasoning else 3), fam


def recorded_overheads(fam):
    """completion_tokens - reasoning_tokens - visible tokens, for replies that finished."""
    out = []
    for r in BY_FAMILY[fam]:
        details = r["usage"].get("completion_tokens_details") or {}
        if r.get("finish_reason") != "stop" or not isinstance(r.get("content"), str):
            continue
        visible = count_tokens(r["content"], row(r).name)
        out.append(r["usage"]["completion_tokens"] - (details.get("reasoning_tokens") or 0) - visible)
    return out


@pytest.mark.parametrize("fam", ["gpt-4o", "gpt-4.1", "gpt-5", "gpt-5.6-sol"])
def test_completion_overhead_is_the_recorded_one(fam):
    overheads = recorded_overheads(fam)
    assert overheads, fam
    most_common, count = collections.Counter(overheads).most_common(1)[0]
    assert count / len(overheads) >= 0.8, overheads
    assert rules_for(fam).completion_overhead == most_common


@pytest.mark.parametrize("model", ["gpt-5-mini", "gpt-5.6-sol", "gpt-6-luna"])
def test_offline_completion_usage_follows_the_recordings(model):
    response = offline_client(OfflineAPI(seed=0)).chat.completions.create(
        model=model, messages=[{"role": "user", "content": "What is a token?"}]
    )
    usage, text = response.usage, response.choices[0].message.content
    reasoning = usage.completion_tokens_details.reasoning_tokens
    assert reasoning > 0  # the default effort reasons
    assert usage.completion_tokens == reasoning + count_tokens(text, model) + rules_for(model).completion_overhead


def test_a_budget_spent_on_reasoning_reports_exactly_the_budget():
    # Recorded: gpt-5-mini with max_completion_tokens=50 -> 50 reasoning tokens, empty reply, "length".
    recorded = next(r for r in DATA if r.get("finish_reason") == "length" and row(r) and row(r).name == "gpt-5-mini")
    budget = recorded["request"]["max_completion_tokens"]
    assert recorded["usage"]["completion_tokens"] == budget and recorded["content"] in ("", None)
    response = offline_client(OfflineAPI(seed=0)).chat.completions.create(
        model="gpt-5-mini", messages=recorded["request"]["messages"], max_completion_tokens=budget
    )
    assert response.choices[0].finish_reason == "length"
    assert response.choices[0].message.content == ""
    assert response.usage.completion_tokens == response.usage.completion_tokens_details.reasoning_tokens == budget


# ---------------------------------------------------------------- errors


def recorded_error(predicate):
    return next(r for r in DATA if r["kind"] == "error" and predicate(r))


def offline_error(request):
    with pytest.raises(openai.APIStatusError) as info:
        offline_client(OfflineAPI()).chat.completions.create(**request)
    return info.value


@pytest.mark.parametrize(
    "code",
    [
        "model_not_found:does not exist",
        "model_not_found:deprecated",
        "unsupported_parameter",
        "context_length_exceeded",
    ],
)
def test_offline_errors_have_the_recorded_status_and_wording(code):
    code, _, word = code.partition(":")
    recorded = recorded_error(lambda r: r["error"].get("code") == code and word in r["error"]["message"])
    request = {k: v for k, v in recorded["request"].items() if k not in ("stream", "stream_options")}
    error = offline_error(request)
    assert error.status_code == recorded["status"]
    assert error.body["message"] == recorded["error"]["message"]
    assert (error.body["code"], error.body["param"], error.body["type"]) == (
        recorded["error"]["code"],
        recorded["error"]["param"],
        recorded["error"]["type"],
    )


def test_offline_401_has_the_recorded_shape():
    recorded = recorded_error(lambda r: r["status"] == 401)
    api = OfflineAPI()
    api.fail_next("invalid_api_key")
    with pytest.raises(openai.AuthenticationError) as info:
        offline_client(api).chat.completions.create(model="gpt-6-luna", messages=[{"role": "user", "content": "hi"}])
    shape = re.compile(r"Incorrect API key provided: \S+\. You can find your API key at https://\S+\.")
    assert shape.fullmatch(recorded["error"]["message"]) and shape.fullmatch(info.value.body["message"])
    assert info.value.body["code"] == recorded["error"]["code"] == "invalid_api_key"
