"""helpers.practice: the lessons' one-call checks and end-of-lesson quizzes (the checks' own
verdicts are proved by the probes tests/lesson_checks.py runs after each lesson)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from helpers.practice import LANGUAGES, Question, Verdict, correct, guarded, lesson, not_yet
from helpers.practice._quiz import Quiz

ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted(p.name[:2] for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def test_a_verdict_shows_as_plain_text_and_says_whether_it_passed():
    assert repr(correct("en", "well done")) == "Correct! well done" and correct("en", "x").ok
    assert repr(not_yet("ko", "try", "다시")) == "아직이에요: 다시" and not not_yet("en", "x").ok
    assert isinstance(correct("en", "x"), Verdict) and isinstance(correct("en", "x"), str)


def test_a_check_never_raises_on_a_half_written_answer():
    @guarded
    def check_1(answer, *, lang="en"):
        return correct(lang, "fine") if answer() == 2 else not_yet(lang, "not 2")

    assert check_1(lambda: 2).ok
    verdict = check_1(lambda: 1 / 0)
    assert not verdict.ok and "ZeroDivisionError" in verdict
    assert "ZeroDivisionError" in check_1(lambda: 1 / 0, lang="ko") and check_1(lambda: 1 / 0, lang="ko").startswith(
        "아직"
    )


def test_lesson_names_its_mistakes():
    with pytest.raises(ValueError, match="two digits"):
        lesson("99")
    with pytest.raises(ValueError, match="en, ko"):
        lesson("03", lang="fr")
    with pytest.raises(AttributeError):
        lesson("03").check_99  # noqa: B018


@pytest.mark.parametrize("number", LESSONS)
@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_lesson_has_a_quiz_of_three_to_five_questions_in_both_languages(number, lang):
    questions = lesson(number, lang).questions()
    assert 3 <= len(questions) <= 5
    for q in questions:
        assert isinstance(q, Question) and 2 <= len(q.options) <= 5 and 0 <= q.answer < len(q.options)
        assert q.prompt and q.why and len(set(q.options)) == len(q.options)
        hangul = re.search("[가-힣]", q.prompt + q.why) is not None
        assert hangul == (lang == "ko"), f"lesson {number} ({lang}): {q.prompt}"
    other = lesson(number, "en" if lang == "ko" else "ko").questions()
    assert [q.answer for q in questions] == [q.answer for q in other]  # the same quiz, translated


@pytest.mark.parametrize("number", LESSONS)
def test_the_right_answer_is_not_always_in_the_same_place(number):
    assert len({q.answer for q in lesson(number).questions()}) > 1


def test_the_quiz_gives_feedback_on_each_choice_and_reads_without_widgets():
    questions = [
        Question("Does the API remember the last call?", ("Yes", "No"), 1, "It is stateless."),
        Question("Which role sets the rules?", ("user", "system", "assistant"), 1, "system (or developer)."),
    ]
    quiz = Quiz(questions, title="Quiz 03")
    quiz.choices[0].value = 0
    assert "Not quite" in quiz.feedback[0].value and "stateless" not in quiz.feedback[0].value
    quiz.choices[0].value = 1
    assert "Right." in quiz.feedback[0].value and "It is stateless." in quiz.feedback[0].value
    assert quiz.score() == 1 and quiz.feedback[1].value == ""
    bundle = quiz._repr_mimebundle_()
    # GitHub, nbviewer or a notebook opened without a kernel show these instead of the widget.
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/plain"].splitlines()[:4] == [
        "Quiz 03",
        "1. Does the API remember the last call?",
        "   A) Yes",
        "   B) No",
    ]
    html = bundle["text/html"]
    assert html.count("<details>") == 2 and "<strong>B) No</strong>. It is stateless." in html


def test_the_korean_quiz_says_its_feedback_in_korean():
    quiz = lesson("03", "ko").quiz()
    right = lesson("03", "ko").questions()[0].answer
    quiz.choices[0].value = (right + 1) % len(quiz.questions[0].options)
    assert "다른 답" in quiz.feedback[0].value
    quiz.choices[0].value = right
    assert "맞아요" in quiz.feedback[0].value and "정답 보기" in quiz._repr_mimebundle_()["text/html"]
