"""helpers.widgets: the logic behind the widgets, and the widgets driven from code."""

from __future__ import annotations

import html
import json
import re
import string
import threading
import time
import warnings
from pathlib import Path
from types import SimpleNamespace

import httpx2
import ipywidgets
import openai
import pytest

import helpers
from helpers import _spend as spend
from helpers.chat import Conversation
from helpers.models import AS_OF, DEFAULT_MODEL, lesson_models, model_info
from helpers.pricing import money, usd
from helpers.widgets import chat as wchat
from helpers.widgets import chat_widget, cost_calculator, tokenizer_playground
from helpers.widgets import cost as wcost
from helpers.widgets import tokenizer as wtok
from helpers.widgets._html import REPR_LIMIT, fit

KOREAN = "아버지가 방에 들어가신다."
ENGLISH = wtok.PRESETS["English"]
SAMPLES = [KOREAN, ENGLISH, "Hello, world! 👋🏽", "line one\nline two\ttabbed", "  spaces  ", "", "é" * 5]
FIXTURE = Path(__file__).parent / "e2e" / "widgets_demo.ipynb"
ADDRESS = re.compile(r"0x[0-9a-fA-F]{4,}|object at|<ipywidgets|model_id|[0-9a-f]{32}")


def numbers_in(html_text: str) -> list[int]:
    """The token numbers a column shows, in order (each token's data-token-index says the same)."""
    shown = [int(n) for n in re.findall(r'class="course-token-number"[^>]*>(\d+)<', html_text)]
    assert shown == [int(n) for n in re.findall(r'data-token-index="(\d+)"', html_text)]
    return shown


def shown_count(html_text: str, encoding: str) -> int:
    match = re.search(rf'class="course-token-count" data-encoding="{encoding}"[^>]*>(\d+)<', html_text)
    assert match, f"no count for {encoding}"
    return int(match.group(1))


def a_model_using(encoding: str) -> str:
    """A model to pass to helpers.count_tokens for ``encoding``."""
    return wtok.models_using(encoding)[0]


def cost_cell(html_text: str, row: str) -> str:
    """The figure the calculator shows in ``row`` (per-call, per-month, per-month-in-won ...)."""
    match = re.search(rf'class="course-cost" data-row="{row}"[^>]*>([^<]*)<', html_text)
    assert match, f"no {row} row"
    return match.group(1)


@pytest.fixture
def api():
    return helpers.OfflineAPI(seed=0)


@pytest.fixture
def chat(api):
    w = chat_widget(helpers.offline_client(api))
    w.PAINT_INTERVAL = 0  # repaint on every streamed piece
    return w


# ---------------------------------------------------------------- tokenizer


@pytest.mark.parametrize("encoding", wtok.ENCODINGS)
@pytest.mark.parametrize("text", SAMPLES)
def test_tokenize_covers_the_text_and_numbers_from_one(text, encoding):
    pieces = wtok.tokenize(text, encoding)
    assert [p.number for p in pieces] == list(range(1, len(pieces) + 1))
    assert b"".join(p.data for p in pieces) == text.encode("utf-8")
    model = a_model_using(encoding)
    assert len(pieces) == helpers.count_tokens(text, model) == wtok.token_counts(text)[encoding]
    for p in pieces:
        if not p.partial:
            assert p.data.decode("utf-8") == p.text


def test_korean_counts_and_the_split_character():
    assert wtok.token_counts(KOREAN) == {"cl100k_base": 13, "o200k_base": 10}
    assert helpers.count_tokens(KOREAN, "gpt-3.5-turbo") == 13  # cl100k_base (a retired model's)
    assert helpers.count_tokens(KOREAN, DEFAULT_MODEL) == 10  # o200k_base
    pieces = wtok.tokenize(KOREAN, "cl100k_base")
    partial = [p for p in pieces if p.partial]
    # '들' is split across two tokens: both show the whole character, dashed.
    assert [(p.number, p.text) for p in partial] == [(7, " 들"), (8, "들")]
    assert not any(p.partial for p in wtok.tokenize(KOREAN, "o200k_base"))
    assert [p.text for p in wtok.tokenize(KOREAN, "o200k_base")][:3] == ["아", "버", "지가"]


def test_models_using_each_encoding():
    assert wtok.models_using("cl100k_base") == ["gpt-3.5-turbo"]
    assert DEFAULT_MODEL in wtok.models_using("o200k_base") and "gpt-5.4-mini" in wtok.models_using("o200k_base")
    assert wtok.models_using("p50k_base") == []


def test_used_by_names_served_models_first_and_says_what_is_assumed():
    o200k = wtok.used_by_text("o200k_base")
    served = [m for m in wtok.models_using("o200k_base") if not model_info(m).retired]
    assert o200k.startswith("used by " + ", ".join(served[:6]) + f" and {len(served) - 6} more")
    assert "assumed for the gpt-6 models" in o200k
    assert "o4-mini" not in o200k and "gpt-4.1-nano" not in o200k  # retired: not listed
    assert wtok.used_by_text("cl100k_base") == "used by no current model; retired: gpt-3.5-turbo"
    assert wtok.used_by_text("p50k_base") == "not used by the course's models"
    assert o200k in wtok.tokens_html("hi", "o200k_base")


@pytest.mark.parametrize("encoding", wtok.ENCODINGS)
@pytest.mark.parametrize("text", SAMPLES)
def test_tokens_html_numbers_every_token_and_shows_the_count(text, encoding):
    page = wtok.tokens_html(text, encoding)
    n = helpers.count_tokens(text, a_model_using(encoding))
    assert numbers_in(page) == list(range(1, n + 1))
    assert shown_count(page, encoding) == n
    assert f"{len(text)} characters" in page
    assert page.count('class="course-token"') == n


def test_tokens_html_colours_neighbours_differently_and_dashes_partial_tokens():
    page = wtok.tokens_html(KOREAN, "cl100k_base")
    colours = [int(c) for c in re.findall(r'data-colour="(\d+)"', page)]
    assert len(colours) == 13 and len(set(wtok.TOKEN_COLOURS)) == len(wtok.TOKEN_COLOURS) > 1
    assert all(a != b for a, b in zip(colours, colours[1:], strict=False))
    assert re.findall(r'data-token-index="(\d+)"[^>]*\bdata-partial\b', page) == ["7", "8"]  # shown dashed
    assert "only part of &#x27;들&#x27;" in page  # in the tooltip


def test_tokens_html_makes_whitespace_visible():
    page = wtok.tokens_html("a\nb\tc", "o200k_base")
    assert "↵" in page and "⇥" in page
    assert re.search(
        r'↵</span><span class="course-token-number"[^>]*>\d+</span></span><span class="course-token-break"', page
    )
    assert page.count('class="course-token-break"') == 1  # the newline starts a new row, the tab does not


@pytest.mark.parametrize("encoding", wtok.ENCODINGS)
def test_tokens_html_escapes_user_text(encoding):
    text = "<script>alert(\"x\")</script> & <evil onclick='y'>"
    page = wtok.tokens_html(text, encoding)
    assert "<script" not in page and "<evil" not in page and '"x"' not in page and "'y'" not in page
    assert "&lt;" in page and "&amp;" in page and "&quot;" in page
    assert "".join(html.unescape(p) for p in re.findall(r'class="course-token-text"[^>]*>([^<]*)<', page)) == text


def test_playground_html_puts_the_encodings_side_by_side():
    page = wtok.playground_html(KOREAN)
    assert page.startswith('<div class="course-playground"') and page.count('class="course-tokens"') == 2
    assert shown_count(page, "cl100k_base") == 13 and shown_count(page, "o200k_base") == 10
    assert page.index('data-encoding="cl100k_base"') < page.index('data-encoding="o200k_base"')


def test_playground_widget_follows_the_text_and_the_presets():
    w = tokenizer_playground()
    assert w.text.value == KOREAN  # the Korean sentence by default
    assert w.counts() == {"cl100k_base": 13, "o200k_base": 10}
    w.text.value = "<evil>hi</evil>"
    assert "&lt;" in w.output.value and "<evil" not in w.output.value
    w.preset_buttons["English"].click()
    assert w.text.value == ENGLISH
    assert shown_count(w.output.value, "o200k_base") == helpers.count_tokens(ENGLISH, DEFAULT_MODEL)
    w.preset_buttons["Korean"].click()
    assert shown_count(w.output.value, "cl100k_base") == 13
    assert shown_count(w.output.value, "o200k_base") == 10


# ---------------------------------------------------------------- cost


