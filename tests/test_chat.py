"""Conversation keeps the history, sends all of it, and rolls a failed turn back."""

import gc
import json
import re
import threading

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
from helpers._offline import MARKER
from helpers.chat import ChatError
from helpers.models import lesson_models

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
    assert api.requests[-1]["messages"] == [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": "My name is Alice"},
    ]
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
        count_message_tokens(body["messages"], conv.model) for body in api.requests
    ]


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
        "Hello",
        "Tell me about tokens",
    ]


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
    chat_loop(
        conv,
        input_fn=scripted(lines, echo=lambda typed: printed.append(typed + "\n")),
        print_fn=lambda *args, end="\n", flush=False: printed.append(" ".join(map(str, args)) + end),
        **kwargs,
    )
    return "".join(printed)


@pytest.mark.parametrize("stream", [True, False])
def test_chat_loop_runs_a_scripted_chat_until_exit(conv, stream):
    output = run_loop(conv, ["Hello", "", "My name is Alice", "What's my name?", "exit", "not read"], stream=stream)
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


def test_chat_loop_speaks_korean_when_asked(conv):
    printed, prompts = [], []
    chat_loop(
        conv,
        input_fn=lambda prompt: prompts.append(prompt) or ("안녕" if len(prompts) == 1 else "종료"),
        print_fn=lambda *args, **kwargs: printed.append("".join(map(str, args))),
        lang="ko",
    )
    text = "\n".join(printed)
    assert prompts == ["사용자: ", "사용자: "] and "어시스턴트: " in printed
    assert "를 입력하세요" in printed[0] and "대화를 마쳤습니다." in text and "User" not in text
    with pytest.raises(ValueError, match="en, ko"):
        chat_loop(conv, input_fn=lambda prompt: "quit", lang="fr")


@pytest.mark.parametrize(
    "stream,failure,error_class",
    [
        (True, "invalid_api_key", "AuthenticationError (401)"),
        (False, "invalid_api_key", "AuthenticationError (401)"),
        (True, "stream_error", "APIError"),
    ],
)
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
    for kind, expected in [
        ("invalid_api_key", "AuthenticationError (401):"),
        ("rate_limit", "RateLimitError (429):"),
        ("server_error", "InternalServerError (500):"),
    ]:
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
        "Error code: 429 - quota",
        response=httpx2.Response(429, request=httpx2.Request("POST", "https://x")),
        body={
            "message": "Course spend cap reached: raise COURSE_SPEND_CAP_USD.",
            "type": "insufficient_quota",
            "param": None,
            "code": "insufficient_quota",
        },
    )
    line = describe_error(error)
    assert line == "RateLimitError (429): Course spend cap reached: raise COURSE_SPEND_CAP_USD."


# ---------------------------------------------------------------- failures the SDK does not turn into API errors

BASE_URL = "http://127.0.0.1:9/v1"  # never contacted: a MockTransport answers


def chunk_line(delta, finish=None, index=0):
    data = {
        "id": "chatcmpl-x",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": DEFAULT_MODEL,
        "choices": [{"index": index, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(data)}\n\n"


def sse(*events):
    return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content="".join(events).encode())


def completion(message, finish="stop"):
    return httpx2.Response(
        200,
        json={
            "id": "chatcmpl-x",
            "object": "chat.completion",
            "created": 1,
            "model": DEFAULT_MODEL,
            "choices": [{"index": 0, "finish_reason": finish, "message": message}],
        },
    )


def dropped_stream():
    def body():
        yield chunk_line({"content": "Half a rep"}).encode()
        raise httpx2.RemoteProtocolError("peer closed connection without sending complete message body")

    return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=body())


