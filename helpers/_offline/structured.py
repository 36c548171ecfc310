"""JSON modes and structured outputs: response_format checks, strict-schema rules, a small
valid instance of any JSON schema (also used for tool-call arguments), and simulated refusals.

``instance`` fills a schema's fields with what it can find in the user's message (``Hints``):
- numbers it mentions, in order, within the field's minimum/maximum;
- enum values it names, in order of mention, one per field (from_unit and to_unit get different
  ones: a field named to_/target/destination takes the value said after "to"/"into"/"in" or
  before Korean 로/으로), also through Korean words (KOREAN_WORDS: "화씨" names "fahrenheit");
- places for place-like fields (city, location, place, town, country, destination...):
  capitalised names after "in"/"for"/"to"/"from" and lists of them ("in Seoul, Busan and Jeju"),
  Korean place names with their particles stripped ("부산에서", "서울로"; KOREAN_PLACES, written in
  English when the field's description asks for English), else "unknown" (never the chat reply);
- yes/no for booleans, from the clause that mentions the field: "yes", "included", 네, 예,
  포함, 좋아요 are true; "no", "without", 아니요, 빼, 없어요 are false ("no" wins);
- for other strings: a labelled value ("Title: Shopping list"), an e-mail address, URL, phone
  number or time zone for fields so named, a person's name, quoted phrases (each once), the whole
  message for query-like fields, the canned reply (structured outputs: the first free field),
  then a phrase of the message, then "unknown". A nullable field the message gives nothing
  for is null.
It honours type, enum, const, required, min/max, minItems/maxItems, minLength/maxLength,
anyOf/oneOf/allOf, $ref (#/$defs and #/definitions) and common formats; a `pattern` is not
solved (the value is left as a plain string).

Refusals: a json_schema request whose last user message contains REFUSE_MARKER ("[refuse]")
is one a model would decline: ``refusal(request)`` gives the text that goes in
``message.refusal`` (content null), as a real model's safety refusal does."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from .errors import bad
from .replies import NOT_NAMES, find_name
from .validated import Request

MAX_DEPTH = 10  # the API's nesting limit for structured-output schemas
NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_FORMATS = {
    "date-time": "2026-11-25T09:00:00Z",
    "date": "2026-11-25",
    "time": "09:00:00",
    "email": "learner@example.com",
    "uri": "https://example.com",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "hostname": "example.com",
    "ipv4": "127.0.0.1",
    "duration": "P1D",
}
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_FREE_TEXT = ("query", "q", "text", "prompt", "input", "question", "search", "message", "content", "topic")
NEUTRAL = "unknown"  # a free string the message gives nothing for

# ---------------------------------------------------------------- Korean


def _pairs(table: str) -> list[tuple[str, str]]:
    """The "key: value" lines of a table written as text (a key may hold a space: "몇 시")."""
    return [tuple(part.strip() for part in line.split(":", 1)) for line in table.strip().splitlines()]  # type: ignore[misc]


# English words for common Korean ones, so that a Korean question finds a tool named or described
# in English (tools.py scores tools with them) and names an enum value ("화씨로" -> "fahrenheit").
# A key matches anywhere in the text: Korean glues particles and endings to words ("날씨는", "바꿔 줘").
# Extend it when a lesson's tool needs a word it lacks.
KOREAN_WORDS: dict[str, tuple[str, ...]] = {
    key: tuple(value.split())
    for key, value in _pairs("""
날씨: weather forecast
기온: temperature weather
온도: temperature
예보: forecast weather
변환: convert conversion
바꿔: convert
바꾸: convert
환산: convert
섭씨: celsius
화씨: fahrenheit
환율: exchange rate currency
달러: usd dollar
원화: krw won
엔화: jpy yen
시간: time
몇 시: time
시각: time
시차: timezone time
날짜: date
검색: search
찾아: search find
번역: translate translation
계산: calculate calculator
예약: book booking reservation reserve
취소: cancel
주문: order
환불: refund
배송: shipping delivery
주가: stock price
주식: stock
가격: price
뉴스: news
메일: email mail
보내: send
일정: schedule calendar event
알림: reminder notification
메모: note
호텔: hotel
항공: flight
비행기: flight
식당: restaurant
맛집: restaurant
조식: breakfast
아침: breakfast morning
주차: parking
""")
}
# Korean place names, with the English name a schema may ask for ("City name in English").
KOREAN_PLACES: dict[str, str] = dict(
    _pairs("""