@pytest.mark.parametrize("model", ["gpt-6-luna", "gpt-6-astra", "gpt-5.4-mini", "gpt-3.5-turbo"])
@pytest.mark.parametrize(
    ("tokens_in", "tokens_out", "calls"), [(1000, 500, 1000), (0, 0, 0), (123_456, 7, 3), (300_000, 2_000, 5)]
)
def test_estimate_equals_the_pricing_functions(model, tokens_in, tokens_out, calls):
    est = wcost.estimate(model, tokens_in, tokens_out, calls)
    per_call = helpers.estimate_cost(model, tokens_in, tokens_out)
    assert est.per_call == per_call
    assert est.long_context == helpers.cost_breakdown(model, tokens_in, tokens_out).long_context
    assert est.per_month == helpers.monthly_cost(per_call, calls)
    assert est.per_day == pytest.approx(per_call * calls)
    assert est.input_cost + est.output_cost == pytest.approx(per_call)
    assert wcost.estimate(model, tokens_in, tokens_out, calls, days=7).per_month == helpers.monthly_cost(
        per_call, calls, 7
    )


def test_estimate_known_numbers():
    est = wcost.estimate("gpt-6-luna", 1000, 500, 1000)
    # 1000 x $0.10/1M + 500 x $0.50/1M = $0.00035 per call; x 1000 calls x 30 days = $10.50.
    assert est.per_call == pytest.approx(0.00035)
    assert est.per_month == pytest.approx(10.5)
    assert not est.long_context
    # Above 272,000 prompt tokens the whole request bills at the long-context tier (x2 in, x1.5 out).
    long = wcost.estimate("gpt-6-luna", 300_000, 1000, 1)
    assert long.long_context and long.per_call == pytest.approx(300_000 * 0.2e-6 + 1000 * 0.75e-6)


def test_estimate_rejects_negative_numbers():
    with pytest.raises(ValueError):
        wcost.estimate(DEFAULT_MODEL, -1, 0, 1)
    with pytest.raises(ValueError):
        wcost.estimate(DEFAULT_MODEL, 1, 1, -1)


def test_cost_html_shows_each_number():
    est = wcost.estimate("gpt-6-luna", 1000, 500, 1000)
    page = wcost.cost_html(est)
    for row, value in [("per-call", est.per_call), ("per-day", est.per_day), ("per-month", est.per_month)]:
        assert cost_cell(page, row) == usd(value)
    assert "$0.1 / 1M<" in page and "$0.5 / 1M<" in page and AS_OF in page
    assert "reasoning tokens" in page and "long-context" not in page
    assert "reasoning" not in wcost.cost_html(wcost.estimate("gpt-4.1-mini", 10, 10, 1))  # not a reasoning model


def test_cost_html_shows_the_long_context_tier():
    at_threshold = wcost.cost_html(wcost.estimate("gpt-6-luna", 272_000, 10, 1))
    assert "long-context" not in at_threshold and "$0.1 / 1M<" in at_threshold
    page = wcost.cost_html(wcost.estimate("gpt-6-luna", 272_001, 10, 1))
    assert "$0.1 / 1M × 2<" in page and "$0.5 / 1M × 1.5<" in page and "272,000 tokens" in page
    assert "long-context" not in wcost.cost_html(wcost.estimate("gpt-5.4-mini", 390_000, 10, 1))  # no tier


def test_cost_widget_recomputes_and_counts_a_text():
    w = cost_calculator()
    assert w.estimate() == wcost.estimate(DEFAULT_MODEL, 1000, 500, 1000)
    assert list(w.model_dropdown.options) == lesson_models()  # no retired or soon shut-down model
    w.model_dropdown.value = "gpt-5.4-mini"
    w.input_tokens.value = 2000
    w.output_tokens.value = 100
    w.calls_per_day.value = 50
    est = wcost.estimate("gpt-5.4-mini", 2000, 100, 50)
    assert usd(est.per_month) in w.result.value
    assert w.estimate().per_month == helpers.monthly_cost(helpers.estimate_cost("gpt-5.4-mini", 2000, 100), 50)

    w.text.value = KOREAN
    assert w.input_tokens.value == helpers.count_tokens(KOREAN, "gpt-5.4-mini") == 10
    assert repr(w) == (
        "Cost calculator: gpt-5.4-mini, 10 in + 100 out tokens: "
        f"{usd(helpers.estimate_cost('gpt-5.4-mini', 10, 100))}/call, "
        f"{usd(wcost.estimate('gpt-5.4-mini', 10, 100, 50).per_month)}/month at 50 calls/day"
    )


def test_cost_widget_counts_the_text_again_for_another_tokenizer():
    # Only a retired model uses cl100k_base: passed as the argument, it joins the list.
    w = cost_calculator("gpt-3.5-turbo", text=KOREAN)
    assert list(w.model_dropdown.options) == [*lesson_models(), "gpt-3.5-turbo"]
    assert w.input_tokens.value == 13 and "13 tokens" in w.text_note.value and "cl100k_base" in w.text_note.value
    w.model_dropdown.value = DEFAULT_MODEL  # another tokenizer: counted again
    assert w.input_tokens.value == 10 and "o200k_base" in w.text_note.value


def test_cost_calculator_arguments():
    w = cost_calculator("gpt-6-astra", 10, 20, 30, days=7, text="")
    assert w.estimate() == wcost.estimate("gpt-6-astra", 10, 20, 30, days=7)
    assert cost_calculator(text="hello world").input_tokens.value == helpers.count_tokens("hello world", DEFAULT_MODEL)


# ---------------------------------------------------------------- cost in won


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (0, "₩0"),
        (15_222.9, "₩15,223"),
        (152.4, "₩152"),
        (50.74, "₩50.7"),
        (0.5075, "₩0.507"),
        (-3.0, "-₩3"),
    ],
)
def test_format_krw(value, shown):
    assert wcost.format_krw(value) == shown


def test_the_exchange_rate_is_dated_sourced_and_checked():
    assert wcost.KRW_RATE.krw_per_usd > 0 and re.fullmatch(r"\d{4}-\d{2}-\d{2}", wcost.KRW_RATE.date)
    assert "Reuters" in wcost.KRW_RATE.source and wcost.KRW_RATE.date <= AS_OF
    assert wcost.KRW_RATE.krw(2.0) == pytest.approx(2 * wcost.KRW_RATE.krw_per_usd)
    for bad in (0, -1400.0):
        with pytest.raises(ValueError, match="won per dollar"):
            wcost.ExchangeRate(bad, "2026-11-25", "nowhere")


def test_cost_html_shows_the_month_in_won_with_the_rates_date():
    est = wcost.estimate("gpt-6-luna", 1000, 500, 1000)  # $10.50 a month
    assert 'data-row="per-month-in-won"' not in wcost.cost_html(est)
    page = wcost.cost_html(est, wcost.KRW_RATE)
    won = wcost.format_krw(10.5 * wcost.KRW_RATE.krw_per_usd)
    assert cost_cell(page, "per-month-in-won") == won
    assert won == "₩15,223"  # 10.50 x 1,449.8
    assert wcost.KRW_RATE.date in page and "Reuters" in page
    assert f"not on {AS_OF}" in page  # an older rate says so
    today = wcost.ExchangeRate(1400.0, AS_OF, "my bank")
    mine = wcost.cost_html(est, today)
    assert cost_cell(mine, "per-month-in-won") == "₩14,700" and "not on" not in mine and "my bank" in mine


def test_cost_calculator_shows_won_unless_told_not_to():
    w = cost_calculator()
    assert w.exchange is wcost.KRW_RATE and 'data-row="per-month-in-won"' in w.result.value
    w.calls_per_day.value = 2000  # follows the inputs
    assert wcost.format_krw(wcost.KRW_RATE.krw(w.estimate().per_month)) in w.result.value
    assert "in won" not in cost_calculator(exchange=None).result.value
    assert cost_cell(cost_calculator(input_tokens=0, output_tokens=0).result.value, "per-month-in-won") == "₩0"


# ---------------------------------------------------------------- chat logic


def test_chat_params_follow_each_models_sampling_rule():
    # Reasoning models that take a temperature only with reasoning_effort="none" get both.
    for model in ("gpt-6-luna", "gpt-6-sol", "gpt-6.1-terra", "gpt-5.6-luna", "gpt-5.4-mini", "gpt-5.1"):
        assert wchat.temperature_rule(model) == "effort_none"
        assert wchat.chat_params(model, 0.7) == {"reasoning_effort": "none", "temperature": 0.7}
    assert wchat.chat_params(DEFAULT_MODEL, 0.30000000000000004) == {"reasoning_effort": "none", "temperature": 0.3}
    # Those with no "none" effort (and the older reasoning models) never take one.
    for model in ("gpt-6-astra", "gpt-6.1-sol", "gpt-6.2-sol", "o3", "gpt-5", "gpt-5-mini"):
        assert wchat.temperature_rule(model) == "never" and wchat.chat_params(model, 0.2) == {}
    # Not reasoning models: the temperature alone.
    assert wchat.chat_params("gpt-4.1-mini", 0.7) == {"temperature": 0.7}
    assert wchat.chat_params("my-local-model", 0.5) == {"temperature": 0.5}  # unknown: not a reasoning model


