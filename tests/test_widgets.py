"""helpers.widgets: the logic behind the widgets, and the widgets driven from code."""

from __future__ import annotations

import html
import re
import warnings
from pathlib import Path

import pytest

import helpers
from helpers import widgets as hw
from helpers.chat import Conversation
from helpers.widgets import chat_widget, cost_calculator, tokenizer_playground

KOREAN = "아버지가 방에 들어가신다."
ENGLISH = hw.PRESETS["English"]
SAMPLES = [KOREAN, ENGLISH, "Hello, world! 👋🏽", "line one\nline two\ttabbed", "  spaces  ", "", "é" * 5]
FIXTURE = Path(__file__).parent / "e2e" / "widgets_demo.ipynb"
ADDRESS = re.compile(r"0x[0-9a-fA-F]{4,}|object at|<ipywidgets|model_id|[0-9a-f]{32}")


def numbers_in(html_text: str) -> list[int]:
    """The token numbers a column shows, in order."""
    return [int(n) for n in re.findall(r'<span style="font-size:0.7em;opacity:0.7">(\d+)</span>', html_text)]


def shown_count(html_text: str, encoding: str) -> int:
    match = re.search(rf'class="course-token-count" data-encoding="{encoding}">(\d+)<', html_text)
    assert match, f"no count for {encoding}"
    return int(match.group(1))


@pytest.fixture
def api():
    return helpers.OfflineAPI(seed=0)


@pytest.fixture
def chat(api):
    w = chat_widget(helpers.offline_client(api))
    w.PAINT_INTERVAL = 0  # repaint on every streamed piece
    return w


# ---------------------------------------------------------------- tokenizer

@pytest.mark.parametrize("encoding", hw.ENCODINGS)
@pytest.mark.parametrize("text", SAMPLES)
def test_tokenize_covers_the_text_and_numbers_from_one(text, encoding):
    pieces = hw.tokenize(text, encoding)
    assert [p.number for p in pieces] == list(range(1, len(pieces) + 1))
    assert b"".join(p.data for p in pieces) == text.encode("utf-8")
    model = hw.token_count_model(encoding)
    assert len(pieces) == helpers.count_tokens(text, model) == hw.token_counts(text)[encoding]
    for p in pieces:
        if not p.partial:
            assert p.data.decode("utf-8") == p.text


def test_korean_counts_and_the_split_character():
    assert hw.token_counts(KOREAN) == {"cl100k_base": 13, "o200k_base": 10}
    assert helpers.count_tokens(KOREAN, "gpt-3.5-turbo") == 13  # cl100k_base
    assert helpers.count_tokens(KOREAN, "gpt-4o") == 10  # o200k_base
    pieces = hw.tokenize(KOREAN, "cl100k_base")
    partial = [p for p in pieces if p.partial]
    # '들' is split across two tokens: both show the whole character, dashed.
    assert [(p.number, p.text) for p in partial] == [(7, " 들"), (8, "들")]
    assert not any(p.partial for p in hw.tokenize(KOREAN, "o200k_base"))
    assert [p.text for p in hw.tokenize(KOREAN, "o200k_base")][:3] == ["아", "버", "지가"]


def test_models_using_each_encoding():
    assert hw.models_using("cl100k_base") == ["gpt-3.5-turbo"]
    assert "gpt-4o" in hw.models_using("o200k_base")
    assert hw.token_count_model("cl100k_base") == "gpt-3.5-turbo"
    assert hw.token_count_model("p50k_base") is None


@pytest.mark.parametrize("encoding", hw.ENCODINGS)
@pytest.mark.parametrize("text", SAMPLES)
def test_tokens_html_numbers_every_token_and_shows_the_count(text, encoding):
    page = hw.tokens_html(text, encoding)
    n = helpers.count_tokens(text, hw.token_count_model(encoding))
    assert numbers_in(page) == list(range(1, n + 1))
    assert shown_count(page, encoding) == n
    assert f"{len(text)} characters" in page
    assert page.count('class="course-token"') == n