서울: Seoul
부산: Busan
제주: Jeju
제주도: Jeju
인천: Incheon
대구: Daegu
대전: Daejeon
광주: Gwangju
울산: Ulsan
수원: Suwon
경주: Gyeongju
강릉: Gangneung
전주: Jeonju
여수: Yeosu
속초: Sokcho
춘천: Chuncheon
포항: Pohang
도쿄: Tokyo
오사카: Osaka
교토: Kyoto
후쿠오카: Fukuoka
베이징: Beijing
상하이: Shanghai
홍콩: Hong Kong
타이베이: Taipei
방콕: Bangkok
싱가포르: Singapore
하노이: Hanoi
파리: Paris
런던: London
뉴욕: New York
로마: Rome
베를린: Berlin
시드니: Sydney
한국: Korea
일본: Japan
중국: China
미국: United States
영국: United Kingdom
프랑스: France
""")
)
# Particles stripped from a Korean word to find its stem ("부산에서" -> "부산"); longest first.
_PARTICLES = sorted(
    "에서부터 에서 으로 까지 부터 이랑 하고 에 로 은 는 이 가 을 를 의 도 와 과 랑".split(), key=len, reverse=True
)
_TO_PARTICLES = ("으로", "로", "까지")
_FROM_PARTICLES = ("에서부터", "부터")
# Words before 에서 that are no place ("오늘에서" is rare, "회의에서" is a meeting): unknown words
# count as a place only before 에서, the clearest place particle.
_NOT_PLACES_KO = frozenset("오늘 내일 어제 주말 아침 저녁 점심 나중 다음 처음 여기 거기 저기 이번 지난 동안".split())
_HANGUL_WORD = re.compile(r"[가-힣]+")


def english_words(text: str) -> set[str]:
    """The English words (KOREAN_WORDS) for the Korean words in ``text``."""
    return {word for key, words in KOREAN_WORDS.items() if key in text for word in words}


# ---------------------------------------------------------------- places


@dataclass(frozen=True)
class Place:
    """A place named in a message: as written, in English when known, where, and its role:
    "to" (a destination: "to Tokyo", "서울로"), "from" ("from Seoul", "서울부터") or "at"."""

    written: str
    english: str | None
    at: int
    role: str = "at"


_CAPS = r"[A-Z][\w'’-]*(?: [A-Z][\w'’-]*)*"
_PLACE = re.compile(r"\b(?i:in|for|at|to|from|near|into|around|visiting)\s+(" + _CAPS + ")")
_MORE = re.compile(r"(\s*,\s*(?:and\s+|or\s+)?|\s+(?:and|or|&)\s+)(?:(?i:in|for|at|to|from)\s+)?(" + _CAPS + ")")
# Capitalised words after "in", "to"... that are no place.
_NOT_PLACES = frozenset(
    "celsius fahrenheit kelvin english korean japanese chinese french german spanish italian json python "
    "markdown utc gmt am pm i monday tuesday wednesday thursday friday saturday sunday january february march "
    "april may june july august september october november december today tomorrow yes no please".split()
)
# Countries that stay with the city before them: "Paris, France" is one place.
_COUNTRIES = frozenset(
    "korea japan china france germany italy spain uk usa us canada australia england taiwan vietnam "
    "thailand india brazil mexico".split()
)


def _english_places(text: str) -> list[Place]:
    found: list[Place] = []
    for match in _PLACE.finditer(text):
        prep = match.group(0).split()[0].lower()
        role = "to" if prep in ("to", "into") else "from" if prep == "from" else "at"
        end, items = match.end(), [(match.group(1), match.start(1), role, False)]
        while more := _MORE.match(text, end):
            items.append((more.group(2), more.start(2), role, "," in more.group(1) and "and" not in more.group(1)))
            end = more.end()
        if text[end : end + 1] == "/":  # Europe/Paris is a time zone, not a place
            items.pop()
        for name, at, role_, after_comma in items:
            if name.split()[0].lower() in _NOT_PLACES:
                continue
            if after_comma and found and name.lower() in _COUNTRIES:
                last = found.pop()
                found.append(Place(f"{last.written}, {name}", f"{last.written}, {name}", last.at, last.role))
                continue
            found.append(Place(name, name, at, role_))
    return found


def _korean_places(text: str) -> list[Place]:
    found = []
    for match in _HANGUL_WORD.finditer(text):
        word, stems = match.group(), [(match.group(), "")]
        for _ in range(2):  # up to two particles: "제주도에서는"
            stem = stems[-1][0]
            cut = next((p for p in _PARTICLES if stem.endswith(p) and len(stem) > len(p)), None)
            if cut is None:
                break
            stems.append((stem[: -len(cut)], cut))
        particle = stems[1][1] if len(stems) > 1 else ""
        role = "to" if particle in _TO_PARTICLES else "from" if particle in _FROM_PARTICLES else "at"
        known = next((s for s, _ in stems if s in KOREAN_PLACES), None)
        if known:
            found.append(Place(known, KOREAN_PLACES[known], match.start(), role))
        elif word.endswith("에서") and len(word) >= 4:
            stem = word[:-2]
            if stem not in _NOT_PLACES_KO and not any(k in stem for k in KOREAN_WORDS):
                found.append(Place(stem, None, match.start(), "at"))
    return found


def find_places(text: str) -> list[Place]:
    """The places ``text`` names, in order: capitalised names after "in", "for", "to"... (and lists
    of them: "in Seoul, Busan and Jeju"), known Korean place names, and a Korean word before 에서."""
    places, seen = [], set()
    for place in sorted(_english_places(text) + _korean_places(text), key=lambda p: p.at):
        if place.written not in seen:
            seen.add(place.written)
            places.append(place)
    return places


# ---------------------------------------------------------------- hints

PLACE_WORDS = frozenset(
    "city location place country town destination region address origin departure arrival venue".split()
)
_TO_WORDS = frozenset("to target destination dest arrival into output".split())
_FROM_WORDS = frozenset("from source origin departure start input".split())
_NAME_WORDS = frozenset("name person guest customer recipient author contact".split())
_QUOTED = re.compile(r"\"([^\"]{1,80})\"|“([^”]{1,80})”|‘([^’]{1,80})’|「([^」]{1,80})」|(?<!\w)'([^']{1,80})'(?!\w)")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL = re.compile(r"https?://[^\s\"'<>]+[^\s\"'<>.,;:!?)]")
_PHONE = re.compile(r"\+?\d[\d -]{6,}\d")
_TIMEZONE = re.compile(r"\b[A-Z][A-Za-z_]+/[A-Z][A-Za-z_]+(?:/[A-Z][A-Za-z_]+)?")
_CAPITALISED = re.compile(r"[A-Z][a-z]+(?: [A-Z][a-z]+)*")
_LEAD = re.compile(
    r"^(?:please|could you|can you|would you|will you|i'?d like to|i want to|i need to|help me|hey|hi)[\s,]+", re.I
)
# Yes and no, in English and Korean. "No" wins: "포함하지 않아요" holds 포함 (include) and 않 (not).
_YES = re.compile(
    r"\b(?:yes|yeah|yep|sure|true|on|ok|okay|include|included)\b|포함|부탁|좋아|원해|넣어|추가|필요해"
    r"|(?<![가-힣])(?:네|예|응)(?![가-힣])",
    re.I,
)
_NO = re.compile(
    r"\b(?:no|not|nope|don'?t|without|false|off|never|exclude[sd]?|skip)\b|n't\b|아니|아뇨|빼|제외|없|말고|싫|않", re.I
)


def name_words(name: str) -> list[str]:
    """A field's name as lower-case words: "departure_city", "departureCity" -> departure, city."""
    return [w for w in re.split(r"[^a-z0-9]+", re.sub(r"([a-z])([A-Z])", r"\1 \2", name).lower()) if w]