@pytest.mark.parametrize("model", lesson_models())
@pytest.mark.parametrize("temperature", [0.0, 1.3])
def test_chat_params_are_accepted_by_every_lesson_model(api, model, temperature):
    client = helpers.offline_client(api, max_retries=0)
    params = wchat.chat_params(model, temperature)
    assert ("temperature" in params) == model_info(model).accepts_sampling(params.get("reasoning_effort"))
    client.chat.completions.create(model=model, messages=[{"role": "user", "content": "Hi"}], **params)
    if "reasoning_effort" in params and model_info(model).rules.default_effort != "none":
        del params["reasoning_effort"]  # at the model's default effort the same temperature is refused
        with pytest.raises(openai.BadRequestError, match="temperature"):
            client.chat.completions.create(model=model, messages=[{"role": "user", "content": "Hi"}], **params)


def test_client_mode():
    class Fake:
        def __init__(self, url):
            self.base_url = url

    assert wchat.client_mode(helpers.offline_client()) == "offline"
    assert wchat.client_mode(Fake("https://api.openai.com/v1/")) == "OpenAI API"
    assert wchat.client_mode(Fake("http://localhost:11434/v1")) == "http://localhost:11434/v1"
    assert wchat.client_mode(openai.OpenAI(api_key="sk-test", base_url="http://localhost:8000/v1")) == "localhost"


def test_history_html_escapes_and_labels_roles():
    messages = [
        {"role": "system", "content": "Be <brief>"},
        {"role": "user", "content": "<script>x</script>"},
        {"role": "assistant", "content": "a & b"},
    ]
    page = wchat.history_html(messages)
    assert "<script" not in page and "&lt;script&gt;x&lt;/script&gt;" in page
    assert "Be &lt;brief&gt;" in page and "a &amp; b" in page
    assert re.findall(r'data-role="(\w+)"', page) == ["system", "user", "assistant"]
    assert "data-pending" not in page and 'class="course-chat-empty"' not in page
    assert "No messages yet" in wchat.history_html([]) and "No messages yet" in wchat.history_html(messages[:1])
    pending = wchat.history_html(messages, "next <q>", "part")
    assert re.findall(r'data-role="(\w+)"', pending) == ["system", "user", "assistant", "user", "assistant"]
    assert pending.count("data-pending") == 1 and "next &lt;q&gt;" in pending and "part" in pending


def test_usage_totals_are_the_spend_meters_charges(api):
    conv = Conversation(helpers.offline_client(api))
    conv.send("Hello")
    conv.model = "gpt-5.4-mini"
    conv.send("What is a token?")
    charges = wchat.usage_charges(DEFAULT_MODEL, conv.usages[:1]) + wchat.usage_charges("gpt-5.4-mini", conv.usages[1:])
    assert charges == spend.charges()[-2:]  # what the meter recorded for these two calls
    assert wchat.usage_charges(DEFAULT_MODEL, [conv.usages[0].to_dict(), {}]) == charges[:1]  # a dict reads the same
    totals = wchat.usage_totals(charges)
    assert totals.calls == 2
    assert totals.prompt_tokens == sum(u.prompt_tokens for u in conv.usages)
    assert totals.completion_tokens == sum(u.completion_tokens for u in conv.usages)
    assert totals.cost == pytest.approx(
        helpers.usage_cost(DEFAULT_MODEL, conv.usages[0]) + helpers.usage_cost("gpt-5.4-mini", conv.usages[1])
    )
    text = wchat.usage_text(totals, "offline")
    assert text.startswith(f"2 calls · {totals.total_tokens:,} tokens") and "nothing is billed" in text
    assert "billed" not in wchat.usage_text(totals, "OpenAI API")
    assert wchat.usage_text(wchat.usage_totals([])) == "No calls yet: 0 tokens · $0.00"
    assert totals.estimated == 0 and totals.unpriced == ()


def local_model_client(model: str) -> openai.OpenAI:
    """A real SDK client behind the spend meter, on a server that streams a short reply (with its
    usage) from ``model``: a model the course has no price for, such as a local one."""

    def handle(request):
        assert json.loads(request.content)["model"] == model
        usage = {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17}
        last = {"id": "chatcmpl-x", "object": "chat.completion.chunk", "created": 1, "model": model, "choices": []}
        body = (
            _chunk({"role": "assistant", "content": "Hello from a local model"}, model=model)
            + _chunk({}, "stop", model=model)
            + f"data: {json.dumps({**last, 'usage': usage})}\n\n".encode()
            + b"data: [DONE]\n\n"
        )
        return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=body)

    http = openai.DefaultHttpx2Client(transport=spend.SpendTransport(httpx2.MockTransport(handle)))
    return openai.OpenAI(api_key="sk-test", base_url="http://127.0.0.1:9/v1", http_client=http, max_retries=0)


def test_a_model_without_a_price_is_shown_as_the_spend_meter_records_it():
    """The meter records a call of a model missing from helpers/models.py at $0 (with a warning):
    the chat shows the same $0, and says why, instead of a figure of its own."""
    w = chat_widget(local_model_client("my-local-model"), model="my-local-model")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", spend.SpendWarning)  # the meter's warning, said once per model
        assert w.submit("Hello").ok
    recorded = spend.charges()[-1]
    assert recorded.model == "my-local-model" and recorded.priced_as is None and recorded.cost == 0
    assert w.charges == [recorded]
    totals = wchat.usage_totals(w.charges)
    assert (totals.calls, totals.total_tokens, totals.cost, totals.unpriced) == (1, 17, 0, ("my-local-model",))
    status = html.unescape(w.status.value)
    assert "1 call · 17 tokens (12 in + 5 out) · $0.00 (no price for my-local-model in helpers/models.py" in status
    assert "as the meter does" in status and "nothing is billed" not in status  # a real server bills

    # A stopped stream of it is counted as the meter counts one: $0 too, and said so.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", spend.SpendWarning)
        stopped = wchat.stopped_charge("my-local-model", [{"role": "user", "content": "Hi"}], {}, "Hello from")
    assert stopped.priced_as is None and stopped.cost == 0 and stopped.estimated and stopped.completion_tokens > 0
    assert "$0.00 (no price for my-local-model" in wchat.stopped_text(stopped, "127.0.0.1")


def test_run_turn_streams_pieces_and_reports_errors(api):
    conv = Conversation(helpers.offline_client(api))
    seen: list[str] = []
    result = wchat.run_turn(
        conv, "Tell me about streaming", {"reasoning_effort": "none", "temperature": 0}, seen.append
    )
    assert result.ok and result.reply.startswith("[offline]")
    assert len(seen) > 2 and seen[-1] == result.reply
    assert all(seen[i + 1].startswith(seen[i]) and len(seen[i + 1]) > len(seen[i]) for i in range(len(seen) - 1))
    assert conv.messages[-1] == {"role": "assistant", "content": result.reply}

    before = list(conv.messages)
    api.fail_next("stream_error")
    failed = wchat.run_turn(conv, "Tell me about tokens")
    assert not failed.ok and failed.reply  # part of the reply had arrived
    assert "Traceback" not in failed.error and "not kept" in failed.error
    assert conv.messages == before


def test_run_turn_rolls_back_when_the_view_fails(api):
    conv = Conversation(helpers.offline_client(api))

    def broken(_reply):
        raise RuntimeError("view broke")

    result = wchat.run_turn(conv, "Hello", on_piece=broken)
    assert result.error.startswith("RuntimeError: view broke")
    assert conv.messages == []


# ---------------------------------------------------------------- chat widget


def test_chat_send_button_streams_the_reply_into_the_history(chat, api):
    painted: list[str] = []
    chat.history.observe(lambda change: painted.append(change["new"]), names="value")
    chat.text.value = "Hello <script>alert(1)</script>"
    chat.send_button.click()

    user, reply = chat.conversation.messages
    assert user == {"role": "user", "content": "Hello <script>alert(1)</script>"}
    assert reply["role"] == "assistant" and reply["content"].startswith("[offline]")
    assert "Hello &lt;script&gt;alert(1)&lt;/script&gt;" in chat.history.value
    assert "<script>" not in chat.history.value
    assert html.escape(reply["content"]) in chat.history.value
    assert chat.text.value == "" and chat.error.value == ""
    # The reply appeared piece by piece: the history was repainted with a growing reply.
    partial = [p for p in painted if "data-pending" in p]
    assert len(partial) >= 3
    for page in partial:  # the question once, the reply growing below it
        assert re.findall(r'data-role="(\w+)"', page) == ["user", "assistant"] and "▌" in page
    assert "data-pending" not in chat.history.value and "▌" not in chat.history.value
    # Controls are enabled again once the reply is in.
    assert not chat.send_button.disabled and not chat.text.disabled
    assert api.requests[-1]["stream"] is True and api.requests[-1]["temperature"] == 1.0
    assert api.requests[-1]["reasoning_effort"] == "none"  # gpt-6-luna takes a temperature only so