def test_tokens_html_colours_neighbours_differently_and_dashes_partial_tokens():
    page = hw.tokens_html(KOREAN, "cl100k_base")
    colours = re.findall(r"background:(rgba\([^)]*\))", page)
    assert len(colours) == 13
    assert all(a != b for a, b in zip(colours, colours[1:], strict=False))
    assert page.count("1px dashed") == 2  # tokens 7 and 8
    assert "only part of &#x27;들&#x27;" in page  # in the tooltip


def test_tokens_html_makes_whitespace_visible():
    page = hw.tokens_html("a\nb\tc", "o200k_base")
    assert "↵" in page and "⇥" in page
    assert "flex-basis:100%" in page  # a newline starts a new row


@pytest.mark.parametrize("encoding", hw.ENCODINGS)
def test_tokens_html_escapes_user_text(encoding):
    text = '<script>alert("x")</script> & <evil onclick=\'y\'>'
    page = hw.tokens_html(text, encoding)
    assert "<script" not in page and "<evil" not in page and '"x"' not in page and "'y'" not in page
    assert "&lt;" in page and "&amp;" in page and "&quot;" in page
    assert "".join(html.unescape(p) for p in re.findall(r'font-family:monospace">([^<]*)<', page)) == text


def test_playground_html_puts_the_encodings_side_by_side():
    page = hw.playground_html(KOREAN)
    assert page.startswith('<div style="display:flex;flex-wrap:wrap')
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
    assert shown_count(w.output.value, "o200k_base") == helpers.count_tokens(ENGLISH, "gpt-4o")
    w.preset_buttons["Korean"].click()
    assert shown_count(w.output.value, "cl100k_base") == 13
    assert shown_count(w.output.value, "o200k_base") == 10


# ---------------------------------------------------------------- cost

@pytest.mark.parametrize("model", ["gpt-4o-mini", "gpt-4o", "o3", "gpt-3.5-turbo"])
@pytest.mark.parametrize(("tokens_in", "tokens_out", "calls"), [(1000, 500, 1000), (0, 0, 0), (123_456, 7, 3)])
def test_estimate_equals_the_pricing_functions(model, tokens_in, tokens_out, calls):
    est = hw.estimate(model, tokens_in, tokens_out, calls)
    per_call = helpers.estimate_cost(model, tokens_in, tokens_out)
    assert est.per_call == per_call
    assert est.per_month == helpers.monthly_cost(per_call, calls)
    assert est.per_day == pytest.approx(per_call * calls)
    assert est.input_cost + est.output_cost == pytest.approx(per_call)
    assert hw.estimate(model, tokens_in, tokens_out, calls, days=7).per_month == helpers.monthly_cost(
        per_call, calls, 7)


def test_estimate_known_numbers():
    est = hw.estimate("gpt-4o-mini", 1000, 500, 1000)
    # 1000 x $0.15/1M + 500 x $0.60/1M = $0.00045 per call; x 1000 calls x 30 days = $13.50.
    assert est.per_call == pytest.approx(0.00045)
    assert est.per_month == pytest.approx(13.5)


def test_estimate_rejects_negative_numbers():
    with pytest.raises(ValueError):
        hw.estimate("gpt-4o-mini", -1, 0, 1)
    with pytest.raises(ValueError):
        hw.estimate("gpt-4o-mini", 1, 1, -1)


@pytest.mark.parametrize(("value", "shown"), [
    (0, "$0.00"), (13.5, "$13.50"), (1234.567, "$1,234.57"), (0.00045, "$0.000450"),
    (0.0123, "$0.0123"), (0.5, "$0.500"), (1.0, "$1.00"), (0.0000178, "$0.0000178"), (-2.5, "-$2.50"),
])
def test_format_usd(value, shown):
    assert hw.format_usd(value) == shown


def test_cost_html_shows_each_number():
    est = hw.estimate("gpt-4o-mini", 1000, 500, 1000)
    page = hw.cost_html(est)
    for row, value in [("per-call", est.per_call), ("per-day", est.per_day), ("per-month", est.per_month)]:
        assert f'data-row="{row}" style="padding:2px 0;text-align:right;font-family:monospace">' \
               f"{hw.format_usd(value)}<" in page
    assert "$0.15 / 1M" in page and "$0.6 / 1M" in page and "2025-08-07" in page
    assert "reasoning" not in page
    assert "reasoning tokens" in hw.cost_html(hw.estimate("o3", 10, 10, 1))