def _role(words: list[str]) -> str:
    return "to" if _TO_WORDS.intersection(words) else "from" if _FROM_WORDS.intersection(words) else ""


def _pick(candidates: list[tuple[int, str, Any]], role: str) -> Any:
    """The candidate for a field of ``role``: one of that role, else one not of the opposite role
    (a from-field skips "to fahrenheit"), else the first; each candidate is (position, role, value)."""
    opposite = {"to": "from", "from": "to"}.get(role, "")
    for fits in (lambda r: r == role, lambda r: r != opposite, lambda r: True) if role else (lambda r: True,):
        for _, r, value in candidates:
            if fits(r):
                return value
    return None


class Hints:
    """Values found in the user's message, each handed out once where that matters (quoted
    phrases, places, enum values), so two fields do not get the same one."""

    def __init__(self, text: str, reply: str = "", place: Place | None = None) -> None:
        self.text, self.reply = (text or "").strip(), reply
        self.numbers = [float(n) for n in _NUMBER.findall(self.text)]
        # A parallel tool call made for one place (tools.py) sees only that place.
        self.places = [place] if place else find_places(self.text)
        self.quoted = [next(g for g in m.groups() if g) for m in _QUOTED.finditer(self.text)]
        self.taken: set[str] = set()
        self.taken_enum: dict[tuple[str, ...], set[int]] = {}
        self.used_reply = self.used_excerpt = False

    # -- strings

    def place(self, name: str, schema: dict) -> str | None:
        """A place for a place-like field: by role (origin, destination), in English if the
        field's description asks for English and the place's English name is known."""
        free = [(p.at, p.role, p) for p in self.places if p.written not in self.taken]
        place = _pick(free, _role(name_words(name)))
        if place is None:
            return None
        self.taken.add(place.written)
        english = "english" in str(schema.get("description") or "").lower()
        return place.english if english and place.english else place.written

    def _labelled(self, words: list[str]) -> str | None:
        """The value after the field's name: "Title: Shopping list", "subject is Lunch"."""
        label = r"[ _-]?".join(map(re.escape, words))
        if len(label) < 3:
            return None
        match = re.search(rf"\b{label}\s*(?::|=|\bis\b)\s*[\"“']?([^\"”'.,;!?\n]{{1,60}})", self.text, re.I)
        return match.group(1).strip() if match and match.group(1).strip() else None

    def _person(self) -> str | None:
        name = find_name(self.text)
        if name:
            return name
        places = {p.written for p in self.places}
        for match in _CAPITALISED.finditer(self.text):
            before = self.text[: match.start()].rstrip()
            if not before or before[-1] in ".!?":  # a capital that starts a sentence says nothing
                continue
            value = match.group()
            if value.split()[0].lower() not in _NOT_PLACES and value not in places and value not in NOT_NAMES:
                return value
        return None

    def _excerpt(self) -> str:
        """A short phrase of the message: its first sentence without "please", "could you"..."""
        first = re.split(r"(?<=[.!?])\s+|\n", self.text)[0]
        while (lead := _LEAD.match(first)) is not None:
            first = first[lead.end() :]
        first = first.strip(" .!?")
        if len(first) > 60:
            first = first[:60].rsplit(" ", 1)[0]
        return first

    def string(self, name: str, schema: dict) -> tuple[str, bool]:
        """A value for a string field, and whether the message gave it (False: a fallback)."""
        words = name_words(name)
        low = name.lower()
        if PLACE_WORDS.intersection(words):  # a place or nothing: never the chat reply
            place = self.place(name, schema)
            return (place, True) if place else (NEUTRAL, False)
        if "timezone" in words or "tz" in words or "time_zone" in low:
            zone = _TIMEZONE.search(self.text)
            return (zone.group(), True) if zone else ("UTC", False)
        for keys, pattern in (({"email", "mail"}, _EMAIL), ({"url", "link", "website"}, _URL), ({"phone"}, _PHONE)):
            if keys.intersection(words):
                found = pattern.search(self.text)
                return (found.group(), True) if found else (NEUTRAL, False)
        labelled = self._labelled(words)
        if labelled:
            return labelled, True
        if _NAME_WORDS.intersection(words) and (person := self._person()):
            return person, True
        for phrase in self.quoted:
            if phrase not in self.taken:
                self.taken.add(phrase)
                return phrase, True
        if low in _FREE_TEXT or any(low.endswith("_" + w) for w in _FREE_TEXT):
            return self.text[:200], True
        if self.reply and not self.used_reply:  # the first free text field carries the answer
            self.used_reply = True
            return self.reply, True
        if not self.used_excerpt and self._excerpt():
            self.used_excerpt = True
            return self._excerpt(), False
        return NEUTRAL, False

    # -- other types

    def number(self, low: float | None, high: float | None, integer: bool) -> float | None:
        """The first number of the message that fits (handed out once), else None."""
        for i, value in enumerate(self.numbers):
            fits = (low is None or value >= low) and (high is None or value <= high)
            if fits and (not integer or value == int(value)):
                return self.numbers.pop(i)
        return None

    def _mention(self, value: str) -> tuple[int, str] | None:
        """Where the message names an enum value, and with what role ("to fahrenheit": "to")."""
        word = re.escape(value).replace("_", "[ _]").replace(r"\ ", "[ _]")
        match = re.search(rf"(?<!\w){word}(?!\w)", self.text, re.I)
        if match:
            before = self.text[: match.start()].lower()
            role = "to" if re.search(r"\b(?:to|into|in|as)\s+$", before) else ""
            role = "from" if re.search(r"\bfrom\s+$", before) else role
            return match.start(), role
        for key, english in KOREAN_WORDS.items():
            at = self.text.find(key)
            if at >= 0 and value.lower() in english:
                after = self.text[at + len(key) :]
                return at, "to" if after.startswith(("로", "으로")) else ""
        for place in self.places:
            if value.lower() in (place.written.lower(), (place.english or "").lower()):
                return place.at, place.role
        return None

    def choose(self, name: str, values: list) -> Any:
        """An enum value: the ones the message names, in order of mention, each to one field;
        a field named like to_unit or destination takes the one said after "to" (or "...로")."""
        taken = self.taken_enum.setdefault(tuple(map(str, values)), set())
        mentioned = sorted(
            (m[0], m[1], i)
            for i, v in enumerate(values)
            if isinstance(v, str) and i not in taken and (m := self._mention(v)) is not None
        )
        index = _pick(mentioned, _role(name_words(name)))
        if index is None:
            index = next((i for i in range(len(values)) if i not in taken), 0)
        taken.add(index)
        return values[index]

    def boolean(self, name: str) -> bool:
        """Yes or no, from the clauses that mention the field (else the whole message)."""
        words = [w for w in name_words(name) if len(w) >= 3]
        korean = [k for k, english in KOREAN_WORDS.items() if set(english).intersection(words)]
        clauses = re.split(r"[.,;!?\n]+|\bbut\b", self.text)
        about = [c for c in clauses if any(w in c.lower() for w in words) or any(k in c for k in korean)]
        text = " ".join(about) if about else self.text
        return not _NO.search(text) and bool(_YES.search(text))


