"""A preflight for a learner or a workshop host: is this machine ready for the course?

    python3 course.py doctor                      # sets up .venv, then runs this file in it
    python -m tools.doctor --today 2027-03-20     # pretend it is another day (the date checks)

One short line per check, marked ✓ (fine), ! (worth knowing) or ✗ (must be fixed):
Python, packages, tiktoken's encodings, where the key comes from (masked), whether the key
works and which course models it can use, the base URL, the spend cap, and how old the
course's facts are (models nearing their shutdown). Without a key, or with COURSE_OFFLINE=1,
it says the lessons will use the offline model and how to switch to the real API.

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
from collections.abc import Callable
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Line:
    status: str  # OK, NOTE or FAIL
    text: str


def ok(text: str) -> Line:
    return Line(OK, text)


def note(text: str) -> Line:
    return Line(NOTE, text)


def fail(text: str) -> Line:
    return Line(FAIL, text)


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


def check_base_url(base_url: str | None, key: str | None = None) -> Line:
    if not base_url:
        return ok("base URL: the OpenAI API (OPENAI_BASE_URL is not set)")
    if not urlsplit(base_url).scheme.startswith("http"):
        return fail(f"base URL {mask_url(base_url, key)} is not an http(s) URL: fix OPENAI_BASE_URL")
    return ok(f"base URL: {mask_url(base_url, key)} (from OPENAI_BASE_URL)")


def check_cap(text: str | None, offline: bool) -> Line:
    from helpers import _spend as spend
    from helpers.pricing import usd

    try:
        cap = spend.parse_cap(text)
    except ValueError as error:
        return fail(short(error))
    if cap is None:
        if offline:
            return ok(f"spend cap: none set (offline calls cost nothing; {spend.CAP_VARIABLE} caps real calls)")
        return note(f"spend cap: none: put {spend.CAP_VARIABLE}=0.50 in .env to stop a kernel at $0.50")
    return ok(f"spend cap: {usd(cap)} per kernel ({spend.CAP_VARIABLE}={text})")


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


def _api_failure(error: Exception, target: str, source: str) -> Line:
    import openai

    status = getattr(error, "status_code", None)
    body = getattr(error, "body", None)
    message = body.get("message") if isinstance(body, dict) and body.get("message") else str(error)
    if isinstance(error, openai.AuthenticationError):
        return fail(
            f"key rejected by {target} (401): {short(message, 120)} Check the key from {source}, "
            "or make a new one at https://platform.openai.com/api-keys"
        )
    if isinstance(error, openai.PermissionDeniedError):
        return fail(f"key may not list models at {target} (403): {short(message, 120)}")
    if isinstance(error, openai.NotFoundError):
        return fail(f"{target} has no /models (404): check OPENAI_BASE_URL (it usually ends in /v1)")
    if isinstance(error, openai.APITimeoutError):
        return fail(f"{target} did not answer in time: check the network (or OPENAI_BASE_URL)")
    if isinstance(error, openai.APIConnectionError):
        return fail(
            f"cannot reach {target}: {short(error.__cause__ or error, 100)}: check the network, "
            "a proxy, or OPENAI_BASE_URL"
        )
    if status:
        return fail(f"{target} answered {status}: {short(message, 120)}")
    return fail(f"checking the key failed: {type(error).__name__}: {short(message, 120)}")


def check_api(key: str, source: str, base_url: str | None, timeout: float = TIMEOUT) -> list[Line]:
    """Whether the key works (GET /models, which costs nothing) and which course models it can use."""
    import openai

    from helpers.models import DEFAULT_MODEL

    target = "the OpenAI API" if not base_url else "the server"
    start = time.perf_counter()
    try:
        client = openai.OpenAI(api_key=key, base_url=base_url, timeout=timeout, max_retries=0)
        ids = {model.id for model in client.models.list()}
    except Exception as error:  # noqa: BLE001 - every failure becomes one readable line
        return [_api_failure(error, target, source)]
    seconds = time.perf_counter() - start
    lines = [ok(f"key works: {target} listed {len(ids)} models in {seconds:.1f} s")]
    wanted = course_models()
    missing = [name for name in wanted if name not in ids]
    if DEFAULT_MODEL in missing:
        lines.append(
            fail(
                f"the lessons' model {DEFAULT_MODEL} is not available to this key; missing "
                f"{len(missing)} of {len(wanted)} course models ({', '.join(missing)})"
            )
        )
    elif missing:
        lines.append(
            note(
                f"course models: {len(wanted) - len(missing)} of {len(wanted)} available; "
                f"missing {', '.join(missing)} (the cells that call them will fail)"
            )
        )
    else:
        lines.append(ok(f"course models: all {len(wanted)} available ({DEFAULT_MODEL} and the others)"))
    return lines


def run_checks(today: datetime.date | None = None, timeout: float = TIMEOUT) -> tuple[list[Line], str | None]:
    """Every check, in the order they are shown; also the key (to scrub it from the output)."""
    today = today or datetime.date.today()
    lines = [check_python(), check_packages(), check_encodings(timeout=timeout)]
    try:
        from helpers._connect import plan
        from helpers._keys import KeyLookup, mask
        from helpers._settings import TRUE, setting
    except Exception as error:  # noqa: BLE001 - e.g. openai missing
        lines.append(fail(f"cannot import the course's helpers: {type(error).__name__}: {short(error, 100)}"))
        return lines, None

    # The same decision get_client makes: a key goes only to the server it came with.
    try:
        chosen = plan(offline=False)
        found = chosen.key
        base_url = None if chosen.url_source == "default" else chosen.base_url
    except Exception as error:  # noqa: BLE001 - MissingKeyError, InvalidKeyError, KeySourceError, BaseURLError
        if type(error).__name__ != "MissingKeyError":
            lines.append(fail(f"key or address: {short(str(error), 300)}"))
            return lines, None
        found, base_url = KeyLookup(None, "none"), setting("OPENAI_BASE_URL")
    forced = (setting("COURSE_OFFLINE") or "").strip().lower() in TRUE
    offline = forced or found.key is None
    if found.key:
        lines.append(ok(f"key: {mask(found.key)} from {found.source}"))
    if forced:
        lines.append(
            note(
                "offline: COURSE_OFFLINE is set, so the lessons use the offline model (free, canned "
                "replies). To use the real API, unset COURSE_OFFLINE (environment or .env)"
                + ("" if found.key else " and put OPENAI_API_KEY=... in .env in the course folder")
            )
        )
    elif found.key is None:
        where = found.note or (
            "put OPENAI_API_KEY=... in a .env file in the course folder (or export it), then run the doctor again"
        )
        lines.append(
            note(
                f"offline: no OPENAI_API_KEY found, so the lessons use the offline model (free, "
                f"canned replies). To use the real API: {where}"
            )
        )
    else:
        lines.extend(check_api(found.key, found.source, base_url, timeout))
    lines.append(check_base_url(base_url, found.key))
    lines.append(check_cap(setting("COURSE_SPEND_CAP_USD"), offline))
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
        print(f"{marks[line.status]} {redact(line.text, key)}", file=stream)
    failures = sum(line.status == FAIL for line in lines)
    offline = any(line.text.startswith("offline:") for line in lines)
    if failures:
        print(
            f"{marks[FAIL]} not ready: fix the {failures} line{'s' if failures > 1 else ''} marked {marks[FAIL]} above",
            file=stream,
        )
        return 1
    verdict = "ready offline (the lessons run with the offline model)" if offline else "ready for the real API"
    print(f"{marks[OK]} {verdict}", file=stream)
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
    args = parser.parse_args(argv)
    lines, key = run_checks(args.today, args.timeout)
    return report(lines, key)


if __name__ == "__main__":
    sys.exit(main())