def test_cost_widget_recomputes_and_counts_a_text():
    w = cost_calculator()
    assert w.estimate() == hw.estimate(helpers.DEFAULT_MODEL, 1000, 500, 1000)
    w.model_dropdown.value = "gpt-4o"
    w.input_tokens.value = 2000
    w.output_tokens.value = 100
    w.calls_per_day.value = 50
    est = hw.estimate("gpt-4o", 2000, 100, 50)
    assert hw.format_usd(est.per_month) in w.result.value
    assert w.estimate().per_month == helpers.monthly_cost(helpers.estimate_cost("gpt-4o", 2000, 100), 50)

    w.text.value = KOREAN
    assert w.input_tokens.value == helpers.count_tokens(KOREAN, "gpt-4o") == 10
    w.model_dropdown.value = "gpt-3.5-turbo"  # another tokenizer: counted again
    assert w.input_tokens.value == 13
    assert "13 tokens" in w.text_note.value
    assert repr(w) == ("Cost calculator: gpt-3.5-turbo, 13 in + 100 out tokens: "
                       f"{hw.format_usd(helpers.estimate_cost('gpt-3.5-turbo', 13, 100))}/call, "
                       f"{hw.format_usd(hw.estimate('gpt-3.5-turbo', 13, 100, 50).per_month)}/month at 50 calls/day")


def test_cost_calculator_arguments():
    w = cost_calculator("o4-mini", 10, 20, 30, days=7, text="")
    assert w.estimate() == hw.estimate("o4-mini", 10, 20, 30, days=7)
    assert cost_calculator(text="hello world").input_tokens.value == helpers.count_tokens("hello world", "gpt-4o-mini")


# ---------------------------------------------------------------- chat logic

def test_chat_params_never_send_temperature_to_reasoning_models():
    assert hw.chat_params("gpt-4o-mini", 0.7) == {"temperature": 0.7}
    assert hw.chat_params("gpt-4o-mini", 0.30000000000000004) == {"temperature": 0.3}
    for model in ("o1", "o3", "o4-mini", "gpt-5", "gpt-5-mini"):
        assert hw.chat_params(model, 0.2) == {}
    assert hw.chat_params("my-local-model", 0.5) == {"temperature": 0.5}  # unknown: not a reasoning model


def test_client_mode():
    class Fake:
        def __init__(self, url):
            self.base_url = url

    assert hw.client_mode(helpers.offline_client()) == "offline"
    assert hw.client_mode(Fake("https://api.openai.com/v1/")) == "OpenAI API"
    assert hw.client_mode(Fake("http://localhost:11434/v1")) == "http://localhost:11434/v1"
    import openai
    assert hw.client_mode(openai.OpenAI(api_key="sk-test", base_url="http://localhost:8000/v1")) == "localhost"


def test_history_html_escapes_and_labels_roles():
    messages = [{"role": "system", "content": "Be <brief>"}, {"role": "user", "content": "<script>x</script>"},
                {"role": "assistant", "content": "a & b"}]
    page = hw.history_html(messages)
    assert "<script" not in page and "&lt;script&gt;x&lt;/script&gt;" in page
    assert "Be &lt;brief&gt;" in page and "a &amp; b" in page
    assert page.index("course-msg-system") < page.index("course-msg-user") < page.index("course-msg-assistant")
    assert "No messages yet" not in page
    assert "No messages yet" in hw.history_html([]) and "No messages yet" in hw.history_html(messages[:1])
    pending = hw.history_html(messages, "next <q>", "part")
    assert pending.count("course-msg-user") == 2 and "next &lt;q&gt;" in pending and "part" in pending


def test_usage_totals_use_usage_cost(api):
    conv = Conversation(helpers.offline_client(api))
    conv.send("Hello")
    conv.model = "gpt-4o"
    conv.send("What is a token?")
    billed = [("gpt-4o-mini", conv.usages[0]), ("gpt-4o", conv.usages[1])]
    totals = hw.usage_totals(billed)
    assert totals.calls == 2
    assert totals.prompt_tokens == sum(u.prompt_tokens for u in conv.usages)
    assert totals.completion_tokens == sum(u.completion_tokens for u in conv.usages)
    assert totals.cost == pytest.approx(helpers.usage_cost("gpt-4o-mini", conv.usages[0])
                                        + helpers.usage_cost("gpt-4o", conv.usages[1]))
    text = hw.usage_text(totals, "offline")
    assert text.startswith(f"2 calls · {totals.total_tokens:,} tokens") and "nothing is billed" in text
    assert "billed" not in hw.usage_text(totals, "OpenAI API")
    assert hw.usage_text(hw.usage_totals([])) == "No calls yet: 0 tokens · $0.00"
    assert hw.usage_totals([("mystery-model", {"prompt_tokens": 1, "completion_tokens": 2})]).cost is None