def test_chat_enter_key_submits(chat):
    chat.text.value = "Hi there"
    chat.text._handle_string_msg(None, {"event": "submit"}, [])  # what the browser sends on Enter
    assert chat.conversation.turns == 1


def test_chat_keeps_the_history_and_counts_tokens_and_cost(chat):
    chat.submit("My name is Mina")
    chat.submit("What is my name?")
    assert chat.conversation.turns == 2
    assert "Mina" in chat.conversation.messages[-1]["content"]  # the history was sent
    assert chat.charges == spend.charges()[-2:]  # the meter's own figures
    totals = wchat.usage_totals(chat.charges)
    assert totals.calls == 2
    assert totals.total_tokens == sum(u.total_tokens for u in chat.conversation.usages)
    assert totals.cost == pytest.approx(sum(helpers.usage_cost(DEFAULT_MODEL, u) for u in chat.conversation.usages))
    assert f"{totals.total_tokens:,} tokens" in chat.status.value
    assert usd(totals.cost) in chat.status.value


def test_chat_api_error_is_a_message_and_the_history_is_unchanged(chat, api):
    chat.submit("Hello")
    before = [dict(m) for m in chat.conversation.messages]
    history_before = chat.history.value
    api.fail_next("invalid_api_key")
    chat.text.value = "This will fail"
    chat.send_button.click()

    assert chat.conversation.messages == before
    assert "AuthenticationError (401)" in chat.error.value and "Check OPENAI_API_KEY" in chat.error.value
    assert "Traceback" not in chat.error.value and "Traceback" not in chat.history.value
    assert chat.history.value == history_before  # the failed turn is not shown
    assert chat.text.value == "This will fail"  # given back, to send again
    assert chat.last_error and not chat.send_button.disabled

    chat.send_button.click()  # sending again works and clears the message
    assert chat.error.value == "" and chat.conversation.turns == 2


@pytest.mark.parametrize("kind", ["rate_limit", "server_error", "stream_error"])
def test_chat_other_failures(api, kind):
    w = chat_widget(helpers.offline_client(api, max_retries=0))
    api.fail_next(kind)
    w.submit("Hello")
    assert w.conversation.messages == [] and "No messages yet" in w.history.value
    assert w.last_error and "Traceback" not in w.error.value


def test_chat_model_dropdown_lists_the_lesson_models(chat):
    assert list(chat.model_dropdown.options) == lesson_models()
    assert not {"gpt-4o-mini", "gpt-4o", "o3", "o4-mini", "gpt-5"} & set(chat.model_dropdown.options)


def test_chat_temperature_follows_the_models_sampling_rule(chat, api):
    chat.temperature_slider.value = 0.3
    assert not chat.temperature_slider.disabled and 'reasoning_effort="none"' in html.unescape(
        chat.temperature_note.value
    )
    chat.submit("Hello")
    assert (api.requests[-1]["temperature"], api.requests[-1]["reasoning_effort"]) == (0.3, "none")
    assert chat.last_error is None

    chat.model_dropdown.value = "gpt-6-astra"  # no "none" effort: never a temperature
    assert chat.temperature_slider.disabled and "takes no temperature" in chat.temperature_note.value
    assert chat.conversation.model == "gpt-6-astra" and chat.params() == {}
    chat.submit("Hello again")
    assert "temperature" not in api.requests[-1] and "reasoning_effort" not in api.requests[-1]
    assert api.requests[-1]["model"] == "gpt-6-astra"
    assert chat.last_error is None and chat.temperature_slider.disabled  # still disabled after the turn

    chat.model_dropdown.value = "gpt-5.4-mini"
    assert not chat.temperature_slider.disabled and "reasoning_effort" in chat.temperature_note.value
    chat.submit("And again")
    assert (api.requests[-1]["temperature"], api.requests[-1]["reasoning_effort"]) == (0.3, "none")
    assert chat.last_error is None
    # Each call is priced at the model it used.
    assert [c.model for c in chat.charges] == [DEFAULT_MODEL, "gpt-6-astra", "gpt-5.4-mini"]


def test_chat_sends_a_plain_temperature_to_a_model_without_reasoning(api):
    conv = Conversation(helpers.offline_client(api), model="gpt-4.1-mini")  # served, not a lesson model
    w = chat_widget(conversation=conv, temperature=0.4)
    assert list(w.model_dropdown.options) == [*lesson_models(), "gpt-4.1-mini"]
    assert not w.temperature_slider.disabled and w.temperature_note.value == ""
    assert w.submit("Hello").ok
    assert api.requests[-1]["temperature"] == 0.4 and "reasoning_effort" not in api.requests[-1]


def test_chat_clear_empties_the_history_and_keeps_the_system_prompt(api):
    w = chat_widget(helpers.offline_client(api), system="Answer in one <short> sentence.")
    assert "Answer in one &lt;short&gt; sentence." in w.history.value
    w.submit("Hello")
    assert w.conversation.turns == 1
    w.clear_button.click()
    assert w.conversation.messages == [{"role": "system", "content": "Answer in one <short> sentence."}]
    assert "No messages yet" in w.history.value and 'data-role="user"' not in w.history.value
    assert "1 call" in w.status.value  # the spending so far is still counted

    plain = chat_widget(helpers.offline_client(api))
    plain.submit("Hello")
    plain.clear_button.click()
    assert plain.conversation.messages == []


def test_chat_ignores_empty_text(chat, api):
    chat.text.value = "   "
    chat.send_button.click()
    assert chat.submit("") is None and api.requests == [] and chat.conversation.messages == []


def test_chat_widget_arguments(api, capsys):
    w = chat_widget()  # COURSE_OFFLINE=1 in the test environment
    assert w.mode == "offline" and capsys.readouterr().out == ""  # the widget says it, no banner
    conv = Conversation(helpers.offline_client(api), model="gpt-5.6-luna", system="Be brief.")
    w = chat_widget(conversation=conv, temperature=0.0)
    assert w.conversation is conv and w.model_dropdown.value == "gpt-5.6-luna"
    assert w.submit("Hello").ok
    assert api.requests[-1]["temperature"] == 0.0 and api.requests[-1]["messages"][0]["content"] == "Be brief."
    dated = chat_widget(helpers.offline_client(api), model="gpt-5.4-mini-2026-03-17")  # a dated snapshot
    assert dated.model_dropdown.value == "gpt-5.4-mini-2026-03-17" and dated.params()["reasoning_effort"] == "none"
    assert dated.submit("Hi").ok


def test_on_submit_deprecation_is_not_shown(api):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        chat_widget(helpers.offline_client(api))
    assert not [w for w in caught if "on_submit" in str(w.message)]


# ---------------------------------------------------------------- text/plain


def text_plain(widget) -> str:
    """What a notebook stores as the cell's text/plain (ipywidgets 8 and 7 alike)."""
    if hasattr(widget, "_repr_mimebundle_") and callable(widget._repr_mimebundle_):
        return widget._repr_mimebundle_()["text/plain"]
    return repr(widget)


def test_text_plain_is_a_stable_readable_summary(api):
    shown = {
        "chat": text_plain(chat_widget(helpers.offline_client(api))),
        "chat astra": text_plain(chat_widget(helpers.offline_client(api), model="gpt-6-astra")),
        "playground": text_plain(tokenizer_playground()),
        "calculator": text_plain(cost_calculator()),
    }
    assert shown == {
        "chat": "Chat widget (gpt-6-luna, offline): it runs only in a live notebook.",
        "chat astra": "Chat widget (gpt-6-astra, offline): it runs only in a live notebook.",
        "playground": "Tokenizer playground: 13 tokens (cl100k_base), 10 tokens (o200k_base) for 14 characters.",
        "calculator": (
            "Cost calculator: gpt-6-luna, 1,000 in + 500 out tokens: $0.00035/call, $10.50/month at 1,000 calls/day"
        ),
    }
    for text in shown.values():
        assert len(text) <= REPR_LIMIT and not ADDRESS.search(text)
        assert "press" not in text and "type" not in text.lower()  # a static page cannot be typed into
    # The same for a second instance: nothing per-object in it.
    assert text_plain(tokenizer_playground()) == shown["playground"]


def test_text_plain_follows_the_state(chat):
    chat.submit("Hello")
    assert repr(chat) == "Chat widget (gpt-6-luna, offline, 1 turn so far): it runs only in a live notebook."
    p = tokenizer_playground("hello")
    assert repr(p) == "Tokenizer playground: 1 token (cl100k_base), 1 token (o200k_base) for 5 characters."
    assert repr(tokenizer_playground("x" * 10**5)) == (
        "Tokenizer playground: 12,500 tokens (cl100k_base), 12,500 tokens (o200k_base) for 100,000 characters."
    )
    assert fit("y" * 200) == "y" * 109 + "…"


