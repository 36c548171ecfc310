"""A preflight for a learner or a workshop host: is this machine ready for the course?

    python3 course.py doctor                      # sets up .venv, then runs this file in it
    python -m tools.doctor --today 2027-03-20     # pretend it is another day (the date checks)

One short line per check, marked ✓ (fine), ! (worth knowing) or ✗ (must be fixed), and
labelled by the setting it is about (``.env``, ``OPENAI_API_KEY``, ``OPENAI_BASE_URL``,
``COURSE_SPEND_CAP_USD``, ``COURSE_OFFLINE``): Python, packages, tiktoken's encodings, each
line of .env that is not a setting (by file and line), where the key comes from (masked),
whether the key works and which course models it can use, the base URL, the spend cap, and how
old the course's facts are (models nearing their shutdown).

Whether a key works is proven, not assumed: the server lists its models for the key (free)
and refuses a made-up key. A server that takes any key (the course's offline model served
with ``python -m helpers._offline serve``, which lists its models as owned by "offline", or a
local server without keys) is named as such, and the verdict says what the lessons will talk
to: the OpenAI API, another server, or the offline model. Without a key, or with
COURSE_OFFLINE=1, it says the lessons will use the offline model and how to switch.

Exit code 0 when everything needed works (offline included), 1 when something must be fixed.
The key itself is never printed: every line is scrubbed of it before it is shown.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import re
import sys
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

try:
    import course  # the supported Python versions
except ModuleNotFoundError:  # run by path (python tools/doctor.py): the course folder is not importable
    sys.exit("Run the doctor from the course folder: python3 course.py doctor (or python -m tools.doctor).")

ROOT = Path(__file__).resolve().parents[1]

OK, NOTE, FAIL = "ok", "note", "fail"
MARKS = {OK: "✓", NOTE: "!", FAIL: "✗"}
ASCII_MARKS = {OK: "+", NOTE: "!", FAIL: "x"}  # for a console that cannot show the others
SUPPORTED = course.SUPPORTED
PACKAGES = ("openai", "tiktoken", "python-dotenv", "ipywidgets", "jupyterlab")
NEEDED = {"openai", "tiktoken", "python-dotenv"}  # `import helpers` fails without them
ENCODINGS = ("o200k_base", "cl100k_base")
SOON_DAYS = 30  # warn about a course model shutting down within this many days
STALE_DAYS = 120  # facts older than this: say to update the course
TIMEOUT = 10.0  # seconds for the API check and for loading an encoding


MADE_UP_KEY = "sk-doctor-made-up-key-" + "0" * 24  # must be refused by a server that checks keys
OFFLINE_OWNER = "offline"  # the served offline model lists its models as owned by "offline"
OPENAI_API = "the OpenAI API"


@dataclass(frozen=True)
class Line:
    status: str  # OK, NOTE or FAIL
    text: str
    setting: str = ""  # the setting the line is about, shown first ("" for the machine's own checks)
    verdict: str = ""  # what the last line says when this line decides it ("ready ...")

    def shown(self) -> str:
        return f"{self.setting}: {self.text}" if self.setting else self.text


def ok(text: str, setting: str = "", verdict: str = "") -> Line:
    return Line(OK, text, setting, verdict)


def note(text: str, setting: str = "", verdict: str = "") -> Line:
    return Line(NOTE, text, setting, verdict)


def fail(text: str, setting: str = "") -> Line:
    return Line(FAIL, text, setting)


def redact(text: str, key: str | None) -> str:
    """``text`` with every appearance of ``key`` (and of its longer pieces) replaced by its mask."""
    if not key or len(key) < 4:
        return text
    from helpers._keys import mask

    text = text.replace(key, mask(key))
    # An error message may quote part of the key: hide any 12-character run of it too.
    if len(key) > 12:
        for start in range(len(key) - 11):
            piece = key[start : start + 12]
            if piece in text:
                text = text.replace(piece, "***")
    return text


def short(text: str, limit: int = 160) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


# ---------------------------------------------------------------- the checks


def check_python(version: tuple[int, ...] = tuple(sys.version_info[:3])) -> Line:
    (low, high), shown = SUPPORTED, ".".join(map(str, version))
    supported = f"{low[0]}.{low[1]}–{high[0]}.{high[1]}"
    if low <= tuple(version[:2]) <= high:
        return ok(f"Python {shown} (supported: {supported})")
    return note(f"Python {shown} is untested: the course supports {supported}")


def _minimums() -> dict[str, tuple[int, ...]]:
    """The lower bounds requirements.txt sets, e.g. {"openai": (3, 0)}."""
    found: dict[str, tuple[int, ...]] = {}
    path = ROOT / "requirements.txt"
    if path.is_file():
        for raw in path.read_text(encoding="utf-8").splitlines():
            match = re.match(r"\s*([A-Za-z0-9_.-]+)\s*>=\s*([0-9.]+)", raw)
            if match:
                found[match[1].lower()] = _version_tuple(match[2])
    return found


def _version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text)[:3])


def check_packages(version_of: Callable[[str], str] = importlib.metadata.version) -> Line:
    minimums, shown, missing, old = _minimums(), [], [], []
    for name in PACKAGES:
        try:
            version = version_of(name)
        except importlib.metadata.PackageNotFoundError:
            missing.append(name)
            continue
        shown.append(f"{name} {version}")
        least = minimums.get(name)
        if least and _version_tuple(version) < least:
            old.append(f"{name} {version} < {'.'.join(map(str, least))}")
    text = "packages: " + (", ".join(shown) or "none")
    fix = " (run `python3 course.py` to install them)"
    if missing and NEEDED & set(missing):
        return fail(f"missing packages: {', '.join(missing)}{fix}")
    if missing or old:
        problems = [f"missing {', '.join(missing)}"] if missing else []
        problems += [f"too old: {', '.join(old)}"] if old else []
        return note(f"{text}; {'; '.join(problems)}{fix}")
    return ok(text)


def _with_timeout(function: Callable[[], object], seconds: float) -> object:
    """``function()`` in a thread; raise TimeoutError if it is not done in time (e.g. a
    download that hangs in a room without internet)."""
    result: dict[str, object] = {}

    def target() -> None:
        try:
            result["value"] = function()
        except BaseException as error:  # noqa: BLE001 - re-raised below in this thread
            result["error"] = error

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        raise TimeoutError(f"still loading after {seconds:g} s")
    if "error" in result:
        raise result["error"]  # type: ignore[misc]
    return result.get("value")


def check_encodings(names: tuple[str, ...] = ENCODINGS, timeout: float = TIMEOUT) -> Line:
    try:
        import tiktoken
    except ImportError:
        return fail("tiktoken is not installed (run `python3 course.py`)")
    try:
        from helpers import _encodings  # importing helpers hands tiktoken the course's own files
    except Exception:  # noqa: BLE001 - e.g. openai missing: the packages line says so
        problem = "the course's helpers do not import"
    else:
        problem = _encodings.PROBLEM
    fix = (
        f"the course could not hand tiktoken its own files ({problem})"
        if problem
        else "the course ships them in helpers/_encodings: restore that folder "
        "(git checkout -- helpers/_encodings) or reinstall the course"
    )
    for name in names:
        try:
            _with_timeout(lambda name=name: tiktoken.get_encoding(name), timeout)
        except Exception as error:  # noqa: BLE001 - any failure means: not usable offline
            return fail(f"tiktoken encoding {name} does not load ({type(error).__name__}: {short(error, 80)}): {fix}")
    listed = ", ".join(names)
    if problem:  # they load from tiktoken's own cache, which a machine without internet may not have
        return note(f"tiktoken encodings {listed} load, but from tiktoken's cache, not the course's files: {fix}")
    return ok(f"tiktoken encodings {listed} load (shipped with the course)")


def mask_url(url: str, key: str | None = None) -> str:
    """``url`` with any password, token or key in it hidden."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(unreadable URL)"
    netloc = parts.netloc
    if "@" in netloc:
        user, _, host = netloc.rpartition("@")
        name = user.split(":", 1)[0]
        netloc = f"{name}:***@{host}" if ":" in user else f"***@{host}"
    query = re.sub(r"=([^&]+)", "=***", parts.query)
    return redact(urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment)), key)


