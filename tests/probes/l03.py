"""Probes for lesson 03's checks (helpers/practice/l03.py): the worked solutions, and the wrong
answers a learner plausibly writes first (several from the older, longer lesson)."""

from __future__ import annotations

from probes import right, wrong

CREATE = "client.chat.completions.create(model=DEFAULT_MODEL, messages={})"
REPLY = CREATE + ".choices[0].message.content"

PROBES = [
    right("ex1 solution", "ex.check_1(ask_with_history_solution)"),
    right("ex2 solution", "ex.check_2(trim_solution)"),
    wrong("ex1 left as it is", "ex.check_1(ask_with_history)"),
    wrong(
        "ex1 reply not kept",
        "ex.check_1(no_reply)",
        "def no_reply(client, messages, text):\n"
        "    messages.append({'role': 'user', 'content': text})\n"
        f"    return {REPLY.format('messages')}",
    ),
    wrong(
        "ex1 sends only the new message",
        "ex.check_1(stateless)",
        "def stateless(client, messages, text):\n"
        "    question = [{'role': 'user', 'content': text}]\n"
        f"    reply = {REPLY.format('question')}\n"
        "    messages += [{'role': 'user', 'content': text}, {'role': 'assistant', 'content': reply}]\n"
        "    return reply",
    ),
    wrong(
        "ex1 builds a copy",
        "ex.check_1(copying)",
        "def copying(client, messages, text):\n"
        "    history = [*messages, {'role': 'user', 'content': text}]\n"
        f"    reply = {REPLY.format('history')}\n"
        "    history.append({'role': 'assistant', 'content': reply})\n"
        "    return reply",
    ),
    wrong(
        "ex1 returns the response, not its text",
        "ex.check_1(whole_response)",
        "def whole_response(client, messages, text):\n"
        "    messages.append({'role': 'user', 'content': text})\n"
        f"    response = {CREATE.format('messages')}\n"
        "    messages.append({'role': 'assistant', 'content': response.choices[0].message.content})\n"
        "    return response",
    ),
    wrong("ex2 left as it is", "ex.check_2(trim)"),
    wrong("ex2 drops the system prompt", "ex.check_2(lambda messages, keep: messages[-keep:])"),
    wrong(
        "ex2 always keeps the first message",
        "ex.check_2(lambda messages, keep: messages[:1] + messages[1:][-keep:])",
    ),
    wrong(
        "ex2 keep=0 keeps everything",
        "ex.check_2(lambda messages, keep: [m for m in messages if m['role'] == 'system'] "
        "+ [m for m in messages if m['role'] != 'system'][-keep:])",
    ),
    wrong(
        "ex2 changes the list",
        "ex.check_2(in_place)",
        "def in_place(messages, keep):\n    del messages[1 : max(len(messages) - keep, 1)]\n    return messages",
    ),
]