def _deref(schema: dict, root: dict) -> dict:
    seen = 0
    while isinstance(schema, dict) and isinstance(schema.get("$ref"), str) and seen < 20:
        ref = schema["$ref"]
        target: Any = root if ref.startswith("#") else {}
        for part in ref.lstrip("#").strip("/").split("/") if ref != "#" else []:
            target = target.get(part, {}) if isinstance(target, dict) else {}
        schema, seen = target if isinstance(target, dict) else {}, seen + 1
    return schema if isinstance(schema, dict) else {}


def instance(
    schema: Any, hints: Hints, root: dict | None = None, name: str = "", depth: int = 0, nullable: bool = False
) -> Any:
    """A small value valid against ``schema``; ``nullable``: null is allowed too, and is what a
    string or number field the message says nothing about gets."""
    if not isinstance(schema, dict):
        return {}
    root = schema if root is None else root
    schema = _deref(schema, root)
    if depth > MAX_DEPTH:
        return None
    if "const" in schema:
        return schema["const"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return hints.choose(name, schema["enum"])
    for key in ("anyOf", "oneOf"):
        if isinstance(schema.get(key), list) and schema[key]:
            options = [s for s in schema[key] if not (isinstance(s, dict) and s.get("type") == "null")]
            return instance((options or schema[key])[0], hints, root, name, depth + 1, len(options) < len(schema[key]))
    if isinstance(schema.get("allOf"), list) and schema["allOf"]:
        merged: dict = {}
        for part in schema["allOf"]:
            part = _deref(part, root)
            for k, v in part.items():
                if k in ("properties",) and isinstance(v, dict):
                    merged.setdefault(k, {}).update(v)
                elif k == "required" and isinstance(v, list):
                    merged.setdefault(k, []).extend(v)
                else:
                    merged[k] = v
        return instance(merged, hints, root, name, depth + 1, nullable)
    kind = schema.get("type")
    if isinstance(kind, list):
        nullable = nullable or "null" in kind
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None:
        kind = "object" if "properties" in schema else "array" if "items" in schema else "string"
    if kind == "object":
        props = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
        required = (
            [r for r in schema.get("required", []) if isinstance(r, str)]
            if isinstance(schema.get("required"), list)
            else []
        )
        # Strict schemas list every property as required; others get their required ones, or all.
        keys = (
            list(props)
            if not required
            else [k for k in props if k in required] + [r for r in required if r not in props]
        )
        return {k: instance(props.get(k, {}), hints, root, k, depth + 1) for k in keys}
    if kind == "array":
        low = schema.get("minItems") if isinstance(schema.get("minItems"), int) else 0
        high = schema.get("maxItems") if isinstance(schema.get("maxItems"), int) else None
        count = max(low, 1) if high is None else min(max(low, 1), high)
        item_name = name[:-1] if name.endswith("s") else name
        return [instance(schema.get("items", {}), hints, root, item_name, depth + 1) for _ in range(count)]
    if kind in ("integer", "number"):
        low = schema.get("minimum", schema.get("exclusiveMinimum"))
        high = schema.get("maximum", schema.get("exclusiveMaximum"))
        low = low if isinstance(low, (int, float)) and not isinstance(low, bool) else None
        high = high if isinstance(high, (int, float)) and not isinstance(high, bool) else None
        value = hints.number(low, high, kind == "integer")
        if value is None:
            if nullable:
                return None
            value = 0 if low is None else low
            if high is not None and value > high:
                value = high
        if "exclusiveMinimum" in schema and low is not None and value <= low:
            value = low + 1
        if "exclusiveMaximum" in schema and high is not None and value >= high:
            value = high - 1
        return int(value) if kind == "integer" else value
    if kind == "boolean":
        return hints.boolean(name)
    if kind == "null":
        return None
    fmt = schema.get("format")
    email = _EMAIL.search(hints.text) if fmt == "email" else None
    if email:
        text = email.group()
    elif fmt in _FORMATS:
        text = _FORMATS[fmt]
    else:
        text, given = hints.string(name, schema)
        if nullable and not given:
            return None
    low, high = schema.get("minLength"), schema.get("maxLength")
    if isinstance(high, int) and len(text) > high:
        text = text[:high]
    if isinstance(low, int) and len(text) < low:
        text = text + "x" * (low - len(text))
    return text


# ---------------------------------------------------------------- strict mode


def strict_problem(schema: Any, context: tuple = (), depth: int = 0) -> str | None:
    """The first rule of strict mode ``schema`` breaks, worded as the API ("In context=(...), ..."),
    or None. Rules: every object has additionalProperties false and lists every property in
    required; nesting stays within MAX_DEPTH."""
    if not isinstance(schema, dict):
        return None
    if depth > MAX_DEPTH:
        return f"In context={context}, the schema is nested too deeply (at most {MAX_DEPTH} levels)."
    kind = schema.get("type")
    is_object = kind == "object" or (isinstance(kind, list) and "object" in kind) or "properties" in schema
    if is_object:
        if schema.get("additionalProperties") is not False:
            return f"In context={context}, 'additionalProperties' is required to be supplied and to be false."
        props = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
        required = schema.get("required") if isinstance(schema.get("required"), list) else []
        missing = [k for k in props if k not in required]
        if missing:
            return (
                f"In context={context}, 'required' is required to be supplied and to be an array including "
                f"every key in properties. Missing '{missing[0]}'."
            )
        for key, sub in props.items():
            problem = strict_problem(sub, (*context, "properties", key), depth + 1)
            if problem:
                return problem
    for key in ("items",):
        if isinstance(schema.get(key), dict):
            problem = strict_problem(schema[key], (*context, key), depth + 1)
            if problem:
                return problem
    for key in ("anyOf", "allOf", "oneOf"):
        subs = schema.get(key) if isinstance(schema.get(key), list) else []
        for i, sub in enumerate(subs):
            problem = strict_problem(sub, (*context, key, str(i)), depth + 1)
            if problem:
                return problem
    for key in ("$defs", "definitions"):
        if isinstance(schema.get(key), dict):
            for name, sub in schema[key].items():
                problem = strict_problem(sub, (*context, key, name), depth + 1)
                if problem:
                    return problem
    return None


def mentions_json(messages: list[dict[str, Any]]) -> bool:
    return any("json" in (m.get("content") or "").lower() for m in messages)


def check(request: Request) -> None:
    """response_format's rules, with the API's 400s."""
    fmt = request.body.get("response_format")
    if fmt is None:
        return
    request.response_format = fmt
    if fmt["type"] == "json_object" and not mentions_json(request.messages):
        raise bad(
            "'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.",
            "messages",
            None,
        )
    if fmt["type"] == "json_schema":
        spec = fmt["json_schema"]
        if not NAME.match(spec["name"]):
            raise bad(
                "Invalid 'response_format.json_schema.name': string does not match pattern. Expected a "
                "string that matches the pattern '^[a-zA-Z0-9_-]+$'.",
                "response_format.json_schema.name",
                "invalid_value",
            )
        if spec.get("strict"):
            problem = strict_problem(spec.get("schema") or {})
            if problem:
                # Wording of the API's structured-outputs 400s; code assumed (none recorded).
                raise bad(
                    f"Invalid schema for response_format '{spec['name']}': {problem}",
                    "response_format",
                    "invalid_json_schema",
                )


def reply(request: Request, text: str, user_text: str) -> str:
    """The reply's content in a JSON mode: an object, or an instance of the schema."""
    fmt = request.response_format or {}
    if fmt.get("type") == "json_object":
        return json.dumps({"reply": text}, ensure_ascii=False)
    schema = (fmt.get("json_schema") or {}).get("schema") or {"type": "object"}
    return json.dumps(instance(schema, Hints(user_text, text)), ensure_ascii=False)


REFUSE_MARKER = "[refuse]"  # in the user's message: the offline model declines a structured-output request
REFUSALS = {
    "en": "I'm sorry, but I can't help with that request.",
    "ko": "죄송하지만 그 요청은 도와드릴 수 없습니다.",
}


def refusal(request: Request, forced: bool = False) -> str | None:
    """The refusal text for a json_schema request whose last user message holds REFUSE_MARKER, or
    for any request when ``forced`` (a refusal simulated on purpose); else None. (The API puts
    refusals in ``message.refusal`` with structured outputs; a marker in a JSON-mode or plain
    request is only text.)"""
    if not forced and (request.response_format or {}).get("type") != "json_schema":
        return None  # most requests: no need to read the messages
    user = next((m.get("content") or "" for m in reversed(request.messages) if m["role"] == "user"), "")
    if not forced and REFUSE_MARKER not in user.lower():
        return None
    return REFUSALS["ko" if re.search(r"[가-힣]", user) else "en"]