def test_fixture_notebook_text_plain_is_stable():
    """Run tests/e2e/widgets_demo.ipynb in a real kernel, as nbval does, and compare each
    cell's text/plain with the stored one."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    stored = nbformat.read(FIXTURE, as_version=4)
    fresh = nbformat.read(FIXTURE, as_version=4)
    nbclient.NotebookClient(
        fresh,
        timeout=60,
        kernel_name="python3",
        store_widget_state=False,
        resources={"metadata": {"path": str(FIXTURE.parent)}},
    ).execute()

    def plain(nb):
        return [o.get("data", {}).get("text/plain") for c in nb.cells if c.cell_type == "code" for o in c.outputs]

    assert (
        plain(fresh)
        == plain(stored)
        == [
            "Chat widget (gpt-6-luna, offline): it runs only in a live notebook.",
            "Tokenizer playground: 7 tokens (cl100k_base), 7 tokens (o200k_base) for 30 characters.",
            "Cost calculator: gpt-6-luna, 1,000 in + 500 out tokens: $0.00035/call, $10.50/month at 1,000 calls/day",
        ]
    )
    widget_outputs = [o for c in fresh.cells if c.cell_type == "code" for o in c.outputs]
    assert all("application/vnd.jupyter.widget-view+json" in o["data"] for o in widget_outputs)
    assert not any(o.output_type in ("stream", "error") for c in fresh.cells for o in c.get("outputs", []))


# ---------------------------------------------------------------- chat widget: broken servers


def _chunk(delta, finish=None, model=DEFAULT_MODEL):
    data = {
        "id": "chatcmpl-x",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(data)}\n\n".encode()


def _dropped():
    def body():
        yield _chunk({"content": "Half a rep"})
        raise httpx2.RemoteProtocolError("peer closed connection without sending complete message body")

    return body()


# Event streams a server can send with status 200 instead of a usable reply, and what the widget says.
BROKEN_STREAMS = {
    "not json": (_chunk({"content": "Hel"}) + b"data: {not json\n\n", "OPENAI_BASE_URL"),
    "error event": (
        _chunk({"content": "Hel"}) + b'event: error\ndata: {"error": {"message": "Overloaded."}}\n\n',
        "APIError: Overloaded.",
    ),
    "dropped": (None, "APIConnectionError"),  # built per request: a connection that breaks after one piece
    "web page": (b"<html>\n<body>Campus Wi-Fi login</body>\n</html>", "OPENAI_BASE_URL"),
    "no text": (
        _chunk({"role": "assistant", "content": ""}) + _chunk({}, "stop") + b"data: [DONE]\n\n",
        "reply was empty",
    ),
}


def broken_client(api):
    """A real SDK client: the offline model answers, except a message named in BROKEN_STREAMS."""

    def handle(request):
        text = json.loads(request.content)["messages"][-1]["content"]
        if text not in BROKEN_STREAMS:
            return api.handle(request)
        content = BROKEN_STREAMS[text][0] or _dropped()
        kind = "text/html" if text == "web page" else "text/event-stream"
        return httpx2.Response(200, headers={"content-type": kind}, content=content)

    http = openai.DefaultHttpx2Client(transport=httpx2.MockTransport(handle))
    return openai.OpenAI(api_key="sk-test", base_url="http://127.0.0.1:9/v1", http_client=http, max_retries=0)


def test_chat_widget_survives_broken_streams_with_one_line_and_the_history_intact(api):
    w = chat_widget(broken_client(api))
    assert w.submit("My name is Mina").ok
    before, shown = [dict(m) for m in w.conversation.messages], w.history.value
    for kind, (_, says) in BROKEN_STREAMS.items():
        result = w.submit(kind)
        assert result is not None and not result.ok, kind
        assert w.conversation.messages == before, kind
        assert w.history.value == shown, kind  # the failed turn is not shown, nor an empty reply
        assert says in w.last_error and "not kept" in w.last_error, kind
        assert (
            "\n" not in w.last_error
            and "Traceback" not in w.last_error
            and w.error.value.count('data-kind="error"') == 1
        )
        assert w.text.value == kind and not w.send_button.disabled  # given back, to send again
    assert w.submit("What is my name?").ok
    assert [m["content"] for m in w.conversation.messages if m["role"] == "user"] == [
        "My name is Mina",
        "What is my name?",
    ]
    assert "Mina" in w.conversation.messages[-1]["content"]


def test_run_turn_shows_a_refused_parameter_without_raising(api):
    conv = Conversation(helpers.offline_client(api))
    result = wchat.run_turn(conv, "Hello", {"stream": True})
    assert result.error.startswith("ValueError") and "conversation.stream" in result.error
    assert conv.messages == [] and api.requests == []


# ---------------------------------------------------------------- chat widget: Stop

LONG = "Give me a long answer, please"  # the offline model's longest reply, in many pieces


def wait_for(condition, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def test_run_turn_stops_at_the_next_piece_and_the_turn_is_rolled_back(api):
    conv = Conversation(helpers.offline_client(api))
    conv.send("My name is Mina")
    before = [dict(m) for m in conv.messages]
    stop = threading.Event()
    seen: list[str] = []

    def view(reply):
        seen.append(reply)
        if len(seen) == 3:
            stop.set()  # as the Stop button does, from the page

    result = wchat.run_turn(conv, LONG, {"reasoning_effort": "none"}, view, stop=stop)
    assert result.stopped and not result.ok and result.error is None
    assert result.reply.startswith(seen[-1]) and len(result.reply) > len(seen[-1])  # one more piece arrived
    assert len(seen) == 3  # ... and was not shown
    assert conv.messages == before  # as Conversation does: nothing of the stopped turn is kept
    assert conv.interrupted[-1].user == LONG and conv.interrupted[-1].partial_reply == result.reply
    assert len(conv.usages) == 1  # the stopped stream never got its usage chunk


def test_stopped_charge_is_what_the_spend_meter_charges(api):
    """The widget's estimate for a stopped stream and helpers._spend's charge agree: the prompt,
    the reply tokens that arrived and, for a reasoning model, its hidden-token estimate."""
    for model, params in [(DEFAULT_MODEL, {"reasoning_effort": "none"}), ("gpt-6-astra", {})]:
        conv = Conversation(helpers.offline_client(api), model=model, system="Be brief.")
        stop = threading.Event()
        sent = [*conv.messages, {"role": "user", "content": LONG}]
        result = wchat.run_turn(conv, LONG, params, lambda _reply, stop=stop: stop.set(), stop=stop)
        assert result.stopped
        charge = wchat.stopped_charge(model, sent, params, result.reply)
        assert charge == spend.charges()[-1] and charge.estimated
        assert charge.cost == pytest.approx(
            helpers.estimate_cost(model, charge.prompt_tokens, charge.completion_tokens)
        )
        visible = helpers.count_tokens(result.reply, model)
        hidden = charge.completion_tokens - visible
        assert hidden == (192 if model == "gpt-6-astra" else 0)  # astra thinks at its default effort, medium
        full = conv.send(LONG, **params)  # the whole reply costs more than what arrived
        assert conv.usages[-1].completion_tokens > charge.completion_tokens and len(full) > len(result.reply)


def test_stop_button_stops_a_streaming_reply_at_once(api):
    api.chunk_delay = 0.05  # slow enough to click Stop half way, as in a notebook
    w = chat_widget(helpers.offline_client(api), background=True)
    w.PAINT_INTERVAL = 0
    assert w.stop_button.disabled and w.stop() is False  # nothing to stop yet
    assert w.submit("My name is Mina").ok  # code may still wait for a reply
    before = [dict(m) for m in w.conversation.messages]

    w.text.value = LONG
    w.send_button.click()  # returns at once: the reply streams in a thread
    assert not w.stop_button.disabled and w.send_button.disabled and w.text.value == ""
    wait_for(lambda: len(re.findall(r"\w+", reply_on_page(w))) >= 6)
    painted: list[str] = []
    w.history.observe(lambda change: painted.append(change["new"]), names="value")
    w.stop_button.click()
    stopped_at = time.monotonic()
    assert "data-pending" not in w.history.value and w.history.value.count('data-role="user"') == 1  # dropped at once
    result = w.wait(timeout=5)
    assert time.monotonic() - stopped_at < 0.5  # closed at the next piece, not at the end of the reply

    assert result is not None and result.stopped and result.reply.startswith("[offline]")
    assert w.conversation.messages == before  # the partial reply is kept out of the history ...
    assert w.conversation.interrupted[-1].partial_reply == result.reply  # ... and kept here instead
    assert not any("data-pending" in page for page in painted)  # no piece was painted after Stop
    assert html.escape(result.reply) not in w.history.value
    assert w.text.value == LONG and not w.send_button.disabled and w.stop_button.disabled
    assert "Stopped" in w.error.value and w.last_error is None
    # The notice names what the learner can type (no IPython here: the lessons' name, chat).
    assert "the part that arrived is in chat.conversation.interrupted)" in html.unescape(w.error.value)

    # Billed: what arrived, estimated, and counted in the running total as such.
    charge = w.charges[-1]
    assert charge.estimated and charge == spend.charges()[-1]  # the meter's own count of the stopped stream
    assert charge.completion_tokens == helpers.count_tokens(result.reply, DEFAULT_MODEL)  # effort "none"
    assert f"{charge.prompt_tokens:,} prompt + {charge.completion_tokens:,} completion tokens" in w.error.value
    assert charge.cost == pytest.approx(
        helpers.estimate_cost(DEFAULT_MODEL, charge.prompt_tokens, charge.completion_tokens)
    )
    assert usd(charge.cost) in w.error.value and 'data-kind="notice"' in w.error.value
    assert "2 calls (1 stopped, estimated)" in w.status.value
    assert api.requests[-1]["messages"][-1]["content"] == LONG

    w.send_button.click()  # the message given back can be sent again, and this time completes
    final = w.wait(timeout=10)
    assert final.ok and w.conversation.turns == 2 and w.error.value == ""
    assert len(final.reply) > len(result.reply)


def test_the_stop_notice_names_the_variable_that_holds_the_chat(api, monkeypatch):
    """In a notebook the notice says what to type: the name the widget is kept in (``w`` here),
    never a bare ``.conversation``; without IPython, or kept in no name, the lessons' ``chat``."""
    w = chat_widget(helpers.offline_client(api))
    other = chat_widget(helpers.offline_client(api))
    assert wchat.variable_name(w) == "chat"  # no IPython shell under pytest
    shell = SimpleNamespace(user_ns={"_": w, "_7": w, "other": other, "w": w})
    monkeypatch.setattr(wchat, "get_ipython", lambda: shell)
    assert wchat.variable_name(w) == "w" and wchat.variable_name(other) == "other"
    assert wchat.variable_name(chat_widget(helpers.offline_client(api))) == "chat"  # shown, never kept

    api.chunk_delay = 0.02  # slow enough to stop half way
    w.PAINT_INTERVAL = 0
    w.submit(LONG, wait=False)
    wait_for(lambda: reply_on_page(w))
    assert w.stop()
    assert w.wait(timeout=5).stopped
    notice = html.unescape(w.error.value)
    assert "the part that arrived is in w.conversation.interrupted)" in notice
    assert w.conversation.interrupted[-1].partial_reply  # the place it names holds the part


