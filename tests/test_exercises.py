"""Every exercise check in a lesson fails on plausible wrong answers and passes the stored solution.

Each lesson in ``PROBES`` is executed offline in a kernel (as tools/run_notebooks.py does), then
extra cells in the same kernel hand its ``check_exercise_N`` functions wrong answers a learner
might write, and the worked solutions. A check that says "Correct" to a wrong answer teaches the
wrong thing, so each wrong answer is its own test. Lessons not in the table are skipped until
someone writes their probes.
"""

from __future__ import annotations

import functools
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from offline_env import apply

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
CHECK_DEF = re.compile(r"^def check_exercise_(\d+)\(", re.M)
CHECK_CALL = re.compile(r"check_exercise_(\d+)\(")
MARKER = "@@verdict@@"  # a probe cell prints one line starting with this, then its verdict as JSON


@dataclass(frozen=True)
class Probe:
    """One answer handed to a check: ``setup`` builds it in the kernel, ``verdict`` calls the check."""

    name: str
    verdict: str
    setup: str = ""
    right: bool = False  # True for the worked solution: the check must say "Correct"


def right(name: str, verdict: str) -> Probe:
    return Probe(name, verdict, right=True)


def wrong(name: str, verdict: str, setup: str = "") -> Probe:
    return Probe(name, verdict, setup)


LESSON_00 = [
    right("ex1 solution", "check_exercise_1(quiet_offline_client_solution, solution_1)"),
    right("ex2 solution", "check_exercise_2(mask_solution)"),
    right("ex3 solution", "check_exercise_3(gpt_6_models_solution)"),
    # get_client() is offline in the tests too, but not on a computer with a key: the check sets one.
    wrong("ex1 plain get_client()", "check_exercise_1(lambda: get_client(quiet=True), solution_1)"),
    wrong("ex1 banner printed", "check_exercise_1(lambda: get_client(offline=True), solution_1)"),
    wrong("ex1 typed-in reply", "check_exercise_1(quiet_offline_client_solution, '[offline] A token is a word.')"),
    wrong(
        "ex1 reply to another question",
        "check_exercise_1(quiet_offline_client_solution, other)",
        "other = quiet_offline_client_solution().chat.completions.create(model=DEFAULT_MODEL, "
        "messages=[{'role': 'user', 'content': 'Hello'}]).choices[0].message.content",
    ),
    wrong("ex2 short keys shown", "check_exercise_2(lambda key: f'{key[:3]}...{key[-2:]}')"),
    wrong("ex2 always stars", "check_exercise_2(lambda key: '***')"),
    wrong("ex2 four characters", "check_exercise_2(lambda key: '***' if len(key) <= 8 else f'{key[:4]}...{key[-2:]}')"),
    wrong("ex3 unsorted", "check_exercise_3([m.id for m in client.models.list() if m.id.startswith('gpt-6')])"),
    wrong(
        "ex3 misses gpt-6.x",
        "check_exercise_3(sorted(m.id for m in client.models.list() if m.id.startswith('gpt-6-')))",
    ),
    wrong("ex3 every model", "check_exercise_3(sorted(m.id for m in client.models.list()))"),
]

