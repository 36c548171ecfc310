"""Keys and addresses, checked before anything is sent.

A key is cleaned (the whitespace and quotes around it) and checked (inner spaces, non-ASCII
characters, ``Bearer `` or a project id instead of a key); a bad key raises ``InvalidKeyError``
with the key masked. A base URL must be a full http(s) address, and plain ``http://`` goes only
to this machine unless ``COURSE_ALLOW_HTTP=1`` (or ``allow_http=True``) says the network is
trusted. Nothing here ever shows a whole key.
"""

from __future__ import annotations

import ipaddress
import unicodedata
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from ._settings import Settings, colab_key, describe, in_colab

ALLOW_HTTP = "COURSE_ALLOW_HTTP"
KEYS_PAGE = "https://platform.openai.com/api-keys"
# Stripped from both ends of a key: whitespace, quotes (straight and curly), zero-width
# spaces and the byte-order mark that copy and paste brings along.
WRAPPING = " \t\r\n\f\v\"'`\u00a0\u2018\u2019\u201c\u201d\u200b\u200c\u200d\u2060\ufeff"
# How every MissingKeyError starts (tools/live_check.py knows a keyless cell by it).
NO_KEY_FOUND = "No OpenAI API key found."


class MissingKeyError(RuntimeError):
    """offline=False was asked for, but no API key was found."""

    setting = "OPENAI_API_KEY"  # the setting to fix (python3 course.py doctor labels its lines so)


class InvalidKeyError(ValueError):
    """The key found cannot be a key (a space inside it, a non-ASCII character, ...)."""

    setting = "OPENAI_API_KEY"


class KeySourceError(ValueError):
    """A custom base URL and the only key found come from different places."""

    setting = "OPENAI_API_KEY, OPENAI_BASE_URL"


class BaseURLError(ValueError):
    """The base URL is not a usable address, or would send the key in the clear."""

    setting = "OPENAI_BASE_URL"


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
    key = raw.strip(WRAPPING)
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


def key_in(source: str, api_key: str | None, settings: Settings) -> KeyLookup:
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
        found = key_in(source, api_key, settings)
        if found.key is not None:
            return found
    if in_colab():
        raw, note = colab_key()
        key = clean_key(raw, "Colab secrets")
        if key:
            return KeyLookup(key, "Colab secrets")
        return KeyLookup(None, "none", note)
    lost = settings.lost_key()
    if lost is not None:  # say why the key written in .env was not found
        return KeyLookup(
            None,
            "none",
            f"Line {lost.line} of {lost.path} seems to hold the key but is not a setting: write it as "
            "OPENAI_API_KEY=sk-... on a line of its own.",
        )
    return KeyLookup(None, "none")


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
    url = url.strip(WRAPPING)
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
