"""Getting an ``openai.OpenAI`` client, with a key or without one.

Key lookup order: the ``api_key`` argument, the ``OPENAI_API_KEY`` environment
variable, a ``.env`` file (searched from the working directory upwards), then Colab
secrets when running in Colab. With no key, or with ``COURSE_OFFLINE=1``, the client
talks to the offline model in ``helpers.offline`` through the SDK's own HTTP layer.

The settings ``OPENAI_BASE_URL``, ``COURSE_OFFLINE`` and ``COURSE_SPEND_CAP_USD`` are read
the same way: the environment first, then ``.env``. Every client meters what it spends
(``helpers.spend``) and refuses calls once ``COURSE_SPEND_CAP_USD`` is reached.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

import httpx2
import openai
from dotenv import dotenv_values, find_dotenv

from . import spend
from .offline import OfflineAPI

OFFLINE_KEY = "sk-offline"  # sent to the offline model, which accepts any key
TRUE = {"1", "true", "yes", "on"}


class MissingKeyError(RuntimeError):
    """offline=False was asked for, but no API key was found."""


@dataclass(frozen=True)
class KeyLookup:
    """Where the key came from. ``repr`` never shows the key itself."""

    key: str | None
    source: str  # "argument", "environment", ".env (path)", "Colab secrets" or "none"
    note: str = ""  # why a source could not be used (e.g. a Colab secret without access)

    def __repr__(self) -> str:
        return f"KeyLookup(key={mask(self.key)}, source={self.source!r})"


def mask(key: str | None) -> str:
    """A key shown safely: its prefix and last two characters only."""
    if not key:
        return "None"
    return f"{key[:3]}...{key[-2:]}" if len(key) > 8 else "***"


def in_colab() -> bool:
    return "google.colab" in sys.modules


def _colab_key() -> tuple[str | None, str]:
    """The OPENAI_API_KEY Colab secret, or None and a hint saying what to click."""
    from google.colab import userdata  # type: ignore[import-not-found]

    try:
        return userdata.get("OPENAI_API_KEY"), ""
    except userdata.SecretNotFoundError:
        return None, ("Colab has no secret named OPENAI_API_KEY: click the key icon in the left "
                      "sidebar, add a secret with that name and your key as the value.")
    except userdata.NotebookAccessError:
        return None, ("The OPENAI_API_KEY secret exists but this notebook may not read it: click "
                      "the key icon in the left sidebar and turn on 'Notebook access' for it.")


def _dotenv() -> tuple[str, dict[str, str | None]]:
    if os.environ.get("COURSE_IGNORE_DOTENV"):  # tests and notebook re-runs: a developer's .env stays out
        return "", {}
    path = find_dotenv(usecwd=True)  # from the working directory upwards: works from notebooks/
    return path, (dotenv_values(path) if path else {})


def setting(name: str) -> str | None:
    """A course setting: the environment variable if set, else the value in ``.env``."""
    value = os.environ.get(name)
    if value:
        return value
    return _dotenv()[1].get(name) or None


def spend_cap() -> float | None:
    """``COURSE_SPEND_CAP_USD`` in USD, or None. Raises ValueError for a value that is not an amount."""
    return spend.parse_cap(setting(spend.CAP_VARIABLE))


def metered(transport: httpx2.BaseTransport) -> spend.SpendTransport:
    """``transport`` behind the spend meter, with the cap read from the environment or .env."""
    return spend.SpendTransport(transport, cap=spend_cap, cap_text=lambda: setting(spend.CAP_VARIABLE))


def find_key(api_key: str | None = None) -> KeyLookup:
    """Look the key up in order: argument, environment, .env, Colab secrets."""
    if api_key:
        return KeyLookup(api_key, "argument")
    if os.environ.get("OPENAI_API_KEY"):
        return KeyLookup(os.environ["OPENAI_API_KEY"], "environment")
    path, values = _dotenv()
    if values.get("OPENAI_API_KEY"):
        return KeyLookup(values["OPENAI_API_KEY"], f".env ({path})")
    if in_colab():
        key, note = _colab_key()
        if key:
            return KeyLookup(key, "Colab secrets")
        return KeyLookup(None, "none", note)
    return KeyLookup(None, "none")


def offline_client(api: OfflineAPI | None = None, **kwargs) -> openai.OpenAI:
    """A real ``openai.OpenAI`` whose HTTP requests are answered by ``api``.

    Its calls are metered at what they would cost for real (``helpers.spend``)."""
    api = api or OfflineAPI.from_env()
    http = openai.DefaultHttpx2Client(transport=metered(httpx2.MockTransport(api.handle)))
    return openai.OpenAI(api_key=OFFLINE_KEY, base_url="https://offline.invalid/v1",
                         http_client=http, **kwargs)


def real_http_client() -> httpx2.Client:
    """The HTTP client the SDK would make by itself (timeouts, connection limits, proxies
    from the environment), with each of its transports behind the spend meter."""
    http = openai.DefaultHttpx2Client()
    # httpx2 picks a transport per URL: the default one, plus one per proxy from
    # HTTPS_PROXY and friends. Wrap them all so every route is metered.
    http._transport = metered(http._transport)
    http._mounts = {pattern: None if transport is None else metered(transport)
                    for pattern, transport in http._mounts.items()}
    return http


def _cap_note() -> str:
    cap = spend_cap()
    if cap is None:
        return ""
    return (f" Spend cap: {spend.CAP_VARIABLE}={setting(spend.CAP_VARIABLE)} "
            f"(spent so far in this kernel: {spend.usd(spend.spent())}).")


def get_client(*, offline: bool | None = None, api_key: str | None = None,
               base_url: str | None = None, quiet: bool = False) -> openai.OpenAI:
    """An ``openai.OpenAI`` client: the real API when a key is found, else offline.

    ``offline=True`` (or ``COURSE_OFFLINE=1``) always uses the offline model;
    ``offline=False`` insists on the real API and raises if there is no key.
    ``base_url`` (or ``OPENAI_BASE_URL``) points at any OpenAI-compatible server.
    A one-line banner says which one you got, unless ``quiet``.
    """
    say = (lambda _msg: None) if quiet else print
    note = _cap_note()  # also raises at once for a COURSE_SPEND_CAP_USD that is not an amount
    forced = (setting("COURSE_OFFLINE") or "").strip().lower() in TRUE
    if offline is None and forced:
        offline = True
    if offline:
        say("Offline mode: replies come from the course's offline model, not from OpenAI. "
            "Unset COURSE_OFFLINE and put OPENAI_API_KEY in .env to use the real API." + note)
        return offline_client()

    found = find_key(api_key)
    base_url = base_url or setting("OPENAI_BASE_URL")
    if found.key is None:
        where = ("Put OPENAI_API_KEY=... in a .env file in the course folder, export it in your "
                 "shell, or (in Colab) add it as a secret.")
        if found.note:
            where = found.note
        if offline is False:
            raise MissingKeyError(f"No OpenAI API key found. {where}")
        say(f"Offline mode: no OPENAI_API_KEY found, so replies come from the course's offline "
            f"model. {where} Then restart the kernel to use the real API." + note)
        return offline_client()

    target = f"the server at {base_url}" if base_url else "the OpenAI API"
    say(f"Using {target} (key from {found.source.split(' ')[0]})." + note)
    return openai.OpenAI(api_key=found.key, base_url=base_url, http_client=real_http_client())
