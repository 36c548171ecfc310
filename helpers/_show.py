"""The lessons' plumbing: sample texts, recorded requests, a chart and a table, so a lesson
cell shows the idea in one call (``show_price_table()``) and the code that draws it lives here.

    from helpers._show import SAMPLES, RECORDED, show_language_chart, show_price_table

- lesson 05: ``SAMPLES`` (one text in English, Korean and Japanese), ``token_pieces`` (a
  text's tokens, fragments of a character as bytes), ``show_language_chart`` (tokens and
  input cost per language) and ``RECORDED`` (requests the real API counted);
- lesson 06: ``show_price_table`` (the dated price table as Markdown).

Every dated figure is shown with its date: prices with the table's ``as_of``, won with the
exchange rate's day (helpers.widgets.KRW_RATE).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

from .models import DEFAULT_MODEL, lesson_models, model_info
from .pricing import PER, money
from .tokens import count_message_tokens, count_tokens, encoding_for

# A short news text and a paragraph about tokens, written for the course in English and
# translated into Korean and Japanese with the same meaning (the city and its library
# service are made up). Lesson 05 compares their tokens.
SAMPLES = {
    "English": (
        "Hanbit City said on the 3rd that, starting next month, it will pilot an AI book recommendation "
        "service at twelve of its public libraries. "
        "When users enter their interests and the books they have read recently in the library app, the "
        "system picks five titles from the collection and shows whether each can be borrowed. "
        "Loan records are used for recommendations only if the user agrees, and that consent can be "
        "withdrawn in the app at any time. "
        "The city plans to look at user satisfaction and changes in the number of loans over three months "
        "before deciding in the first half of next year whether to extend the service to all libraries. "
        "Some librarians pointed out that recommendations could concentrate on popular books and said the "
        "criteria should be made public so that books by local authors and small publishers are also "
        "introduced fairly. "
        "In response, a city official said, “We will publish the recommendation criteria and the results on "
        "our website every quarter.”\n"
        "A language model does not read letters directly. "
        "Text is first split into pieces called tokens, and the model receives a list of those pieces' "
        "numbers as its input. "
        "A common English word is usually a single token, but rare words and text in other languages are "
        "broken into several pieces. "
        "Prices and context lengths are both counted in tokens, so the cost can depend on the language the "
        "same content is written in. "
        "That is why, when you design a service, it is worth counting the tokens of the text you will really "
        "send and estimating what a month will cost."
    ),
    "Korean": (
        "한빛시는 다음 달부터 시립도서관 열두 곳에서 인공지능 도서 추천 서비스를 시범 운영한다고 3일 밝혔다. "
        "이용자가 도서관 앱에 관심 분야와 최근 읽은 책을 입력하면, 시스템이 소장 도서 가운데 다섯 권을 골라 "
        "대출 가능 여부와 함께 보여 준다. "
        "대출 기록은 이용자가 동의한 경우에만 추천에 쓰이며, 동의는 언제든 앱에서 철회할 수 있다. "
        "시는 석 달 동안 이용자 만족도와 대출 건수 변화를 살펴본 뒤 내년 상반기에 모든 도서관으로 넓힐지 "
        "결정할 계획이다. "
        "일부 사서들은 추천이 인기 도서에만 몰릴 수 있다며 지역 작가와 작은 출판사의 책도 고르게 소개되도록 "
        "추천 기준을 공개해야 한다고 지적했다. "
        "이에 대해 시 관계자는 “추천 기준과 운영 결과를 분기마다 누리집에 공개하겠다”고 말했다.\n"
        "언어 모델은 글자를 직접 읽지 않는다. "
        "글은 먼저 토큰이라는 조각으로 나뉘고, 모델은 그 조각들의 번호 목록을 입력으로 받는다. "
        "자주 쓰이는 영어 단어는 대개 하나의 토큰이지만, 드문 단어나 다른 언어의 글은 여러 조각으로 "
        "쪼개진다. "
        "요금과 컨텍스트 길이는 모두 토큰으로 계산되므로, 같은 내용을 어떤 언어로 쓰느냐에 따라 비용이 "
        "달라질 수 있다. "
        "그래서 서비스를 설계할 때는 실제로 보낼 글을 미리 토큰으로 세어 보고, 한 달 동안 드는 비용을 어림해 "
        "두는 것이 좋다."
    ),
    "Japanese": (
        "ハンビット市は3日、来月から市立図書館12館でAIによる図書推薦サービスを試験的に運用すると発表した。"
        "利用者が図書館アプリに関心のある分野と最近読んだ本を入力すると、システムが所蔵図書の中から"
        "5冊を選び、貸出可能かどうかとあわせて表示する。"
        "貸出記録は利用者が同意した場合にのみ推薦に使われ、同意はいつでもアプリで撤回できる。"
        "市は3か月間、利用者の満足度と貸出件数の変化を調べたうえで、来年上半期にすべての図書館へ広げるか"
        "どうかを決める計画だ。"
        "一部の司書は、推薦が人気の本に偏るおそれがあるとして、地域の作家や小さな出版社の本も公平に"
        "紹介されるよう推薦基準を公開すべきだと指摘した。"
        "これに対し市の担当者は「推薦基準と運用結果を四半期ごとにホームページで公開する」と述べた。\n"
        "言語モデルは文字を直接読むわけではない。"
        "文章はまずトークンと呼ばれる断片に分けられ、モデルはその断片の番号のリストを入力として受け取る。"
        "よく使われる英単語はたいてい1つのトークンだが、まれな単語やほかの言語の文章はいくつもの断片に分割"
        "される。"
        "料金もコンテキストの長さもトークンで数えられるため、同じ内容をどの言語で書くかによって費用が変わり"
        "うる。"
        "そのため、サービスを設計するときは、実際に送る文章のトークンを前もって数え、1か月にかかる費用を見積もって"
        "おくとよい。"
    ),
}


def token_pieces(text: str, model: str = DEFAULT_MODEL) -> list[str | bytes]:
    """Each token of ``text`` for ``model``: its text, or its raw bytes when it holds only
    part of a character (a Hangul syllable is 3 bytes in UTF-8 and may straddle two tokens)."""
    enc = encoding_for(model)
    pieces: list[str | bytes] = []
    for token in enc.encode_ordinary(text):
        raw = enc.decode_single_token_bytes(token)
        try:
            pieces.append(raw.decode("utf-8"))
        except UnicodeDecodeError:
            pieces.append(raw)
    return pieces


# The two encodings compared: today's models, and the retired gpt-3.5-turbo's.
CHART_ENCODINGS = (("gpt-4o", "#4c72b0"), ("gpt-3.5-turbo", "#bbbbbb"))


def language_costs(model: str = DEFAULT_MODEL, copies: int = 100_000) -> dict[str, float]:
    """USD for ``copies`` of each sample as input to ``model`` (no caching, below any tier)."""
    price = model_info(model).input_price
    return {lang: count_tokens(text, model) * copies / PER * price for lang, text in SAMPLES.items()}


# The chart's and the price table's words in each language (the glossary's terms:
# docs/glossary.md). Korean shows won first, at the dated rate, then dollars.
WORDS = {
    "en": {
        "languages": {"English": "English", "Korean": "Korean", "Japanese": "Japanese"},
        "encodings": ("gpt-4o and later", "gpt-3.5-turbo, retired"),
        "tokens": "tokens",
        "tokens_title": "The same text: tokens per encoding",
        "cost_axis": "USD",
        "cost_title": "{copies:,} copies as input to {model} (prices of {as_of})",
        "line": "{lang:<9} {usd:>6} = {won:>7}  ({ratio:.2f} × English)",
        "input": "{model} input: {price} per 1M tokens, prices of {as_of}",
        "rate": "won at the rate of {date}: {rate:,} per dollar ({source})",
        "header": "| model | input | cached input | cache write | output | long-context tier |",
        "none": "none",
        "as_input": "as input",
        "n/a": "n/a",
        "tier": "above {threshold:,}: in ×{input:g}, out ×{output:g}",
        "note": "USD per 1M tokens, standard tier, prices of {dates}. Source: {sources}",
    },
    "ko": {
        "languages": {"English": "영어", "Korean": "한국어", "Japanese": "일본어"},
        "encodings": ("gpt-4o 이후", "gpt-3.5-turbo, 지원 중단"),
        "tokens": "토큰 수",
        "tokens_title": "같은 글: 인코딩별 토큰 수",
        "cost_axis": "원",
        "cost_title": "{model} 입력으로 {copies:,}번 ({as_of} 가격, {date} 환율)",
        "line": "{lang:<4} {won:>7} ({dollars}달러)  (영어의 {ratio:.2f}배)",
        "input": "{model} 입력: 100만 토큰당 {price}, {as_of} 가격",
        "rate": "원화는 {date} 환율: 1달러에 {rate:,}원 ({source})",
        "header": "| 모델 | 입력 | 캐시된 입력 | 캐시 쓰기 | 출력 | 긴 컨텍스트 요금 |",
        "none": "없음",
        "as_input": "입력 가격과 같음",
        "n/a": "없음",
        "tier": "{threshold:,} 토큰 초과: 입력 ×{input:g}, 출력 ×{output:g}",
        "note": (
            "100만 토큰당 가격(표준 등급): 원화 먼저, 괄호 안은 달러. {dates} 가격, 원화는 {date} 환율"
            "(1달러에 {rate:,}원)로 계산했습니다. 출처: {sources}"
        ),
    },
}


def _words(lang: str) -> dict:
    if lang not in WORDS:
        raise ValueError(f"lang must be 'en' or 'ko' (the language of the labels), not {lang!r}")
    return WORDS[lang]


def _won_first(value: float) -> str:
    """A dollar figure as the Korean track reads it: ``₩145 (0.10달러)``, won at KRW_RATE.
    "달러", not "$": two dollar signs in one Markdown paragraph would be rendered as math."""
    from .widgets.cost import KRW_RATE, format_krw

    return f"{format_krw(KRW_RATE.krw(value))} ({money(value, '')}달러)"


def _hangul_font() -> str | None:
    """The name of a font matplotlib can draw Hangul with, or None. A font installed after
    matplotlib built its cache (e.g. fonts-noto-cjk) is added from the system's fonts."""
    from matplotlib import font_manager

    def known() -> str | None:
        names = {f.name for f in font_manager.fontManager.ttflist}
        hangul = [n for n in names if "CJK" in n or "Nanum" in n or n.endswith((" KR", "Gothic"))]
        return min(hangul, key=lambda n: ("Sans" not in n and "Gothic" not in n, n), default=None)

    if known() is None:
        for path in font_manager.findSystemFonts():
            if "SansCJK" in path or "Nanum" in path:
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError):  # an unreadable font file: try the next one
                    continue
    return known()


