"""Getting an ``openai.OpenAI`` (or ``openai.AsyncOpenAI``) client, with a key or without one.

Where requests go and which key they carry:

- With no base URL (or ``https://api.openai.com``) the key is looked up in order: the
  ``api_key`` argument, the ``OPENAI_API_KEY`` environment variable, a ``.env`` file, then
  Colab secrets.
- A custom base URL (the ``base_url`` argument or ``OPENAI_BASE_URL``) only ever gets the key
  that came *with* it: both passed to ``get_client``, both in the same ``.env`` file, or both in
  the environment. A key from anywhere else is never sent there: ``get_client`` refuses and
  says which two places disagree. Plain ``http://`` is refused for any host but this machine
  unless ``COURSE_ALLOW_HTTP=1`` (or ``allow_http=True``) says the network is trusted.
- ``.env`` is searched from the working directory up to the course folder (the one holding
  ``pyproject.toml`` next to ``helpers/``) and no further; with the helpers installed
  elsewhere (Colab), only the working directory is searched.

Keys are cleaned (surrounding whitespace and quotes) and checked (inner spaces, non-ASCII
characters, ``Bearer `` or a project id instead of a key); a bad key raises ``InvalidKeyError``
whose message shows the key masked. No message, banner or repr here ever shows a key.

With no key, or with ``COURSE_OFFLINE=1``, the client talks to the offline model in
``helpers.offline`` through the SDK's own HTTP layer. Settings (``OPENAI_BASE_URL``,
``COURSE_OFFLINE``, ``COURSE_SPEND_CAP_USD``, ``COURSE_ALLOW_HTTP``) come from the environment
first, then ``.env``, and are read once, when the client is made. Every client meters what it
spends (``helpers.spend``) and refuses calls once ``COURSE_SPEND_CAP_USD`` is reached. Clients
wait ``DEFAULT_TIMEOUT`` and retry ``DEFAULT_RETRIES`` times unless told otherwise, and a failed
connection names the URL and the setting that chose it.
"""

from __future__ import annotations

import ipaddress
import os
import sys
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit, urlunsplit

import httpx2
import openai
from dotenv import dotenv_values

from . import spend
from .offline import OfflineAPI

OFFLINE_KEY = "sk-offline"  # sent to the offline model, which accepts any key
OFFLINE_URL = "https://offline.invalid/v1"
OPENAI_URL = "https://api.openai.com/v1"
TRUE = {"1", "true", "yes", "on"}
ALLOW_HTTP = "COURSE_ALLOW_HTTP"
# The SDK's own defaults are a 600 s read timeout and 2 retries: a hung server would block a
# cell for half an hour. 30 s of silence is plenty for the course's short calls.
DEFAULT_TIMEOUT = openai.Timeout(30.0, connect=10.0)
DEFAULT_RETRIES = 2
KEYS_PAGE = "https://platform.openai.com/api-keys"
# Stripped from both ends of a key: whitespace, quotes (straight and curly), zero-width
# spaces and the byte-order mark that copy and paste brings along.
_WRAPPING = " \t\r\n\f\v\"'`\u00a0\u2018\u2019\u201c\u201d\u200b\u200c\u200d\u2060\ufeff"


class MissingKeyError(RuntimeError):
    """offline=False was asked for, but no API key was found."""


class InvalidKeyError(ValueError):
    """The key found cannot be a key (a space inside it, a non-ASCII character, ...)."""


class KeySourceError(ValueError):
    """A custom base URL and the only key found come from different places."""


class BaseURLError(ValueError):
    """The base URL is not a usable address, or would send the key in the clear."""


# ---------------------------------------------------------------- showing things safely


def mask(key: str | None) -> str:
    """A key shown safely: its prefix and last two characters only."""
    if not key:
        return "None"
    return f"{key[:3]}...{key[-2:]}" if len(key) > 8 else "***"


