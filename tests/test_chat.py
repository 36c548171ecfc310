"""Conversation keeps the history, sends all of it, and rolls a failed turn back."""

import httpx2
import openai
import pytest

from helpers import (
    DEFAULT_MODEL,
    Conversation,
    OfflineAPI,
    chat_loop,
    count_message_tokens,
    describe_error,
    offline_client,
    scripted,
)
from helpers.models import lesson_models
from helpers.offline import MARKER

SYSTEM = "You are a helpful tutor."
LONG = "Give me a long answer please"
# gpt-6-luna, the course's model, reasons: it takes a temperature only with reasoning turned off.
STEADY = {"reasoning_effort": "none", "temperature": 0}


@pytest.fixture
def api():
    return OfflineAPI()


@pytest.fixture
def conv(api):
    return Conversation(offline_client(api, max_retries=0), system=SYSTEM, params=dict(STEADY))


def snapshot(conv):
    return [dict(m) for m in conv.messages]


def test_the_default_model_is_the_course_model_and_a_lesson_model(api):
    conv = Conversation(offline_client(api))
    assert conv.model == DEFAULT_MODEL == "gpt-6-luna" and conv.model in lesson_models()
    conv.send("Hello")  # at its default effort: no sampling parameters, hidden reasoning billed as output
    assert api.requests[-1]["model"] == DEFAULT_MODEL and "temperature" not in api.requests[-1]
    assert conv.usages[-1].completion_tokens_details.reasoning_tokens > 0


def test_a_temperature_without_reasoning_effort_none_is_refused_and_rolled_back(api):
    conv = Conversation(offline_client(api, max_retries=0), params={"temperature": 0})
    with pytest.raises(openai.BadRequestError, match="temperature"):
        conv.send("Hello")
    assert conv.messages == [] and conv.interrupted[-1].user == "Hello"
    conv.params["reasoning_effort"] = "none"
    assert conv.send("Hello").startswith(MARKER)
    assert conv.usages[-1].completion_tokens_details.reasoning_tokens == 0


def test_send_keeps_and_sends_the_whole_history(api, conv):
    first = conv.send("My name is Alice")
    assert api.requests[-1]["messages"] == [{"role": "system", "content": SYSTEM},
                                            {"role": "user", "content": "My name is Alice"}]
    second = conv.send("What's my name?")
    assert api.requests[-1]["messages"] == [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": "My name is Alice"},
        {"role": "assistant", "content": first},
        {"role": "user", "content": "What's my name?"},
    ]
    assert "Alice" in second  # it could only know from the history it was sent
    assert conv.messages[-1] == {"role": "assistant", "content": second}
    assert conv.turns == 2
    # one usage per call, each for the history sent in that call
    assert [u.prompt_tokens for u in conv.usages] == [
        count_message_tokens(body["messages"], conv.model) for body in api.requests]


def test_params_apply_to_every_call_and_can_be_overridden(api, conv):
    conv.send("hi", seed=7)
    assert (api.requests[-1]["temperature"], api.requests[-1]["seed"]) == (0, 7)
    assert api.requests[-1]["reasoning_effort"] == "none"
    conv.send("hi again", temperature=1)
    assert api.requests[-1]["temperature"] == 1 and "seed" not in api.requests[-1]
    assert api.requests[-1]["reasoning_effort"] == "none"  # the conversation's own params stay
    assert api.requests[-1]["model"] == conv.model


def test_stream_yields_pieces_and_stores_exactly_the_streamed_text(api, conv):
    pieces = list(conv.stream("Tell me about tokens"))
    assert len(pieces) > 1
    assert conv.messages[-1] == {"role": "assistant", "content": "".join(pieces)}
    # A second turn stores its own text, not the previous reply (the lecture's bug).
    second = list(conv.stream("And temperature?"))
    assert conv.messages[-1]["content"] == "".join(second) != "".join(pieces)
    assert api.requests[-1]["messages"][-2] == {"role": "assistant", "content": "".join(pieces)}
    assert api.requests[-1]["stream"] is True


def test_stream_records_the_same_usage_as_send(api):
    client = offline_client(api)
    streamed, sent = Conversation(client, params=dict(STEADY)), Conversation(client, params=dict(STEADY))
    assert "".join(streamed.stream("Tell me about tokens")) == sent.send("Tell me about tokens")
    assert streamed.usages == sent.usages and len(sent.usages) == 1


