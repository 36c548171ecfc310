"""Exercise checks and end-of-lesson quizzes. A lesson calls into here; a learner never has to
open it (and should not: the checks know the answers).

    from helpers.practice import lesson

    ex = lesson("03")        # the Korean track: lesson("03", lang="ko")
    ex.check_1(answer_1)     # prints a verdict: "Correct! ..." or "Not yet: ..."
    ex.quiz()                # the lesson's questions, with feedback on each answer

Each lesson has a module ``lNN.py`` here with its checks (``check_1`` ...) and its ``QUIZ``.
A check takes the learner's answer, never raises on a half-written one, and returns a
:class:`Verdict`. What several lessons' checks share (their own offline model, a client that
records what the learner's code sent, verdicts given in the same words) is in ``_kit.py``.
tests/probes/ hands every check the worked solution and plausible wrong answers, in the
lesson's nbval kernel (tests/lesson_checks.py).
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

LANGUAGES = ("en", "ko")


class Verdict(str):
    """A check's answer: shown as plain text in a notebook, with ``ok`` for tests."""

    ok: bool

    def __new__(cls, text: str, ok: bool) -> Verdict:
        verdict = super().__new__(cls, text)
        verdict.ok = ok
        return verdict

    def __repr__(self) -> str:  # a bare `ex.check_1(answer_1)` shows the text, not a quoted str
        return str(self)


def say(lang: str, en: str, ko: str | None = None) -> str:
    """The text in the learner's language (English when there is no Korean yet)."""
    return ko if lang == "ko" and ko else en


def correct(lang: str, en: str, ko: str | None = None) -> Verdict:
    return Verdict(say(lang, "Correct! ", "정답입니다! ") + say(lang, en, ko), True)


def not_yet(lang: str, en: str, ko: str | None = None) -> Verdict:
    return Verdict(say(lang, "Not yet: ", "아직이에요: ") + say(lang, en, ko), False)


def guarded(check: Callable[..., Verdict]) -> Callable[..., Verdict]:
    """A check that never stops the notebook: a half-written answer that raises is a "Not yet"."""

    @functools.wraps(check)
    def run(*args: Any, lang: str = "en", **kwargs: Any) -> Verdict:
        try:
            return check(*args, lang=lang, **kwargs)
        except Exception as error:  # the learner's code raised inside the check
            return not_yet(
                lang,
                f"your answer raised {type(error).__name__}: {error}",
                f"답이 {type(error).__name__} 오류를 냈어요: {error}",
            )

    return run


@dataclass(frozen=True)
class Question:
    """One quiz question: ``options`` to choose from, ``answer`` the index of the right one,
    ``why`` the feedback shown once the learner answers (right or wrong)."""

    prompt: str
    options: tuple[str, ...]
    answer: int
    why: str


class Lesson:
    """One lesson's checks and quiz, in one language: ``ex.check_1(...)``, ``ex.quiz()``."""

    def __init__(self, number: str, lang: str = "en") -> None:
        if lang not in LANGUAGES:
            raise ValueError(f"lang must be one of {', '.join(LANGUAGES)}, not {lang!r}")
        self.number = number
        self.lang = lang
        try:
            self.module = importlib.import_module(f"{__name__}.l{number}")
        except ModuleNotFoundError:
            raise ValueError(f"no exercises for lesson {number!r}: give its two digits, e.g. lesson('03')") from None

    def __getattr__(self, name: str) -> Callable[..., Verdict]:
        if not name.startswith("check_"):
            raise AttributeError(name)
        check = getattr(self.module, name, None)
        if check is None:
            raise AttributeError(f"lesson {self.number} has no {name}")
        return functools.partial(check, lang=self.lang)

    def questions(self) -> list[Question]:
        quiz = self.module.QUIZ
        return list(quiz.get(self.lang) or quiz["en"]) if isinstance(quiz, dict) else list(quiz)

    def quiz(self):
        """The lesson's quiz as a widget (JupyterLab, Colab) that also reads on GitHub."""
        from ._quiz import Quiz

        return Quiz(self.questions(), lang=self.lang, title=f"Quiz {self.number}")

    def __repr__(self) -> str:
        checks = sorted(n for n in vars(self.module) if n.startswith("check_"))
        return f"Lesson {self.number} ({self.lang}): {', '.join(checks)} and a quiz of {len(self.questions())}"


def lesson(number: str, lang: str = "en") -> Lesson:
    """The checks and quiz of lesson ``number`` ("00" to "09"), in ``lang`` ("en" or "ko")."""
    return Lesson(number, lang)


__all__ = ["Lesson", "Question", "Verdict", "correct", "guarded", "lesson", "not_yet", "say"]