def test_a_reply_that_ends_while_stop_repaints_still_says_stopped(api, monkeypatch):
    """Stop sets the event, then repaints the page; the reply's thread can notice the event,
    roll the turn back and write its "Stopped" line before that repaint is done. Whatever
    the order, the notice left on the page is the final one (seen in Chromium under load)."""
    api.chunk_delay = 0.05
    w = chat_widget(helpers.offline_client(api), background=True)
    w.PAINT_INTERVAL = 0
    w.text.value = LONG
    w.send_button.click()
    wait_for(lambda: len(re.findall(r"\w+", reply_on_page(w))) >= 6)
    paint = w._paint

    def slow_paint(*args, **kwargs):
        if w._stop.is_set() and threading.current_thread() is threading.main_thread():
            # Stop's repaint is slow: the reply's thread has written its line by the time it ends.
            wait_for(lambda: "Stopped" in w.error.value)
        return paint(*args, **kwargs)

    monkeypatch.setattr(w, "_paint", slow_paint)
    assert w.stop()
    result = w.wait(timeout=5)
    assert result is not None and result.stopped
    assert "Stopped" in w.error.value and "Stopping" not in w.error.value


def test_stop_is_ignored_once_the_reply_is_in(api):
    w = chat_widget(helpers.offline_client(api), background=True)
    w.send_button.click()  # an empty box sends nothing
    assert w.wait() is None and api.requests == []
    w.text.value = "Hello"
    w.send_button.click()
    result = w.wait(timeout=10)
    assert result.ok and w.stop() is False and w.stop_button.disabled
    assert w.conversation.turns == 1 and "Stopped" not in w.error.value


def test_rows_wrap_instead_of_squeezing_their_controls(chat):
    rows = [c for c in chat.children if isinstance(c, ipywidgets.HBox)]
    assert len(rows) == 2 and all(r.layout.flex_flow == "row wrap" for r in rows)
    assert chat.stop_button in rows[1].children and chat.send_button in rows[1].children
    assert chat.temperature_slider.layout.min_width == "260px"  # wraps to its own line, never collapses
    calculator = cost_calculator()
    row = next(c for c in calculator.children if isinstance(c, ipywidgets.HBox))
    assert row.layout.flex_flow == "row wrap" and calculator.input_tokens.layout.min_width == "230px"


def reply_on_page(w) -> str:
    """The assistant text the chat shows while a reply streams in."""
    pending = re.search(
        r'data-pending[^>]*>.*?class="course-msg-text"[^>]*>(.*?)<span class="course-msg-cursor"', w.history.value
    )
    return html.unescape(pending.group(1)) if pending else ""


# ---------------------------------------------------------------- the Korean track: lang="ko"

HANGUL = re.compile(r"[\uac00-\ud7a3]")
TABLES = {"chat": wchat.TEXT, "tokenizer": wtok.TEXT, "cost": wcost.TEXT}
# The English labels the Korean widgets replace, as the task lists them (the English words
# of every TEXT template are checked too, in english_fragments).
ENGLISH_LABELS = re.compile(
    r"\b(Send|Stop|Stopped|Stopping|Clear|Model|Temperature|Chat|You|Assistant|System|No messages|"
    r"No calls|calls?|tokens?|characters?|bytes?|turns? so far|estimated|billed|Your message|"
    r"Tokenizer playground|Try|Korean|English|Dashed|used by|retired|Cost calculator|Input|Output|"
    r"Per (call|day|month)|Calls / day|paste|prices of|Won at|Reasoning models|Interrupted)\b"
)
LESSON_SYSTEM = "You are a friendly tutor. Keep answers short."  # lessons 03 and 04's system prompt


def english_fragments(table: dict) -> list[str]:
    """The English words of a TEXT table: each label, and each template's text between its
    fields ("{calls} · {total:,} tokens (..." gives " tokens ("), when it holds a word."""
    fragments = []
    for word in table.values():
        if isinstance(word, str):
            pieces = [literal for literal, *_ in string.Formatter().parse(word)]
            fragments += [html.unescape(re.sub(r"<[^>]+>", "", p)).strip() for p in pieces]
    return [f for f in fragments if re.search(r"[A-Za-z]{3}", f)]


def shown_text(widget) -> str:
    """Everything a widget shows a learner: its controls' labels, placeholders, tooltips and
    options, and its HTML as text (tags dropped), its children's included."""
    parts = []
    for name in ("description", "placeholder", "tooltip"):
        parts.append(str(getattr(widget, name, "") or ""))
    if isinstance(widget, ipywidgets.HTML):
        parts.append(html.unescape(re.sub(r"<[^>]+>", " ", widget.value)))
        parts += [html.unescape(t) for t in re.findall(r'title="([^"]*)"', widget.value)]  # tooltips
    for child in getattr(widget, "children", ()):
        parts.append(shown_text(child))
    return "\n".join(p for p in parts if p)


def hooks(page: str) -> list[str]:
    """The stable hooks of some HTML, in order: course-* classes and data-* attributes (with
    their values, but for a token's id, text or reply that differs with the language)."""
    found = re.findall(r'class="(course-[^"]*)"|\b(data-[a-z-]+)(?:="([^"]*)")?', page)
    return [
        cls
        or (f"{attr}={value}" if attr in ("data-row", "data-encoding", "data-role", "data-kind", "data-mode") else attr)
        for cls, attr, value in found
    ]


def widget_classes(widget) -> list[str]:
    """The course-* classes of a widget and its children, in order (what the browser test finds)."""
    own = [c for c in getattr(widget, "_dom_classes", ()) if c.startswith("course-")]
    return own + [c for child in getattr(widget, "children", ()) for c in widget_classes(child)]


def assert_korean(text: str) -> None:
    """No English label, nor any English word of the widgets' tables, is left in ``text``
    (but the offline model's marker, [offline], which starts its replies in any language)."""
    text = text.replace("[offline]", "")
    left = ENGLISH_LABELS.findall(text)
    assert not left, f"English left: {left}\n{text}"
    for table in TABLES.values():
        for fragment in english_fragments(table["en"]):  # a whole word: "token" is no part of "tiktoken"
            assert not re.search(rf"(?<![A-Za-z]){re.escape(fragment)}(?![A-Za-z])", text), (
                f"English left: {fragment!r}\n{text}"
            )
    assert HANGUL.search(text)


