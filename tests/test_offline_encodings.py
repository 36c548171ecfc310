"""Offline means offline: the course counts tokens with no network and no tiktoken cache.

Each run below is a fresh Python with the network refused (socket connect and DNS raise), no
TIKTOKEN_CACHE_DIR and an empty HOME and TMPDIR, so tiktoken has no cache to fall back on:
only the encodings shipped in helpers/_encodings can make it work.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import tiktoken
import tiktoken.registry
import tiktoken_ext.openai_public as openai_public

from helpers import _encodings
from tools import doctor

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ("o200k_base", "cl100k_base")

# sitecustomize runs before anything else in a Python started with it on PYTHONPATH, `-m` included.
NO_NETWORK = """
import socket

def refuse(*args, **kwargs):
    raise OSError("network refused by tests/test_offline_encodings.py")

socket.socket.connect = refuse
socket.socket.connect_ex = refuse
socket.getaddrinfo = refuse
"""

LESSON_CALLS = """
import socket
try:
    socket.create_connection(("openaipublic.blob.core.windows.net", 443), timeout=5)
except OSError as error:
    assert "network refused" in str(error), error
else:
    raise AssertionError("the network is not refused")

import helpers
import tiktoken
from helpers import count_message_tokens, count_tokens, get_client

enc = tiktoken.get_encoding("o200k_base")
assert enc.encode("Hello, world!") == [13225, 11, 2375, 0]
assert tiktoken.encoding_for_model("gpt-4o") is enc
assert tiktoken.encoding_for_model("gpt-4").encode("Hello, world!") == [9906, 11, 1917, 0]
assert count_tokens("Hello, world!", "gpt-4o") == 4
assert count_tokens("안녕하세요", "gpt-4") > 0

client = get_client(offline=True, quiet=True)
messages = [{"role": "user", "content": "How do tokens work?"}]
reply = client.chat.completions.create(model=helpers.DEFAULT_MODEL, messages=messages)
assert reply.choices[0].message.content.startswith("[offline]"), reply
assert reply.usage.prompt_tokens == count_message_tokens(messages, helpers.DEFAULT_MODEL), reply.usage
assert reply.usage.completion_tokens > 0, reply.usage

# An encoding the course does not ship still needs the download: the network really is refused.
try:
    tiktoken.get_encoding("p50k_base")
except Exception:
    print("p50k_base: needs the network")
