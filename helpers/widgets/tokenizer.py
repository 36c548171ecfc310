"""Lesson 05's tokenizer playground: a text split into the tokens of each encoding, side by side.

from helpers.widgets import tokenizer_playground
tokenizer_playground()             # the Korean sentence; the presets switch to English
tokenizer_playground("Hi there")
tokenizer_playground(lang="ko")    # the Korean track: every label in Korean (TEXT)
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

import ipywidgets as widgets
import tiktoken

from ..models import MODELS, model_info
from ..tokens import encoding_for
from ._html import MUTED, Words, fit, plural, row

ENCODINGS = ("cl100k_base", "o200k_base")
PRESETS: dict[str, str] = {
    "Korean": "아버지가 방에 들어가신다.",
    "English": "Father is going into the room.",
}
# Background colours, cycled token by token (readable on light and dark themes).
TOKEN_COLOURS = (
    "rgba(107, 64, 216, 0.25)",
    "rgba(104, 222, 122, 0.35)",
    "rgba(244, 172, 54, 0.35)",
    "rgba(239, 65, 70, 0.25)",
    "rgba(39, 181, 234, 0.3)",
)
VISIBLE_WHITESPACE = {"\n": "↵", "\t": "⇥", "\r": "␍"}

# Everything the playground says, in each language (the glossary's terms: docs/glossary.md).
# The presets keep their keys ("Korean", "English") in both: only the button's label changes.
TEXT: dict[str, dict[str, Any]] = {
    "en": {
        "title": "<b>Tokenizer playground</b>&nbsp;&nbsp;Try:",
        "placeholder": "Type or paste a text",
        "presets": {"Korean": "Korean", "English": "English"},  # PRESETS' buttons
        "unused": "not used by the course's models",
        "only_retired": "used by no current model; retired: {retired}",
        "used_by": "used by {models}{more}",
        "more": " and {n} more",
        "assumed": " (assumed for {models}: tiktoken does not map them yet)",
        "gpt6": "the gpt-6 models",
        "tooltip": "token {number} · id {token_id} · bytes {data}",
        "tooltip_partial": " · only part of {char}",
        "tokens": lambda n: plural(n, "token"),
        # ``count``: the number in bold (the course-token-count hook), ``n`` that number.
        "counts": lambda count, n, chars, data: (
            f"{count} {'token' if n == 1 else 'tokens'} · {plural(chars, 'character')} · {plural(data, 'byte')}"
        ),
        "partial_note": (
            "Dashed tokens hold only part of a character's bytes, so that character is shown in each of them."
        ),
        "repr_empty": "Tokenizer playground",
        "repr": lambda counts, chars: f"Tokenizer playground: {counts} for {plural(chars, 'character')}.",
    },
    "ko": {
        "title": "<b>토크나이저 플레이그라운드</b>&nbsp;&nbsp;예시:",
        "placeholder": "텍스트를 입력하거나 붙여 넣으세요",
        "presets": {"Korean": "한국어", "English": "영어"},
        "unused": "강좌의 모델은 쓰지 않는 인코딩",
        "only_retired": "지금 제공되는 모델은 쓰지 않음. 종료된 모델: {retired}",
        "used_by": "쓰는 모델: {models}{more}",
        "more": " 외 {n}개",
        "assumed": " (추정: {models}. tiktoken에 아직 등록되지 않음)",
        "gpt6": "gpt-6 모델",
        "tooltip": "토큰 {number} · id {token_id} · 바이트 {data}",
        "tooltip_partial": " · {char}의 일부만",
        "tokens": "토큰 {n:,}개",
        "counts": "토큰 {count}개 · {chars:,}자 · {data:,}바이트",
        "partial_note": "점선 토큰은 한 글자의 바이트 중 일부만 담고 있어서, 그 글자를 토큰마다 보여 줍니다.",
        "repr_empty": "토크나이저 플레이그라운드",
        "repr": "토크나이저 플레이그라운드: {chars:,}자 → {counts}",
    },
}


@dataclass(frozen=True)
class TokenPiece:
    """One token of a text, as the playground shows it.

    ``text`` is the characters the token's bytes belong to. When a token holds only part
    of a character's UTF-8 bytes (common for Korean in cl100k_base), ``partial`` is True
    and ``text`` is the whole character: it then appears in two or more tokens."""

    number: int  # 1-based position: the last number is the token count
    token_id: int
    data: bytes  # the token's own bytes
    text: str
    partial: bool

    @property
    def label(self) -> str:
        """``text`` with whitespace made visible (newline -> ↵, tab -> ⇥)."""
        return "".join(VISIBLE_WHITESPACE.get(ch, ch) for ch in self.text)


def tokenize(text: str, encoding: str) -> list[TokenPiece]:
    """Split ``text`` into the tokens of ``encoding`` (e.g. "cl100k_base")."""
    enc = tiktoken.get_encoding(encoding)
    ids = enc.encode_ordinary(text)
    # Byte offset where each character starts, to map token bytes back to characters.
    starts, offset = [], 0
    for ch in text:
        starts.append(offset)
        offset += len(ch.encode("utf-8"))
    pieces, position = [], 0
    for number, token_id in enumerate(ids, start=1):
        data = enc.decode_single_token_bytes(token_id)
        end = position + len(data)
        first = bisect_right(starts, position) - 1
        last = bisect_right(starts, end - 1)  # one past the character holding the last byte
        char_end = starts[last] if last < len(starts) else offset
        partial = starts[first] != position or char_end != end
        pieces.append(TokenPiece(number, token_id, data, text[first:last], partial))
        position = end
    return pieces


def token_counts(text: str, encodings: Sequence[str] = ENCODINGS) -> dict[str, int]:
    return {e: len(tiktoken.get_encoding(e).encode_ordinary(text)) for e in encodings}


def models_using(encoding: str) -> list[str]:
    """The course's models whose tokenizer is ``encoding``."""
    found = []
    for name in MODELS:
        try:
            if encoding_for(name).name == encoding:
                found.append(name)
        except KeyError:
            continue
    return found