def test_run_turn_streams_pieces_and_reports_errors(api):
    conv = Conversation(helpers.offline_client(api))
    seen: list[str] = []
    result = hw.run_turn(conv, "Tell me about streaming", {"temperature": 0}, seen.append)
    assert result.ok and result.reply.startswith("[offline]")
    assert len(seen) > 2 and seen[-1] == result.reply
    assert all(seen[i + 1].startswith(seen[i]) and len(seen[i + 1]) > len(seen[i]) for i in range(len(seen) - 1))
    assert conv.messages[-1] == {"role": "assistant", "content": result.reply}

    before = list(conv.messages)
    api.fail_next("stream_error")
    failed = hw.run_turn(conv, "Tell me about tokens")
    assert not failed.ok and failed.reply  # part of the reply had arrived
    assert "Traceback" not in failed.error and "not kept" in failed.error
    assert conv.messages == before


def test_run_turn_rolls_back_when_the_view_fails(api):
    conv = Conversation(helpers.offline_client(api))

    def broken(_reply):
        raise RuntimeError("view broke")

    result = hw.run_turn(conv, "Hello", on_piece=broken)
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
    assert hw._escape(reply["content"]) in chat.history.value
    assert chat.text.value == "" and chat.error.value == ""
    # The reply appeared piece by piece: the history was repainted with a growing reply.
    partial = [p for p in painted if "▌" in p]
    assert len(partial) >= 3
    for page in partial:  # the question once, the reply growing below it
        assert page.count("course-msg-user") == 1 and page.count("course-msg-assistant") == 1
    assert "▌" not in chat.history.value
    # Controls are enabled again once the reply is in.
    assert not chat.send_button.disabled and not chat.text.disabled
    assert api.requests[-1]["stream"] is True and api.requests[-1]["temperature"] == 1.0


def test_chat_enter_key_submits(chat):
    chat.text.value = "Hi there"
    chat.text._handle_string_msg(None, {"event": "submit"}, [])  # what the browser sends on Enter
    assert chat.conversation.turns == 1


def test_chat_keeps_the_history_and_counts_tokens_and_cost(chat):
    chat.submit("My name is Mina")
    chat.submit("What is my name?")
    assert chat.conversation.turns == 2
    assert "Mina" in chat.conversation.messages[-1]["content"]  # the history was sent
    totals = hw.usage_totals(chat.billed)
    assert totals.calls == 2
    assert totals.total_tokens == sum(u.total_tokens for u in chat.conversation.usages)
    assert totals.cost == pytest.approx(sum(helpers.usage_cost("gpt-4o-mini", u) for u in chat.conversation.usages))
    assert f"{totals.total_tokens:,} tokens" in chat.status.value
    assert hw.format_usd(totals.cost) in chat.status.value


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


def test_chat_reasoning_model_disables_temperature(chat, api):
    chat.temperature_slider.value = 0.3
    chat.submit("Hello")
    assert api.requests[-1]["temperature"] == 0.3

    chat.model_dropdown.value = "o3"
    assert chat.temperature_slider.disabled and "temperature is fixed at 1" in chat.temperature_note.value
    assert chat.conversation.model == "o3" and chat.params() == {}
    chat.submit("Hello again")
    assert "temperature" not in api.requests[-1] and api.requests[-1]["model"] == "o3"
    assert chat.last_error is None and chat.temperature_slider.disabled  # still disabled after the turn

    chat.model_dropdown.value = "gpt-4o"
    assert not chat.temperature_slider.disabled and chat.temperature_note.value == ""
    chat.submit("And again")
    assert api.requests[-1]["temperature"] == 0.3
    # Each call is priced at the model it used.
    assert [m for m, _ in chat.billed] == ["gpt-4o-mini", "o3", "gpt-4o"]


