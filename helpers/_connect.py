"""How a client is made. ``plan()`` decides, from one reading of the settings, where requests
go and with which key (or raises saying why not); the builders then make the ``openai.OpenAI``
(or ``openai.AsyncOpenAI``). Every request of every client passes the spend meter
(``helpers._spend``), and a real client's failed connection names the URL and the setting that
chose it. Only public hooks are used: a transport we build for the offline model, and for the
real API the SDK's own HTTP client with ``send`` (what the SDK calls for each request) extended.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NoReturn

import httpx2
import openai

from . import _spend
from ._keys import (
    ALLOW_HTTP,
    NO_KEY_FOUND,
    WRAPPING,
    KeyLookup,
    KeySourceError,
    MissingKeyError,
    check_openai_key,
    check_url,
    clean_key,
    find_key,
    is_openai,
    key_in,
    mask,
    mask_url,
)
from ._offline import OFFLINE_URL, OfflineAPI
from ._settings import TRUE, Settings, describe
from .pricing import usd

OFFLINE_KEY = "sk-offline"  # sent to the offline model, which accepts any key
OPENAI_URL = "https://api.openai.com/v1"
# The SDK's own defaults are a 600 s read timeout and 2 retries: a hung server would block a
# cell for half an hour. 30 s of silence is plenty for the course's short calls.
DEFAULT_TIMEOUT = openai.Timeout(30.0, connect=10.0)
DEFAULT_RETRIES = 2
NO_KEY = KeyLookup(None, "none")


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
    settings: Settings = field(repr=False, compare=False)  # the one reading everything came from

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
    text, source = settings.lookup(_spend.CAP_VARIABLE)
    place = "the environment" if source == "environment" else source[6:-1]
    spent = usd(_spend.spent())
    return f" Spend cap: {_spend.CAP_VARIABLE}={text} from {place} (spent so far in this kernel: {spent})."


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
    cap_text = settings.get(_spend.CAP_VARIABLE)
    cap = _spend.parse_cap(cap_text)  # raises at once for a COURSE_SPEND_CAP_USD that is not an amount
    limits = " " + timeout_text(timeout, max_retries)
    note = _cap_note(settings, cap)

    def offline_plan(banner: str, key: KeyLookup = NO_KEY) -> Plan:
        return Plan(True, OFFLINE_URL, "offline", key, cap, cap_text, timeout, max_retries, banner + note, settings)

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
    given_url = base_url.strip(WRAPPING) if isinstance(base_url, str) else base_url
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
        found = key_in(url_source, api_key, settings)  # only the key that came with the URL
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
            raise MissingKeyError(f"{NO_KEY_FOUND} {where}")
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
    return Plan(False, url, url_source, found, cap, cap_text, timeout, max_retries, banner + limits + note, settings)


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


# ---------------------------------------------------------------- making clients


def offline_client(api: OfflineAPI, cap: float | None, cap_text: str | None, **kwargs: Any) -> openai.OpenAI:
    """An ``openai.OpenAI`` whose requests ``api`` answers in memory, metered under ``cap``."""
    http = openai.DefaultHttpx2Client(transport=_spend.SpendTransport(api.transport(), cap, cap_text))
    return openai.OpenAI(api_key=OFFLINE_KEY, base_url=OFFLINE_URL, http_client=http, **kwargs)


def async_offline_client(api: OfflineAPI, cap: float | None, cap_text: str | None, **kwargs: Any) -> openai.AsyncOpenAI:
    """``offline_client`` for asyncio."""
    http = openai.DefaultAsyncHttpx2Client(transport=_spend.AsyncSpendTransport(api.async_transport(), cap, cap_text))
    return openai.AsyncOpenAI(api_key=OFFLINE_KEY, base_url=OFFLINE_URL, http_client=http, **kwargs)


# What openai.DefaultHttpx2Client() would set (proxies from the environment are httpx2's own).
SDK_DEFAULTS = {"timeout": openai.DEFAULT_TIMEOUT, "limits": openai.DEFAULT_CONNECTION_LIMITS, "follow_redirects": True}


class RealHttpClient(httpx2.Client):
    """The HTTP client the SDK would make by itself, with the meter and named connection errors
    added in ``send``: every request passes there, whatever transport or proxy then carries it."""

    def __init__(self, chosen: Plan) -> None:
        super().__init__(**SDK_DEFAULTS)
        self.chosen, self.gate = chosen, _spend.Gate(chosen.cap, chosen.cap_text)

    def send(self, request: httpx2.Request, **kwargs: Any) -> httpx2.Response:
        def named(request: httpx2.Request) -> httpx2.Response:
            try:
                return httpx2.Client.send(self, request, **kwargs)
            except httpx2.TransportError as error:
                failure = error
            # Raised outside the except block, so the original is only chained when it is safe.
            _raise_named(failure, request, self.chosen.where, self.chosen.key.key)

        if request.method != "POST":  # listing models and the like costs nothing
            return named(request)
        return _spend.send_metered(self.gate, request, named)


class RealAsyncHttpClient(httpx2.AsyncClient):
    """``RealHttpClient`` for ``openai.AsyncOpenAI``."""

    def __init__(self, chosen: Plan) -> None:
        super().__init__(**SDK_DEFAULTS)
        self.chosen, self.gate = chosen, _spend.Gate(chosen.cap, chosen.cap_text)

    async def send(self, request: httpx2.Request, **kwargs: Any) -> httpx2.Response:
        async def named(request: httpx2.Request) -> httpx2.Response:
            try:
                return await httpx2.AsyncClient.send(self, request, **kwargs)
            except httpx2.TransportError as error:
                failure = error
            _raise_named(failure, request, self.chosen.where, self.chosen.key.key)

        if request.method != "POST":
            return await named(request)
        return await _spend.send_metered_async(self.gate, request, named)


def build(asynchronous: bool, quiet: bool, **choices: Any) -> Any:
    """The client ``plan(**choices)`` decides on, sync or async, and its banner unless ``quiet``."""
    chosen = plan(**choices)
    limits = {"timeout": chosen.timeout, "max_retries": chosen.max_retries}
    if chosen.offline:
        make_offline = async_offline_client if asynchronous else offline_client
        client = make_offline(OfflineAPI.from_settings(chosen.settings), chosen.cap, chosen.cap_text, **limits)
    else:
        cls, http = (openai.AsyncOpenAI, RealAsyncHttpClient) if asynchronous else (openai.OpenAI, RealHttpClient)
        client = cls(api_key=chosen.key.key, base_url=chosen.base_url, http_client=http(chosen), **limits)
    if not quiet:
        print(chosen.banner)
    return client