LESSON_01 = [
    right("ex1 solution", "check_exercise_1(ex1_messages_solution, ex1_response_solution)"),
    right("ex2 solution", "check_exercise_2(ex2_response_solution, is_complete_solution)"),
    right("ex3 solution", "check_exercise_3(ex3_params_solution)"),
    right("ex4 solution", "check_exercise_4(safe_ask_solution)"),
    wrong(
        "ex1 system prompt in English",
        "check_exercise_1(msgs, client.chat.completions.create(model=DEFAULT_MODEL, messages=msgs))",
        "msgs = [{'role': 'system', 'content': 'Always answer in Korean.'}, "
        "{'role': 'user', 'content': 'What is a token?'}]",
    ),
    wrong(
        "ex1 question in Korean",
        "check_exercise_1(msgs, client.chat.completions.create(model=DEFAULT_MODEL, messages=msgs))",
        "msgs = [{'role': 'system', 'content': '항상 한국어로 대답해.'}, {'role': 'user', 'content': '토큰이 뭐야?'}]",
    ),
    wrong(
        "ex1 reply text, not the response",
        "check_exercise_1(ex1_messages_solution, ex1_response_solution.choices[0].message.content)",
    ),
    wrong("ex2 reply not cut", "check_exercise_2(ask('Hi!', reasoning_effort='none'), is_complete_solution)"),
    wrong("ex2 always complete", "check_exercise_2(ex2_response_solution, lambda response: True)"),
    wrong(
        "ex2 judges by the text",
        "check_exercise_2(ex2_response_solution, lambda response: bool(response.choices[0].message.content))",
    ),
    wrong("ex3 temperature alone", "check_exercise_3({'temperature': 0})"),
    wrong("ex3 no reasoning_effort", "check_exercise_3({'temperature': 0, 'stop': ['.']})"),
    wrong("ex3 low effort", "check_exercise_3({'reasoning_effort': 'low', 'temperature': 0, 'stop': ['.']})"),
    wrong("ex3 no stop", "check_exercise_3({'reasoning_effort': 'none', 'temperature': 0})"),
    wrong("ex3 temperature 1", "check_exercise_3({'reasoning_effort': 'none', 'temperature': 1, 'stop': ['.']})"),
    wrong(
        "ex3 token limit instead of stop",
        "check_exercise_3({'reasoning_effort': 'none', 'temperature': 0, 'max_completion_tokens': 12})",
    ),
    wrong(
        "ex4 lets the error through",
        "check_exercise_4(unsafe)",
        "def unsafe(question, **params):\n    return ask(question, **params).choices[0].message.content",
    ),
    wrong(
        "ex4 names the code, not the param",
        "check_exercise_4(by_code)",
        "def by_code(question, **params):\n"
        "    try:\n"
        "        return ask(question, **params).choices[0].message.content\n"
        "    except openai.BadRequestError as error:\n"
        "        return f'Invalid request: {error.code}'",
    ),
    wrong(
        "ex4 returns the response",
        "check_exercise_4(whole)",
        "def whole(question, **params):\n"
        "    try:\n"
        "        return ask(question, **params)\n"
        "    except openai.BadRequestError as error:\n"
        "        return f'Invalid request: {error.param}'",
    ),
]