PORTAL = "<html>\n<head><title>Campus Wi-Fi login</title></head><body>Accept the terms</body></html>"
# Answers a server can send with status 200 that are not a usable chat completion.
BAD = {
    "portal": lambda: httpx2.Response(200, headers={"content-type": "text/html"}, content=PORTAL.encode()),
    "not json": lambda: httpx2.Response(200, headers={"content-type": "application/json"}, content=b"{oops"),
    "no choices key": lambda: httpx2.Response(200, json={"detail": "Not Found"}),
    "empty choices": lambda: httpx2.Response(200, json={"object": "chat.completion", "choices": []}),
    "null content": lambda: completion({"role": "assistant", "content": None}),
    "tool call": lambda: completion(
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
        },
        "tool_calls",
    ),
    "sse not json": lambda: sse(chunk_line({"content": "Hel"}), "data: {not json\n\n"),
    "sse error event": lambda: sse(
        chunk_line({"content": "Hel"}), 'event: error\ndata: {"error": {"message": "The server is overloaded."}}\n\n'
    ),
    "sse not a chunk": lambda: sse('data: {"message": "overloaded"}\n\n'),
    "sse dropped": dropped_stream,
    "sse cut": lambda: sse(chunk_line({"role": "assistant", "content": ""}), chunk_line({"content": "Half"})),
    "sse empty": lambda: sse("data: [DONE]\n\n"),
    "sse no text": lambda: sse(
        chunk_line({"role": "assistant", "content": ""}), chunk_line({}, "stop"), "data: [DONE]\n\n"
    ),
}


def mock_client(api, bad=BAD, before=None):
    """A real SDK client whose requests the offline model answers, except a user message
    named in ``bad``: that one gets the bad answer."""

    def handle(request):
        if before:
            before(request)
        body = json.loads(request.content)
        text = body["messages"][-1]["content"]
        return bad[text]() if text in bad else api.handle(request)

    http = openai.DefaultHttpx2Client(transport=httpx2.MockTransport(handle))
    return openai.OpenAI(api_key="sk-test", base_url=BASE_URL, http_client=http, max_retries=0)


@pytest.fixture
def mconv(api):
    conv = Conversation(mock_client(api), system=SYSTEM, params=dict(STEADY))
    conv.send("Hello")
    return conv


def test_a_web_page_instead_of_a_completion_rolls_back_and_says_what_to_check(mconv):
    before = snapshot(mconv)
    with pytest.raises(ChatError) as info:
        mconv.send("portal")
    message = str(info.value)
    assert BASE_URL in message and "OPENAI_BASE_URL" in message and "Campus Wi-Fi login" in message
    assert "\n" not in message and "sk-test" not in message
    assert mconv.messages == before and mconv.interrupted[-1].user == "portal"
    with pytest.raises(ChatError, match="OPENAI_BASE_URL"):  # streamed, the page is an empty event stream
        list(mconv.stream("portal"))
    assert mconv.messages == before and len(mconv.interrupted) == 2


@pytest.mark.parametrize(
    "kind,says",
    [
        ("not json", "not a chat completion"),
        ("no choices key", "without `choices`"),
        ("empty choices", "no choices"),
        ("null content", "reply was empty"),
        ("tool call", "does not run tools"),
    ],
)
def test_a_malformed_reply_is_refused_and_rolled_back(mconv, kind, says):
    before = snapshot(mconv)
    with pytest.raises(ChatError, match=re.escape(says)):
        mconv.send(kind)
    assert mconv.messages == before
    assert mconv.interrupted[-1].user == kind
    assert mconv.send("What's my name?").startswith(MARKER)  # the next turn goes on from the same history


def test_every_broken_stream_rolls_back_with_a_clear_error(mconv, api):
    before = snapshot(mconv)
    expected = {
        "sse not json": (ChatError, "not a chat completion"),
        "sse error event": (openai.APIError, "overloaded"),
        "sse not a chunk": (ChatError, "not a chat completion chunk"),
        "sse dropped": (openai.APIConnectionError, "Connection error"),
        "sse cut": (ChatError, "ended before the reply was finished"),
        "sse empty": (ChatError, "without a single chunk"),
        "sse no text": (ChatError, "reply was empty"),
    }
    for kind, (error_class, says) in expected.items():
        with pytest.raises(error_class, match=says):
            list(mconv.stream(kind))
        assert mconv.messages == before, kind
        assert mconv.interrupted[-1].user == kind
    partial = {lost.user: lost.partial_reply for lost in mconv.interrupted}
    assert partial["sse dropped"] == "Half a rep" and partial["sse cut"] == "Half"
    list(mconv.stream("Tell me about tokens"))
    assert [m["content"] for m in api.requests[-1]["messages"] if m["role"] == "user"] == [
        "Hello",
        "Tell me about tokens",
    ]


