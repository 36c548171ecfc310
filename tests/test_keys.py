"""An API key never ends up in a saved notebook or in an error message.

(a) Lesson 00 runs (into a temporary copy) with a key pasted the careless way, a trailing space
    and newline, against a fake OpenAI-compatible server on 127.0.0.1; the saved notebook must
    not hold the key, nor any 12-character piece of it.
(b) Every way get_client / get_async_client / find_key can fail is provoked with that key, and
    the message, repr and formatted traceback of the error and of everything chained to it
    are searched for it.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import traceback
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path

import nbformat
import openai
import pytest
from nbclient import NotebookClient
from test_client import SETTINGS_AND_PROXIES, Recorder

from helpers import DEFAULT_MODEL, _settings, find_key, get_client
from helpers.client import (
    BaseURLError,
    InvalidKeyError,
    KeySourceError,
    MissingKeyError,
    get_async_client,
)

ROOT = Path(__file__).resolve().parents[1]
LESSON = ROOT / "notebooks" / "00_setup.ipynb"
KEY = "sk-proj-" + "LeakTest7Qz9" * 4  # made up; long like a real one
PASTED = KEY + " \n"  # as a Colab secret, getpass or `export KEY="sk-... "` may deliver it
HELLO = [{"role": "user", "content": "hi"}]
QUICK = {"timeout": openai.Timeout(2.0, connect=2.0), "max_retries": 0}


def pieces(key: str, size: int = 12) -> set[str]:
    return {key[i : i + size] for i in range(len(key) - size + 1)}


def leaks(text: str, *keys: str) -> list[str]:
    """The pieces of ``keys`` (whole, or any 12 characters of them) that ``text`` contains."""
    return sorted({piece for key in keys for piece in pieces(key) | {key} if piece in text})


@pytest.fixture
def learner(tmp_path, monkeypatch):
    """A learner's machine: not offline, .env read (the working directory is an empty course
    folder), no proxy for 127.0.0.1."""
    for name in SETTINGS_AND_PROXIES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COURSE_OFFLINE", "0")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setattr(_settings, "course_folder", lambda: tmp_path)
    monkeypatch.chdir(tmp_path)
    return tmp_path


# ---------------------------------------------------------------- (a) the saved lesson


def skipped(cell) -> bool:
    """Cells nbval skips: they may wait for a person (getpass)."""
    return "NBVAL_SKIP" in cell.source or "nbval-skip" in cell.metadata.get("tags", [])


def test_lesson_00_with_a_pasted_key_stores_no_piece_of_it(learner, monkeypatch):
    work = learner / "notebooks"
    work.mkdir()
    copy = work / LESSON.name
    shutil.copy(LESSON, copy)
    nb = nbformat.read(copy, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code" and skipped(cell):
            # nbclient runs without stdin (getpass would raise, not wait), but the tests never run these.
            cell.source = "# skipped by tests/test_keys.py, as by nbval"
    with Recorder(KEY) as server:
        monkeypatch.setenv("COURSE_IGNORE_DOTENV", "1")  # the kernel must see only the environment below
        monkeypatch.setenv("OPENAI_API_KEY", PASTED)
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)  # both from the environment: a hub's set-up
        # The kernel imports these helpers even where the project is not installed in editable mode.
        monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
        NotebookClient(
            nb,
            timeout=60,
            startup_timeout=60,
            kernel_name="python3",
            allow_errors=True,
            resources={"metadata": {"path": str(work)}},
        ).execute()
        nbformat.write(nb, copy)
    saved = copy.read_text(encoding="utf-8")
    assert leaks(saved, KEY, PASTED) == []
    # The run did use the key, cleaned, against the fake server: the check above is not vacuous.
    assert f"Using the server at {server.base_url}" in saved
    assert "[offline] " in saved and "KeyLookup(key=sk-...z9, source='environment')" in saved
    assert server.seen and set(server.seen) == {f"Bearer {KEY}"}


# ---------------------------------------------------------------- (b) every error


def chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    todo = [error]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo += [current.__cause__, current.__context__]


def shown(error: BaseException) -> str:
    """Everything a learner could see of ``error``: messages, reprs, args, the full traceback."""
    parts = ["".join(traceback.format_exception(error))]
    for item in chain(error):
        parts += [str(item), repr(item), repr(item.args)]
    return "\n".join(parts)


def closed_port() -> int:
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def dotenv(folder: Path, **values: str) -> None:
    (folder / ".env").write_text("".join(f"{name}={value}\n" for name, value in values.items()))


def call(client) -> None:
    client.chat.completions.create(model=DEFAULT_MODEL, messages=HELLO)


def acall(client) -> None:
    asyncio.run(client.chat.completions.create(model=DEFAULT_MODEL, messages=HELLO))


BROKEN = {  # values that cannot be keys anywhere, each made from KEY
    "Bearer": "Bearer " + KEY,
    "inner space": KEY[:20] + " " + KEY[20:],
    "inner newline": KEY[:20] + "\n" + KEY[20:] + "\n",
    "tab": KEY[:20] + "\t" + KEY[20:],
    "ellipsis": KEY[:20] + "\u2026" + KEY[20:],
    "accent": KEY[:30] + "\u00e9" + KEY[30:],
    "nbsp": KEY[:30] + "\u00a0" + KEY[30:],
    "variable name": "OPENAI_API_KEY=" + KEY,
}
NOT_OPENAI = {  # values that cannot be OpenAI keys (another server might take them)
    "project id": "proj_" + KEY[8:],
    "organization id": "org-" + KEY[8:],
    "no sk-": KEY[8:],
}
# What to search for: KEY's pieces cover the values that hold KEY whole.
SECRETS = [KEY] + [value for value in {**BROKEN, **NOT_OPENAI}.values() if KEY not in value]

Case = tuple[str, type[BaseException], dict, Callable[[], object]]


def cases(url: str) -> list[Case]:
    """(name, expected error, settings, action) for every failure path; settings are environment
    variables, and ".env" a dict of lines for the course folder's .env."""
    out: list[Case] = []
    for name, raw in {**BROKEN, **NOT_OPENAI}.items():
        out += [
            (f"get_client, env, {name}", InvalidKeyError, {"OPENAI_API_KEY": raw}, lambda: get_client()),
            (f"get_client, argument, {name}", InvalidKeyError, {}, lambda raw=raw: get_client(api_key=raw)),
            (
                f"get_client, .env, {name}",
                InvalidKeyError,
                {".env": {"OPENAI_API_KEY": f'"{raw}"'}},
                lambda: get_client(),
            ),
            (f"get_async_client, {name}", InvalidKeyError, {"OPENAI_API_KEY": raw}, lambda: get_async_client()),
        ]
        if name in BROKEN:
            out += [
                (f"find_key, env, {name}", InvalidKeyError, {"OPENAI_API_KEY": raw}, lambda: find_key()),
                (f"find_key, argument, {name}", InvalidKeyError, {}, lambda raw=raw: find_key(raw)),
            ]
    out += [
        (
            "env key, .env URL",
            KeySourceError,
            {"OPENAI_API_KEY": PASTED, ".env": {"OPENAI_BASE_URL": url}},
            lambda: get_client(),
        ),
        (
            "env URL, .env key",
            KeySourceError,
            {"OPENAI_BASE_URL": url, ".env": {"OPENAI_API_KEY": KEY}},
            lambda: get_client(),
        ),
        (
            "argument key, env URL",
            KeySourceError,
            {"OPENAI_BASE_URL": url, "OPENAI_API_KEY": PASTED},
            lambda: get_client(api_key=PASTED),
        ),
        ("argument URL, env key", KeySourceError, {"OPENAI_API_KEY": PASTED}, lambda: get_client(base_url=url)),
        (
            "async mismatch",
            KeySourceError,
            {"OPENAI_API_KEY": PASTED, ".env": {"OPENAI_BASE_URL": url}},
            lambda: get_async_client(),
        ),
        (
            "plain http",
            BaseURLError,
            {".env": {"OPENAI_BASE_URL": "http://10.1.2.3/v1", "OPENAI_API_KEY": KEY}},
            lambda: get_client(),
        ),
        ("not an address", BaseURLError, {}, lambda: get_client(base_url="localhost:1/v1", api_key=PASTED)),
        ("misnamed variable", MissingKeyError, {".env": {"OPENAI_APIKEY": KEY}}, lambda: get_client(offline=False)),
        ("bad cap", ValueError, {"OPENAI_API_KEY": PASTED, "COURSE_SPEND_CAP_USD": "lots"}, lambda: get_client()),
        ("bad timeout", ValueError, {"OPENAI_API_KEY": PASTED}, lambda: get_client(timeout=-1)),
        (
            "refused connection",
            openai.APIConnectionError,
            {"OPENAI_API_KEY": PASTED, "OPENAI_BASE_URL": url},
            lambda: call(get_client(**QUICK)),
        ),
        (
            "async refused connection",
            openai.APIConnectionError,
            {"OPENAI_API_KEY": PASTED, "OPENAI_BASE_URL": url},
            lambda: acall(get_async_client(**QUICK)),
        ),
        (
            "spend cap",
            openai.RateLimitError,
            {"OPENAI_API_KEY": PASTED, "OPENAI_BASE_URL": url, "COURSE_SPEND_CAP_USD": "0"},
            lambda: call(get_client(**QUICK)),
        ),
    ]
    return out


def test_no_error_of_the_client_helpers_shows_the_key(learner, monkeypatch, capsys):
    url = f"http://127.0.0.1:{closed_port()}/v1"
    checked = 0
    for name, expected, setup, action in cases(url):
        with monkeypatch.context() as patch:
            for variable, value in setup.items():
                if variable == ".env":
                    dotenv(learner, **value)
                else:
                    patch.setenv(variable, value)
            with pytest.raises(expected) as info:
                action()
            (learner / ".env").unlink(missing_ok=True)
        text = shown(info.value) + capsys.readouterr().out
        assert leaks(text, *SECRETS) == [], name
        checked += 1
    assert checked == len(BROKEN) * 6 + len(NOT_OPENAI) * 4 + 13


def test_a_reading_of_the_settings_never_shows_the_key(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.delenv("COURSE_IGNORE_DOTENV", raising=False)
    monkeypatch.setattr(_settings, "course_folder", lambda: tmp_path)
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text(f"OPENAI_API_KEY={KEY}\n")
    settings = _settings.Settings.read()
    assert settings.get("OPENAI_API_KEY") == KEY  # it holds the key...
    assert not pieces(KEY) & pieces(repr(settings) + str(settings))  # ...and never shows it