def place(source: str) -> str:
    """Where a setting was found, in a few words: the environment, a .env path, ..."""
    if source.startswith(".env (") and source.endswith(")"):
        return source[6:-1]
    return {"environment": "the environment", "argument": "an argument"}.get(source, source)


def check_dotenv(settings) -> list[Line]:
    """The .env file read, and each of its lines that is not a setting (a failure: a key or a
    cap written there is silently not used)."""
    if settings.dotenv_file is None:
        return []
    lines = [fail(str(problem), ".env") for problem in settings.dotenv_problems]
    if not lines:
        from helpers._settings import KNOWN

        named = [name for name in KNOWN if settings.from_dotenv(name) is not None]
        lines.append(ok(f"{settings.dotenv_file} sets {', '.join(named) or 'none of the course settings'}", ".env"))
    return lines


def check_base_url(base_url: str | None, source: str = "default", key: str | None = None) -> Line:
    if not base_url:
        return ok(f"not set, so requests go to {OPENAI_API}", "OPENAI_BASE_URL")
    if not urlsplit(base_url).scheme.startswith("http"):
        return fail(f"{mask_url(base_url, key)} is not an http(s) URL: fix it", "OPENAI_BASE_URL")
    return ok(f"{mask_url(base_url, key)} (from {place(source)})", "OPENAI_BASE_URL")


