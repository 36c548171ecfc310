"""What the three widgets share: short text summaries, one-line messages and layout.

The HTML the widgets write carries stable hooks, a ``course-*`` class and ``data-*``
attributes, which the tests and the browser tests look for; the inline styles are only
looks and may change. The hooks are the same in every language: only the words change,
and each widget keeps its words in one table, ``TEXT = {"en": {...}, "ko": {...}}``, read
through ``Words``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from html import escape

import ipywidgets as widgets

from ..models import lesson_models

# ipywidgets puts repr(widget) in a displayed widget's text/plain and cuts it at 110
# characters (both 7.x and 8.x), so the summaries stay within this length.
REPR_LIMIT = 110
LABEL = {"description_width": "initial"}  # a control's label at its full width, never cut
MUTED = "font-size:0.85em;opacity:0.75"  # the style of notes and counts: smaller, dimmed


LANGUAGES = ("en", "ko")  # the widgets' labels: English (the default) or Korean


def check_lang(lang: object) -> str:
    """``lang`` if the widgets speak it, else a ValueError that names the choices."""
    if lang not in LANGUAGES:
        choices = " or ".join(repr(choice) for choice in LANGUAGES)
        raise ValueError(f"lang must be {choices} (the language of the widget's labels), not {lang!r}")
    return str(lang)


class Words:
    """A widget's words in one language, from its table ``{"en": {...}, "ko": {...}}``.
    ``words("send")`` is a label; ``words("calls", n=2)`` fills in a template
    ("{n:,} calls") or calls a small function (for English plurals)."""

    def __init__(self, table: Mapping[str, Mapping[str, str | Callable[..., str]]], lang: str = "en") -> None:
        self.lang = check_lang(lang)
        self.table = table[self.lang]

    def __call__(self, key: str, **values: object) -> str:
        word = self.table[key]
        return word(**values) if callable(word) else word.format(**values)


def fit(text: str, limit: int = REPR_LIMIT) -> str:
    """``text`` cut to ``limit`` characters, an ellipsis marking the cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def note_html(text: str) -> str:
    """A small, dimmed line of text: a status or a hint under a control."""
    return f'<span class="course-note" style="{MUTED}">{escape(text)}</span>'


def _line(kind: str, mark: str, message: str, style: str) -> str:
    return (
        f'<div class="course-chat-{kind}" data-kind="{kind}" style="white-space:pre-wrap;padding:2px 4px;{style}">'
        f"{mark} {escape(message)}</div>"
    )


def error_html(message: str) -> str:
    """What went wrong, in one line under the widget."""
    return _line("error", "⚠", message, "color:#b00020")


def notice_html(message: str) -> str:
    """What happened, when it is no failure (a stopped reply)."""
    return _line("notice", "■", message, "opacity:0.85")


def row(*children: widgets.Widget) -> widgets.HBox:
    """A row that wraps its controls onto the next line on a narrow page instead of squeezing them."""
    return widgets.HBox(
        list(children), layout=widgets.Layout(flex_flow="row wrap", align_items="center", grid_gap="4px 8px")
    )


def model_options(current: str) -> list[str]:
    """A model dropdown's choices: the models lessons may call, and ``current`` if it is
    not one of them (a dated snapshot, another server's model)."""
    options = lesson_models()
    return options + ([current] if current not in options else [])
