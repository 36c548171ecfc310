"""get_client finds the key where students put it, sends it only where it belongs, falls back
to the offline model, chooses its timeout and retries, names the address when a connection
fails, and never shows the key.

Servers here are tests/test_doctor.py's FakeOpenAI on 127.0.0.1 (it answers only its own key),
or a bare listening socket that never answers; every call that could hang has a short timeout
and max_retries=0.
"""

from __future__ import annotations

import asyncio
import socket
import sys
import types
from contextlib import closing, contextmanager

import openai
import pytest
from test_doctor import FakeOpenAI

from helpers import DEFAULT_MODEL, OfflineAPI, _connect, _settings, find_key, get_client, offline_client
from helpers import _spend as spend
from helpers._keys import mask, mask_url
from helpers.client import (
    BaseURLError,
    InvalidKeyError,
    KeySourceError,
    MissingKeyError,
    get_async_client,
)

KEY = "sk-test-" + "a1B2c3D4e5" * 4  # fake, 48 characters
OTHER = "sk-test-" + "z9Y8x7W6v5" * 4
ROOM = "sk-room-" + "Q7wE5rT3yU" * 4  # a workshop server's key
OFFLINE_HOST = "offline.invalid"
HELLO = [{"role": "user", "content": "hi"}]
QUICK = {"timeout": openai.Timeout(2.0, connect=2.0), "max_retries": 0}


# What a learner's environment may carry that changes where requests go: cleared by the fixtures.
SETTINGS_AND_PROXIES = (
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "COURSE_OFFLINE",
    "COURSE_IGNORE_DOTENV",
    "COURSE_SPEND_CAP_USD",
    "COURSE_ALLOW_HTTP",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
)


class Recorder(FakeOpenAI):
    """FakeOpenAI that also keeps every Authorization header it was sent."""

    def __init__(self, key: str = ROOM) -> None:
        super().__init__(key=key)
        self.seen: list[str] = []

    def answer(self, method, path, headers, body):
        self.seen.append(headers.get("authorization", ""))
        return super().answer(method, path, headers, body)