def check_cap(text: str | None, offline: bool, source: str = "environment") -> Line:
    from helpers import _spend as spend
    from helpers.pricing import usd

    label = spend.CAP_VARIABLE
    try:
        cap = spend.parse_cap(text)
    except ValueError:
        return fail(
            f"{text!r} (from {place(source)}) is not an amount in US dollars: write one such as 0.50, or remove it",
            label,
        )
    if cap is None:
        if offline:
            return ok("not set (offline calls cost nothing; it caps real calls)", label)
        return note("not set: put COURSE_SPEND_CAP_USD=0.50 in .env to stop a kernel at $0.50", label)
    return ok(f"{usd(cap)} per kernel (from {place(source)})", label)


def course_models() -> list[str]:
    from helpers.models import DEFAULT_MODEL, lesson_models

    return list(dict.fromkeys([DEFAULT_MODEL, *lesson_models()]))


def check_facts(today: datetime.date, offline: bool = False) -> list[Line]:
    """How old the course's model facts are, and which course model shuts down soon.
    A lesson model past its shutdown fails only real calls: offline it is a note."""
    from helpers.models import AS_OF, DEFAULT_MODEL, DEPRECATIONS_SOURCE, MODELS

    age = (today - datetime.date.fromisoformat(AS_OF)).days
    if age > STALE_DAYS:
        lines = [
            note(
                f"the course's model facts are from {AS_OF}, {age} days ago: models and prices change "
                f"every few months, update the course (git pull) or check {DEPRECATIONS_SOURCE}"
            )
        ]
    else:
        lines = [ok(f"the course's model facts are from {AS_OF} ({age} days ago)")]
    soon = today + datetime.timedelta(days=SOON_DAYS)
    gone: dict[str, list[str]] = {}
    going: dict[str, list[str]] = {}
    for name in course_models():
        shutdown = MODELS[name].shutdown
        if shutdown is None:
            continue
        day = datetime.date.fromisoformat(shutdown)
        if day <= today:
            gone.setdefault(shutdown, []).append(name)
        elif day <= soon:
            going.setdefault(shutdown, []).append(name)
    for shutdown, names in sorted(gone.items()):
        mark = fail if DEFAULT_MODEL in names and not offline else note
        lines.append(
            mark(
                f"{', '.join(names)} shut down on {shutdown}: lessons that call "
                f"{'it' if len(names) == 1 else 'them'} fail with the real API; update the course"
            )
        )
    for shutdown, names in sorted(going.items()):
        days = (datetime.date.fromisoformat(shutdown) - today).days
        lines.append(
            note(
                f"{', '.join(names)} shut{'s' if len(names) == 1 else ''} down on {shutdown} "
                f"(in {days} day{'s' if days != 1 else ''}): update the course before then"
            )
        )
    return lines