def show_language_chart(model: str = DEFAULT_MODEL, copies: int = 100_000, *, lang: str = "en") -> None:
    """Two bar charts of SAMPLES: tokens in each encoding, and what ``copies`` of each cost
    as input to ``model``; then each cost in dollars and in won, with the prices' date and
    the exchange rate's. ``lang="ko"``: Korean labels, and the cost in won (first) at the
    dated rate."""
    import matplotlib.pyplot as plt

    from .widgets.cost import KRW_RATE, format_krw

    words = _words(lang)
    languages = list(SAMPLES)
    names = [words["languages"][language] for language in languages]
    usd = language_costs(model, copies)
    m = model_info(model)
    style = {}
    if lang == "ko":
        font = _hangul_font()  # none (e.g. a fresh Colab): Hangul would be drawn as boxes
        style = {"font.family": [font, "DejaVu Sans"]} if font else {}
    with plt.style.context("default"), plt.rc_context(style), warnings.catch_warnings():  # the same look everywhere
        # Without a Hangul font the labels are boxes; matplotlib's warning about each glyph is no lesson.
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .* missing from font", category=UserWarning)
        fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6), layout="constrained")
        for i, (reference, colour) in enumerate(CHART_ENCODINGS):
            name = encoding_for(reference).name
            counts = [count_tokens(SAMPLES[language], reference) for language in languages]
            where = [x + (i - 0.5) * 0.4 for x in range(len(languages))]
            label = f"{name} ({words['encodings'][i]})"
            bars = left.bar(where, counts, width=0.4, color=colour, label=label)
            left.bar_label(bars, fontsize=8)
        left.set_xticks(range(len(languages)), names)
        left.set_ylabel(words["tokens"])
        left.set_title(words["tokens_title"], fontsize=10)
        left.legend(fontsize=8, frameon=False, loc="upper left")
        left.set_ylim(0, 1.3 * left.get_ylim()[1])
        if lang == "ko":  # the cost panel in won, at the dated rate
            cost = {language: KRW_RATE.krw(usd[language]) for language in languages}
            shown = {language: format_krw(cost[language]) for language in languages}
        else:
            cost, shown = usd, {language: money(usd[language]) for language in languages}
        bars = right.bar(names, [cost[language] for language in languages], color=CHART_ENCODINGS[0][1])
        labels = [f"{shown[language]}  ×{usd[language] / usd['English']:.2f}" for language in languages]
        right.bar_label(bars, labels, fontsize=8)
        right.set_ylabel(words["cost_axis"])
        title = words["cost_title"].format(copies=copies, model=model, as_of=m.as_of, date=KRW_RATE.date)
        right.set_title(title, fontsize=10)
        right.set_ylim(0, 1.25 * max(cost.values()))
        plt.show()
    for language, name in zip(languages, names, strict=True):
        print(
            words["line"].format(
                lang=name,
                usd=money(usd[language]),
                dollars=money(usd[language], ""),
                won=format_krw(KRW_RATE.krw(usd[language])),
                ratio=usd[language] / usd["English"],
            )
        )
    price = _won_first(m.input_price) if lang == "ko" else money(m.input_price)
    print(words["input"].format(model=model, price=price, as_of=m.as_of))
    print(words["rate"].format(date=KRW_RATE.date, rate=KRW_RATE.krw_per_usd, source=KRW_RATE.source))