@pytest.mark.parametrize("streamed", [False, True])
def test_a_reply_cut_before_any_text_is_not_kept_but_its_usage_is(api, conv, streamed):
    conv.params.pop("reasoning_effort")  # gpt-6-luna thinks first: 5 tokens are all spent reasoning
    conv.params.pop("temperature")
    before = snapshot(conv)
    with pytest.raises(ChatError, match="max_completion_tokens"):
        if streamed:
            list(conv.stream("Hello", max_completion_tokens=5))
        else:
            conv.send("Hello", max_completion_tokens=5)
    assert conv.messages == before
    assert [u.completion_tokens for u in conv.usages] == [5]  # billed, so counted


def test_a_refusal_is_the_reply(api):
    conv = Conversation(
        mock_client(
            api,
            bad={
                "Do it": lambda: completion(
                    {"role": "assistant", "content": None, "refusal": "I can't help with that."}
                )
            },
        )
    )
    assert conv.send("Do it") == "I can't help with that."
    assert conv.messages[-1] == {"role": "assistant", "content": "I can't help with that."}


def test_stream_keeps_only_the_first_choice(api):
    two = sse(
        chunk_line({"role": "assistant", "content": ""}),
        chunk_line({"content": "One"}),
        chunk_line({"content": "Two"}, index=1),
        chunk_line({"content": " one"}),
        chunk_line({}, "stop"),
        chunk_line({}, "stop", index=1),
        "data: [DONE]\n\n",
    )
    conv = Conversation(mock_client(api, bad={"Hi": lambda: two}))
    assert list(conv.stream("Hi")) == ["One", " one"]
    assert conv.messages[-1] == {"role": "assistant", "content": "One one"}


@pytest.mark.parametrize(
    "params,says",
    [
        ({"stream": True}, "conversation.stream"),
        ({"stream": False}, "conversation.stream"),
        ({"n": 2}, "one reply per turn"),
        ({"stream_options": {"include_usage": True}}, "usage"),
        ({"model": "gpt-5.4-mini"}, "model="),
        ({"messages": []}, "own history"),
    ],
)
def test_params_that_would_break_the_history_are_refused(api, params, says):
    with pytest.raises(ValueError, match=re.escape(says)):
        Conversation(offline_client(api), params=params)
    conv = Conversation(offline_client(api), params=dict(STEADY))
    with pytest.raises(ValueError, match=re.escape(says)):
        conv.send("Hello", **params)
    with pytest.raises(ValueError, match=re.escape(says)):
        conv.stream("Hello", **params)  # refused when called, before anything is sent
    conv.params.update(params)  # params is a plain dict: checked again on every call
    with pytest.raises(ValueError, match=re.escape(says)):
        conv.send("Hello")
    assert conv.messages == [] and api.requests == [] and conv.interrupted == []


# ---------------------------------------------------------------- a stream left open


@pytest.mark.parametrize("ending", ["close", "garbage"])
def test_a_stream_left_open_never_touches_a_later_turn(api, conv, ending):
    conv.send("Hello")
    stream = conv.stream(LONG)
    first = next(stream)  # then left open: the learner moves on
    reply = conv.send("Tell me about tokens")
    after = snapshot(conv)
    assert [m["content"] for m in after if m["role"] == "user"] == ["Hello", "Tell me about tokens"]
    assert [m["content"] for m in api.requests[-1]["messages"] if m["role"] == "user"] == [
        "Hello",
        "Tell me about tokens",
    ]  # the open turn was not sent as history either
    assert after[-1] == {"role": "assistant", "content": reply}
    if ending == "close":
        stream.close()
    else:
        del stream
        gc.collect()
    assert conv.messages == after
    lost = conv.interrupted[-1]
    assert (lost.user, lost.partial_reply) == (LONG, first) and isinstance(lost.error, ChatError)
    assert "left open" in str(lost.error)