def used_by_text(encoding: str, shown: int = 6, lang: str = "en") -> str:
    """Which of the course's models use ``encoding``: the served ones first (at most
    ``shown`` names), then the retired ones."""
    words = Words(TEXT, lang)
    models = models_using(encoding)
    if not models:
        return words("unused")
    current = [m for m in models if not model_info(m).retired]
    retired = [m for m in models if model_info(m).retired]
    if not current:
        return words("only_retired", retired=", ".join(retired))
    more = words("more", n=len(current) - shown) if len(current) > shown else ""
    text = words("used_by", models=", ".join(current[:shown]), more=more)
    assumed = [m for m in current if model_info(m).encoding_assumed]
    if assumed:
        text += words("assumed", models=", ".join(assumed) if len(assumed) <= 2 else words("gpt6"))
    return text


def token_html(piece: TokenPiece, lang: str = "en") -> str:
    """One token: its text over its number, in the colour of its place; dashed when partial."""
    words = Words(TEXT, lang)
    colour = (piece.number - 1) % len(TOKEN_COLOURS)
    border = "1px dashed rgba(0,0,0,0.6)" if piece.partial else "1px solid transparent"
    title = words("tooltip", number=piece.number, token_id=piece.token_id, data=piece.data.hex(" "))
    if piece.partial:
        title += words("tooltip_partial", char=repr(piece.text.strip()))
    return (
        f'<span class="course-token" data-token-index="{piece.number}" data-token-id="{piece.token_id}" '
        f'data-colour="{colour}"{" data-partial" if piece.partial else ""} title="{escape(title)}" '
        'style="display:inline-flex;flex-direction:column;align-items:center;'
        f'background:{TOKEN_COLOURS[colour]};border:{border};border-radius:3px;padding:1px 3px;min-width:1em">'
        f'<span class="course-token-text" style="white-space:pre;font-family:monospace">{escape(piece.label)}</span>'
        f'<span class="course-token-number" style="font-size:0.7em;opacity:0.7">{piece.number}</span></span>'
    )


