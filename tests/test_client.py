"""get_client finds the key where students put it, falls back to the offline model,
and never shows the key."""

import sys
import types

import openai
import pytest

from helpers import DEFAULT_MODEL, OfflineAPI, find_key, get_client, offline_client
from helpers.client import MissingKeyError, mask

KEY = "sk-test-" + "a1B2c3D4e5" * 4  # fake, 48 characters
OTHER = "sk-test-" + "z9Y8x7W6v5" * 4
OFFLINE_HOST = "offline.invalid"


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A course folder with no key anywhere: no env, no Colab, and an empty .env that
    stops the upward .env search before any real one."""
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "COURSE_OFFLINE", "COURSE_IGNORE_DOTENV"):
        monkeypatch.delenv(name, raising=False)
    for name in ("google", "google.colab", "google.colab.userdata"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    (tmp_path / ".env").write_text("# no key here\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


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


# ---------------------------------------------------------------- key lookup order

def test_argument_wins_over_everything(home, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", OTHER)
    (home / ".env").write_text(f"OPENAI_API_KEY={OTHER}\n")
    found = find_key(KEY)
    assert (found.key, found.source) == (KEY, "argument")


def test_environment_wins_over_dotenv_and_colab(home, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    (home / ".env").write_text(f"OPENAI_API_KEY={OTHER}\n")
    fake_colab(monkeypatch, secret(OTHER))
    found = find_key()
    assert (found.key, found.source) == (KEY, "environment")


def test_dotenv_is_found_from_a_subfolder(home, monkeypatch):
    (home / ".env").write_text(f"OPENAI_API_KEY={KEY}\n")
    fake_colab(monkeypatch, secret(OTHER))
    sub = home / "a" / "b"
    sub.mkdir(parents=True)
    monkeypatch.chdir(sub)  # as a notebook in notebooks/ runs
    found = find_key()
    assert found.key == KEY
    assert found.source.startswith(".env") and str(home / ".env") in found.source


def test_dotenv_without_the_key_falls_through_to_colab(home, monkeypatch):
    (home / ".env").write_text("OTHER_SETTING=1\n")
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


# ---------------------------------------------------------------- which client

def test_no_key_gives_the_offline_client_with_a_banner(home, capsys):
    client = get_client()
    assert type(client) is openai.OpenAI
    assert is_offline(client)
    out = capsys.readouterr().out
    assert "Offline mode" in out and ".env" in out
    reply = client.chat.completions.create(model=DEFAULT_MODEL, messages=[{"role": "user", "content": "hi"}])
    assert reply.choices[0].message.content.startswith("[offline]")


def test_quiet_prints_nothing(home, capsys):
    assert is_offline(get_client(quiet=True))
    assert capsys.readouterr().out == ""


def test_a_key_gives_the_real_client(home, monkeypatch, capsys):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    client = get_client()
    assert type(client) is openai.OpenAI
    assert client.api_key == KEY
    assert client.base_url.host == "api.openai.com"
    assert "key from environment" in capsys.readouterr().out


@pytest.mark.parametrize("value", ["1", "true", "YES"])
def test_course_offline_forces_offline_even_with_a_key(home, monkeypatch, capsys, value):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("COURSE_OFFLINE", value)
    assert is_offline(get_client())
    assert "COURSE_OFFLINE" in capsys.readouterr().out
    assert is_offline(get_client(offline=True, api_key=KEY, quiet=True))


def test_offline_false_without_a_key_says_where_to_put_it(home):
    with pytest.raises(MissingKeyError) as info:
        get_client(offline=False)
    message = str(info.value)
    assert "OPENAI_API_KEY" in message and ".env" in message


def test_base_url_argument_and_environment(home, monkeypatch, capsys):
    client = get_client(api_key=KEY, base_url="http://localhost:11434/v1")
    assert str(client.base_url).rstrip("/") == "http://localhost:11434/v1"
    assert "http://localhost:11434/v1" in capsys.readouterr().out
    monkeypatch.setenv("OPENAI_BASE_URL", "https://proxy.example/v1")
    assert str(get_client(api_key=KEY).base_url).rstrip("/") == "https://proxy.example/v1"


def test_offline_client_uses_the_given_api():
    api = OfflineAPI()
    client = offline_client(api)
    assert type(client) is openai.OpenAI and is_offline(client)
    client.chat.completions.create(model=DEFAULT_MODEL, messages=[{"role": "user", "content": "hi"}])
    assert len(api.requests) == 1


# ---------------------------------------------------------------- the key stays secret

def test_key_never_shown(home, monkeypatch, capsys):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    get_client()
    get_client(api_key=KEY, base_url="http://localhost:8000/v1")
    found = find_key()
    shown = capsys.readouterr().out + repr(found) + str(found)
    assert KEY not in shown and KEY[8:] not in shown
    assert mask(KEY) in repr(found)


def test_misnamed_key_in_dotenv_is_not_echoed(home, capsys):
    (home / ".env").write_text(f"OPENAI_APIKEY={KEY}\n")  # a typo in the variable name
    with pytest.raises(MissingKeyError) as info:
        get_client(offline=False)
    assert KEY not in str(info.value)
    assert is_offline(get_client())
    assert KEY not in capsys.readouterr().out


@pytest.mark.parametrize("key,shown", [(KEY, "sk-..." + KEY[-2:]), ("sk-short", "***"), (None, "None"), ("", "None")])
def test_mask(key, shown):
    assert mask(key) == shown


def test_the_test_settings_keep_a_developers_dotenv_out(home, monkeypatch):
    (home / ".env").write_text(f"OPENAI_API_KEY={KEY}\nOPENAI_BASE_URL=http://127.0.0.1:9/v1\n")
    assert find_key().source.startswith(".env")
    monkeypatch.setenv("COURSE_IGNORE_DOTENV", "1")  # what tests/offline_env.py sets for every run
    assert find_key().key is None
    assert get_client(quiet=True).base_url.host == OFFLINE_HOST