def _api_failure(error: Exception, target: str, source: str, custom: bool) -> Line:
    import openai

    status = getattr(error, "status_code", None)
    body = getattr(error, "body", None)
    message = body.get("message") if isinstance(body, dict) and body.get("message") else str(error)
    address = "OPENAI_BASE_URL" if custom else "network"
    if isinstance(error, openai.AuthenticationError):
        return fail(
            f"rejected by {target} (401): {short(message, 120)} Check the key from {source}, "
            "or make a new one at https://platform.openai.com/api-keys",
            "OPENAI_API_KEY",
        )
    if isinstance(error, openai.PermissionDeniedError):
        return fail(f"may not list models at {target} (403): {short(message, 120)}", "OPENAI_API_KEY")
    if isinstance(error, openai.NotFoundError):
        return fail(f"{target} has no /models (404): check the address (it usually ends in /v1)", address)
    if isinstance(error, openai.APITimeoutError):
        return fail(f"{target} did not answer in time: check the network (or OPENAI_BASE_URL)", address)
    if isinstance(error, openai.APIConnectionError):
        return fail(
            f"cannot reach {target}: {short(error.__cause__ or error, 100)}: check the network, "
            "a proxy, or OPENAI_BASE_URL",
            address,
        )
    if status:
        return fail(f"{target} answered {status}: {short(message, 120)}", address)
    return fail(f"checking the key failed: {type(error).__name__}: {short(message, 120)}", "OPENAI_API_KEY")


def _models(key: str, base_url: str | None, timeout: float) -> list:
    """GET /models with ``key``: free, and refused by the API without a key that works."""
    import openai

    client = openai.OpenAI(api_key=key, base_url=base_url, timeout=timeout, max_retries=0)
    return list(client.models.list())


def _made_up_key_refused(base_url: str | None, timeout: float) -> bool | None:
    """Whether the server refuses a made-up key (True), takes it (False), or cannot say (None)."""
    import openai

    try:
        _models(MADE_UP_KEY, base_url, timeout)
    except (openai.AuthenticationError, openai.PermissionDeniedError):
        return True
    except Exception:  # noqa: BLE001 - a timeout or a server error proves nothing either way
        return None
    return False