LESSON_02 = [
    right("ex1 solution", "check_exercise_1(ex1_messages_solution)"),
    right("ex2 solution", "check_exercise_2(ask_with_history_solution)"),
    right("ex3 solution", "check_exercise_3(trim_solution)"),
    wrong("ex1 question alone", "check_exercise_1([question])"),
    wrong("ex1 question first", "check_exercise_1([question, *earlier])"),
    wrong("ex1 question left out", "check_exercise_1([*earlier])"),
    wrong(
        "ex2 reply not kept",
        "check_exercise_2(no_reply)",
        "def no_reply(messages, text):\n"
        "    messages.append({'role': 'user', 'content': text})\n"
        "    return reply_to(messages)",
    ),
    wrong(
        "ex2 sends only the new message",
        "check_exercise_2(stateless)",
        "def stateless(messages, text):\n"
        "    reply = reply_to([{'role': 'user', 'content': text}])\n"
        "    messages += [{'role': 'user', 'content': text}, {'role': 'assistant', 'content': reply}]\n"
        "    return reply",
    ),
    wrong(
        "ex2 builds a copy",
        "check_exercise_2(copying)",
        "def copying(messages, text):\n"
        "    history = [*messages, {'role': 'user', 'content': text}]\n"
        "    reply = reply_to(history)\n"
        "    history.append({'role': 'assistant', 'content': reply})\n"
        "    return reply",
    ),
    wrong("ex3 drops the system prompt", "check_exercise_3(lambda messages, keep: messages[-keep:])"),
    wrong(
        "ex3 keep=0 keeps everything",
        "check_exercise_3(lambda messages, keep: messages[:1] + messages[1:][-keep:])",
    ),
    wrong(
        "ex3 changes the list",
        "check_exercise_3(in_place)",
        "def in_place(messages, keep):\n    del messages[1 : max(len(messages) - keep, 1)]\n    return messages",
    ),
]
LESSON_03 = [
    right("ex1 solution", "check_exercise_1(reply_and_usage_solution)"),
    right("ex2 solution", "check_exercise_2(first_characters_solution)"),
    right("ex3 solution", "check_exercise_3(stream_turn_solution)"),
    wrong(
        "ex1 crashes on the usage chunk",
        "check_exercise_1(lambda chunks: (''.join(c.choices[0].delta.content or '' for c in chunks), "
        "chunks[-1].usage))",
    ),
    wrong(
        "ex1 no usage",
        "check_exercise_1(lambda chunks: (''.join(c.choices[0].delta.content or '' for c in chunks if c.choices), "
        "None))",
    ),
    wrong(
        "ex1 usage of the first chunk",
        "check_exercise_1(lambda chunks: (''.join(c.choices[0].delta.content or '' for c in chunks if c.choices), "
        "chunks[0].usage))",
    ),
    wrong(
        "ex1 None joined as text",
        "check_exercise_1(lambda chunks: (''.join(str(c.choices[0].delta.content) for c in chunks if c.choices), "
        "chunks[-1].usage))",
    ),
    wrong(
        "ex2 break without closing",
        "check_exercise_2(unclosed)",
        "def unclosed(client, messages, n):\n"
        "    text = ''\n"
        "    stream = client.chat.completions.create(model=DEFAULT_MODEL, messages=messages, stream=True)\n"
        "    for chunk in stream:\n"
        "        if chunk.choices and chunk.choices[0].delta.content:\n"
        "            text += chunk.choices[0].delta.content\n"
        "            if len(text) >= n:\n"
        "                break\n"
        "    return text",
    ),
    wrong(
        "ex2 reads it all, then cuts",
        "check_exercise_2(read_all)",
        "def read_all(client, messages, n):\n"
        "    stream = client.chat.completions.create(model=DEFAULT_MODEL, messages=messages, stream=True)\n"
        "    return ''.join(c.choices[0].delta.content or '' for c in stream if c.choices)[:n]",
    ),
    wrong(
        "ex2 not streamed",
        "check_exercise_2(whole)",
        "def whole(client, messages, n):\n"
        "    reply = client.chat.completions.create(model=DEFAULT_MODEL, messages=messages)\n"
        "    return reply.choices[0].message.content[:n]",
    ),
    wrong(
        "ex2 first piece only",
        "check_exercise_2(first_piece)",
        "def first_piece(client, messages, n):\n"
        "    with client.chat.completions.create(model=DEFAULT_MODEL, messages=messages, stream=True) as stream:\n"
        "        for chunk in stream:\n"
        "            if chunk.choices and chunk.choices[0].delta.content:\n"
        "                return chunk.choices[0].delta.content",
    ),
    wrong(
        "ex3 stale reply in the history",
        "check_exercise_3(stale)",
        # assistant_message is left in the kernel by section 8, as in the bug the lesson shows
        "def stale(client, messages, text):\n"
        "    messages.append({'role': 'user', 'content': text})\n"
        "    pieces = []\n"
        "    for chunk in client.chat.completions.create(model=DEFAULT_MODEL, messages=messages, stream=True):\n"
        "        if chunk.choices and chunk.choices[0].delta.content:\n"
        "            print(chunk.choices[0].delta.content, end='')\n"
        "            pieces.append(chunk.choices[0].delta.content)\n"
        "    messages.append({'role': 'assistant', 'content': assistant_message})\n"
        "    return ''.join(pieces)",
    ),
    wrong(
        "ex3 reply not kept",
        "check_exercise_3(forgetful)",
        "def forgetful(client, messages, text):\n"
        "    messages.append({'role': 'user', 'content': text})\n"
        "    return stream_turn_solution(client, list(messages), text)",
    ),
    wrong(
        "ex3 nothing printed",
        "check_exercise_3(silent)",
        "def silent(client, messages, text):\n"
        "    messages.append({'role': 'user', 'content': text})\n"
        "    stream = client.chat.completions.create(model=DEFAULT_MODEL, messages=messages, stream=True)\n"
        "    reply = ''.join(c.choices[0].delta.content or '' for c in stream if c.choices)\n"
        "    messages.append({'role': 'assistant', 'content': reply})\n"
        "    return reply",
    ),
]

