"""The freshness check (tools/freshness.py) on made-up newer package data: no network.

Each test starts from upstream data that agrees with the course's table (so nothing moved),
changes one thing as a newer openai, genai-prices or tiktoken release would, and checks that
the report names exactly that change.
"""

from __future__ import annotations

import datetime
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.models import AS_OF, MODELS, lesson_models
from tools import freshness

DAY = datetime.date.fromisoformat(AS_OF)


def table_prices(name: str) -> dict[str, float] | None:
    """genai-prices as it would be if it agreed with the table."""
    row = MODELS.get(name)
    if row is None:
        return None
    prices = {"input_mtok": row.input_price, "output_mtok": row.output_price}
    if row.cached_input_price is not None:
        prices["cache_read_mtok"] = row.cached_input_price
    return prices


def agreeing() -> dict:
    """Upstream data equal to the table: names, shutdown dates, prices, encodings."""
    return {
        "names": set(MODELS),
        "shutdowns": {n: m.shutdown for n, m in MODELS.items() if m.shutdown},
        "price_of": table_prices,
        "mapped": lambda n: None if MODELS[n].encoding_assumed else MODELS[n].encoding,
    }


def test_nothing_moved_when_upstream_agrees():
    assert freshness.check(DAY, **agreeing()) == []


def test_a_new_priced_model_is_named_and_snapshots_aliases_and_unpriced_ones_are_not():
    data = agreeing()
    data["names"] |= {"gpt-6.3-nova", "gpt-6.3-nova-2027-01-05", "gpt-6.3-chat-latest", "gpt-6.3-mystery"}
    data["price_of"] = lambda n: {"input_mtok": 1.0, "output_mtok": 5.0} if n.startswith("gpt-6.3") else table_prices(n)
    data["price_of"] = (lambda old: lambda n: None if n == "gpt-6.3-mystery" else old(n))(data["price_of"])
    moved = freshness.check(DAY, **data)
    assert [(m.kind, m.text.split(":")[0]) for m in moved] == [("new models", "gpt-6.3-nova")]


def test_a_changed_price_is_named_with_both_values():
    data = agreeing()
    data["price_of"] = lambda n: {**table_prices(n), "input_mtok": 0.08} if n == "gpt-6-luna" else table_prices(n)
    moved = freshness.check(DAY, **data)
    assert [m.text for m in moved] == ["gpt-6-luna input: $0.1 -> $0.08 per 1M"]


def test_a_new_shutdown_date_is_named_and_a_lesson_model_shutting_soon_too():
    data = agreeing()
    data["shutdowns"] = {**data["shutdowns"], "gpt-6-luna": "2027-02-01"}
    moved = freshness.check(DAY, **data)
    assert ("shutdown dates", "gpt-6-luna: none -> 2027-02-01 (the SDK's deprecation notes)") in {
        (m.kind, m.text) for m in moved
    }
    assert ("course models shutting soon", "gpt-6-luna shuts down on 2027-02-01, in 56 days") in {
        (m.kind, m.text) for m in moved
    }


def test_shutdowns_within_90_days_of_today_are_named_later_ones_not():
    data = agreeing()
    far = [m for m in freshness.check(DAY, **data) if m.kind == "course models shutting soon"]
    assert far == []  # on the course date no lesson model shuts within 90 days
    dated = sorted({MODELS[n].shutdown for n in lesson_models() if MODELS[n].shutdown})
    assert dated, "some lesson model has a shutdown date"
    first = datetime.date.fromisoformat(dated[0])
    near = freshness.check(first - datetime.timedelta(days=90), **data)
    assert any(m.kind == "course models shutting soon" for m in near)
    assert not any(
        m.kind == "course models shutting soon" for m in freshness.check(first - datetime.timedelta(days=91), **data)
    )


def test_an_encoding_tiktoken_now_maps_is_named():
    data = agreeing()
    data["mapped"] = lambda n: "o300k_base" if n == "gpt-6-luna" else agreeing()["mapped"](n)
    moved = freshness.check(DAY, **data)
    assert [m.text for m in moved] == ["gpt-6-luna: assumed o200k_base -> tiktoken maps o300k_base"]