@dataclass(frozen=True)
class Recorded:
    """A request really sent to the API, and the ``usage.prompt_tokens`` it reported."""

    model: str  # the snapshot that answered
    messages: list[dict[str, str]]
    prompt_tokens: int
    source: str  # owner/repo:path@commit of the recorded test cassette

    def estimate(self) -> int:
        return count_message_tokens(self.messages, self.model)


_SYSTEM = {"role": "system", "content": "You are a helpful assistant."}
_RESUMED = [
    {"role": "user", "content": "Who created you?"},
    {"role": "assistant", "content": "I am a large language model, trained by Google."},
    {"role": "user", "content": "Can you double-check that?"},
]
# Copied from tests/data/realtraffic.json (recorded in public projects' test suites), where
# tests/test_realtraffic.py checks the rule against every plain-text recording. The last one
# is an early snapshot whose count the rule misses: it is an estimate, not a formula.
RECORDED = [
    Recorded(
        "gpt-4.1-2025-04-14",
        [_SYSTEM, {"role": "user", "content": "What is four plus five?"}],
        23,
        "pydantic/logfire:tests/otel_integrations/cassettes/test_openai/"
        "test_sync_chat_completions_version_latest.yaml@e484a6b53a0df3062d304ce258573e387cf3140a",
    ),
    Recorded(
        "o4-mini-2025-04-16",
        [_SYSTEM, {"role": "user", "content": "What's the capital of France?"}],
        22,
        "pydantic/pydantic-ai:tests/models/cassettes/test_openai/"
        "test_system_prompt_role_o4_mini.yaml@111dda9bcd3bb8542d24be815343c17ca133e4e8",
    ),
    Recorded(
        "gpt-4o-2024-08-06",
        _RESUMED,
        36,
        "Mirascope/mirascope:python/tests/e2e/input/cassettes/test_resume_with_override/"
        "openai_gpt_4o_completions.yaml@41d433578653411dbff96c6eaca4fa869aafc931",
    ),
    Recorded(
        "gpt-5-mini-2025-08-07",
        _RESUMED,
        37,
        "Mirascope/mirascope:python/tests/e2e/input/cassettes/test_resume_with_override/"
        "openai_gpt_5_mini_completions.yaml@a68231209fadd37eee7933b54497a85cb3124125",
    ),
    Recorded(
        "gpt-3.5-turbo-0301",
        [
            _SYSTEM,
            {"role": "user", "content": "Who won the world series in 2020?"},
            {"role": "assistant", "content": "The Los Angeles Dodgers won the World Series in 2020."},
            {"role": "user", "content": "Where was it played?"},
        ],
        57,
        "DataDog/dd-trace-py:tests/contrib/openai/cassettes/v1/"
        "chat_completion.yaml@3bb9ecda22830e3303b18b0ffa5abe7586aef6a7",
    ),
]