# Lesson file -> (extra set-up run once after the notebook, probes). Add lessons 04-07 here.
LESSON_06 = [
    right("ex1 solution", "check_exercise_1(classify_solution)"),
    right("ex2 solution", "check_exercise_2(call_with_retries_solution)"),
    right("ex3 solution", "check_exercise_3(tight_timeout_solution)"),
    wrong(
        "ex1 every 429 is a retry",
        "check_exercise_1(by_class)",
        "def by_class(error):\n"
        "    if isinstance(error, openai.AuthenticationError):\n"
        "        return 'fix the key'\n"
        "    if isinstance(error, RETRYABLE):\n"
        "        return 'retry'\n"
        "    return 'fix the request'",
    ),
    wrong("ex1 retry everything", "check_exercise_1(lambda error: 'retry')"),
    wrong(
        "ex1 a lost connection is the request's fault",
        "check_exercise_1(no_connection)",
        "def no_connection(error):\n"
        "    if isinstance(error, openai.APIConnectionError):\n"
        "        return 'fix the request'\n"
        "    return classify_solution(error)",
    ),
    wrong("ex2 never retries", "check_exercise_2(lambda call, budget: call())"),
    wrong(
        "ex2 retries a 400",
        "check_exercise_2(everything)",
        "def everything(call, budget):\n"
        "    for _ in range(5):\n"
        "        try:\n"
        "            return call()\n"
        "        except openai.APIError:\n"
        "            time.sleep(0.01)\n"
        "    return call()",
    ),
    wrong(
        "ex2 retries insufficient_quota",
        "check_exercise_2(quota_too)",
        "def quota_too(call, budget):\n"
        "    deadline = time.monotonic() + budget\n"
        "    while True:\n"
        "        try:\n"
        "            return call()\n"
        "        except RETRYABLE:\n"
        "            if time.monotonic() + 0.05 > deadline:\n"
        "                raise\n"
        "            time.sleep(0.05)",
    ),
    wrong(
        "ex2 ignores the budget",
        "check_exercise_2(endless)",
        "def endless(call, budget):\n"
        "    while True:\n"
        "        try:\n"
        "            return call()\n"
        "        except RETRYABLE as error:\n"
        "            if error.code == 'insufficient_quota':\n"
        "                raise\n"
        "            time.sleep(0.05)",
    ),
    wrong("ex3 zero", "check_exercise_3(0)"),
    wrong("ex3 longer than the slow reply", "check_exercise_3(1)"),
    wrong("ex3 a string", "check_exercise_3('0.1')"),
]


PROBES: dict[str, tuple[str, list[Probe]]] = {
    "00_setup.ipynb": ("", LESSON_00),
    "01_basic_call.ipynb": ("", LESSON_01),
    "02_multi_turn_chat.ipynb": ("", LESSON_02),
    "03_streaming.ipynb": ("", LESSON_03),
    "06_errors_and_retries.ipynb": ("", LESSON_06),
}


def probe_cell(probe: Probe) -> nbformat.NotebookNode:
    """A cell that builds the answer, runs the check and prints its verdict on one marked line."""
    source = (
        f"{probe.setup}\n"
        f"import json as _json\n"
        f"_verdict = {probe.verdict}\n"
        f"print({MARKER!r} + _json.dumps({probe.name!r}) + {MARKER!r} + _json.dumps(_verdict))"
    )
    return nbformat.v4.new_code_cell(source)


