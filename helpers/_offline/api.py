"""``OfflineAPI``: the offline Chat Completions service behind an httpx2 transport (sync or
async) or the local HTTP server. It routes, applies simulated failures (one-off, scripted in
order, or at a seeded random rate), and puts together the reply from the other modules."""

from __future__ import annotations

import asyncio
import functools
import json
import random
import sys
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx2
import tiktoken

from .._settings import Settings, in_kernel
from ..models import current_models
from ..tokens import encoding_for
from . import structured, tools, wire
from .errors import (
    RATE_LIMIT_REQUESTS,
    RATE_LIMIT_TOKENS,
    APIError,
    Simulation,
    bad,
    outcome,
    parse_simulation,
    simulated_error,
    unknown_simulation,
)
from .replies import Sampling, compose_reply, language, tool_answer
from .request import Request, validate

# Hidden reasoning tokens the offline model reports per effort: made-up, plausible figures
# (real ones vary with the question; recorded ones come in steps of 64).
REASONING_TOKENS = {"none": 0, "minimal": 0, "low": 64, "medium": 192, "high": 448, "xhigh": 960, "max": 1984}
SIMULATE_HEADER = "x-offline-simulate"  # per-request failure, e.g. extra_headers={...: "rate_limit"}
# A JSON completion tells the spend meter (helpers._spend) its model and usage in this
# extension of the httpx2 response, so the meter need not parse back a body just encoded.
USAGE_EXTENSION = "course.usage"
LOG_SIZE = 50  # request bodies kept in OfflineAPI.requests: a long chat must not grow memory
LOG_BYTES = 16 * 2**20  # and what they hold, roughly: a stream of large bodies must not either


class RequestLog(list):
    """A list that keeps only the last ``size`` items appended, and drops the oldest ones while
    all together they hold more than ``max_bytes`` (roughly counted). The newest is always kept,
    however large: lessons read ``requests[-1]``. Appends may come from several threads (the
    served model answers in worker threads)."""

    def __init__(self, size: int = LOG_SIZE, max_bytes: int = LOG_BYTES) -> None:
        super().__init__()
        self.size, self.max_bytes = size, max_bytes
        self._weights: deque[int] = deque()  # each item's bytes, in the list's order
        self._lock = threading.Lock()

    def append(self, item: Any) -> None:
        weight = _weight(item)
        with self._lock:
            if len(self._weights) != len(self):  # the list was changed another way: weigh it again
                self._weights = deque(map(_weight, self))
            super().append(item)
            self._weights.append(weight)
            drop, held = 0, sum(self._weights)
            while len(self) - drop > 1 and (len(self) - drop > self.size or held > self.max_bytes):
                held -= self._weights.popleft()
                drop += 1
            if drop:
                del self[:drop]


def _weight(item: Any) -> int:
    """Roughly the bytes a parsed JSON body holds: its strings, numbers, lists and dicts."""
    total, stack = 0, [item]
    while stack:
        node = stack.pop()
        total += sys.getsizeof(node)
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return total


@dataclass(slots=True)
class Reply:
    """An HTTP answer before it is put on a transport: a JSON body or a stream of events."""

    status: int
    headers: dict[str, str]
    body: Any = None
    events: Iterator[tuple[bytes, bool]] | None = None
    delay: float = 0.0  # seconds the server takes before it answers (a simulated slow reply)
    data: bytes | None = None  # the body, already encoded (a completion)
    usage: tuple[str, dict[str, Any]] | None = None  # a completion's model and usage, as the body says

    def json(self) -> bytes:
        """The body as JSON bytes."""
        return self.data if self.data is not None else wire.encode(self.body)


@functools.cache
def _rate_limit_headers(requests: int, tokens: int) -> tuple[dict[str, str], dict[str, str]]:
    """The rate-limit headers that never change for given limits, written once."""
    limits = {"x-ratelimit-limit-requests": str(requests), "x-ratelimit-limit-tokens": str(tokens)}
    resets = {"x-ratelimit-reset-requests": f"{max(1, round(60_000 / requests))}ms", "x-ratelimit-reset-tokens": "0s"}
    return limits, resets


DEMO_DELAY = 0.02  # seconds between streamed chunks in a notebook when COURSE_OFFLINE_DELAY is unset