def test_every_table_says_the_same_things_in_both_languages():
    for name, table in TABLES.items():
        assert set(table) == {"en", "ko"}, name
        assert table["en"].keys() == table["ko"].keys(), name
        for key, en in table["en"].items():
            ko = table["ko"][key]
            if isinstance(en, str) and isinstance(ko, str):  # a template takes the same fields in both
                fields = {f for _, f, _, _ in string.Formatter().parse(en) if f}
                ko_fields = {f for _, f, _, _ in string.Formatter().parse(ko) if f}
                assert fields == ko_fields or key in ("money", "how_won"), key  # Korean adds the won, the dollars
                if re.search(r"[A-Za-z]{3}", re.sub(r"\{[^}]*\}|<[^>]+>|&nbsp;", "", en)):
                    assert HANGUL.search(ko) or key == "money", f"{name}.{key} is not in Korean: {ko!r}"
        if "presets" in table["en"]:
            assert table["en"]["presets"].keys() == table["ko"]["presets"].keys() == wtok.PRESETS.keys()
    # The Korean won row also shows the dollars it converts: one field more than the English.
    assert "usd" in wcost.TEXT["ko"]["how_won"] and "usd" not in wcost.TEXT["en"]["how_won"]


@pytest.mark.parametrize("bad", ["xx", "KO", "kr", "", None])
def test_an_unknown_language_is_a_clear_error_naming_the_choices(bad, api):
    client = helpers.offline_client(api)
    makers = {
        "chat": lambda: chat_widget(client, lang=bad),
        "chat of a conversation": lambda: wchat.ChatWidget(Conversation(client), lang=bad),
        "playground": lambda: tokenizer_playground(lang=bad),
        "calculator": lambda: cost_calculator(lang=bad),
        "usage": lambda: wchat.usage_text(wchat.usage_totals([]), lang=bad),
        "columns": lambda: wtok.playground_html("hi", lang=bad),
        "table": lambda: wcost.cost_html(wcost.estimate(DEFAULT_MODEL, 1, 1, 1), lang=bad),
    }
    for name, make in makers.items():
        with pytest.raises(ValueError, match=r"lang must be 'en' or 'ko' \(the language of the widget's labels\)") as e:
            make()
        assert repr(bad) in str(e.value), name
    assert api.requests == []


def test_english_stays_the_default():
    est = wcost.estimate(DEFAULT_MODEL, 1000, 500, 1000)
    assert wcost.cost_html(est, wcost.KRW_RATE) == wcost.cost_html(est, wcost.KRW_RATE, lang="en")
    assert wtok.playground_html(KOREAN) == wtok.playground_html(KOREAN, lang="en")
    calculator, playground = cost_calculator(), tokenizer_playground()
    assert calculator.lang == playground.lang == chat_widget().lang == "en"
    assert calculator.input_tokens.description == "Input tokens / call"
    assert cost_cell(calculator.result.value, "per-call") == usd(est.per_call)  # dollars alone
    assert [b.description for b in playground.preset_buttons.values()] == ["Korean", "English"]


# -- the chat in Korean


def won_first(cost: float) -> str:
    """How the Korean chat reads a cost: won at the dated rate, then dollars."""
    return f"{wcost.format_krw(wcost.KRW_RATE.krw(cost))} ({money(cost, '')}달러)"


def test_the_korean_usage_line_shows_won_first_then_dollars(api):
    """Issue 24: a Korean learner reads the cost in won first (the lessons' dated rate), then
    dollars, with no "$" (two in one line of the page would render as math)."""
    w = chat_widget(helpers.offline_client(api), lang="ko")
    en = chat_widget(helpers.offline_client(api))
    assert w.submit("안녕하세요!").ok and en.submit("Hello!").ok
    cost = wchat.usage_totals(w.charges).cost
    assert cost > 0
    status = html.unescape(w.status.value)
    won = wcost.format_krw(cost * wcost.KRW_RATE.krw_per_usd)
    dollars = f"({money(cost, '')}달러)"
    assert won.startswith("₩") and f" · {won} {dollars} (오프라인:" in status
    assert status.index(won) < status.index(dollars) and "$" not in status
    assert 'class="course-' in w.status.value and hooks(w.status.value) == hooks(en.status.value)
    assert usd(wchat.usage_totals(en.charges).cost) in en.status.value and "₩" not in en.status.value
    # A model without a price: 0 won, 0 dollars, and why.
    text = wchat.cost_text(0, ["my-local-model"], lang="ko")
    assert text.startswith("₩0 (0.00달러) (helpers/models.py에 my-local-model") and "$" not in text
    assert wchat.usage_text(wchat.usage_totals([]), lang="ko") == "아직 호출 없음: 토큰 0개 · ₩0 (0.00달러)"


def test_korean_chat_labels_and_a_korean_reply(api):
    w = chat_widget(helpers.offline_client(api), lang="ko")
    en = chat_widget(helpers.offline_client(api))
    labels = [(c.description, c.tooltip or "") for c in (w.send_button, w.stop_button, w.clear_button)]
    assert labels == [("보내기", ""), ("멈추기", "스트리밍 중인 답변을 멈춥니다"), ("지우기", "")]
    assert (w.model_dropdown.description, w.temperature_slider.description) == ("모델", "온도")
    assert w.text.placeholder == "메시지를 입력하세요 (Enter로 보내기)"
    assert "아직 메시지가 없습니다" in w.history.value and "아직 호출 없음: 토큰 0개" in w.status.value
    assert 'reasoning_effort="none"' in html.unescape(w.temperature_note.value)
    assert_korean(shown_text(w))
    assert widget_classes(w) == widget_classes(en)

    result = w.submit("안녕하세요! 제 이름은 민지예요.")
    assert result.ok and result.reply.startswith("[offline]") and HANGUL.search(result.reply)
    assert api.requests[-1]["messages"] == [{"role": "user", "content": "안녕하세요! 제 이름은 민지예요."}]
    assert "민지" in w.submit("제 이름이 뭐예요?").reply  # the history was sent, the answer is Korean
    assert HANGUL.search(w.conversation.messages[-1]["content"])
    assert "사용자" in w.history.value and "어시스턴트" in w.history.value
    totals = wchat.usage_totals(w.charges)
    assert f"호출 2회 · 토큰 {totals.total_tokens:,}개 (입력 {totals.prompt_tokens:,} + " in w.status.value
    assert won_first(totals.cost) in w.status.value and "실제로는 청구되지 않습니다" in w.status.value
    w.model_dropdown.value = "gpt-6-astra"
    assert "받지 않아 보내지 않습니다" in w.temperature_note.value
    assert_korean(shown_text(w).replace(w.conversation.messages[-1]["content"], ""))

    en.submit("Hello")  # the same turns in English: the same hooks, message by message
    en.submit("What is my name?")
    en.model_dropdown.value = "gpt-6-astra"
    assert hooks(w.history.value) == hooks(en.history.value)
    assert re.findall(r'data-role="(\w+)"', w.history.value) == ["user", "assistant", "user", "assistant"]
    for part in ("header", "status", "temperature_note"):
        assert hooks(getattr(w, part).value) == hooks(getattr(en, part).value), part


@pytest.mark.parametrize("system", [None, LESSON_SYSTEM, "친절한 튜터입니다. 짧게 답하세요."])
def test_the_korean_chat_gets_korean_replies_whatever_its_system_prompt(api, system):
    """The widget adds no system prompt of its own, and the lessons' (English) one names no
    language: the offline model answers a Korean message in Korean."""
    w = chat_widget(helpers.offline_client(api), system=system, lang="ko")
    for message in ("안녕하세요!", "토큰이 뭐예요?", "스트리밍을 초등학생에게 설명해 줘"):
        reply = w.submit(message).reply
        assert reply.startswith("[offline]") and len(HANGUL.findall(reply)) > 3, (message, reply)
    sent = api.requests[-1]["messages"]
    assert [m["role"] for m in sent if m["role"] == "system"] == ([] if system is None else ["system"])
    assert system is None or sent[0]["content"] == system  # as given: nothing added to it
    # A system prompt that names a language still decides, in either widget language.
    asked = chat_widget(helpers.offline_client(api), system="Always answer in English.", lang="ko")
    assert not HANGUL.search(asked.submit("안녕하세요!").reply)