@pytest.fixture
def home(tmp_path, monkeypatch):
    """The course folder is tmp_path/course and the working directory: no key anywhere, no
    Colab, .env switched on, no proxy for 127.0.0.1."""
    course = tmp_path / "course"
    course.mkdir()
    for name in SETTINGS_AND_PROXIES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    for name in ("google", "google.colab", "google.colab.userdata"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    monkeypatch.setattr(_settings, "course_folder", lambda: course)
    monkeypatch.chdir(course)
    spend.reset()
    yield course
    spend.reset()


def dotenv(folder, **values) -> str:
    path = folder / ".env"
    path.write_text("".join(f"{name}={value}\n" for name, value in values.items()))
    return str(path)


def fake_colab(monkeypatch, get):
    """Install google.colab.userdata with Colab's two error classes and ``get``."""
    userdata = types.ModuleType("google.colab.userdata")

    class SecretNotFoundError(Exception):
        pass

    class NotebookAccessError(Exception):
        pass

    userdata.SecretNotFoundError, userdata.NotebookAccessError = SecretNotFoundError, NotebookAccessError
    userdata.get = lambda name: get(userdata, name)
    colab = types.ModuleType("google.colab")
    colab.userdata = userdata
    google = types.ModuleType("google")
    google.colab = colab
    monkeypatch.setitem(sys.modules, "google", google)
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    monkeypatch.setitem(sys.modules, "google.colab.userdata", userdata)


def secret(value):
    return lambda userdata, name: value if name == "OPENAI_API_KEY" else None


def missing(userdata, name):
    raise userdata.SecretNotFoundError(name)


def no_access(userdata, name):
    raise userdata.NotebookAccessError(name)


def is_offline(client):
    return client.base_url.host == OFFLINE_HOST


def ask(client):
    return client.chat.completions.create(model=DEFAULT_MODEL, messages=HELLO)


def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens (bound, then released)."""
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def silent_server():
    """A port that accepts connections (the kernel completes the handshake) and never answers."""
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/v1"


# ---------------------------------------------------------------- key lookup order


def test_argument_wins_over_everything(home, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", OTHER)
    dotenv(home, OPENAI_API_KEY=OTHER)
    found = find_key(KEY)
    assert (found.key, found.source) == (KEY, "argument")


def test_environment_wins_over_dotenv_and_colab(home, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    dotenv(home, OPENAI_API_KEY=OTHER)
    fake_colab(monkeypatch, secret(OTHER))
    found = find_key()
    assert (found.key, found.source) == (KEY, "environment")


def test_dotenv_without_the_key_falls_through_to_colab(home, monkeypatch):
    dotenv(home, OTHER_SETTING=1)
    fake_colab(monkeypatch, secret(KEY))
    found = find_key()
    assert (found.key, found.source) == (KEY, "Colab secrets")


@pytest.mark.parametrize("get,click", [(missing, "add a secret"), (no_access, "Notebook access")])
def test_colab_errors_say_what_to_click(home, monkeypatch, get, click):
    fake_colab(monkeypatch, get)
    found = find_key()
    assert (found.key, found.source) == (None, "none")
    assert "key icon" in found.note and click in found.note
    with pytest.raises(MissingKeyError) as info:
        get_client(offline=False)
    assert click in str(info.value)


def test_nothing_found(home):
    found = find_key()
    assert (found.key, found.source, found.note) == (None, "none", "")


# ---------------------------------------------------------------- where .env is searched


def test_dotenv_is_found_from_a_subfolder_of_the_course(home, monkeypatch):
    path = dotenv(home, OPENAI_API_KEY=KEY)
    sub = home / "notebooks" / "extra"
    sub.mkdir(parents=True)
    monkeypatch.chdir(sub)  # as a notebook in notebooks/ runs
    found = find_key()
    assert found.key == KEY and found.source == f".env ({path})"


def test_a_dotenv_above_the_course_folder_is_never_read(home, monkeypatch):
    dotenv(home.parent, OPENAI_API_KEY=KEY, OPENAI_BASE_URL="http://127.0.0.1:9/v1", COURSE_SPEND_CAP_USD="99")
    assert find_key().key is None
    assert _settings.setting("OPENAI_BASE_URL") is None and _settings.setting("COURSE_SPEND_CAP_USD") is None
    assert is_offline(get_client(quiet=True))


def test_outside_the_course_folder_only_the_working_directory_counts(home, monkeypatch):
    dotenv(home, OPENAI_API_KEY=KEY)
    outside = home.parent / "elsewhere"
    (outside / "sub").mkdir(parents=True)
    dotenv(outside, OPENAI_API_KEY=OTHER)
    monkeypatch.chdir(outside / "sub")
    assert find_key().key is None  # neither the parent's .env nor the course's
    monkeypatch.chdir(outside)
    assert find_key().key == OTHER


def test_the_course_folder_is_the_project_or_nothing(monkeypatch, tmp_path):
    assert (_settings.course_folder() / "pyproject.toml").is_file()
    assert (_settings.course_folder() / "helpers" / "_settings.py").is_file()
    installed = tmp_path / "site-packages" / "helpers"
    installed.mkdir(parents=True)
    monkeypatch.setattr(_settings, "__file__", str(installed / "_settings.py"))  # pip-installed, as in Colab
    assert _settings.course_folder() is None


def test_the_test_settings_keep_a_developers_dotenv_out(home, monkeypatch):
    dotenv(home, OPENAI_API_KEY=KEY, OPENAI_BASE_URL="http://127.0.0.1:9/v1")
    assert find_key().source.startswith(".env")
    monkeypatch.setenv("COURSE_IGNORE_DOTENV", "1")  # what tests/offline_env.py sets for every run
    assert find_key().key is None
    assert get_client(quiet=True).base_url.host == OFFLINE_HOST


# ---------------------------------------------------------------- a .env line that is not a setting


def test_a_dotenv_line_that_is_not_a_setting_is_named_once_by_file_and_line(home, caplog, recwarn):
    path = home / ".env"
    path.write_text(
        f"# my settings\nexport COURSE_SPEND_CAP_USD='0.50'\nOPENAI_API_KEY {KEY}\n"
        "COURSE_OFFLINE\nOPENAI_BASE_URL=http://127.0.0.1:9/${COURSE_SPEND_CAP_USD}\n"
    )
    for _ in range(4):  # get_client, the doctor and setting() each read the settings again
        settings = _settings.Settings.read()
    assert not caplog.records  # python-dotenv's own log line ("could not parse ...") is gone
    shown = [str(w.message) for w in recwarn if w.category is _settings.DotenvWarning]
    assert shown == [
        f".env: line 3 of {path} is not a setting (NAME=value), so it is ignored; it mentions OPENAI_API_KEY, "
        "which is not read from this file. Write it as NAME=value (e.g. OPENAI_API_KEY=sk-...), or start it "
        "with # to keep it as a comment.",
        f".env: line 4 of {path} is not a setting (NAME=value), so it is ignored; it mentions COURSE_OFFLINE, "
        "which is not read from this file. Write it as NAME=value (e.g. OPENAI_API_KEY=sk-...), or start it "
        "with # to keep it as a comment.",
    ]
    assert KEY not in " ".join(shown)  # the line's text is never shown
    assert [(p.line, p.names) for p in settings.dotenv_problems] == [(3, ("OPENAI_API_KEY",)), (4, ("COURSE_OFFLINE",))]
    # The other lines read as python-dotenv reads them: export, quotes, ${...} expansion.
    assert dict(settings.dotenv) == {
        "COURSE_SPEND_CAP_USD": "0.50",
        "OPENAI_BASE_URL": "http://127.0.0.1:9/0.50",
    }


def test_a_key_on_a_broken_dotenv_line_is_not_silently_dropped(home, capsys):
    (home / ".env").write_text(f"\ufeff{KEY}\n")  # a key pasted on its own, after a BOM
    with pytest.warns(_settings.DotenvWarning, match="line 1 of .* holds what looks like a key"):
        client = get_client()
    assert is_offline(client)
    banner = capsys.readouterr().out
    assert f"Line 1 of {home / '.env'} seems to hold the key but is not a setting" in banner
    assert KEY not in banner and KEY[8:20] not in banner


# ---------------------------------------------------------------- which client


def test_no_key_gives_the_offline_client_with_a_banner(home, capsys):
    client = get_client()
    assert type(client) is openai.OpenAI
    assert is_offline(client)
    out = capsys.readouterr().out
    assert "Offline mode" in out and ".env" in out
    assert ask(client).choices[0].message.content.startswith("[offline]")


def test_quiet_prints_nothing(home, capsys):
    assert is_offline(get_client(quiet=True))
    assert capsys.readouterr().out == ""


def test_a_key_from_the_environment_goes_to_the_openai_api(home, monkeypatch, capsys):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    client = get_client()
    assert type(client) is openai.OpenAI
    assert client.api_key == KEY
    assert str(client.base_url) == "https://api.openai.com/v1/"
    out = capsys.readouterr().out
    assert "Using the OpenAI API" in out and "the environment variable OPENAI_API_KEY" in out
    dotenv(home, OPENAI_BASE_URL="https://api.openai.com/v1")  # naming OpenAI itself changes nothing
    assert get_client(quiet=True).api_key == KEY


@pytest.mark.parametrize("value", ["1", "true", "YES"])
def test_course_offline_forces_offline_even_with_a_key(home, monkeypatch, capsys, value):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("COURSE_OFFLINE", value)
    assert is_offline(get_client())
    assert f"the environment variable COURSE_OFFLINE is {value}" in capsys.readouterr().out
    assert is_offline(get_client(offline=True, api_key=KEY, quiet=True))


def test_offline_true_does_not_blame_course_offline(home, capsys):
    assert is_offline(get_client(offline=True))
    out = capsys.readouterr().out
    assert "offline=True" in out and "COURSE_OFFLINE" not in out


def test_offline_false_without_a_key_says_where_to_put_it(home):
    with pytest.raises(MissingKeyError) as info:
        get_client(offline=False)
    message = str(info.value)
    assert "OPENAI_API_KEY" in message and ".env" in message


def test_offline_client_uses_the_given_api():
    api = OfflineAPI()
    client = offline_client(api)
    assert type(client) is openai.OpenAI and is_offline(client)
    ask(client)
    assert len(api.requests) == 1


# ---------------------------------------------------------------- a key goes only where it belongs


def test_a_workshop_dotenv_gets_its_own_key_not_the_shell_key(home, monkeypatch, capsys):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)  # the learner's own key, exported in the profile
    with Recorder(key=ROOM) as room:
        path = dotenv(home, OPENAI_BASE_URL=room.base_url, OPENAI_API_KEY=ROOM)
        client = get_client(**QUICK)
        assert ask(client).choices[0].message.content.startswith("[offline]")
    assert room.seen == [f"Bearer {ROOM}"]
    out = capsys.readouterr().out
    assert f"Using the server at {room.base_url}" in out and f"OPENAI_BASE_URL in {path}" in out
    assert f"key {mask(ROOM)} from the same place" in out


def test_a_dotenv_url_without_a_key_of_its_own_is_refused(home, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    with Recorder() as room:
        path = dotenv(home, OPENAI_BASE_URL=room.base_url)
        with pytest.raises(KeySourceError) as info:
            get_client()
    assert room.seen == []
    message = str(info.value)
    assert f"OPENAI_BASE_URL in {path}" in message and "the environment variable OPENAI_API_KEY" in message
    assert f"put the server's key in {path} too" in message
    assert KEY not in message and mask(KEY) not in message


def test_the_hub_case_both_in_the_environment_is_used(home, monkeypatch):
    with Recorder(key=ROOM) as hub:
        monkeypatch.setenv("OPENAI_BASE_URL", hub.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", ROOM)
        dotenv(home, OPENAI_API_KEY=KEY)  # a personal key in .env stays out
        ask(get_client(quiet=True, **QUICK))
    assert hub.seen == [f"Bearer {ROOM}"]


def test_an_environment_url_never_gets_the_dotenv_key(home, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", "https://llm.example.org/v1")
    path = dotenv(home, OPENAI_API_KEY=KEY)
    with pytest.raises(
        KeySourceError, match="from the environment variable OPENAI_BASE_URL, but the key comes from"
    ) as info:
        get_client(quiet=True)
    assert path in str(info.value)


def test_a_base_url_argument_gets_only_an_api_key_argument(home, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    with Recorder(key=ROOM) as room:
        with pytest.raises(KeySourceError, match="pass api_key= together with base_url="):
            get_client(base_url=room.base_url)
        ask(get_client(base_url=room.base_url, api_key=ROOM, quiet=True, **QUICK))
    assert room.seen == [f"Bearer {ROOM}"]


def test_an_api_key_argument_never_goes_to_a_configured_url(home, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", "https://llm.example.org/v1")
    monkeypatch.setenv("OPENAI_API_KEY", ROOM)
    with pytest.raises(KeySourceError, match="the api_key= argument") as info:
        get_client(api_key=KEY)
    assert "leave api_key= out" in str(info.value)


def test_a_custom_url_with_no_key_anywhere_goes_offline_and_says_why(home, capsys):
    path = dotenv(home, OPENAI_BASE_URL="https://llm.example.org/v1")
    assert is_offline(get_client())
    assert f"put the server's key in {path} too" in capsys.readouterr().out
    with pytest.raises(MissingKeyError):
        get_client(offline=False)


@pytest.mark.parametrize(
    "url",
    [
        "http://192.168.1.10:8000/v1",
        "http://llm.example.org/v1",
        "http://127.0.0.1.nip.io/v1",
        "http://localhost.example.org/v1",
    ],
)
def test_plain_http_to_another_machine_needs_an_explicit_yes(home, url):
    dotenv(home, OPENAI_BASE_URL=url, OPENAI_API_KEY=ROOM)
    with pytest.raises(BaseURLError, match="COURSE_ALLOW_HTTP=1") as info:
        get_client(quiet=True)
    assert ROOM not in str(info.value)
    assert get_client(quiet=True, allow_http=True).api_key == ROOM
    dotenv(home, OPENAI_BASE_URL=url, OPENAI_API_KEY=ROOM, COURSE_ALLOW_HTTP=1)
    assert str(get_client(quiet=True).base_url).rstrip("/") == url


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/v1",
        "http://127.3.4.5/v1",
        "http://localhost:11434/v1",
        "http://[::1]:8000/v1",
        "https://192.168.1.10/v1",
    ],
)
def test_this_machine_and_https_need_no_opt_in(home, url):
    assert str(get_client(base_url=url, api_key="ollama", quiet=True).base_url).rstrip("/") == url


@pytest.mark.parametrize("url", ["localhost:11434/v1", "ftp://example.org/v1", "https:///v1", "http://host:port/v1"])
def test_a_base_url_that_is_not_an_address_is_refused(home, url):
    with pytest.raises(BaseURLError, match="not a full address"):
        get_client(base_url=url, api_key=ROOM, quiet=True)


def test_the_banner_masks_credentials_in_the_url(home, capsys):
    url = "https://learner:pa55word@proxy.example.org/v1?key=abc123secret&team=blue"
    get_client(base_url=url, api_key=ROOM)
    out = capsys.readouterr().out
    assert "https://***@proxy.example.org/v1?key=***&team=***" in out
    assert "pa55word" not in out and "abc123secret" not in out and ROOM not in out
    assert "the base_url= argument" in out


@pytest.mark.parametrize(
    "url,shown",
    [
        ("http://localhost:11434/v1", "http://localhost:11434/v1"),
        ("https://u:p@h.example/v1?api_key=s3&x", "https://***@h.example/v1?api_key=***&***"),
    ],
)
def test_mask_url(url, shown):
    assert mask_url(url) == shown


# ---------------------------------------------------------------- keys are cleaned and checked


@pytest.mark.parametrize(
    "raw", [KEY + " ", KEY + "\n", f" {KEY} \r\n", f'"{KEY}"', f"'{KEY}'\n", f"\u201c{KEY}\u201d", f"\ufeff{KEY}\u200b"]
)
def test_whitespace_and_quotes_around_a_key_are_removed(home, monkeypatch, raw):
    monkeypatch.setenv("OPENAI_API_KEY", raw)
    assert find_key().key == KEY
    assert find_key(raw).key == KEY


def test_a_key_with_a_trailing_newline_works_through_the_sdk(home, monkeypatch):
    # Before: httpx refused the header, quoting it, and the SDK retried it as "Connection error."
    with Recorder(key=KEY) as hub:
        monkeypatch.setenv("OPENAI_BASE_URL", hub.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", KEY + " \n")
        assert ask(get_client(quiet=True, **QUICK)).choices[0].message.content.startswith("[offline]")
    assert hub.seen == [f"Bearer {KEY}"]


def test_a_blank_key_counts_as_none(home, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", " \n ")
    assert find_key().key is None
    assert is_offline(get_client(quiet=True))


BAD_KEYS = [
    ("Bearer " + KEY, "starts with 'Bearer '"),
    (KEY[:20] + " " + KEY[20:], "has a space inside it at position 21"),
    (KEY[:20] + "\n" + KEY[20:], "has a line break inside it"),
    (KEY[:20] + "\t" + KEY[20:], "has a control character inside it"),
    (KEY[:20] + "\u2026" + KEY[20:], "U+2026 HORIZONTAL ELLIPSIS"),
    (KEY[:20] + "\u00e9" + KEY[20:], "not plain ASCII at position 21"),
    ("OPENAI_API_KEY=" + KEY, "starts with the variable's name"),
]


@pytest.mark.parametrize("raw,words", BAD_KEYS)
def test_a_key_that_cannot_be_one_gets_a_clear_masked_error(home, monkeypatch, raw, words):
    monkeypatch.setenv("OPENAI_API_KEY", raw)
    for attempt in (find_key, get_client):
        with pytest.raises(InvalidKeyError) as info:
            attempt()
        message = str(info.value)
        assert words in message and "the environment variable OPENAI_API_KEY" in message
        assert KEY not in message and KEY[10:22] not in message and KEY[-12:] not in message
        assert info.value.__context__ is None and info.value.__cause__ is None
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    "raw,words",
    [
        ("proj_" + "a1B2c3D4e5" * 3, "project id"),
        ("org-" + "a1B2c3D4e5" * 3, "organization id"),
        ("a1B2c3D4e5" * 5, "does not start with 'sk-'"),
    ],
)
def test_what_is_not_an_openai_key_is_not_sent_to_openai(home, monkeypatch, raw, words):
    monkeypatch.setenv("OPENAI_API_KEY", raw)
    with pytest.raises(InvalidKeyError, match=words) as info:
        get_client(quiet=True)
    assert raw not in str(info.value) and "platform.openai.com/api-keys" in str(info.value)
    assert find_key().key == raw  # fine as such: another server may use keys like it
    monkeypatch.setenv("OPENAI_BASE_URL", "https://llm.example.org/v1")
    assert get_client(quiet=True).api_key == raw


# ---------------------------------------------------------------- timeouts, retries and naming the address


def test_the_client_chooses_and_shows_its_timeout_and_retries(home, monkeypatch, capsys):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    client = get_client()
    assert client.timeout == openai.Timeout(30.0, connect=10.0) and client.max_retries == 2
    assert "Timeout: 30 s without an answer, 10 s to connect; 2 retries." in capsys.readouterr().out
    client = get_client(timeout=5, max_retries=0)
    assert (client.timeout, client.max_retries) == (5, 0)
    assert "Timeout: 5 s; 0 retries." in capsys.readouterr().out
    offline = get_client(offline=True, quiet=True)
    assert offline.timeout == openai.Timeout(30.0, connect=10.0) and offline.max_retries == 2


@pytest.mark.parametrize(
    "limits", [{"timeout": 0}, {"timeout": -1}, {"timeout": "30"}, {"max_retries": -1}, {"max_retries": 1.5}]
)
def test_limits_that_make_no_sense_are_refused(home, limits):
    with pytest.raises(ValueError):
        get_client(quiet=True, **limits)


def test_a_refused_connection_names_the_url_and_the_setting(home):
    url = f"http://127.0.0.1:{closed_port()}/v1"
    path = dotenv(home, OPENAI_BASE_URL=url, OPENAI_API_KEY=ROOM)
    client = get_client(quiet=True, **QUICK)
    with pytest.raises(openai.APIConnectionError) as info:
        ask(client)
    cause = str(info.value.__cause__)
    assert f"could not reach {url} (from OPENAI_BASE_URL in {path})" in cause
    assert ROOM not in cause


def test_a_server_that_never_answers_times_out_soon_and_says_where(home, monkeypatch):
    with silent_server() as url:
        monkeypatch.setenv("OPENAI_BASE_URL", url)
        monkeypatch.setenv("OPENAI_API_KEY", ROOM)
        client = get_client(quiet=True, timeout=openai.Timeout(0.5, connect=2.0), max_retries=0)
        with pytest.raises(openai.APITimeoutError) as info:
            ask(client)
    cause = str(info.value.__cause__)
    assert f"no answer from {url} (from the environment variable OPENAI_BASE_URL) within 0.5 s" in cause


# ---------------------------------------------------------------- settings are read once per client


def test_settings_are_read_once_per_client_not_per_request(home, monkeypatch):
    reads = []
    real = _settings.read_dotenv
    monkeypatch.setattr(_settings, "read_dotenv", lambda path: reads.append(path) or real(path))
    dotenv(home, COURSE_SPEND_CAP_USD="5")
    client = get_client(offline=True, quiet=True)
    assert len(reads) == 1
    dotenv(home, COURSE_SPEND_CAP_USD="0")  # changed after the client was made: not this client's cap
    for _ in range(3):
        ask(client)
    assert len(reads) == 1 and len(spend.charges()) == 3
    with pytest.raises(openai.RateLimitError, match="spend cap"):
        ask(get_client(offline=True, quiet=True))  # a new client reads the new value


# ---------------------------------------------------------------- the async client


def test_async_client_follows_the_same_key_rules(home, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    with Recorder() as room:
        dotenv(home, OPENAI_BASE_URL=room.base_url)
        with pytest.raises(KeySourceError):
            get_async_client()
        dotenv(home, OPENAI_BASE_URL=room.base_url, OPENAI_API_KEY=ROOM)
        client = get_async_client(quiet=True, **QUICK)
        assert type(client) is openai.AsyncOpenAI
        reply = asyncio.run(client.chat.completions.create(model=DEFAULT_MODEL, messages=HELLO))
    assert reply.choices[0].message.content.startswith("[offline]")
    assert room.seen == [f"Bearer {ROOM}"] and len(spend.charges()) == 1


def test_async_connection_errors_name_the_url(home, monkeypatch):
    url = f"http://127.0.0.1:{closed_port()}/v1"
    client = get_async_client(base_url=url, api_key=ROOM, quiet=True, **QUICK)
    with pytest.raises(openai.APIConnectionError) as info:
        asyncio.run(client.chat.completions.create(model=DEFAULT_MODEL, messages=HELLO))
    assert f"could not reach {url} (from the base_url= argument of get_client())" in str(info.value.__cause__)


@pytest.mark.skipif(not hasattr(OfflineAPI, "async_transport"), reason="OfflineAPI.async_transport not there yet")
def test_async_offline_client_is_metered_and_capped(home, monkeypatch, capsys):
    client = get_async_client()
    assert type(client) is openai.AsyncOpenAI and is_offline(client)
    assert "Offline mode" in capsys.readouterr().out
    reply = asyncio.run(client.chat.completions.create(model=DEFAULT_MODEL, messages=HELLO))
    assert reply.choices[0].message.content.startswith("[offline]") and len(spend.charges()) == 1
    monkeypatch.setenv("COURSE_SPEND_CAP_USD", "0")
    with pytest.raises(openai.RateLimitError):
        asyncio.run(get_async_client(quiet=True).chat.completions.create(model=DEFAULT_MODEL, messages=HELLO))


# ---------------------------------------------------------------- the key stays secret


def test_key_never_shown(home, monkeypatch, capsys):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    get_client()
    get_client(api_key=KEY, base_url="http://localhost:8000/v1")
    found = find_key()
    chosen = _connect.plan()
    shown = capsys.readouterr().out + repr(found) + str(found) + repr(chosen)
    assert KEY not in shown and KEY[8:] not in shown
    assert mask(KEY) in repr(found)


def test_misnamed_key_in_dotenv_is_not_echoed(home, capsys):
    dotenv(home, OPENAI_APIKEY=KEY)  # a typo in the variable name
    with pytest.raises(MissingKeyError) as info:
        get_client(offline=False)
    assert KEY not in str(info.value)
    assert is_offline(get_client())
    assert KEY not in capsys.readouterr().out


@pytest.mark.parametrize("key,shown", [(KEY, "sk-..." + KEY[-2:]), ("sk-short", "***"), (None, "None"), ("", "None")])
def test_mask(key, shown):
    assert mask(key) == shown


# ---------------------------------------------------------------- every route: proxies too


class Proxy(Recorder):
    """A plain HTTP proxy in front of the fake API: it is sent absolute URLs, keeps them, answers."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def answer(self, method, path, headers, body):
        self.urls.append(path)
        return super().answer(method, "/" + path.split("/", 3)[3], headers, body)


def test_a_call_through_a_proxy_is_metered(home, monkeypatch):
    """httpx2 picks a proxy transport from HTTP_PROXY by itself; the meter sits in the client's
    send, which every route passes, so the call is charged like any other."""
    with Proxy() as proxy:
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.server.server_address[1]}")
        monkeypatch.setenv("NO_PROXY", "")
        client = get_client(api_key=ROOM, base_url="http://api.room.test/v1", allow_http=True, quiet=True, **QUICK)
        client.chat.completions.create(model=DEFAULT_MODEL, messages=HELLO)
    assert proxy.urls == ["http://api.room.test/v1/chat/completions"]
    assert proxy.seen == [f"Bearer {ROOM}"]
    (charge,) = spend.charges()
    assert charge.priced_as == DEFAULT_MODEL and charge.cost > 0 and not charge.estimated


def test_a_dead_proxy_names_the_address_and_costs_nothing(home, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{closed_port()}")
    monkeypatch.setenv("NO_PROXY", "")
    client = get_client(api_key=ROOM, base_url="http://api.room.test/v1", allow_http=True, quiet=True, **QUICK)
    with pytest.raises(openai.APIConnectionError) as info:
        client.chat.completions.create(model=DEFAULT_MODEL, messages=HELLO)
    assert "could not reach http://api.room.test/v1 (from the base_url= argument of get_client())" in str(
        info.value.__cause__
    )
    assert spend.charges() == [] and spend.reserved() == 0