def check_api(key: str, source: str, base_url: str | None, timeout: float = TIMEOUT) -> list[Line]:
    """Whether the key works, what the server is, and which course models the key can use.

    Listing models costs nothing; the key is proven only if the server also refuses a made-up
    key. The served offline model takes any key and lists its models as owned by "offline"."""
    from helpers.models import DEFAULT_MODEL

    target = OPENAI_API if not base_url else f"the server at {mask_url(base_url, key)}"
    start = time.perf_counter()
    try:
        models = _models(key, base_url, timeout)
    except Exception as error:  # noqa: BLE001 - every failure becomes one readable line
        return [_api_failure(error, target, source, bool(base_url))]
    seconds = time.perf_counter() - start
    ids = {model.id for model in models}
    listed = f"{len(ids)} models in {seconds:.1f} s"
    if models and all(getattr(model, "owned_by", None) == OFFLINE_OWNER for model in models):
        return [
            note(
                f"{target} is the course's offline model (python -m helpers._offline serve), not the OpenAI "
                "API: it takes any key and gives [offline] replies. Unset OPENAI_BASE_URL to use the real API",
                "OPENAI_BASE_URL",
                verdict=f"ready for the offline model served at {mask_url(base_url or '', key)} (not the real API)",
            )
        ]
    where = OPENAI_API if not base_url else f"the server at {mask_url(base_url, key)} (not the OpenAI API)"
    refused = _made_up_key_refused(base_url, timeout)
    if refused:
        lines = [
            ok(
                f"works: {target} listed {listed} for it and refused a made-up key",
                "OPENAI_API_KEY",
                verdict=f"ready for {where}",
            )
        ]
    elif refused is False:
        lines = [
            note(
                f"not tested: {target} listed {listed} for it but takes a made-up key too, so it checks no keys",
                "OPENAI_API_KEY",
                verdict=f"ready for {where}, which checks no keys",
            )
        ]
    else:
        lines = [
            note(
                f"{target} listed {listed} for it, but could not be asked whether it refuses a made-up key",
                "OPENAI_API_KEY",
                verdict=f"ready for {where}",
            )
        ]
    wanted = course_models()
    missing = [name for name in wanted if name not in ids]
    if DEFAULT_MODEL in missing:
        lines.append(
            fail(
                f"the lessons' model {DEFAULT_MODEL} is not available to this key; missing "
                f"{len(missing)} of {len(wanted)} course models ({', '.join(missing)})",
                "OPENAI_API_KEY",
            )
        )
    elif missing:
        lines.append(
            note(
                f"course models: {len(wanted) - len(missing)} of {len(wanted)} available; "
                f"missing {', '.join(missing)} (the cells that call them will fail)",
                "OPENAI_API_KEY",
            )
        )
    else:
        lines.append(
            ok(f"course models: all {len(wanted)} available ({DEFAULT_MODEL} and the others)", "OPENAI_API_KEY")
        )
    return lines


def _without(settings, name: str):
    """``settings`` as if ``name`` were set nowhere (to check the rest when it is unusable)."""
    return replace(
        settings,
        environ={k: v for k, v in settings.environ.items() if k != name},
        dotenv={k: v for k, v in settings.dotenv.items() if k != name},
    )


