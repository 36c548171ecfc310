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
``helpers._offline`` through the SDK's own HTTP layer. Settings (``OPENAI_BASE_URL``,
``COURSE_OFFLINE``, ``COURSE_SPEND_CAP_USD``, ``COURSE_ALLOW_HTTP``) come from the environment
first, then ``.env``, and are read once, when the client is made. Every client meters what it
spends (``helpers._spend``) and refuses calls once ``COURSE_SPEND_CAP_USD`` is reached. Clients
wait ``DEFAULT_TIMEOUT`` and retry ``DEFAULT_RETRIES`` times unless told otherwise, and a failed
connection names the URL and the setting that chose it.

The machinery lives in private modules, read last: ``_settings`` (reading the settings),
``_keys`` (checking keys and addresses), ``_connect`` (deciding and building), ``_spend``
(the meter) and ``_offline`` (the offline model).
"""

from __future__ import annotations

import inspect
from typing import Any

import openai

from . import _spend
from ._connect import DEFAULT_RETRIES, DEFAULT_TIMEOUT, build
from ._connect import async_offline_client as _async_offline
from ._connect import offline_client as _offline
from ._keys import BaseURLError, InvalidKeyError, KeyLookup, KeySourceError, MissingKeyError, find_key
from ._offline import OfflineAPI
from ._settings import Settings

__all__ = [
    "BaseURLError",
    "DEFAULT_RETRIES",
    "DEFAULT_TIMEOUT",
    "InvalidKeyError",
    "KeyLookup",
    "KeySourceError",
    "MissingKeyError",
    "async_offline_client",
    "find_key",
    "get_async_client",
    "get_client",
    "offline_client",
]


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
    return build(False, quiet, timeout=timeout, max_retries=max_retries, **choices)


def get_async_client(**options: Any) -> openai.AsyncOpenAI:
    """``get_client`` for asyncio, with the same keywords: an ``openai.AsyncOpenAI`` under the
    same key rules, offline mode, spend meter, limits and banner."""
    inspect.signature(get_client).bind(**options)  # a keyword get_client does not take: TypeError
    quiet = options.pop("quiet", False)
    return build(True, quiet, **options)


# help(get_async_client) and the notebook's tooltip show get_client's keywords.
get_async_client.__signature__ = inspect.signature(get_client).replace(  # type: ignore[attr-defined]
    return_annotation=openai.AsyncOpenAI
)


def _cap(settings: Settings) -> tuple[float | None, str | None]:
    text = settings.get(_spend.CAP_VARIABLE)
    return _spend.parse_cap(text), text


def offline_client(api: OfflineAPI | None = None, *, settings: Settings | None = None, **kwargs: Any) -> openai.OpenAI:
    """A real ``openai.OpenAI`` whose HTTP requests are answered by ``api`` (a new
    ``OfflineAPI`` if None). Its calls are metered at what they would cost for real, under the
    spend cap as set when it is made. ``kwargs`` go to ``openai.OpenAI`` (e.g. ``max_retries=0``)."""
    settings = settings or Settings.read()
    return _offline(api or OfflineAPI.from_settings(settings), *_cap(settings), **kwargs)


def async_offline_client(
    api: OfflineAPI | None = None, *, settings: Settings | None = None, **kwargs: Any
) -> openai.AsyncOpenAI:
    """``offline_client`` for ``openai.AsyncOpenAI``."""
    settings = settings or Settings.read()
    return _async_offline(api or OfflineAPI.from_settings(settings), *_cap(settings), **kwargs)