def _dollars(value: float | None, none: str = "n/a", lang: str = "en") -> str:
    if value is None:
        return none
    if lang == "ko":
        return _won_first(value)
    # "\\$": two dollar signs in one paragraph of Markdown would be rendered as math.
    return money(value, "\\$")


def _tier(model: str, lang: str = "en") -> str:
    words = _words(lang)
    tier = model_info(model).long_context
    if tier is None:
        return words["none"]
    return words["tier"].format(threshold=tier.threshold, input=tier.input_multiplier, output=tier.output_multiplier)


def price_table(models: list[str] | None = None, *, lang: str = "en") -> str:
    """The prices of ``models`` (the lessons' models by default) as a Markdown table, per 1M
    tokens, dated and sourced below it. ``lang="ko"``: Korean headers, each price in won
    first (at the dated rate, helpers.widgets.KRW_RATE) then dollars, and both dates."""
    from .widgets.cost import KRW_RATE

    words = _words(lang)
    models = lesson_models() if models is None else models
    rows = [words["header"], "|---|---:|---:|---:|---:|---|"]
    for name in models:
        m = model_info(name)
        cells = [
            _dollars(m.input_price, lang=lang),
            _dollars(m.cached_input_price, words["n/a"], lang),  # None: no prompt caching
            _dollars(m.cache_write_price, words["as_input"], lang),  # None: writes bill at the input price
            _dollars(m.output_price, lang=lang),
        ]
        rows.append(f"| {name} | {' | '.join(cells)} | {_tier(name, lang)} |")
    dates = ", ".join(sorted({model_info(n).as_of for n in models}))
    sources = ", ".join(sorted({model_info(n).source for n in models}))
    note = words["note"].format(dates=dates, sources=sources, date=KRW_RATE.date, rate=KRW_RATE.krw_per_usd)
    return "\n".join(rows) + "\n\n" + note


def show_price_table(models: list[str] | None = None, *, lang: str = "en") -> None:
    """Display :func:`price_table`: a table where Markdown renders, plain text elsewhere."""
    from IPython.display import display

    table = price_table(models, lang=lang)
    display({"text/markdown": table, "text/plain": table.replace("\\$", "$")}, raw=True)