def test_a_stream_resumed_after_a_later_turn_is_stopped_not_kept(api, conv):
    stream = conv.stream(LONG)
    next(stream)
    second = list(conv.stream("Tell me about tokens"))
    after = snapshot(conv)
    with pytest.raises(ChatError, match="later turn started"):
        list(stream)  # the owner of the first turn is no longer its owner: it cannot commit
    assert conv.messages == after and after[-1]["content"] == "".join(second)
    assert len(conv.interrupted) == 1


def test_a_reply_for_a_history_that_was_reset_is_not_kept(conv):
    conv.send("Hello")
    stream = conv.stream(LONG)
    next(stream)
    conv.reset()
    with pytest.raises(ChatError, match="history changed"):
        list(stream)
    assert conv.messages == [{"role": "system", "content": SYSTEM}]
    assert conv.interrupted[-1].user == LONG


# ---------------------------------------------------------------- threads


def test_two_threads_take_turns_one_after_the_other(api):
    first_sent, release, seen = threading.Event(), threading.Event(), []

    def hold_the_first(request):
        seen.append(request)
        if not first_sent.is_set():
            first_sent.set()
            assert release.wait(10), "the test never released the first request"

    conv = Conversation(mock_client(api, before=hold_the_first), params=dict(STEADY))
    errors = []

    def ask(text):
        try:
            conv.send(text)
        except BaseException as error:  # shown by the assertion below
            errors.append(error)

    one = threading.Thread(target=ask, args=("My name is Alice",))
    one.start()
    assert first_sent.wait(10)
    two = threading.Thread(target=ask, args=("What's my name?",))
    two.start()
    two.join(0.3)
    assert two.is_alive() and len(seen) == 1  # the second turn waits for the first
    release.set()
    one.join(10)
    two.join(10)
    assert not one.is_alive() and not two.is_alive() and errors == []
    assert [m["role"] for m in conv.messages] == ["user", "assistant"] * 2
    assert [m["content"] for m in conv.messages if m["role"] == "user"] == ["My name is Alice", "What's my name?"]
    assert api.requests[-1]["messages"][:2] == conv.messages[:2]  # the second turn was sent the first
    assert "Alice" in conv.messages[-1]["content"]


def test_a_stream_left_open_by_a_finished_thread_does_not_block_others(conv):
    def start_and_leave():
        stream = conv.stream(LONG)
        next(stream)
        leaked.append(stream)  # still referenced: never closed

    leaked = []
    worker = threading.Thread(target=start_and_leave)
    worker.start()
    worker.join(10)
    assert conv.send("Hello").startswith(MARKER)
    assert [m["content"] for m in conv.messages if m["role"] == "user"] == ["Hello"]
    assert conv.interrupted[-1].user == LONG


# ---------------------------------------------------------------- the chat loop


def test_chat_loop_survives_every_broken_stream_with_one_line_each(mconv):
    kinds = [
        "sse not json",
        "sse error event",
        "sse not a chunk",
        "sse dropped",
        "sse cut",
        "sse empty",
        "sse no text",
        "portal",
    ]
    output = run_loop(mconv, [*kinds, "What's my name?", "exit"])
    errors = [line for line in output.splitlines() if line.startswith("[error]")]
    assert len(errors) == len(kinds)
    assert all("Traceback" not in line and len(line) < 400 for line in errors)
    assert any("OPENAI_BASE_URL" in line for line in errors)
    assert [m["content"] for m in mconv.messages if m["role"] == "user"] == ["Hello", "What's my name?"]
    assert all(m["content"] for m in mconv.messages)  # no empty assistant turn
    assert output.rstrip().endswith("Chat ended.")


def test_chat_loop_takes_a_plain_string_as_one_exit_word(conv):
    output = run_loop(conv, ["Hello", "q", "quit", "never read"], exit_words="quit")
    assert output.startswith("Type quit to stop.")
    assert [m["content"] for m in conv.messages if m["role"] == "user"] == ["Hello", "q"]


def test_describe_error_is_one_line():
    assert describe_error(ValueError("line one\n  line two")) == "ValueError: line one line two"
