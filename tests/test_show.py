"""helpers._show: lesson 05's chart and lesson 06's price table, in English and in Korean
(issue 24: a Korean learner reads costs in won first, at the lessons' dated rate)."""

from __future__ import annotations

import re

import matplotlib
import pytest

from helpers import _show
from helpers.models import lesson_models, model_info
from helpers.pricing import money
from helpers.widgets import KRW_RATE, format_krw

matplotlib.use("Agg")
HANGUL = re.compile("[가-힣]")


def won_first(usd: float) -> str:
    return f"{format_krw(KRW_RATE.krw(usd))} ({money(usd, '')}달러)"


def test_the_english_price_table_keeps_its_text():
    table = _show.price_table()
    assert table.startswith("| model | input | cached input | cache write | output | long-context tier |")
    luna = model_info("gpt-6-luna")
    escaped = money(luna.input_price, "\\$")  # one "$" a cell, escaped from math
    assert f"| gpt-6-luna | {escaped} |" in table
    assert f"USD per 1M tokens, standard tier, prices of {luna.as_of}. Source: " in table
    assert "₩" not in table and "달러" not in table and not HANGUL.search(table)
    assert _show.price_table(lang="en") == table


def test_the_korean_price_table_shows_won_first_and_both_dates():
    table = _show.price_table(lang="ko")
    rows = table.splitlines()
    assert rows[0] == "| 모델 | 입력 | 캐시된 입력 | 캐시 쓰기 | 출력 | 긴 컨텍스트 요금 |"  # the glossary's terms
    for name in lesson_models():
        m = model_info(name)
        row = next(r for r in rows if r.startswith(f"| {name} |"))
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert cells[1] == won_first(m.input_price) and cells[4] == won_first(m.output_price), name
        assert all(c.startswith("₩") or c in ("없음", "입력 가격과 같음") for c in cells[1:5]), row
        assert "$" not in row
    note = rows[-1]
    assert model_info("gpt-6-luna").as_of in note and KRW_RATE.date in note
    assert f"1달러에 {KRW_RATE.krw_per_usd:,}원" in note and note.count("$") <= 1
    assert "₩145 (0.10달러)" in table  # gpt-6-luna's input at 1,449.8 won a dollar


def test_show_price_table_rejects_an_unknown_language():
    with pytest.raises(ValueError, match="'en' or 'ko'"):
        _show.price_table(lang="kr")


def chart(monkeypatch, capsys, lang: str):
    """Draw the chart; the figure it showed and what it printed."""
    import matplotlib.pyplot as plt

    shown = []
    monkeypatch.setattr(plt, "show", lambda: shown.append(plt.gcf()))
    _show.show_language_chart(lang=lang)
    fig = shown[0]
    plt.close(fig)
    return fig, capsys.readouterr().out


def texts(fig) -> list[str]:
    found = []
    for ax in fig.axes:
        found += [ax.get_title(), ax.get_ylabel(), *(t.get_text() for t in ax.get_xticklabels())]
        found += [t.get_text() for t in ax.texts]
        legend = ax.get_legend()
        found += [t.get_text() for t in legend.get_texts()] if legend else []
    return found


def test_the_english_chart_keeps_its_text(monkeypatch, capsys):
    fig, out = chart(monkeypatch, capsys, "en")
    left, right = fig.axes
    assert left.get_title() == "The same text: tokens per encoding"
    assert [t.get_text() for t in left.get_xticklabels()] == ["English", "Korean", "Japanese"]
    assert right.get_ylabel() == "USD" and "prices of " in right.get_title()
    assert out.splitlines()[0].startswith("English ") and "× English)" in out
    assert f"won at the rate of {KRW_RATE.date}" in out
    assert not any(HANGUL.search(t) for t in texts(fig))


def test_the_korean_chart_has_korean_labels_and_won(monkeypatch, capsys):
    fig, out = chart(monkeypatch, capsys, "ko")
    left, right = fig.axes
    assert [t.get_text() for t in left.get_xticklabels()] == ["영어", "한국어", "일본어"]
    assert HANGUL.search(left.get_title()) and HANGUL.search(left.get_ylabel())
    assert right.get_ylabel() == "원"
    assert KRW_RATE.date in right.get_title() and model_info("gpt-6-luna").as_of in right.get_title()
    costs = _show.language_costs()
    heights = [bar.get_height() for bar in right.patches]
    assert heights == pytest.approx([KRW_RATE.krw(costs[lang]) for lang in _show.SAMPLES])  # in won
    assert all(t.get_text().startswith("₩") for t in right.texts)
    lines = out.splitlines()
    assert lines[0].startswith("영어") and won_first(costs["English"]) in lines[0]
    assert KRW_RATE.date in out and "$" not in out
