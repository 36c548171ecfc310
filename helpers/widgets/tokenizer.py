"""Lesson 05's tokenizer playground: a text split into the tokens of each encoding, side by side.

from helpers.widgets import tokenizer_playground
tokenizer_playground()             # the Korean sentence; the presets switch to English
tokenizer_playground("Hi there")
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape

import ipywidgets as widgets
import tiktoken

from ..models import MODELS, model_info
from ..tokens import encoding_for
from ._html import MUTED, fit, plural, row

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


def used_by_text(encoding: str, shown: int = 6) -> str:
    """Which of the course's models use ``encoding``: the served ones first (at most
    ``shown`` names), then the retired ones."""
    models = models_using(encoding)
    if not models:
        return "not used by the course's models"
    current = [m for m in models if not model_info(m).retired]
    retired = [m for m in models if model_info(m).retired]
    if not current:
        return f"used by no current model; retired: {', '.join(retired)}"
    more = f" and {len(current) - shown} more" if len(current) > shown else ""
    text = f"used by {', '.join(current[:shown])}{more}"
    assumed = [m for m in current if model_info(m).encoding_assumed]
    if assumed:
        text += (
            f" (assumed for {', '.join(assumed) if len(assumed) <= 2 else 'the gpt-6 models'}: "
            "tiktoken does not map them yet)"
        )
    return text


def token_html(piece: TokenPiece) -> str:
    """One token: its text over its number, in the colour of its place; dashed when partial."""
    colour = (piece.number - 1) % len(TOKEN_COLOURS)
    border = "1px dashed rgba(0,0,0,0.6)" if piece.partial else "1px solid transparent"
    title = f"token {piece.number} · id {piece.token_id} · bytes {piece.data.hex(' ')}"
    if piece.partial:
        title += f" · only part of {piece.text.strip()!r}"
    return (
        f'<span class="course-token" data-token-index="{piece.number}" data-token-id="{piece.token_id}" '
        f'data-colour="{colour}"{" data-partial" if piece.partial else ""} title="{escape(title)}" '
        'style="display:inline-flex;flex-direction:column;align-items:center;'
        f'background:{TOKEN_COLOURS[colour]};border:{border};border-radius:3px;padding:1px 3px;min-width:1em">'
        f'<span class="course-token-text" style="white-space:pre;font-family:monospace">{escape(piece.label)}</span>'
        f'<span class="course-token-number" style="font-size:0.7em;opacity:0.7">{piece.number}</span></span>'
    )


def tokens_html(text: str, encoding: str) -> str:
    """One column of the playground: the counts, then every token coloured and numbered."""
    pieces = tokenize(text, encoding)
    name = escape(encoding)
    parts = [
        f'<div class="course-tokens" data-encoding="{name}" '
        'style="flex:1 1 300px;min-width:0;padding:4px 8px;line-height:1.4">',
        f'<div style="font-weight:bold">{name}</div>',
        f'<div class="course-used-by" style="{MUTED}">{escape(used_by_text(encoding))}</div>',
        f'<div style="margin:4px 0"><b class="course-token-count" data-encoding="{name}">{len(pieces)}</b> '
        f"{'token' if len(pieces) == 1 else 'tokens'} · {plural(len(text), 'character')} · "
        f"{plural(len(text.encode('utf-8')), 'byte')}</div>",
        '<div style="display:flex;flex-wrap:wrap;gap:3px;align-items:flex-start;line-height:1.3">',
    ]
    for piece in pieces:
        parts.append(token_html(piece))
        if piece.text.endswith("\n"):  # start a new row, as the text does
            parts.append('<span class="course-token-break" style="flex-basis:100%;height:0"></span>')
    parts.append("</div>")
    if any(p.partial for p in pieces):
        parts.append(
            f'<div class="course-token-partial-note" style="{MUTED};margin-top:4px">Dashed tokens hold only '
            "part of a character's bytes, so that character is shown in each of them.</div>"
        )
    parts.append("</div>")
    return "".join(parts)


def playground_html(text: str, encodings: Sequence[str] = ENCODINGS) -> str:
    """The encodings side by side (they wrap below each other on a narrow screen)."""
    columns = "".join(tokens_html(text, e) for e in encodings)
    return f'<div class="course-playground" style="display:flex;flex-wrap:wrap;gap:8px">{columns}</div>'


class TokenizerPlayground(widgets.VBox):
    """Type a text, see its tokens in each encoding side by side."""

    def __init__(
        self,
        text: str = PRESETS["Korean"],
        *,
        encodings: Sequence[str] = ENCODINGS,
        presets: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__()
        self.encodings = tuple(encodings)
        self.presets = dict(PRESETS if presets is None else presets)
        self.text = widgets.Textarea(
            value=text,
            placeholder="Type or paste a text",
            continuous_update=True,
            layout=widgets.Layout(width="auto", height="70px"),
        )
        self.text.add_class("course-tokenizer-input")
        self.preset_buttons: dict[str, widgets.Button] = {}
        for name, sample in self.presets.items():
            button = widgets.Button(description=name, tooltip=sample)
            button.add_class("course-preset")
            button.on_click(lambda _button, sample=sample: setattr(self.text, "value", sample))
            self.preset_buttons[name] = button
        self.output = widgets.HTML()
        self.output.add_class("course-tokenizer-output")
        self.text.observe(lambda _change: self.refresh(), names="value")
        self.children = [
            row(widgets.HTML("<b>Tokenizer playground</b>&nbsp;&nbsp;Try:"), *self.preset_buttons.values()),
            self.text,
            self.output,
        ]
        self.refresh()

    def counts(self) -> dict[str, int]:
        return token_counts(self.text.value, self.encodings)

    def refresh(self) -> None:
        self.output.value = playground_html(self.text.value, self.encodings)

    def __repr__(self) -> str:
        """The text/plain of the cell: the counts for each encoding."""
        text = getattr(self, "text", None)
        if text is None:
            return "Tokenizer playground"
        counts = ", ".join(f"{plural(n, 'token')} ({e})" for e, n in self.counts().items())
        return fit(f"Tokenizer playground: {counts} for {plural(len(text.value), 'character')}.")


# The lessons' name for it: tokenizer_playground() is lesson 05's playground, the Korean
# sentence tokenized by cl100k_base and o200k_base side by side.
tokenizer_playground = TokenizerPlayground