def tokens_html(text: str, encoding: str, lang: str = "en") -> str:
    """One column of the playground: the counts, then every token coloured and numbered."""
    words = Words(TEXT, lang)
    pieces = tokenize(text, encoding)
    name = escape(encoding)
    count = f'<b class="course-token-count" data-encoding="{name}">{len(pieces)}</b>'
    counts = words("counts", count=count, n=len(pieces), chars=len(text), data=len(text.encode("utf-8")))
    parts = [
        f'<div class="course-tokens" data-encoding="{name}" '
        'style="flex:1 1 300px;min-width:0;padding:4px 8px;line-height:1.4">',
        f'<div style="font-weight:bold">{name}</div>',
        f'<div class="course-used-by" style="{MUTED}">{escape(used_by_text(encoding, lang=lang))}</div>',
        f'<div style="margin:4px 0">{counts}</div>',
        '<div style="display:flex;flex-wrap:wrap;gap:3px;align-items:flex-start;line-height:1.3">',
    ]
    for piece in pieces:
        parts.append(token_html(piece, lang))
        if piece.text.endswith("\n"):  # start a new row, as the text does
            parts.append('<span class="course-token-break" style="flex-basis:100%;height:0"></span>')
    parts.append("</div>")
    if any(p.partial for p in pieces):
        parts.append(
            f'<div class="course-token-partial-note" style="{MUTED};margin-top:4px">'
            f"{words('partial_note')}</div>"  # the course's own words, as HTML
        )
    parts.append("</div>")
    return "".join(parts)


def playground_html(text: str, encodings: Sequence[str] = ENCODINGS, lang: str = "en") -> str:
    """The encodings side by side (they wrap below each other on a narrow screen)."""
    columns = "".join(tokens_html(text, e, lang) for e in encodings)
    return f'<div class="course-playground" style="display:flex;flex-wrap:wrap;gap:8px">{columns}</div>'


class TokenizerPlayground(widgets.VBox):
    """Type a text, see its tokens in each encoding side by side. ``lang``: the language of
    its labels, "en" or "ko". ``preset_buttons`` is keyed by the presets' names ("Korean",
    "English") in both languages; a button shows its name in ``lang``."""

    def __init__(
        self,
        text: str = PRESETS["Korean"],
        *,
        encodings: Sequence[str] = ENCODINGS,
        presets: Mapping[str, str] | None = None,
        lang: str = "en",
    ) -> None:
        words = Words(TEXT, lang)  # first: a wrong lang fails before anything is built
        super().__init__()
        self.words = words
        self.lang = words.lang
        self.encodings = tuple(encodings)
        self.presets = dict(PRESETS if presets is None else presets)
        self.text = widgets.Textarea(
            value=text,
            placeholder=words("placeholder"),
            continuous_update=True,
            layout=widgets.Layout(width="auto", height="70px"),
        )
        self.text.add_class("course-tokenizer-input")
        self.preset_buttons: dict[str, widgets.Button] = {}
        for name, sample in self.presets.items():
            label = words.table["presets"].get(name, name)  # a preset of one's own keeps its name
            button = widgets.Button(description=label, tooltip=sample)
            button.add_class("course-preset")
            button.on_click(lambda _button, sample=sample: setattr(self.text, "value", sample))
            self.preset_buttons[name] = button
        self.output = widgets.HTML()
        self.output.add_class("course-tokenizer-output")
        self.text.observe(lambda _change: self.refresh(), names="value")
        self.children = [
            row(widgets.HTML(words("title")), *self.preset_buttons.values()),
            self.text,
            self.output,
        ]
        self.refresh()

    def counts(self) -> dict[str, int]:
        return token_counts(self.text.value, self.encodings)

    def refresh(self) -> None:
        self.output.value = playground_html(self.text.value, self.encodings, self.lang)

    def __repr__(self) -> str:
        """The text/plain of the cell: the counts for each encoding."""
        words = getattr(self, "words", None) or Words(TEXT)
        text = getattr(self, "text", None)
        if text is None:
            return words("repr_empty")
        counts = ", ".join(f"{words('tokens', n=n)} ({e})" for e, n in self.counts().items())
        return fit(words("repr", counts=counts, chars=len(text.value)))


# The lessons' name for it: tokenizer_playground() is lesson 05's playground, the Korean
# sentence tokenized by cl100k_base and o200k_base side by side.
tokenizer_playground = TokenizerPlayground