print("ok")
"""


def offline_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A fresh learner's environment with the network refused and no tiktoken cache anywhere."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(NO_NETWORK, encoding="utf-8")
    home, tmp = tmp_path / "home", tmp_path / "tmp"
    home.mkdir()
    tmp.mkdir()
    drop = ("TIKTOKEN_CACHE_DIR", "DATA_GYM_CACHE_DIR", "OPENAI_API_KEY", "OPENAI_BASE_URL")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(
        PYTHONPATH=str(site),
        HOME=str(home),
        USERPROFILE=str(home),
        TMPDIR=str(tmp),
        TEMP=str(tmp),
        TMP=str(tmp),
        COURSE_OFFLINE="1",
        PYTHONIOENCODING="utf-8",
        **extra,
    )
    return env


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)


@pytest.mark.parametrize("cache", ["none", "a learner's own empty cache"])
def test_the_offline_model_and_the_lessons_count_tokens_without_network(tmp_path, cache):
    extra = {}
    if cache != "none":  # a TIKTOKEN_CACHE_DIR the learner set, empty and read-only: nothing breaks
        folder = tmp_path / "my-cache"
        folder.mkdir(mode=0o555)
        extra["TIKTOKEN_CACHE_DIR"] = str(folder)
    done = run(["-c", LESSON_CALLS], offline_env(tmp_path, **extra))
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines() == ["p50k_base: needs the network", "ok"], done.stdout + done.stderr
    assert "Warning" not in done.stderr, done.stderr
    # Nothing was downloaded into tiktoken's default cache either.
    assert not (tmp_path / "tmp" / "data-gym-cache").exists()


def test_the_doctor_finds_the_encodings_without_network(tmp_path):
    done = run(["-m", "tools.doctor", "--timeout", "20"], offline_env(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    line = next(line for line in done.stdout.splitlines() if "tiktoken encoding" in line)
    assert line.startswith("✓") and "o200k_base, cl100k_base" in line and "shipped with the course" in line, line


def test_the_verifier_checks_the_shipped_files_without_network(tmp_path):
    done = run(["-m", "tools.prefetch_encodings"], offline_env(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert [line.split(":")[0] for line in done.stdout.splitlines()] == list(SHIPPED)


# ---------------------------------------------------------------- the files and their arguments


class _AnyHash:
    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and len(other) == 64


ANY_HASH = _AnyHash()


@pytest.mark.parametrize("name", SHIPPED)
def test_the_shipped_files_are_tiktokens_own(name, monkeypatch):
    """The file's sha256 and every constructor argument are those of the installed tiktoken's
    tiktoken_ext.openai_public (its constructor is run with the download replaced by a recorder)."""
    asked = []

    def recorder(url, expected_hash=None):
        asked.append((url, expected_hash))
        return {}

    monkeypatch.setattr(openai_public, "load_tiktoken_bpe", recorder)
    theirs = openai_public.ENCODING_CONSTRUCTORS[name]()
    assert asked == [(f"https://openaipublic.blob.core.windows.net/encodings/{name}.tiktoken", ANY_HASH)]
    published = asked[0][1]
    assert _encodings.SPECS[name]["sha256"] == published
    path = _encodings.FOLDER / f"{name}.tiktoken"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == published
    ours = _encodings.construct(name)
    assert {k: v for k, v in ours.items() if k != "mergeable_ranks"} == {
        k: v for k, v in theirs.items() if k != "mergeable_ranks"
    }
    assert len(ours["mergeable_ranks"]) > 100_000


def test_the_files_ship_in_the_package_data():
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '"helpers._encodings" = ["*.tiktoken", "NOTICE.md"]' in pyproject
    notice = (_encodings.FOLDER / "NOTICE.md").read_text(encoding="utf-8")
    for name in SHIPPED:
        assert _encodings.SPECS[name]["sha256"] in notice and f"{name}.tiktoken" in notice
    assert "MIT" in notice
    # git must not convert their line endings (a Windows checkout would change their hash).
    assert "*.tiktoken binary" in (_encodings.FOLDER / ".gitattributes").read_text(encoding="utf-8")


# ---------------------------------------------------------------- a damaged file, another tiktoken


@pytest.fixture
def damaged(tmp_path, monkeypatch):
    """The shipped folder with cl100k_base changed by one byte, and tiktoken not yet holding it."""
    for name in SHIPPED:
        shutil.copyfile(_encodings.FOLDER / f"{name}.tiktoken", tmp_path / f"{name}.tiktoken")
    path = tmp_path / "cl100k_base.tiktoken"
    data = bytearray(path.read_bytes())
    data[10] ^= 1
    path.write_bytes(bytes(data))
    monkeypatch.setattr(_encodings, "FOLDER", tmp_path)
    monkeypatch.delitem(tiktoken.registry.ENCODINGS, "cl100k_base", raising=False)
    return path


def test_a_damaged_file_is_refused_with_what_to_do(damaged):
    with pytest.raises(_encodings.EncodingFileError) as caught:
        tiktoken.get_encoding("cl100k_base")
    message = str(caught.value)
    assert str(damaged) in message and "sha256" in message and _encodings.SPECS["cl100k_base"]["sha256"] in message
    assert "git checkout -- helpers/_encodings" in message and "reinstall" in message
    assert "cl100k_base" not in tiktoken.registry.ENCODINGS  # refused, not kept


def test_a_missing_file_is_refused_with_what_to_do(damaged):
    damaged.unlink()
    with pytest.raises(_encodings.EncodingFileError, match="cannot be read.*reinstall"):
        tiktoken.encoding_for_model("gpt-4")


def test_the_doctor_reports_a_damaged_file_with_the_fix(damaged):
    line = doctor.check_encodings(("cl100k_base",), timeout=30)
    assert line.status == doctor.FAIL, line
    assert "EncodingFileError" in line.text and "git checkout -- helpers/_encodings" in line.text, line


def test_another_tiktoken_registry_gives_a_clear_warning(monkeypatch):
    monkeypatch.setattr(_encodings, "PROBLEM", None)
    monkeypatch.delattr(tiktoken.registry, "ENCODING_CONSTRUCTORS")
    with pytest.warns(RuntimeWarning, match="could not hand tiktoken its own encoding files.*needs internet"):
        assert _encodings.register() is False
    assert _encodings.PROBLEM and tiktoken.__version__ in _encodings.PROBLEM


def test_registering_again_keeps_tiktoken_working():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _encodings.register() is True
    assert _encodings.PROBLEM is None
    assert tiktoken.get_encoding("o200k_base").encode("Hello, world!") == [13225, 11, 2375, 0]