def test_interrupt_thrown_into_the_stream_rolls_the_turn_back(conv):
    conv.send("Hello")
    before = snapshot(conv)
    stream = conv.stream(LONG)
    arrived = [next(stream), next(stream)]
    with pytest.raises(KeyboardInterrupt):
        stream.throw(KeyboardInterrupt)
    assert conv.messages == before
    lost = conv.interrupted[-1]
    assert (lost.user, lost.partial_reply) == (LONG, "".join(arrived))
    assert isinstance(lost.error, KeyboardInterrupt)


def test_interrupt_raised_by_the_chunk_source_rolls_back(api, conv, monkeypatch):
    real_create = conv.client.chat.completions.create

    def create_then_interrupt(**kwargs):
        def chunks():
            for i, chunk in enumerate(real_create(**kwargs)):
                if i == 3:
                    raise KeyboardInterrupt  # Ctrl-C while the SDK waits for the next chunk
                yield chunk
        return chunks()

    monkeypatch.setattr(conv.client.chat.completions, "create", create_then_interrupt)
    before = snapshot(conv)
    arrived = []
    with pytest.raises(KeyboardInterrupt):
        for piece in conv.stream(LONG):
            arrived.append(piece)
    assert arrived and conv.messages == before
    assert conv.interrupted[-1].partial_reply == "".join(arrived)


def test_interrupt_closes_the_http_stream(conv, monkeypatch):
    closed = []
    monkeypatch.setattr(openai.Stream, "close", lambda self: closed.append(self.response))
    stream = conv.stream(LONG)
    next(stream)
    with pytest.raises(KeyboardInterrupt):
        stream.throw(KeyboardInterrupt)
    assert len(closed) == 1  # not left open by the traceback kept in `interrupted`


def test_stopping_the_stream_early_rolls_back(conv):
    before = snapshot(conv)
    stream = conv.stream(LONG)
    first = next(stream)
    stream.close()  # the consumer stops reading (a notebook's stop button)
    assert conv.messages == before
    assert conv.interrupted[-1].partial_reply == first


def test_api_error_mid_stream_rolls_back_and_keeps_the_partial_text(api, conv):
    conv.send("Hello")
    before = snapshot(conv)
    api.fail_next("stream_error")
    arrived = []
    with pytest.raises(openai.APIError):
        for piece in conv.stream(LONG):
            arrived.append(piece)
    assert arrived, "the error should come after some text"
    assert conv.messages == before
    lost = conv.interrupted[-1]
    assert (lost.user, lost.partial_reply) == (LONG, "".join(arrived))
    assert isinstance(lost.error, openai.APIError)
    # The next turn sends a consistent history, without the lost one.
    conv.send("Tell me about tokens")
    assert [m["content"] for m in api.requests[-1]["messages"] if m["role"] == "user"] == [
        "Hello", "Tell me about tokens"]


def test_failed_send_rolls_back(api, conv):
    conv.send("Hello")
    before = snapshot(conv)
    api.fail_next("invalid_api_key")
    with pytest.raises(openai.AuthenticationError):
        conv.send("Tell me about tokens")
    assert conv.messages == before
    assert conv.interrupted[-1].user == "Tell me about tokens"
    assert conv.interrupted[-1].partial_reply == ""
    assert len(conv.usages) == 1


def test_failed_stream_request_rolls_back(api, conv):
    before = snapshot(conv)
    api.fail_next("invalid_api_key")
    with pytest.raises(openai.AuthenticationError):
        list(conv.stream("hi"))
    assert conv.messages == before


def test_reset_keeps_the_system_prompt(conv):
    conv.send("Hello")
    conv.reset()
    assert conv.messages == [{"role": "system", "content": SYSTEM}]
    assert conv.turns == 0
    plain = Conversation(conv.client)
    plain.send("Hello")
    plain.reset()
    assert plain.messages == []


def run_loop(conv, lines, **kwargs):
    """Run chat_loop on scripted input; return everything it showed, as a terminal would."""
    printed = []
    chat_loop(conv, input_fn=scripted(lines, echo=lambda typed: printed.append(typed + "\n")),
              print_fn=lambda *args, end="\n", flush=False: printed.append(" ".join(map(str, args)) + end),
              **kwargs)
    return "".join(printed)


@pytest.mark.parametrize("stream", [True, False])
def test_chat_loop_runs_a_scripted_chat_until_exit(conv, stream):
    output = run_loop(conv, ["Hello", "", "My name is Alice", "What's my name?", "exit", "not read"],
                      stream=stream)
    replies = [m["content"] for m in conv.messages if m["role"] == "assistant"]
    assert len(replies) == conv.turns == 3  # the blank line was skipped
    for reply in replies:
        assert f"Assistant: {reply}\n" in output
    assert "Alice" in replies[-1]
    assert output.rstrip().endswith("Chat ended.")
    assert "not read" not in output


