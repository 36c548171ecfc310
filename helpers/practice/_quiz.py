"""The end-of-lesson quiz: a question, its options, feedback once you choose.

In JupyterLab and Colab it is a widget (one set of radio buttons a question). Where widgets
cannot run (GitHub, nbviewer, a notebook opened without a kernel) the same output carries an
HTML version whose answers open on a click, so the quiz works in a static render too.
"""

from __future__ import annotations

from html import escape

import ipywidgets as widgets

from . import Question, say

RIGHT = "color:#1b5e20"
WRONG = "color:#b00020"


def _feedback(question: Question, chosen: int | None, lang: str) -> str:
    if chosen is None:
        return ""
    if chosen == question.answer:
        text = f"✓ {say(lang, 'Right.', '맞아요.')} {question.why}"
        return f'<div class="course-quiz-right" style="{RIGHT}">{escape(text)}</div>'
    text = "✗ " + say(lang, "Not quite: try another answer.", "아쉬워요. 다른 답을 골라 보세요.")
    return f'<div class="course-quiz-wrong" style="{WRONG}">{escape(text)}</div>'


def _letter(i: int) -> str:
    return "ABCDEFGH"[i]


def as_text(questions: list[Question], title: str) -> str:
    """The quiz as plain text: what a render without HTML shows."""
    lines = [title]
    for n, q in enumerate(questions, 1):
        lines.append(f"{n}. {q.prompt}")
        lines += [f"   {_letter(i)}) {option}" for i, option in enumerate(q.options)]
    return "\n".join(lines)


def as_html(questions: list[Question], title: str, lang: str) -> str:
    """The quiz as static HTML: each answer and its reason behind a click (<details>)."""
    parts = [f'<div class="course-quiz"><strong>{escape(title)}</strong><ol>']
    for q in questions:
        options = "".join(f"<li>{escape(option)}</li>" for option in q.options)
        answer = f"{_letter(q.answer)}) {q.options[q.answer]}"
        parts.append(
            f'<li><p>{escape(q.prompt)}</p><ol type="A">{options}</ol>'
            f"<details><summary>{escape(say(lang, 'Show the answer', '정답 보기'))}</summary>"
            f"<p><strong>{escape(answer)}</strong>. {escape(q.why)}</p></details></li>"
        )
    parts.append("</ol></div>")
    return "".join(parts)


class Quiz(widgets.VBox):
    """A quiz of ``questions``: choose an option, read the feedback, change your mind freely."""

    def __init__(self, questions: list[Question], lang: str = "en", title: str = "Quiz") -> None:
        self.questions = questions
        self.lang = lang
        self.title = title
        self.choices: list[widgets.RadioButtons] = []
        self.feedback: list[widgets.HTML] = []
        children: list[widgets.Widget] = [widgets.HTML(f"<strong>{escape(title)}</strong>")]
        for n, question in enumerate(questions, 1):
            choice = widgets.RadioButtons(
                options=[(option, i) for i, option in enumerate(question.options)],
                value=None,
                layout=widgets.Layout(width="auto"),
            )
            feedback = widgets.HTML()
            choice.observe(lambda change, q=question, f=feedback: self._answer(q, f, change["new"]), names="value")
            self.choices.append(choice)
            self.feedback.append(feedback)
            children += [widgets.HTML(f"<p>{n}. {escape(question.prompt)}</p>"), choice, feedback]
        super().__init__(children)

    def _answer(self, question: Question, feedback: widgets.HTML, chosen: int | None) -> None:
        feedback.value = _feedback(question, chosen, self.lang)

    def score(self) -> int:
        """How many questions are answered right now."""
        return sum(c.value == q.answer for c, q in zip(self.choices, self.questions, strict=True))

    def __repr__(self) -> str:
        return as_text(self.questions, self.title)

    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = as_text(self.questions, self.title)  # not cut at 110 characters
        bundle["text/html"] = as_html(self.questions, self.title, self.lang)
        return bundle