def test_the_report_is_a_readable_list_and_main_fails_when_something_moved(monkeypatch, capsys):
    data = agreeing()
    data["price_of"] = lambda n: {**table_prices(n), "output_mtok": 0.6} if n == "gpt-6-luna" else table_prices(n)
    monkeypatch.setattr(freshness, "sdk_names", lambda: data["names"])
    monkeypatch.setattr(freshness, "sdk_shutdowns", lambda: data["shutdowns"])
    monkeypatch.setattr(freshness, "genai_prices", lambda name, day: data["price_of"](name))
    monkeypatch.setattr(freshness, "tiktoken_encoding", data["mapped"])
    monkeypatch.setattr(freshness, "installed_versions", lambda: {"openai": "9.0", "genai-prices": "9.0"})
    assert freshness.main(["--today", AS_OF]) == 1
    out = capsys.readouterr().out
    assert "changed prices:\n  - gpt-6-luna output: $0.5 -> $0.6 per 1M" in out and "openai 9.0" in out
    monkeypatch.setattr(freshness, "genai_prices", lambda name, day: table_prices(name))
    assert freshness.main(["--today", AS_OF]) == 0
    assert capsys.readouterr().out.startswith("Nothing moved")


def test_sdk_notes_are_read_for_names_and_dates():
    # The shape of openai/types/shared/chat_model.py's notes, with a made-up newer entry.
    notes = """Deprecated values:

- "gpt-6-luna", "gpt-6-luna-2026-09-22", "gpt-6-sol":
  Announced shutdown date: 2027-06-30. See
  https://developers.openai.com/api/docs/deprecations for details.
- "gpt-5.1-mini": Not a supported model ID. Retained for SDK compatibility.
- "gpt-4o": Announced shutdown date:
  2027-01-14. See https://developers.openai.com/api/docs/deprecations.
"""
    assert freshness.sdk_shutdowns(notes) == {
        "gpt-6-luna": "2027-06-30",
        "gpt-6-luna-2026-09-22": "2027-06-30",
        "gpt-6-sol": "2027-06-30",
        "gpt-4o": "2027-01-14",
    }


@pytest.mark.parametrize("name", ["gpt-6-luna", "gpt-4o"])
def test_the_installed_sources_agree_with_the_table_today(name):
    pytest.importorskip("genai_prices", reason="genai-prices 0.2.5 needs Python 3.11 or newer")
    # The truth the weekly check runs against the newest packages, here against the pinned ones.
    assert freshness.genai_prices(name, DAY) == table_prices(name)
    assert freshness.sdk_shutdowns().get(name) == MODELS[name].shutdown


WORKFLOW = Path(__file__).resolve().parents[1] / ".github" / "workflows" / "freshness.yml"


def test_the_weekly_workflow_is_a_valid_github_workflow():
    # check-jsonschema's vendored copy of the GitHub workflow schema: no network needed.
    check = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent)) or shutil.which("check-jsonschema")
    if check is None and sys.version_info < (3, 11):
        pytest.skip(
            "check-jsonschema 0.39 needs Python 3.11+ (requirements-dev.txt); CI's 3.11 run checks the workflow"
        )
    assert check, "check-jsonschema is not installed: install requirements-dev.txt"
    result = subprocess.run(
        [check, "--builtin-schema", "vendor.github-workflows", str(WORKFLOW)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_weekly_workflow_installs_the_newest_sources_and_runs_the_checks():
    import yaml

    flow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    triggers = flow[True] if True in flow else flow["on"]  # YAML 1.1 reads a bare `on` as True
    assert [s["cron"] for s in triggers["schedule"]] and "workflow_dispatch" in triggers
    steps = " ".join(step.get("run", "") for step in flow["jobs"]["freshness"]["steps"])
    assert "--upgrade openai genai-prices tiktoken" in steps
    assert "python -m tools.freshness" in steps and "tests/test_prices.py" in steps


def test_doctor_upstream_runs_the_freshness_check(monkeypatch):
    from tools import doctor

    seen = []
    monkeypatch.setattr(freshness, "main", lambda argv=None: seen.append(argv) or 1)
    assert doctor.main(["--upstream", "--today", "2027-01-10"]) == 1
    assert seen == [["--today", "2027-01-10"]]