def run_checks(today: datetime.date | None = None, timeout: float = TIMEOUT) -> tuple[list[Line], str | None]:
    """Every check, in the order they are shown; also the key (to scrub it from the output)."""
    today = today or datetime.date.today()
    lines = [check_python(), check_packages(), check_encodings(timeout=timeout)]
    try:
        from helpers import _spend as spend
        from helpers._connect import plan
        from helpers._keys import KeyLookup, MissingKeyError, find_key, mask
        from helpers._settings import TRUE, DotenvWarning, Settings
    except Exception as error:  # noqa: BLE001 - e.g. openai missing
        lines.append(fail(f"cannot import the course's helpers: {type(error).__name__}: {short(error, 100)}"))
        return lines, None

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DotenvWarning)  # the .env lines below say it, once each
        settings = Settings.read()
    lines.extend(check_dotenv(settings))
    cap_text, cap_source = settings.lookup(spend.CAP_VARIABLE)
    try:
        spend.parse_cap(cap_text)
    except ValueError:  # its own line says so; the key and the address are still checked
        settings = _without(settings, spend.CAP_VARIABLE)

    # The same decision get_client makes: a key goes only to the server it came with.
    base_url, url_source = settings.lookup("OPENAI_BASE_URL")
    url_ok = True
    try:
        chosen = plan(offline=False, settings=settings)
        found = chosen.key
        base_url = None if chosen.url_source == "default" else chosen.base_url
        url_source = chosen.url_source
    except MissingKeyError:
        found = find_key(settings=settings)  # none, with a note on why (a broken .env line)
    except ValueError as error:  # InvalidKeyError, KeySourceError, BaseURLError: masked, says what to do
        setting = getattr(error, "setting", "OPENAI_API_KEY")
        lines.append(fail(short(str(error), 300), setting))
        found, url_ok = KeyLookup(None, "none"), "OPENAI_BASE_URL" not in setting
    forced_text, forced_source = settings.lookup("COURSE_OFFLINE")
    forced = (forced_text or "").strip().lower() in TRUE
    offline = forced or found.key is None
    if found.key:
        lines.append(ok(f"{mask(found.key)} from {place(found.source)}", "OPENAI_API_KEY"))
    if forced:
        lines.append(
            note(
                f"is {forced_text} (from {place(forced_source)}), so the lessons use the "
                "offline model (free, canned replies). To use the real API, unset it"
                + ("" if found.key else " and put OPENAI_API_KEY=... in .env in the course folder"),
                "COURSE_OFFLINE",
                verdict="ready offline (the lessons run with the offline model)",
            )
        )
    elif found.key is None and not any(line.setting.startswith("OPENAI_") for line in lines):
        where = found.note or (
            "put OPENAI_API_KEY=... in a .env file in the course folder (or export it), then run the doctor again"
        )
        lines.append(
            note(
                f"not found, so the lessons use the offline model (free, canned replies). To use the real API: {where}",
                "OPENAI_API_KEY",
                verdict="ready offline (the lessons run with the offline model)",
            )
        )
    if url_ok:  # else the failure above is about it
        lines.append(check_base_url(base_url, url_source, found.key))
    if found.key is not None and not forced:
        lines.extend(check_api(found.key, found.source, base_url, timeout))
    lines.append(check_cap(cap_text, offline, cap_source))
    lines.extend(check_facts(today, offline))
    return lines, found.key


def marks_for(stream) -> dict[str, str]:
    """✓ ! ✗, or + ! x on a console whose encoding lacks them (an old Windows code page)."""
    encoding = getattr(stream, "encoding", None)
    if not encoding:  # e.g. io.StringIO: holds any text
        return MARKS
    try:
        "".join(MARKS.values()).encode(encoding)
        return MARKS
    except (UnicodeEncodeError, LookupError):
        return ASCII_MARKS


def report(lines: list[Line], key: str | None, stream=None) -> int:
    """Print ``lines`` (scrubbed of ``key``) and a verdict; return the exit code."""
    stream = stream or sys.stdout
    marks = marks_for(stream)
    for line in lines:
        print(f"{marks[line.status]} {redact(line.shown(), key)}", file=stream)
    failures = sum(line.status == FAIL for line in lines)
    if failures:
        print(
            f"{marks[FAIL]} not ready: fix the {failures} line{'s' if failures > 1 else ''} marked {marks[FAIL]} above",
            file=stream,
        )
        return 1
    verdict = next((line.verdict for line in reversed(lines) if line.verdict), "ready")
    print(f"{marks[OK]} {redact(verdict, key)}", file=stream)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--today",
        type=datetime.date.fromisoformat,
        default=None,
        metavar="YYYY-MM-DD",
        help="the date the shutdown and age checks use (default: today)",
    )
    parser.add_argument("--timeout", type=float, default=TIMEOUT, help="seconds for the network checks")
    parser.add_argument(
        "--upstream",
        action="store_true",
        help="instead: has the world moved? the model table against the installed openai SDK, "
        "genai-prices and tiktoken (python -m tools.freshness; pip install -U them first for the newest)",
    )
    args = parser.parse_args(argv)
    if args.upstream:
        from tools import freshness

        return freshness.main(["--today", args.today.isoformat()] if args.today else [])
    lines, key = run_checks(args.today, args.timeout)
    return report(lines, key)


if __name__ == "__main__":
    sys.exit(main())