def mask_url(url: str) -> str:
    """``url`` with any user:password@ and every query value replaced by ``***``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(an address that cannot be read)"
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "***@" + netloc.rsplit("@", 1)[1]
    query = "&".join(
        f"{item.split('=', 1)[0]}=***" if "=" in item else "***" for item in parts.query.split("&") if item
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def describe(source: str, variable: str) -> str:
    """Where a setting came from, in words: ``OPENAI_BASE_URL in /x/.env`` and the like."""
    if source == "argument":
        name = {"OPENAI_API_KEY": "api_key", "OPENAI_BASE_URL": "base_url"}.get(variable, variable)
        return f"the {name}= argument of get_client()"
    if source == "environment":
        return f"the environment variable {variable}"
    if source.startswith(".env ("):
        return f"{variable} in {source[6:-1]}"
    if source == "Colab secrets":
        return f"the Colab secret {variable}"
    if source == "default":
        return "the default (OPENAI_BASE_URL is not set)"
    return source


# ---------------------------------------------------------------- settings, read once


def course_folder() -> Path | None:
    """The course's own folder (``pyproject.toml`` beside ``helpers/``), or None when the helpers
    are installed as a package somewhere else (Colab, pip)."""
    root = Path(__file__).resolve().parents[1]
    return root if (root / "pyproject.toml").is_file() else None


def dotenv_path() -> Path | None:
    """The ``.env`` to read: the nearest one from the working directory up to the course folder.

    A ``.env`` above the course folder (a shared temporary folder, a home directory) could
    redirect the URL or lift the cap, so the search stops at the course folder."""
    try:
        here = Path.cwd().resolve()
    except OSError:  # the working directory was deleted
        return None
    folders = [here]
    root = course_folder()
    if root is not None and here.is_relative_to(root):
        folders += [folder for folder in here.parents if folder.is_relative_to(root)]
    for folder in folders:
        candidate = folder / ".env"
        if candidate.is_file():
            return candidate
    return None


@dataclass(frozen=True)
class Settings:
    """One reading of the environment and of ``.env``: a client uses it for its whole life."""

    environ: Mapping[str, str]
    dotenv_file: Path | None = None
    dotenv: Mapping[str, str | None] = field(default_factory=dict)

    @classmethod
    def read(cls) -> Settings:
        environ = dict(os.environ)
        if environ.get("COURSE_IGNORE_DOTENV"):  # tests and notebook re-runs: a developer's .env stays out
            return cls(environ)
        path = dotenv_path()
        return cls(environ, path, dotenv_values(path) if path else {})

    @property
    def dotenv_source(self) -> str:
        return f".env ({self.dotenv_file})"

    def from_environment(self, name: str) -> str | None:
        value = (self.environ.get(name) or "").strip()
        return value or None

    def from_dotenv(self, name: str) -> str | None:
        value = (self.dotenv.get(name) or "").strip()
        return value or None

    def lookup(self, name: str) -> tuple[str | None, str]:
        """(value, source): the environment wins over ``.env``; ("none") when neither has it."""
        if (value := self.from_environment(name)) is not None:
            return value, "environment"
        if (value := self.from_dotenv(name)) is not None:
            return value, self.dotenv_source
        return None, "none"

    def get(self, name: str) -> str | None:
        return self.lookup(name)[0]

    def is_true(self, name: str) -> bool:
        return (self.get(name) or "").lower() in TRUE


def setting(name: str) -> str | None:
    """A course setting: the environment variable if set, else the value in ``.env``."""
    return Settings.read().get(name)


def spend_cap() -> float | None:
    """``COURSE_SPEND_CAP_USD`` in USD, or None. Raises ValueError for a value that is not an amount."""
    return spend.parse_cap(setting(spend.CAP_VARIABLE))


# ---------------------------------------------------------------- keys


@dataclass(frozen=True)
class KeyLookup:
    """Where the key came from. ``repr`` never shows the key itself."""

    key: str | None
    source: str  # "argument", "environment", ".env (path)", "Colab secrets" or "none"
    note: str = ""  # why a source could not be used (e.g. a Colab secret without access)

    def __repr__(self) -> str:
        return f"KeyLookup(key={mask(self.key)}, source={self.source!r})"


def clean_key(raw: str | None, source: str = "argument") -> str | None:
    """``raw`` without the whitespace and quotes around it, checked; None when nothing is left.

    Raises InvalidKeyError, with the key masked, for a value that cannot be a key."""
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise InvalidKeyError(
            f"The API key from {describe(source, 'OPENAI_API_KEY')} must be text (str), not {type(raw).__name__}."
        )
    key = raw.strip(_WRAPPING)
    if not key:
        return None
    where = describe(source, "OPENAI_API_KEY")
    again = f"Copy the key again from {KEYS_PAGE} (or from whoever gave it to you) and paste only the key."
    lowered = key.lower()
    if lowered.startswith("bearer "):
        raise InvalidKeyError(
            f"The API key from {where} starts with 'Bearer ': put only the key itself "
            f"there (the SDK adds 'Bearer ' on its own)."
        )
    if lowered.startswith("openai_api_key"):
        raise InvalidKeyError(
            f"The API key from {where} starts with the variable's name: the value must be "
            f"the key alone, as in OPENAI_API_KEY=sk-... (no second 'OPENAI_API_KEY=')."
        )
    # A loop, not key.encode("ascii"): the UnicodeEncodeError would carry the whole key along.
    for position, char in enumerate(key, start=1):
        if ord(char) > 127:
            name = unicodedata.name(char, "an unnamed character")
            raise InvalidKeyError(
                f"The API key from {where} ({mask(key)}, {len(key)} characters) contains a character that is "
                f"not plain ASCII at position {position}: U+{ord(char):04X} {name}. Keys are plain letters, "
                f"digits, '-' and '_'; this usually comes from copying the key out of a document or a chat. " + again
            )
        if char.isspace() or not char.isprintable():
            kind = "a line break" if char in "\r\n" else "a space" if char == " " else "a control character"
            raise InvalidKeyError(
                f"The API key from {where} ({mask(key)}, {len(key)} characters) has {kind} inside it at "
                f"position {position}: perhaps two keys, or a key and some other text, were pasted together. " + again
            )
    return key


def check_openai_key(key: str, source: str) -> None:
    """Raise InvalidKeyError if ``key`` cannot be an OpenAI key (they all start with ``sk-``)."""
    where = describe(source, "OPENAI_API_KEY")
    if key.startswith("proj_"):
        problem = "looks like a project id (proj_...), not an API key"
    elif key.startswith("org-"):
        problem = "looks like an organization id (org-...), not an API key"
    elif not key.startswith("sk-"):
        problem = "does not start with 'sk-', as every OpenAI API key does"
    else:
        return
    raise InvalidKeyError(
        f"The API key from {where} ({mask(key)}) {problem}. Create or copy a key at "
        f"{KEYS_PAGE}. If it is meant for another server, set OPENAI_BASE_URL to that "
        f"server in the same place as the key."
    )


def in_colab() -> bool:
    return "google.colab" in sys.modules


def _colab_key() -> tuple[str | None, str]:
    """The OPENAI_API_KEY Colab secret, or None and a hint saying what to click."""
    from google.colab import userdata  # type: ignore[import-not-found]

    try:
        return userdata.get("OPENAI_API_KEY"), ""
    except userdata.SecretNotFoundError:
        return None, (
            "Colab has no secret named OPENAI_API_KEY: click the key icon in the left "
            "sidebar, add a secret with that name and your key as the value."
        )
    except userdata.NotebookAccessError:
        return None, (
            "The OPENAI_API_KEY secret exists but this notebook may not read it: click "
            "the key icon in the left sidebar and turn on 'Notebook access' for it."
        )


def _key_in(source: str, api_key: str | None, settings: Settings) -> KeyLookup:
    """The key held by one source only (for a custom base URL: the key that came with it)."""
    if source == "argument":
        return KeyLookup(clean_key(api_key, "argument"), "argument")
    if source == "environment":
        return KeyLookup(clean_key(settings.environ.get("OPENAI_API_KEY"), "environment"), "environment")
    if source.startswith(".env ("):
        return KeyLookup(clean_key(settings.dotenv.get("OPENAI_API_KEY"), source), source)
    return KeyLookup(None, "none")


def find_key(api_key: str | None = None, *, settings: Settings | None = None) -> KeyLookup:
    """Look the key up in order: argument, environment, .env, Colab secrets.

    The key is cleaned and checked (see ``clean_key``): raises InvalidKeyError for a value
    that cannot be a key. An empty value counts as not set."""
    settings = settings or Settings.read()
    for source in ("argument", "environment", settings.dotenv_source if settings.dotenv_file else "none"):
        found = _key_in(source, api_key, settings)
        if found.key is not None:
            return found
    if in_colab():
        raw, note = _colab_key()
        key = clean_key(raw, "Colab secrets")
        if key:
            return KeyLookup(key, "Colab secrets")
        return KeyLookup(None, "none", note)
    return KeyLookup(None, "none")


# ---------------------------------------------------------------- base URLs


def is_loopback(host: str) -> bool:
    """True for this machine: localhost, 127.0.0.0/8 and ::1."""
    host = host.lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_openai(url: str) -> bool:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    return parts.scheme == "https" and (host == "api.openai.com" or host.endswith(".api.openai.com"))


def check_url(url: str, source: str, allow_http: bool) -> str:
    """``url`` cleaned; BaseURLError if it is not an http(s) address, or is plain http:// to another
    machine without ``allow_http``."""
    url = url.strip(_WRAPPING)
    where = describe(source, "OPENAI_BASE_URL")
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        parts, host = None, ""
    if parts is None or parts.scheme not in ("http", "https") or not host:
        raise BaseURLError(
            f"The base URL from {where} ({mask_url(url)}) is not a full address: it needs "
            f"http:// or https://, a host and usually /v1, as in https://example.org/v1 or "
            f"http://localhost:11434/v1."
        )
    if parts.scheme == "http" and not is_loopback(host) and not allow_http:
        raise BaseURLError(
            f"Refusing to send your API key over plain http:// to {host} (the base URL {mask_url(url)} comes from "
            f"{where}): anyone on that network could read the key. Use an https:// address; or, if this is a "
            f"server on a network you trust (a workshop room), set {ALLOW_HTTP}=1 next to OPENAI_BASE_URL "
            f"(or pass get_client(allow_http=True))."
        )
    return url


# ---------------------------------------------------------------- naming connection errors


def _leaks(text: str, key: str | None) -> bool:
    """True if ``text`` holds ``key`` or any 12-character piece of it."""
    if not key:
        return False
    return any(key[i : i + 12] in text for i in range(max(1, len(key) - 11)))


def _named(error: httpx2.TransportError, request: httpx2.Request, where: str, key: str | None) -> Exception:
    """``error`` again, its message saying which address failed and which setting chose it."""
    detail = str(error) or type(error).__name__
    if _leaks(detail, key):  # e.g. an "Illegal header value" error quotes the Authorization header
        detail = type(error).__name__
    limits = request.extensions.get("timeout") or {}
    if isinstance(error, httpx2.ConnectTimeout):
        text = (
            f"could not connect to {where} within {limits.get('connect')} s: is the server up and the "
            f"address right? (get_client(timeout=...) sets the limit)"
        )
    elif isinstance(error, httpx2.TimeoutException):
        text = (
            f"no answer from {where} within {limits.get('read')} s (get_client(timeout=...) sets the limit; "
            f"a long reply can be streamed instead)"
        )
    else:
        text = f"could not reach {where}: {detail}. Is the server up and the address right?"
    return type(error)(text, request=request)


def _raise_named(error: httpx2.TransportError, request: httpx2.Request, where: str, key: str | None) -> NoReturn:
    named = _named(error, request, where, key)
    # Chain the original only when its text is safe to show.
    raise named from (None if _leaks(str(error), key) else error)


class NamedErrors(httpx2.BaseTransport):
    """Re-raises transport errors of ``inner`` with the URL and its source in the message.

    The SDK still retries them and then raises ``openai.APIConnectionError`` (or
    ``APITimeoutError``) with this error as its ``__cause__``, shown in the traceback."""

    def __init__(self, inner: httpx2.BaseTransport, where: str, key: str | None = None) -> None:
        self.inner, self.where, self._key = inner, where, key

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        try:
            return self.inner.handle_request(request)
        except httpx2.TransportError as error:
            failure = error
        # Raised outside the except block, so the original is only chained when it is safe.
        _raise_named(failure, request, self.where, self._key)

    def close(self) -> None:
        self.inner.close()


class AsyncNamedErrors(httpx2.AsyncBaseTransport):
    """``NamedErrors`` for ``openai.AsyncOpenAI``."""

    def __init__(self, inner: httpx2.AsyncBaseTransport, where: str, key: str | None = None) -> None:
        self.inner, self.where, self._key = inner, where, key

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        try:
            return await self.inner.handle_async_request(request)
        except httpx2.TransportError as error:
            failure = error
        _raise_named(failure, request, self.where, self._key)

    async def aclose(self) -> None:
        await self.inner.aclose()


# ---------------------------------------------------------------- what a client will be


@dataclass(frozen=True)
class Plan:
    """Everything ``get_client`` decided, from one reading of the settings. ``repr`` masks the key."""

    offline: bool
    base_url: str  # OFFLINE_URL when offline
    url_source: str  # "default", "argument", "environment", ".env (path)" or "offline"
    key: KeyLookup
    cap: float | None
    cap_text: str | None
    timeout: Any  # float | openai.Timeout
    max_retries: int
    banner: str

    @property
    def where(self) -> str:
        """The address and the setting that chose it, for error messages."""
        if self.url_source == "default":
            return f"{self.base_url} (the default: OPENAI_BASE_URL is not set)"
        return f"{mask_url(self.base_url)} (from {describe(self.url_source, 'OPENAI_BASE_URL')})"


def _seconds(value: float | None) -> str:
    return "no limit" if value is None else f"{value:g} s"


def timeout_text(timeout: Any, max_retries: int) -> str:
    if isinstance(timeout, httpx2.Timeout):
        limit = f"{_seconds(timeout.read)} without an answer, {_seconds(timeout.connect)} to connect"
    else:
        limit = _seconds(timeout)
    return f"Timeout: {limit}; {max_retries} retr{'y' if max_retries == 1 else 'ies'}."


def _cap_note(settings: Settings, cap: float | None) -> str:
    if cap is None:
        return ""
    text, source = settings.lookup(spend.CAP_VARIABLE)
    place = "the environment" if source == "environment" else source[6:-1]
    return (
        f" Spend cap: {spend.CAP_VARIABLE}={text} from {place} "
        f"(spent so far in this kernel: {spend.usd(spend.spent())})."
    )


def _check_limits(timeout: Any, max_retries: Any) -> None:
    if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
        raise ValueError(f"max_retries must be a whole number, 0 or more, not {max_retries!r}.")
    if isinstance(timeout, httpx2.Timeout):
        return
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout < float("inf"):
        raise ValueError(f"timeout must be a number of seconds above 0 or an openai.Timeout(...), not {timeout!r}.")


def plan(
    *,
    offline: bool | None = None,
    api_key: str | None = None,
    base_url: str | None = None,
    allow_http: bool | None = None,
    timeout: Any = None,
    max_retries: int | None = None,
    settings: Settings | None = None,
) -> Plan:
    """Decide where requests go and with which key, or raise saying why not (see the module docstring)."""
    settings = settings or Settings.read()
    timeout = DEFAULT_TIMEOUT if timeout is None else timeout
    max_retries = DEFAULT_RETRIES if max_retries is None else max_retries
    _check_limits(timeout, max_retries)
    cap_text = settings.get(spend.CAP_VARIABLE)
    cap = spend.parse_cap(cap_text)  # raises at once for a COURSE_SPEND_CAP_USD that is not an amount
    limits = " " + timeout_text(timeout, max_retries)
    note = _cap_note(settings, cap)

    def offline_plan(banner: str, key: KeyLookup = KeyLookup(None, "none")) -> Plan:
        return Plan(True, OFFLINE_URL, "offline", key, cap, cap_text, timeout, max_retries, banner + note)

    forced, forced_source = settings.lookup("COURSE_OFFLINE")
    if offline:
        return offline_plan(
            "Offline mode (offline=True): replies come from the course's offline model, not from OpenAI."
        )
    if offline is None and (forced or "").lower() in TRUE:
        return offline_plan(
            f"Offline mode: {describe(forced_source, 'COURSE_OFFLINE')} is {forced}, so replies "
            f"come from the course's offline model, not from OpenAI. Remove it there to use the "
            f"real API."
        )

    # Where to: the argument, else OPENAI_BASE_URL (environment, then .env), else OpenAI.
    given_url = base_url.strip(_WRAPPING) if isinstance(base_url, str) else base_url
    if given_url:
        url, url_source = given_url, "argument"
    else:
        url, url_source = settings.lookup("OPENAI_BASE_URL")
    custom = url is not None and not is_openai(url)
    if custom:
        allowed = bool(allow_http) if allow_http is not None else settings.is_true(ALLOW_HTTP)
        url = check_url(url, url_source, allowed)
        if url_source != "argument" and clean_key(api_key) is not None:
            raise KeySourceError(_mismatch(url, url_source, "argument"))
        found = _key_in(url_source, api_key, settings)  # only the key that came with the URL
        if found.key is None:
            elsewhere = find_key(api_key, settings=settings)
            if elsewhere.key is not None:
                raise KeySourceError(_mismatch(url, url_source, elsewhere.source))
    else:
        found = find_key(api_key, settings=settings)
        if found.key is not None:
            check_openai_key(found.key, found.source)
    if url is None:
        url, url_source = OPENAI_URL, "default"

    if found.key is None:
        where = found.note or (
            "Put OPENAI_API_KEY=... in a .env file in the course folder, export it in your "
            "shell, or (in Colab) add it as a secret."
        )
        if custom:
            where = (
                f"The server at {mask_url(url)} ({describe(url_source, 'OPENAI_BASE_URL')}) gets only a key "
                f"from the same place. To use that server, {_fix(url_source)}"
            )
        if offline is False:
            raise MissingKeyError(f"No OpenAI API key found. {where}")
        return offline_plan(
            f"Offline mode: no OPENAI_API_KEY found, so replies come from the course's offline "
            f"model. {where} Then restart the kernel to use the real API.",
            found,
        )

    key_place = "the same place" if custom else describe(found.source, "OPENAI_API_KEY")
    if custom:
        banner = (
            f"Using the server at {mask_url(url)} ({describe(url_source, 'OPENAI_BASE_URL')}; "
            f"key {mask(found.key)} from {key_place})."
        )
    else:
        origin = "" if url_source == "default" else f"{describe(url_source, 'OPENAI_BASE_URL')}; "
        banner = f"Using the OpenAI API ({origin}key {mask(found.key)} from {key_place})."
    return Plan(False, url, url_source, found, cap, cap_text, timeout, max_retries, banner + limits + note)


def _fix(url_source: str, key_source: str = "none") -> str:
    """What to do so that a custom base URL has a key of its own."""
    drop = " and leave api_key= out" if key_source == "argument" else ""
    if url_source == "argument":
        return (
            "pass api_key= together with base_url= (for a server that needs no key, any text, "
            'e.g. api_key="none"); or leave base_url= out to use the OpenAI API.'
        )
    if url_source == "environment":
        return (
            f"set OPENAI_API_KEY to that server's key in the same environment as OPENAI_BASE_URL{drop}; "
            f"or unset OPENAI_BASE_URL to use the OpenAI API."
        )
    path = url_source[6:-1]
    return (
        f"put the server's key in {path} too (a line OPENAI_API_KEY=...){drop}; or remove OPENAI_BASE_URL "
        f"from {path} to use the OpenAI API."
    )


def _mismatch(url: str, url_source: str, key_source: str) -> str:
    return (
        f"The base URL {mask_url(url)} comes from {describe(url_source, 'OPENAI_BASE_URL')}, but the key comes "
        f"from {describe(key_source, 'OPENAI_API_KEY')}. A key is only sent to the server it came with, so that "
        f"key does not go to {mask_url(url)}. To use that server, " + _fix(url_source, key_source)
    )


# ---------------------------------------------------------------- making clients


def _meter_sync(transport: httpx2.BaseTransport, cap: float | None, cap_text: str | None) -> httpx2.BaseTransport:
    return spend.SpendTransport(transport, cap=cap, cap_text=cap_text)


def _meter_async(
    transport: httpx2.AsyncBaseTransport, cap: float | None, cap_text: str | None
) -> httpx2.AsyncBaseTransport:
    meter = getattr(spend, "AsyncSpendTransport", None)
    if meter is None:
        raise NotImplementedError(
            "get_async_client needs helpers.spend.AsyncSpendTransport, which this version "
            "of the helpers lacks: use get_client() for now."
        )
    return meter(transport, cap=cap, cap_text=cap_text)


def _offline(api: OfflineAPI | None, cap: float | None, cap_text: str | None, **kwargs) -> openai.OpenAI:
    api = api or OfflineAPI.from_env()
    http = openai.DefaultHttpx2Client(transport=_meter_sync(httpx2.MockTransport(api.handle), cap, cap_text))
    return openai.OpenAI(api_key=OFFLINE_KEY, base_url=OFFLINE_URL, http_client=http, **kwargs)


def _async_offline(api: OfflineAPI | None, cap: float | None, cap_text: str | None, **kwargs) -> openai.AsyncOpenAI:
    if not hasattr(OfflineAPI, "async_transport"):
        raise NotImplementedError(
            "The offline model has no async transport in this version of the helpers "
            "(OfflineAPI.async_transport): use get_client() for now."
        )
    api = api or OfflineAPI.from_env()
    http = openai.DefaultAsyncHttpx2Client(transport=_meter_async(api.async_transport(), cap, cap_text))
    return openai.AsyncOpenAI(api_key=OFFLINE_KEY, base_url=OFFLINE_URL, http_client=http, **kwargs)


def _cap(settings: Settings | None) -> tuple[float | None, str | None]:
    text = (settings or Settings.read()).get(spend.CAP_VARIABLE)
    return spend.parse_cap(text), text


def offline_client(api: OfflineAPI | None = None, *, settings: Settings | None = None, **kwargs) -> openai.OpenAI:
    """A real ``openai.OpenAI`` whose HTTP requests are answered by ``api``.

    Its calls are metered at what they would cost for real (``helpers.spend``), under the cap
    as set when it is made. ``kwargs`` go to ``openai.OpenAI`` (e.g. ``max_retries=0``)."""
    return _offline(api, *_cap(settings), **kwargs)


def async_offline_client(
    api: OfflineAPI | None = None, *, settings: Settings | None = None, **kwargs
) -> openai.AsyncOpenAI:
    """``offline_client`` for ``openai.AsyncOpenAI``."""
    return _async_offline(api, *_cap(settings), **kwargs)


def real_http_client(chosen: Plan) -> httpx2.Client:
    """The HTTP client the SDK would make by itself (connection limits, proxies from the
    environment), each of its transports behind the error namer and the spend meter."""
    http = openai.DefaultHttpx2Client()

    def wrap(transport: httpx2.BaseTransport) -> httpx2.BaseTransport:
        return _meter_sync(NamedErrors(transport, chosen.where, chosen.key.key), chosen.cap, chosen.cap_text)

    # httpx2 picks a transport per URL: the default one, plus one per proxy from
    # HTTPS_PROXY and friends. Wrap them all so every route is metered.
    http._transport = wrap(http._transport)
    http._mounts = {
        pattern: None if transport is None else wrap(transport) for pattern, transport in http._mounts.items()
    }
    return http


def real_async_http_client(chosen: Plan) -> httpx2.AsyncClient:
    """``real_http_client`` for ``openai.AsyncOpenAI``."""
    http = openai.DefaultAsyncHttpx2Client()

    def wrap(transport: httpx2.AsyncBaseTransport) -> httpx2.AsyncBaseTransport:
        return _meter_async(AsyncNamedErrors(transport, chosen.where, chosen.key.key), chosen.cap, chosen.cap_text)

    http._transport = wrap(http._transport)
    http._mounts = {
        pattern: None if transport is None else wrap(transport) for pattern, transport in http._mounts.items()
    }
    return http


def get_client(
    *,
    offline: bool | None = None,
    api_key: str | None = None,
    base_url: str | None = None,
    quiet: bool = False,
    timeout: float | openai.Timeout | None = None,
    max_retries: int | None = None,
    allow_http: bool | None = None,
) -> openai.OpenAI:
    """An ``openai.OpenAI`` client: the real API when a key is found, else offline.

    ``offline=True`` (or ``COURSE_OFFLINE=1``) always uses the offline model;
    ``offline=False`` insists on the real API and raises MissingKeyError if there is no key.
    ``base_url`` (or ``OPENAI_BASE_URL``) points at any OpenAI-compatible server, which gets only
    the key that came with it (raises KeySourceError otherwise). ``timeout`` (seconds or an
    ``openai.Timeout``) and ``max_retries`` default to ``DEFAULT_TIMEOUT`` and ``DEFAULT_RETRIES``.
    ``allow_http=True`` permits plain http:// to another machine (raises BaseURLError otherwise).
    A one-line banner says which server you got, where the key and URL came from, and the
    limits, unless ``quiet``. Raises InvalidKeyError for a key that cannot be one.
    """
    choices = dict(offline=offline, api_key=api_key, base_url=base_url, allow_http=allow_http)
    return _build(False, quiet, timeout=timeout, max_retries=max_retries, **choices)


def get_async_client(
    *,
    offline: bool | None = None,
    api_key: str | None = None,
    base_url: str | None = None,
    quiet: bool = False,
    timeout: float | openai.Timeout | None = None,
    max_retries: int | None = None,
    allow_http: bool | None = None,
) -> openai.AsyncOpenAI:
    """``get_client`` for asyncio: an ``openai.AsyncOpenAI`` under the same key rules, offline
    mode, spend meter, limits and banner."""
    choices = dict(offline=offline, api_key=api_key, base_url=base_url, allow_http=allow_http)
    return _build(True, quiet, timeout=timeout, max_retries=max_retries, **choices)


def _build(asynchronous: bool, quiet: bool, **choices: Any) -> Any:
    """The client ``plan(**choices)`` decides on, sync or async, and its banner unless ``quiet``."""
    chosen = plan(**choices)
    limits = {"timeout": chosen.timeout, "max_retries": chosen.max_retries}
    if chosen.offline:
        make_offline = _async_offline if asynchronous else _offline
        client = make_offline(None, chosen.cap, chosen.cap_text, **limits)
    else:
        cls, http = (openai.AsyncOpenAI, real_async_http_client) if asynchronous else (openai.OpenAI, real_http_client)
        client = cls(api_key=chosen.key.key, base_url=chosen.base_url, http_client=http(chosen), **limits)
    if not quiet:
        print(chosen.banner)
    return client