@dataclass
class OfflineAPI:
    """The offline Chat Completions service. One instance keeps its own settings, the queue
    of failures to simulate, and a log of the last ``LOG_SIZE`` request bodies it received."""

    seed: int | None = None  # used when a request gives no seed: pins variety for tests
    chunk_delay: float = 0.0  # seconds between stream chunks, for live demos
    tokens_per_chunk: int = 3
    requests: list[dict[str, Any]] = field(default_factory=RequestLog)
    _failures: list[Simulation] = field(default_factory=list)
    _flaky: tuple[random.Random, float, str] | None = None  # (generator, rate, kind) set by flaky()
    _recent: deque[float] = field(default_factory=deque)  # request times in the last minute
    # Ids, and the variety of unseeded choices (a generator per choice would be seeded from the OS).
    _fresh: random.Random = field(default_factory=random.Random, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> OfflineAPI:
        """An OfflineAPI set by COURSE_OFFLINE_SEED and COURSE_OFFLINE_DELAY (seconds per chunk),
        read from ``settings`` (a new reading if None). Unset, the delay is DEMO_DELAY inside a
        notebook kernel, so a lesson's stream is seen arriving, and 0 elsewhere (scripts,
        benchmarks; the tests set it to 0)."""
        settings = settings or Settings.read()
        seed = settings.get("COURSE_OFFLINE_SEED")
        delay = settings.get("COURSE_OFFLINE_DELAY")
        chunk_delay = float(delay) if delay else (DEMO_DELAY if in_kernel() else 0.0)
        return cls(seed=int(seed) if seed else None, chunk_delay=chunk_delay)

    def fail_next(self, kind: str, times: int = 1) -> None:
        """Make the next ``times`` chat requests fail as ``kind``: invalid_api_key (401),
        insufficient_quota or rate_limit (429), server_error (500), overloaded (503), stream_error
        (a streamed reply breaks off half way) or slow ("slow:2": the answer comes after 2 s, so a
        shorter client timeout trips), or refusal (a 200 whose message.refusal says the model
        declines, content null). Raises ValueError for an unknown kind."""
        simulation = parse_simulation(kind)
        with self._lock:
            self._failures.extend([simulation] * times)

    def script(self, *outcomes: str | int) -> None:
        """Queue what the next chat requests get, in order: status codes (200, 401, 429, 500,
        503) or names as for ``fail_next`` ("ok" is a normal reply). ``script(429, 429, 500, 200)``
        fails three requests, then answers the fourth. Raises ValueError before queuing anything
        if one outcome is unknown."""
        simulations = [outcome(item) for item in outcomes]
        with self._lock:
            self._failures.extend(simulations)

    def flaky(self, rate: float, *, seed: int = 0, kind: str = "rate_limit") -> None:
        """From now on, fail each chat request with probability ``rate`` as ``kind`` (after any
        queued failures), drawn from a generator seeded with ``seed``: the same requests fail on
        every run. ``flaky(0)`` turns it off."""
        if not 0 <= rate <= 1:
            raise ValueError(f"rate is a probability from 0 to 1, not {rate!r}")
        simulation = parse_simulation(kind)
        with self._lock:
            self._flaky = (random.Random(seed), rate, simulation.kind) if rate else None

    def clear_failures(self) -> None:
        """Forget every queued failure and turn ``flaky`` off."""
        with self._lock:
            self._failures.clear()
            self._flaky = None

    @property
    def pending(self) -> list[str]:
        """The queued outcomes, next first (e.g. ["rate_limit", "ok"])."""
        return [s.kind if s.kind != "slow" else f"slow:{s.seconds:g}" for s in self._failures]

    def _next_failure(self) -> Simulation | None:
        if not (self._failures or self._flaky):  # the usual case, seen without waiting for the lock
            return None
        with self._lock:
            if self._failures:
                return self._failures.pop(0)
            if self._flaky:
                rng, rate, kind = self._flaky
                if rng.random() < rate:
                    return parse_simulation(kind)
        return None

    # -- transports

    def transport(self) -> httpx2.MockTransport:
        """A transport for ``openai.DefaultHttpx2Client(transport=...)``."""
        return httpx2.MockTransport(self.handle)

    def async_transport(self) -> httpx2.MockTransport:
        """A transport for ``openai.AsyncOpenAI(http_client=openai.DefaultAsyncHttpx2Client(transport=...))``:
        the same answers, with streams as async byte streams paced by ``asyncio.sleep``."""
        return httpx2.MockTransport(self.handle_async)

    def handle(self, request: httpx2.Request) -> httpx2.Response:
        """Answer one HTTP request."""
        reply = self.reply(request.method, request.url.path, request.headers, request.content)
        if reply.delay:
            wait, timed_out = _within_timeout(reply.delay, request)
            time.sleep(wait)  # in the caller's thread: Kernel > Interrupt (Ctrl-C) stops it
            if timed_out:
                raise _read_timeout(wait, request)
        if reply.events is not None:
            return httpx2.Response(reply.status, headers=reply.headers, content=self._paced(reply.events))
        return _json_response(reply)

    async def handle_async(self, request: httpx2.Request) -> httpx2.Response:
        reply = self.reply(request.method, request.url.path, request.headers, request.content)
        if reply.delay:
            wait, timed_out = _within_timeout(reply.delay, request)
            await asyncio.sleep(wait)
            if timed_out:
                raise _read_timeout(wait, request)
        if reply.events is not None:
            return httpx2.Response(reply.status, headers=reply.headers, content=self._paced_async(reply.events))
        return _json_response(reply)

    def _paced(self, events: Iterator[tuple[bytes, bool]]) -> Iterator[bytes]:
        for data, content in events:
            if content and self.chunk_delay:
                time.sleep(self.chunk_delay)
            yield data

    async def _paced_async(self, events: Iterator[tuple[bytes, bool]]) -> AsyncIterator[bytes]:
        for data, content in events:
            if content and self.chunk_delay:
                await asyncio.sleep(self.chunk_delay)
            yield data

    # -- HTTP

    def reply(self, method: str, path: str, headers: Any, content: bytes) -> Reply:
        """Answer one request; never raises: every failure is an API-shaped error."""
        request_id = f"req_{self._fresh.getrandbits(128):032x}"
        try:
            reply = self._route(method, path.rstrip("/"), headers, content, request_id)
        except APIError as err:
            reply = Reply(err.status, dict(err.headers), err.body)
        except RecursionError:  # a structure too deep to walk, past the parser's own guard
            err = bad("We could not parse the JSON body of your request: it is nested too deeply.")
            reply = Reply(400, {}, err.body)
        except Exception as exc:  # noqa: BLE001 - a bug here must still answer like the API, not crash a lesson
            err = simulated_error("server_error")
            err.body["error"]["message"] += f" (offline model: {type(exc).__name__})"
            reply = Reply(500, {}, err.body)
        reply.headers = {"x-request-id": request_id, "openai-version": "2020-10-01", **reply.headers}
        return reply

    def _route(self, method: str, path: str, headers: Any, content: bytes, request_id: str) -> Reply:
        if method == "GET" and path.endswith("/models"):
            data = [self._model_object(name) for name in current_models()]
            return Reply(200, {}, {"object": "list", "data": data})
        if method == "GET" and "/models/" in path:
            name = path.rsplit("/", 1)[1]
            if name not in current_models():
                raise APIError(404, f"The model '{name[:200]}' does not exist", param="model", code="model_not_found")
            return Reply(200, {}, self._model_object(name))
        if not path.endswith("/chat/completions"):
            raise APIError(
                404,
                f"Invalid URL ({method} {path[:200]}): the offline model emulates "
                "only POST /v1/chat/completions and GET /v1/models.",
            )
        if method != "POST":
            raise APIError(405, f"Invalid method for URL ({method} {path[:200]}).")
        if not headers.get("authorization", "").removeprefix("Bearer ").strip():
            raise APIError(
                401,
                "You didn't provide an API key. You need to provide your API key "
                "in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
            )
        body = _parse(content)
        if isinstance(body, dict):
            self.requests.append(body)
        header = headers.get(SIMULATE_HEADER)
        if header:  # a header names this request's failure; queued ones wait for the next request
            try:
                simulation: Simulation | None = parse_simulation(header)
            except ValueError as err:
                raise unknown_simulation(header, str(err) if header.startswith("slow:") else "") from None
        else:
            simulation = self._next_failure()
        kind = simulation.kind if simulation else "ok"
        streamed = isinstance(body, dict) and body.get("stream") is True
        if kind == "stream_error" and not streamed:
            kind = "server_error"  # a plain request cannot break off half way
        if kind not in ("ok", "slow", "stream_error", "refusal"):
            model = body.get("model", "the model") if isinstance(body, dict) else "the model"
            raise simulated_error(kind, str(model)[:100], request_id=request_id)
        reply = self.complete(body, stream_error=kind == "stream_error", refuse=kind == "refusal")
        if simulation and kind == "slow":
            reply.delay = simulation.seconds
        return reply

    @staticmethod
    def _model_object(name: str) -> dict[str, Any]:
        return {"id": name, "object": "model", "created": 1_700_000_000, "owned_by": "offline"}

    def _completion_headers(self, tokens: int) -> dict[str, str]:
        """A completion's headers: the time it took and the rate limits left after it.

        The offline model never runs out of requests: its window of the last minute's requests
        stops growing one short of the limit (the oldest leaves as a new one comes), so a success
        never says 0 remaining, and what it says is true: at least that many more will succeed.
        Only a simulated rate limit (fail_next("rate_limit")) answers 429, with 0 remaining."""
        now = time.monotonic()
        limit = RATE_LIMIT_REQUESTS  # read on each call, so a test may lower it
        with self._lock:
            while self._recent and (now - self._recent[0] >= 60 or len(self._recent) >= limit - 1):
                self._recent.popleft()
            self._recent.append(now)
            used = len(self._recent)
        limits, resets = _rate_limit_headers(limit, RATE_LIMIT_TOKENS)
        return {
            "openai-processing-ms": "1",
            **limits,
            "x-ratelimit-remaining-requests": str(limit - used),
            "x-ratelimit-remaining-tokens": str(max(0, RATE_LIMIT_TOKENS - tokens)),
            **resets,
        }

    # -- completions

    def choices(self, request: Request, refuse: bool = False) -> list[wire.Choice]:
        """Generate the ``n`` choices for a validated request."""
        model = request.model
        enc = encoding_for(model.name)
        seed = request.seed if request.seed is not None else self.seed
        reasoning_full = REASONING_TOKENS[request.effort] if request.effort else 0
        messages = request.messages
        lang = language(messages)
        # Tool results are answered only when they end the conversation.
        results = tools.results(messages) if messages[-1]["role"] == "tool" else []
        last_user = next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")
        taken: set[str] = set()  # phrasings the earlier choices took: n choices differ where they can
        out = []
        for index in range(request.n):
            rng = None
            if request.temperature > 0:
                # Unseeded, every choice draws from one generator. Seeded, each has its own, from the
                # seed and the question: the same request repeats, another question draws afresh.
                rng = random.Random(f"{seed}:{index}:{last_user}") if seed is not None else self._fresh
            # With a seed, tool-call ids are pinned too, so a seeded request repeats exactly.
            ids = random.Random(f"{seed}:{index}:calls") if seed is not None and request.tools else None
            calls = (
                tools.calls(request, (lambda ids=ids: f"call_{ids.getrandbits(96):024x}") if ids else None)
                if request.tools and not refuse
                else []
            )
            reasoning, overhead = reasoning_full, model.rules.completion_overhead
            if calls:
                # Completion tokens of a call: its name and arguments + 3 (approximate).
                tokens = [
                    t for c in calls for t in enc.encode_ordinary(c["function"]["name"] + c["function"]["arguments"])
                ]
                overhead += 3 * len(calls)
                out.append(wire.Choice(index, None, tokens, reasoning, "tool_calls", overhead, calls))
                continue
            refused = structured.refusal(request, forced=refuse)
            if refused:  # a refusal replaces the content: message.refusal, content null
                tokens = reply_tokens(enc, refused)
                out.append(wire.Choice(index, None, tokens, reasoning, "stop", overhead, refusal=refused))
                continue
            if results:
                text = tool_answer(results, lang)
            else:
                text = compose_reply(
                    messages,
                    Sampling(rng, request.temperature, request.top_p, taken),
                    presence_penalty=request.presence_penalty,
                    frequency_penalty=request.frequency_penalty,
                    verbosity=request.body.get("verbosity") or "medium",  # validated: low, medium, high
                    lang=lang,
                )
            if request.response_format and request.response_format.get("type") != "text":
                user = next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")
                text = structured.reply(request, text, user)
            finish = "stop"
            cuts = [text.find(s) for s in request.stops if s in text] if request.stops else None
            if cuts:
                text = text[: min(cuts)]
            # Reasoning models think before they answer; those hidden tokens count
            # against max_completion_tokens and bill as output. A finished reply also
            # reports the family's few extra completion tokens (recorded traffic).
            tokens = reply_tokens(enc, text)
            limit = request.limit
            if limit is not None and reasoning + len(tokens) + overhead > limit:
                reasoning = min(reasoning, limit)
                tokens = tokens[: limit - reasoning]
                overhead = limit - reasoning - len(tokens)  # a cut reply reports exactly the budget
                # The cut can fall inside a multi-byte character (Korean often): drop that
                # half character rather than show U+FFFD. The tokens are still billed.
                text = enc.decode_bytes(tokens).decode("utf-8", errors="ignore")
                finish = "length"
            out.append(wire.Choice(index, text, tokens, reasoning, finish, overhead))
        return out

    def complete(self, body: Any, stream_error: bool = False, refuse: bool = False) -> Reply:
        """A validated request's reply: JSON, or a stream of server-sent events; ``refuse``: the
        model declines (message.refusal), as with the "[refuse]" marker of structured outputs."""
        request = validate(body)
        model = request.model
        choices = self.choices(request, refuse)
        prompt = request.prompt_tokens
        counts = (prompt, sum(c.completion_tokens for c in choices), sum(c.reasoning_tokens for c in choices))
        usage = wire.usage(*counts)
        head = {
            "id": f"chatcmpl-{self._fresh.getrandbits(96):024x}",
            "created": int(time.time()),
            "model": body["model"],
            "service_tier": "default",
            "system_fingerprint": "fp_offline",
        }
        headers = self._completion_headers(prompt + (request.limit or model.max_output_tokens))
        enc = encoding_for(model.name)
        top = request.top_logprobs if request.logprobs else None
        if request.stream:
            events = wire.events(
                head, choices, usage if request.include_usage else None, enc, self.tokens_per_chunk, top, stream_error
            )
            return Reply(200, {**headers, "content-type": "text/event-stream"}, events=events)
        data = wire.completion_json(head, choices, counts, enc, top)
        return Reply(200, headers, data=data, usage=(head["model"], usage))


@functools.lru_cache(maxsize=512)
def reply_tokens(enc: tiktoken.Encoding, text: str) -> tuple[int, ...]:
    """The tokens of a reply, kept: the offline model's replies come from a few templates."""
    return tuple(enc.encode_ordinary(text))


def _json_response(reply: Reply) -> httpx2.Response:
    """A JSON reply as httpx2 would encode ``json=``, with the headers given as bytes, which
    httpx2 takes without normalising each one again (this runs on every request). A completion
    carries its usage for the spend meter (USAGE_EXTENSION)."""
    data = reply.json()
    headers = [(k.encode(), v.encode()) for k, v in reply.headers.items()]
    headers += [(b"content-length", str(len(data)).encode()), (b"content-type", b"application/json")]
    extensions = {USAGE_EXTENSION: reply.usage} if reply.usage is not None else None
    return httpx2.Response(reply.status, headers=headers, content=data, extensions=extensions)


def _within_timeout(delay: float, request: httpx2.Request) -> tuple[float, bool]:
    """How long to wait before answering ``request``, and whether its client gives up first.

    A transport over a socket raises ReadTimeout when no byte arrives within the timeout's
    ``read`` seconds; an in-memory transport never waits, so the emulator does it here, reading
    the limit the client put on the request, and the SDK sees what it would see on a network."""
    read = (request.extensions.get("timeout") or {}).get("read")
    if read is not None and delay > read:
        return float(read), True
    return delay, False


def _read_timeout(waited: float, request: httpx2.Request) -> httpx2.ReadTimeout:
    return httpx2.ReadTimeout(
        f"The read operation timed out: no answer within {waited:g} s (offline model, simulated slow reply)",
        request=request,
    )


def _refuse(name: str) -> Any:
    raise ValueError(name)


_DECODER = json.JSONDecoder(parse_constant=_refuse)  # built once: json.loads(..., hook) builds one per call


def _parse(content: bytes) -> Any:
    """The JSON body, or the API's 400 (NaN and Infinity are not JSON)."""
    raw = content or b"null"
    # A body that starts with "{" and no NUL byte is UTF-8 (UTF-16 and -32 put NULs beside it).
    encoding = "utf-8" if raw[:1] == b"{" and raw[1:2] != b"\x00" else json.detect_encoding(raw)
    try:
        body = _DECODER.decode(raw.decode(encoding, "surrogatepass"))
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise bad(
            "We could not parse the JSON body of your request. (HINT: This likely means you "
            "aren't using your HTTP library correctly.)"
        ) from None
    # Newer Pythons parse deeper than the checks below can walk. Fewer brackets than the
    # limit cannot nest past it, so the walk is only needed for bodies with many.
    if raw.count(b"[") + raw.count(b"{") > MAX_JSON_DEPTH and _depth(body) > MAX_JSON_DEPTH:
        raise bad("We could not parse the JSON body of your request: it is nested too deeply.")
    return body


MAX_JSON_DEPTH = 100


def _depth(value: Any) -> int:
    """How deeply ``value`` nests arrays and objects, walked without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, (dict, list)):
            deepest = max(deepest, level)
            if level > MAX_JSON_DEPTH:
                break
            stack.extend((child, level + 1) for child in (node.values() if isinstance(node, dict) else node))
    return deepest
