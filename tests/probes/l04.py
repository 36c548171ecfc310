"""Probes for lesson 04's checks (helpers/practice/l04.py): the worked solutions, and the wrong
answers a learner plausibly writes first (several from the older, longer lesson)."""

from __future__ import annotations

from probes import right, wrong

JOINED = "''.join(c.choices[0].delta.content or '' for c in chunks if c.choices)"
STREAM = "client.chat.completions.create(model=DEFAULT_MODEL, messages=messages, stream=True)"

PROBES = [
    right("ex1 solution", "ex.check_1(reply_and_usage_solution)"),
    right("ex2 solution", "ex.check_2(stream_turn_solution)"),
    wrong("ex1 left as it is", "ex.check_1(reply_and_usage)"),
    wrong(
        "ex1 crashes on the usage chunk",
        "ex.check_1(lambda chunks: (''.join(c.choices[0].delta.content or '' for c in chunks), chunks[-1].usage))",
    ),
    wrong("ex1 no usage", f"ex.check_1(lambda chunks: ({JOINED}, None))"),
    wrong("ex1 usage of the first chunk", f"ex.check_1(lambda chunks: ({JOINED}, chunks[0].usage))"),
    wrong(
        "ex1 None joined as text",
        "ex.check_1(lambda chunks: (''.join(str(c.choices[0].delta.content) for c in chunks if c.choices), "
        "chunks[-1].usage))",
    ),
    wrong("ex1 the text alone", f"ex.check_1(lambda chunks: {JOINED})"),
    wrong(
        "ex1 only the first piece",
        "ex.check_1(lambda chunks: (next(c.choices[0].delta.content for c in chunks "
        "if c.choices and c.choices[0].delta.content), chunks[-1].usage))",
    ),
    wrong("ex2 left as it is", "ex.check_2(stream_turn)"),
    wrong(
        "ex2 stale reply in the history",
        "ex.check_2(stale)",
        # the bug section 5 describes: a name left over in the kernel from a non-streaming loop
        "assistant_message = '[offline] Hello! I am the offline model.'\n"
        "def stale(client, messages, text):\n"
        "    messages.append({'role': 'user', 'content': text})\n"
        "    pieces = []\n"
        f"    for chunk in {STREAM}:\n"
        "        if chunk.choices and chunk.choices[0].delta.content:\n"
        "            print(chunk.choices[0].delta.content, end='')\n"
        "            pieces.append(chunk.choices[0].delta.content)\n"
        "    messages.append({'role': 'assistant', 'content': assistant_message})\n"
        "    return ''.join(pieces)",
    ),
    wrong(
        "ex2 reply not kept",
        "ex.check_2(forgetful)",
        "def forgetful(client, messages, text):\n"
        "    messages.append({'role': 'user', 'content': text})\n"
        "    return stream_turn_solution(client, list(messages[:-1]), text)",
    ),
    wrong(
        "ex2 nothing printed",
        "ex.check_2(silent)",
        "def silent(client, messages, text):\n"
        "    messages.append({'role': 'user', 'content': text})\n"
        f"    reply = ''.join(c.choices[0].delta.content or '' for c in {STREAM} if c.choices)\n"
        "    messages.append({'role': 'assistant', 'content': reply})\n"
        "    return reply",
    ),
    wrong(
        "ex2 not streamed",
        "ex.check_2(whole)",
        "def whole(client, messages, text):\n"
        "    messages.append({'role': 'user', 'content': text})\n"
        "    response = client.chat.completions.create(model=DEFAULT_MODEL, messages=messages)\n"
        "    reply = response.choices[0].message.content\n"
        "    print(reply)\n"
        "    messages.append({'role': 'assistant', 'content': reply})\n"
        "    return reply",
    ),
]