def verdicts_of(cell: nbformat.NotebookNode) -> tuple[str, str] | str:
    """(probe name, verdict) from a probe cell's output, or the error it raised."""
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            return f"{output['ename']}: {output['evalue']}"
        for line in output.get("text", "").splitlines():
            if line.startswith(MARKER):
                name, verdict = line[len(MARKER) :].split(MARKER, 1)
                return json.loads(name), json.loads(verdict)
    return "the probe printed no verdict"


@functools.cache
def run_lesson(filename: str) -> dict[str, str]:
    """Execute the lesson and its probes in one kernel; return each probe's verdict (or error)."""
    apply(os.environ)  # the kernel inherits the offline settings, as in tools/run_notebooks.py
    path = NOTEBOOKS / filename
    setup, probes = PROBES[filename]
    nb = nbformat.read(path, as_version=4)
    lesson_cells = len(nb.cells)
    if setup:
        nb.cells.append(nbformat.v4.new_code_cell(setup))
    first_probe = len(nb.cells)
    nb.cells += [probe_cell(p) for p in probes]
    # allow_errors: a probe that raises is reported as that probe's failure, not as a crash of all.
    client = NotebookClient(
        nb, timeout=60, kernel_name="python3", allow_errors=True, resources={"metadata": {"path": str(path.parent)}}
    )
    client.execute()
    errors = [
        f"cell {i}: {o['ename']}: {o['evalue']}"
        for i, cell in enumerate(nb.cells[:first_probe])
        for o in cell.get("outputs", [])
        if o.get("output_type") == "error"
    ]
    assert not errors, f"{filename} failed before its probes ran ({lesson_cells} lesson cells): {errors}"
    results = {}
    for probe, cell in zip(probes, nb.cells[first_probe:], strict=True):
        found = verdicts_of(cell)
        results[probe.name] = found[1] if isinstance(found, tuple) and found[0] == probe.name else f"[probe] {found}"
    return results


CASES = [
    pytest.param(filename, probe, id=f"{filename[:2]}: {probe.name}")
    for filename, (_, probes) in PROBES.items()
    for probe in probes
]


@pytest.mark.parametrize(("filename", "probe"), CASES)
def test_check_judges_the_answer(filename: str, probe: Probe):
    if not (NOTEBOOKS / filename).exists():
        pytest.skip(f"{filename} is not in notebooks/")
    verdict = run_lesson(filename)[probe.name]
    assert not verdict.startswith("[probe]"), f"the probe itself failed: {verdict}"
    if probe.right:
        assert verdict.startswith("Correct"), f"the solution is refused: {verdict}"
    else:
        assert "Correct" not in verdict, f"a wrong answer ({probe.name}) is accepted: {verdict}"
        assert verdict.startswith(("Not yet", "Not quite")), f"unexpected verdict: {verdict}"


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")), ids=lambda p: p.name)
def test_every_check_is_probed(path: Path):
    """Each check in a lesson has its solution and at least two wrong answers in PROBES;
    a lesson not in the table yet is skipped, not forgotten."""
    sources = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")
    checks = set(CHECK_DEF.findall(sources))
    if not checks:
        pytest.skip(f"{path.name} has no exercise checks")
    if path.name not in PROBES:
        pytest.skip(f"{path.name}: its exercise checks have no wrong-answer probes yet (add them to PROBES)")
    probes = PROBES[path.name][1]
    for number in sorted(checks):
        mine = [p for p in probes if CHECK_CALL.search(p.verdict).group(1) == number]
        assert any(p.right for p in mine), f"check_exercise_{number} of {path.name}: no solution probe"
        assert sum(not p.right for p in mine) >= 2, f"check_exercise_{number} of {path.name}: under two wrong answers"