def test_korean_chat_errors_and_the_stop_notice(api):
    w = chat_widget(helpers.offline_client(api), lang="ko", background=True)
    w.PAINT_INTERVAL = 0
    api.fail_next("invalid_api_key")
    assert not w.submit("안녕하세요").ok
    assert "이 턴은 대화 기록에 남기지 않았습니다." in w.last_error and "not kept" not in w.last_error
    assert w.error.value.count('data-kind="error"') == 1
    assert w.submit("안녕하세요").ok and w.error.value == ""

    api.chunk_delay = 0.05  # slow enough to stop half way
    w.text.value = "어텐션을 길게 설명해 주세요"
    w.send_button.click()
    wait_for(lambda: len(reply_on_page(w)) > 20)
    w.stop_button.click()
    result = w.wait(timeout=5)
    assert result is not None and result.stopped and HANGUL.search(result.reply)
    notice = html.unescape(w.error.value)
    assert 'data-kind="notice"' in w.error.value and notice.count("■ 멈췄습니다.") == 1
    assert "(도착한 부분은 chat.conversation.interrupted에 있습니다)" in notice  # the variable, as in English
    charge = w.charges[-1]
    assert (
        charge.estimated
        and f"입력 토큰 {charge.prompt_tokens:,}개 + 출력 토큰 {charge.completion_tokens:,}개" in notice
    )
    assert "청구되었을 금액(추정)" in notice and won_first(charge.cost) in notice
    assert "호출 2회 (1회 멈춤, 추정)" in w.status.value  # English: "2 calls (1 stopped, estimated)"
    assert w.text.value == "어텐션을 길게 설명해 주세요"
    assert_korean(shown_text(w).replace(w.text.value, ""))
    # Said for a real server too, and for a model without a price.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", spend.SpendWarning)
        unpriced = wchat.stopped_charge("my-local-model", [{"role": "user", "content": "안녕"}], {}, "안녕하세요")
    billed = wchat.stopped_text(unpriced, "localhost", "w", lang="ko")
    assert billed.startswith("멈췄습니다.") and "청구 금액(추정)" in billed and "w.conversation.interrupted" in billed
    assert "helpers/models.py에 my-local-model의 가격이 없어" in billed
    assert_korean(billed)
    refused = wchat.run_turn(Conversation(helpers.offline_client(api)), "안녕", {"stream": True}, lang="ko")
    assert refused.error.endswith("(이 턴은 대화 기록에 남기지 않았습니다.)")


def test_the_korean_stop_notice_names_the_variable(api, monkeypatch):
    w = chat_widget(helpers.offline_client(api), lang="ko")
    monkeypatch.setattr(wchat, "get_ipython", lambda: SimpleNamespace(user_ns={"대화": w}))
    api.chunk_delay = 0.02
    w.PAINT_INTERVAL = 0
    w.submit(LONG, wait=False)
    wait_for(lambda: reply_on_page(w))
    assert w.stop() and w.wait(timeout=5).stopped
    assert "(도착한 부분은 대화.conversation.interrupted에 있습니다)" in html.unescape(w.error.value)


# -- the playground in Korean


def test_korean_playground_labels_presets_and_counts():
    w = tokenizer_playground(lang="ko")
    en = tokenizer_playground()
    assert {name: b.description for name, b in w.preset_buttons.items()} == {"Korean": "한국어", "English": "영어"}
    assert w.text.placeholder == "텍스트를 입력하거나 붙여 넣으세요"
    page = w.output.value
    assert shown_count(page, "cl100k_base") == 13 and shown_count(page, "o200k_base") == 10
    assert re.search(r'토큰 <b class="course-token-count" data-encoding="o200k_base">10</b>개 · 14자 · 36바이트', page)
    assert "점선 토큰은" in page and "&#x27;들&#x27;의 일부만" in page  # the note and the split character's tooltip
    assert "종료된 모델: gpt-3.5-turbo" in page and "추정: gpt-6 모델" in page
    assert_korean(shown_text(w))
    assert hooks(page) == hooks(en.output.value) and widget_classes(w) == widget_classes(en)

    w.preset_buttons["English"].click()  # the same keys in both languages
    assert w.text.value == ENGLISH and shown_count(w.output.value, "o200k_base") == 7
    assert re.search(r"토큰 <b [^>]*>1</b>개 · 1자 · 1바이트<", wtok.tokens_html("a", "o200k_base", "ko"))
    assert re.search(r">1</b> token · 1 character · 1 byte<", wtok.tokens_html("a", "o200k_base"))  # English
    assert wtok.used_by_text("p50k_base", lang="ko") == "강좌의 모델은 쓰지 않는 인코딩"
    own = tokenizer_playground(presets={"Emoji": "👋🏽"}, lang="ko")
    assert own.preset_buttons["Emoji"].description == "Emoji"  # a preset of one's own keeps its name


# -- the calculator in Korean


def test_korean_calculator_shows_won_first_then_dollars():
    w = cost_calculator(lang="ko")
    en = cost_calculator()
    labels = [c.description for c in (w.model_dropdown, w.input_tokens, w.output_tokens, w.calls_per_day)]
    assert labels == ["모델", "호출당 입력 토큰", "호출당 출력 토큰", "하루 호출 수"]
    est, rate = w.estimate(), wcost.KRW_RATE
    page = w.result.value
    for row, value in [
        ("input", est.input_cost),
        ("output", est.output_cost),
        ("per-call", est.per_call),
        ("per-day", est.per_day),
        ("per-month", est.per_month),
    ]:
        assert cost_cell(page, row) == f"{wcost.format_krw(rate.krw(value))} ({usd(value)})", row
    assert cost_cell(page, "per-month") == "₩15,223 ($10.50)"
    assert cost_cell(page, "per-month-in-won") == "₩15,223"
    assert "$10.50 × 1달러당 1,449.8원 (2026-02-04 환율)" in page
    m = model_info(DEFAULT_MODEL)
    assert f"{m.as_of} 기준" in page and f"원화는 {rate.date} 환율로 계산했습니다" in page  # both dates
    assert f"{AS_OF}의 환율이 아니니" in page and "추론 모델은" in page
    assert hooks(page) == hooks(en.result.value) and widget_classes(w) == widget_classes(en)

    w.text.value = KOREAN
    assert w.input_tokens.value == 10 and "기준 토큰 10개입니다" in w.text_note.value
    assert_korean(shown_text(w).replace(KOREAN, ""))
    long = wcost.cost_html(wcost.estimate(DEFAULT_MODEL, 300_000, 10, 1), rate, "ko")
    assert "100만 토큰당 $0.1 × 2<" in long and "272,000 토큰을 넘으면" in long and "긴 컨텍스트 요금" in long
    assert_korean(html.unescape(re.sub(r"<[^>]+>", " ", long)).replace(rate.source, ""))
    today = wcost.cost_html(est, wcost.ExchangeRate(1400.0, AS_OF, "my bank"), "ko")
    assert cost_cell(today, "per-month") == "₩14,700 ($10.50)" and "오늘 환율" not in today

    plain = cost_calculator(lang="ko", exchange=None)  # no rate: dollars alone, no won row
    assert cost_cell(plain.result.value, "per-month") == "$10.50" and "per-month-in-won" not in plain.result.value
    broken = cost_calculator("my-local-model", lang="ko")
    assert "비용을 계산할 수 없습니다" in broken.result.value and repr(broken) == "비용 계산기"


# -- text/plain in Korean


def test_korean_text_plain_summaries(api):
    chat = chat_widget(helpers.offline_client(api), lang="ko")
    shown = {
        "chat": text_plain(chat),
        "playground": text_plain(tokenizer_playground(lang="ko")),
        "calculator": text_plain(cost_calculator(lang="ko")),
        "calculator in dollars": text_plain(cost_calculator(lang="ko", exchange=None)),
    }
    assert shown == {
        "chat": "채팅 위젯 (gpt-6-luna, 오프라인): 실행 중인 노트북에서만 동작합니다.",
        "playground": "토크나이저 플레이그라운드: 14자 → 토큰 13개 (cl100k_base), 토큰 10개 (o200k_base)",
        "calculator": (
            "비용 계산기: gpt-6-luna, 입력 1,000 + 출력 500 토큰: 호출당 ₩0.507 ($0.00035), "
            "하루 1,000회면 한 달 ₩15,223 ($10.50)"
        ),
        "calculator in dollars": (
            "비용 계산기: gpt-6-luna, 입력 1,000 + 출력 500 토큰: 호출당 $0.00035, 하루 1,000회면 한 달 $10.50"
        ),
    }
    chat.submit("안녕하세요")
    shown["chat, a turn"] = text_plain(chat)
    assert shown["chat, a turn"] == "채팅 위젯 (gpt-6-luna, 오프라인, 지금까지 1턴): 실행 중인 노트북에서만 동작합니다."
    big = cost_calculator("gpt-6-astra", 10**9, 10**9, 10**6, lang="ko")  # the longest figures
    shown["big"] = text_plain(big)
    shown["long text"] = text_plain(tokenizer_playground("x" * 10**5, lang="ko"))
    for text in shown.values():
        assert len(text) <= REPR_LIMIT and not ADDRESS.search(text)
        assert_korean(text)