def test_chat_loop_ends_at_end_of_input(conv):
    output = run_loop(conv, ["Hello"])
    assert conv.turns == 1 and output.rstrip().endswith("Chat ended.")


def test_chat_loop_ends_politely_when_the_kernel_cannot_ask_for_input(conv, capsys):
    def no_stdin(prompt):  # what input() raises in a kernel run without a person (nbval)
        raise NotImplementedError("raw_input was called, but this frontend does not support input requests.")

    chat_loop(conv, input_fn=no_stdin)
    output = capsys.readouterr().out
    assert "[no input]" in output and "scripted" in output and conv.turns == 0
    assert output.rstrip().endswith("Chat ended.")


def test_chat_loop_accepts_the_korean_exit_word(conv):
    run_loop(conv, ["안녕", "종료", "Hello"])
    assert conv.turns == 1


@pytest.mark.parametrize("stream,failure,error_class", [
    (True, "invalid_api_key", "AuthenticationError (401)"),
    (False, "invalid_api_key", "AuthenticationError (401)"),
    (True, "stream_error", "APIError"),
])
def test_chat_loop_survives_an_api_error(api, conv, stream, failure, error_class):
    api.fail_next(failure)
    output = run_loop(conv, [LONG, "Tell me about tokens", "exit"], stream=stream)
    error_lines = [line for line in output.splitlines() if line.startswith("[error]")]
    assert len(error_lines) == 1 and error_lines[0].startswith(f"[error] {error_class}")
    assert [m["content"] for m in conv.messages if m["role"] == "user"] == ["Tell me about tokens"]
    assert conv.messages[-1]["content"].startswith(MARKER)
    assert output.rstrip().endswith("Chat ended.")


def test_chat_loop_stops_on_ctrl_c_while_printing(conv):
    printed, turn, pieces = [], [0], [0]

    def print_fn(*args, end="\n", flush=False):
        text = "".join(map(str, args)) + end
        if text == "Assistant: ":
            turn[0] += 1
        elif turn[0] == 2 and end == "":
            pieces[0] += 1
            if pieces[0] == 3:
                raise KeyboardInterrupt  # Ctrl-C while the second reply is being shown
        printed.append(text)

    chat_loop(conv, input_fn=scripted(["Hello", LONG, "never read"], echo=lambda _: None), print_fn=print_fn)
    assert [m["content"] for m in conv.messages if m["role"] == "user"] == ["Hello"]  # the cut turn is gone
    assert conv.messages[-1]["role"] == "assistant"
    assert conv.interrupted[-1].user == LONG and conv.interrupted[-1].partial_reply
    assert printed[-2].startswith("\n[interrupted]") and printed[-1] == "Chat ended.\n"


def test_scripted_types_lines_then_raises_eof():
    shown = []
    fake = scripted(["a", "b"], echo=shown.append)
    assert (fake("User: "), fake("> ")) == ("a", "b")
    assert shown == ["User: a", "> b"]
    with pytest.raises(EOFError):
        fake("User: ")


def test_describe_error_gives_class_status_and_hint(api):
    client = offline_client(api, max_retries=0)
    for kind, expected in [("invalid_api_key", "AuthenticationError (401):"), ("rate_limit", "RateLimitError (429):"),
                           ("server_error", "InternalServerError (500):")]:
        api.fail_next(kind)
        with pytest.raises(openai.APIStatusError) as info:
            client.chat.completions.create(model=DEFAULT_MODEL, messages=[{"role": "user", "content": "hi"}])
        line = describe_error(info.value)
        # The API's own message once, without the SDK's "Error code: NNN - " prefix.
        assert line.startswith(expected) and info.value.body["message"] in line
        assert "Error code" not in line
        assert line.endswith(("OPENAI_API_KEY.", "rate limits.", "status.openai.com."))
    assert describe_error(ValueError("boom")) == "ValueError: boom"


def test_describe_error_gives_no_wait_advice_for_a_spent_quota():
    error = openai.RateLimitError(
        "Error code: 429 - quota", response=httpx2.Response(429, request=httpx2.Request("POST", "https://x")),
        body={"message": "Course spend cap reached: raise COURSE_SPEND_CAP_USD.", "type": "insufficient_quota",
              "param": None, "code": "insufficient_quota"})
    line = describe_error(error)
    assert line == "RateLimitError (429): Course spend cap reached: raise COURSE_SPEND_CAP_USD."