def test_chat_clear_empties_the_history_and_keeps_the_system_prompt(api):
    w = chat_widget(helpers.offline_client(api), system="Answer in one <short> sentence.")
    assert "Answer in one &lt;short&gt; sentence." in w.history.value
    w.submit("Hello")
    assert w.conversation.turns == 1
    w.clear_button.click()
    assert w.conversation.messages == [{"role": "system", "content": "Answer in one <short> sentence."}]
    assert "No messages yet" in w.history.value and "course-msg-user" not in w.history.value
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
    conv = Conversation(helpers.offline_client(api), model="gpt-4.1-nano", system="Be brief.")
    w = chat_widget(conversation=conv, temperature=0.0)
    assert w.conversation is conv and w.model_dropdown.value == "gpt-4.1-nano"
    w.submit("Hello")
    assert api.requests[-1]["temperature"] == 0.0 and api.requests[-1]["messages"][0]["content"] == "Be brief."
    dated = chat_widget(helpers.offline_client(api), model="gpt-4o-mini-2024-07-18")
    assert dated.model_dropdown.value == "gpt-4o-mini-2024-07-18"
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
        "chat o3": text_plain(chat_widget(helpers.offline_client(api), model="o3")),
        "playground": text_plain(tokenizer_playground()),
        "calculator": text_plain(cost_calculator()),
    }
    assert shown == {
        "chat": "Chat widget (gpt-4o-mini, offline): type a message and press Send.",
        "chat o3": "Chat widget (o3, offline): type a message and press Send.",
        "playground": "Tokenizer playground: 13 tokens (cl100k_base), 10 tokens (o200k_base) for 14 characters.",
        "calculator": ("Cost calculator: gpt-4o-mini, 1,000 in + 500 out tokens: $0.000450/call, "
                       "$13.50/month at 1,000 calls/day"),
    }
    for text in shown.values():
        assert len(text) <= hw.REPR_LIMIT and not ADDRESS.search(text)
    # The same for a second instance: nothing per-object in it.
    assert text_plain(tokenizer_playground()) == shown["playground"]


def test_text_plain_follows_the_state(chat):
    chat.submit("Hello")
    assert repr(chat) == "Chat widget (gpt-4o-mini, offline): type a message and press Send. 1 turn so far."
    p = tokenizer_playground("hello")
    assert repr(p) == "Tokenizer playground: 1 token (cl100k_base), 1 token (o200k_base) for 5 characters."
    assert repr(tokenizer_playground("x" * 10**5)) == ("Tokenizer playground: 12,500 tokens (cl100k_base), "
                                                       "12,500 tokens (o200k_base) for 100,000 characters.")
    assert hw._fit("y" * 200) == "y" * 109 + "…"


def test_fixture_notebook_text_plain_is_stable():
    """Run tests/e2e/widgets_demo.ipynb in a real kernel, as nbval does, and compare each
    cell's text/plain with the stored one."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    stored = nbformat.read(FIXTURE, as_version=4)
    fresh = nbformat.read(FIXTURE, as_version=4)
    nbclient.NotebookClient(fresh, timeout=60, kernel_name="python3", store_widget_state=False,
                            resources={"metadata": {"path": str(FIXTURE.parent)}}).execute()

    def plain(nb):
        return [o.get("data", {}).get("text/plain") for c in nb.cells if c.cell_type == "code" for o in c.outputs]

    assert plain(fresh) == plain(stored) == [
        "Chat widget (gpt-4o-mini, offline): type a message and press Send.",
        "Tokenizer playground: 7 tokens (cl100k_base), 7 tokens (o200k_base) for 30 characters.",
        "Cost calculator: gpt-4o-mini, 1,000 in + 500 out tokens: $0.000450/call, $13.50/month at 1,000 calls/day",
    ]
    widget_outputs = [o for c in fresh.cells if c.cell_type == "code" for o in c.outputs]
    assert all("application/vnd.jupyter.widget-view+json" in o["data"] for o in widget_outputs)
    assert not any(o.output_type in ("stream", "error") for c in fresh.cells for o in c.get("outputs", []))
