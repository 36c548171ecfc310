"""The offline model's replies are alive: through the real SDK client, temperature, top_p, seed,
n and the penalties change them as a learner would expect, a Korean question gets a Korean
answer, and the lessons' own prompts get answers on their topic."""

import re

import pytest

from helpers import DEFAULT_MODEL, Conversation, get_client
from helpers._offline import HANGUL, MARKER, replies

TOKEN_EN = "What is a token?"
TOKEN_KO = "토큰이 뭐야?"
GREETING = "Say hello to a new student of the Chat Completions API."
SEEDS = range(12)


@pytest.fixture(scope="module")
def client():
    return get_client(offline=True, quiet=True)


def ask(client, content, system=None, **params):
    """The reply text to one user message (the default model without reasoning, so that it
    takes the sampling parameters)."""
    messages = [{"role": "system", "content": system}] if system else []
    messages.append({"role": "user", "content": content})
    response = client.chat.completions.create(model=DEFAULT_MODEL, messages=messages, reasoning_effort="none", **params)
    return response.choices[0].message.content


def topic(word):
    return next(t for t in replies.TOPICS if word in t.words)


def rank(reply, phrasings):
    """Which of the ranked phrasings the reply uses (0: the most likely)."""
    found = [i for i, text in enumerate(phrasings) if text in reply]
    assert len(found) == 1, reply
    return found[0]


def sentences(reply):
    return [s for s in replies.SENTENCE_END.split(reply.removeprefix(MARKER).strip()) if s]


# The prompts that must vary, with the phrasings they are answered with.
VARIED = [
    (TOKEN_EN, topic("token").answers["en"]),
    (TOKEN_KO, topic("token").answers["ko"]),
    ("What does temperature do?", topic("temperature").answers["en"]),
    ("temperature는 뭐야?", topic("temperature").answers["ko"]),
    ("What is streaming?", topic("stream").answers["en"]),
    ("How much does a call cost?", topic("cost").answers["en"]),
    ("What are the roles of messages?", topic("role").answers["en"]),
    (GREETING, replies.TEXT["en"]["hello"]),
    ("안녕하세요!", replies.TEXT["ko"]["hello"]),
]


# ---------------------------------------------------------------- the phrasings


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_every_topic_and_the_greeting_has_four_to_six_different_phrasings(lang):
    lists = [t.answers[lang] for t in replies.TOPICS] + [t.simple[lang] for t in replies.TOPICS if t.simple]
    lists.append(replies.TEXT[lang]["hello"])
    for phrasings in lists:
        assert 4 <= len(phrasings) <= 6, phrasings[0]
        said = [s for text in phrasings for s in sentences(text)]
        assert len(said) == len(set(said)), phrasings[0]  # no sentence is shared: not just a new opener
        if lang == "ko":
            assert all(HANGUL.search(text) for text in phrasings)


def test_the_chances_are_a_softmax_cut_by_top_p():
    for temperature in (0.2, 1.0, 2.0):
        chances = replies.probabilities(5, temperature)
        assert sum(chances) == pytest.approx(1) and chances == sorted(chances, reverse=True)
    assert replies.probabilities(5, 0.2)[0] > 0.95  # nearly always the first
    assert 0.3 < replies.probabilities(5, 1.0)[0] < 0.7  # spread
    assert replies.probabilities(5, 2.0)[-1] > 0.05  # the odd one has a real chance
    assert len(replies.probabilities(5, 2.0, top_p=0.1)) == 1
    assert len(replies.probabilities(5, 1.0, top_p=0.9)) in (2, 3, 4)


# ---------------------------------------------------------------- temperature and top_p


@pytest.mark.parametrize(("prompt", "phrasings"), VARIED, ids=[p for p, _ in VARIED])
def test_temperature_zero_always_gives_the_most_likely_reply(client, prompt, phrasings):
    got = {ask(client, prompt, temperature=0, seed=seed) for seed in range(4)}
    assert len(got) == 1
    assert rank(got.pop(), phrasings) == 0


@pytest.mark.parametrize(("prompt", "phrasings"), VARIED, ids=[p for p, _ in VARIED])
def test_temperature_one_varies_among_several_answers(client, prompt, phrasings):
    got = [ask(client, prompt, temperature=1, seed=seed) for seed in SEEDS]
    assert len({rank(reply, phrasings) for reply in got}) >= 3
    assert len({sentences(reply)[0] for reply in got}) >= 3  # different sentences, not only an opener
    assert all(reply.startswith(MARKER) for reply in got)


def test_the_higher_the_temperature_the_further_down_the_ranking(client):
    phrasings = topic("token").answers["en"]
    mean_rank = {}
    for temperature in (0.2, 1.0, 2.0):
        ranks = [rank(ask(client, TOKEN_EN, temperature=temperature, seed=s), phrasings) for s in range(30)]
        mean_rank[temperature] = sum(ranks) / len(ranks)
        if temperature == 0.2:
            assert ranks.count(0) >= 27  # nearly always the first
        if temperature == 2.0:
            assert max(ranks) >= 3  # the odd ones come up
    assert mean_rank[0.2] < mean_rank[1.0] < mean_rank[2.0]


@pytest.mark.parametrize("temperature", [1.0, 2.0])
def test_a_small_top_p_leaves_only_the_most_likely_reply(client, temperature):
    phrasings = topic("token").answers["en"]
    narrow = {ask(client, TOKEN_EN, temperature=temperature, top_p=0.1, seed=seed) for seed in SEEDS}
    assert len(narrow) == 1 and rank(narrow.pop(), phrasings) == 0
    wide = {ask(client, TOKEN_EN, temperature=temperature, top_p=1, seed=seed) for seed in SEEDS}
    assert len(wide) >= 3


# ---------------------------------------------------------------- seed and n


def test_the_same_seed_repeats_a_varied_reply_and_other_seeds_differ(client):
    first = {seed: ask(client, GREETING, temperature=1.2, seed=seed) for seed in SEEDS}
    again = get_client(offline=True, quiet=True)  # another session, as after a kernel restart
    assert all(ask(again, GREETING, temperature=1.2, seed=seed) == reply for seed, reply in first.items())
    assert len(set(first.values())) >= 3


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("prompt", [GREETING, TOKEN_KO])
def test_n_3_at_temperature_1_gives_three_different_choices(client, seed, prompt):
    response = client.chat.completions.create(
        model=DEFAULT_MODEL,
        messages=[{"role": "user", "content": prompt}],
        reasoning_effort="none",
        temperature=1,
        n=3,
        seed=seed,
    )
    contents = [c.message.content for c in response.choices]
    assert len(set(contents)) == 3
    assert len({sentences(c)[0] for c in contents}) == 3


@pytest.mark.parametrize("params", [{"temperature": 0}, {"temperature": 1, "top_p": 0.1}])
def test_n_3_repeats_when_only_one_reply_is_likely_enough(client, params):
    response = client.chat.completions.create(
        model=DEFAULT_MODEL,
        messages=[{"role": "user", "content": GREETING}],
        reasoning_effort="none",
        n=3,
        seed=5,
        **params,
    )
    assert len({c.message.content for c in response.choices}) == 1


# ---------------------------------------------------------------- penalties


def repeated(reply):
    said = sentences(reply)
    return len(said) - len(set(said))


@pytest.mark.parametrize("question", [TOKEN_EN, TOKEN_KO, GREETING])
def test_a_negative_frequency_penalty_repeats_a_sentence(client, question):
    plain = ask(client, question, temperature=0)
    loose = ask(client, question, temperature=0, frequency_penalty=-1.5)
    assert repeated(plain) == 0
    assert repeated(loose) >= 2 and loose.startswith(plain)  # said three times in all


@pytest.mark.parametrize("question", [TOKEN_EN, TOKEN_KO])
def test_a_positive_frequency_penalty_drops_the_closer_that_repeats_the_topic(client, question):
    plain = ask(client, question, temperature=0)
    strict = ask(client, question, temperature=0, frequency_penalty=1.0)
    assert plain.startswith(strict) and len(sentences(strict)) == len(sentences(plain)) - 1
    name = topic("token").name["ko" if HANGUL.search(question) else "en"]
    assert plain.count(name) > strict.count(name)  # the topic's name is not said again
    assert repeated(strict) == 0


@pytest.mark.parametrize("question", [TOKEN_EN, TOKEN_KO])
@pytest.mark.parametrize("seed", [0, 1])
def test_a_positive_presence_penalty_moves_to_a_new_topic(client, question, seed):
    lang = "ko" if HANGUL.search(question) else "en"

    def other_topics(reply):  # the topics besides tokens whose teaser the reply says
        return [t for t in replies.TOPICS if t is not topic("token") and t.teaser[lang] in reply]

    assert other_topics(ask(client, question, temperature=1, seed=seed)) == []
    moved = other_topics(ask(client, question, temperature=1, seed=seed, presence_penalty=1.0))
    assert len(moved) == 1 and not any(word in question for word in moved[0].words)


NEW_TOPIC = {
    "en": re.compile(r"Something new to explore: (?P<name>[^.:]+)\. (?P<teaser>[A-Z][^\n]*\.)$"),
    "ko": re.compile(r"새로운 주제도 하나 소개할게요\. (?P<teaser>[^\n]*요\.)$"),
}


@pytest.mark.parametrize("question", [TOKEN_EN, TOKEN_KO, GREETING])
def test_the_new_topic_closer_is_a_sentence_of_its_own(client, question):
    """Not "Something new to explore: temperature controls randomness: 0 gives ...": the
    closer names the topic, then a sentence of its own, capitalised, introduces it."""
    lang = "ko" if HANGUL.search(question) else "en"
    moved = set()
    for seed in range(12):
        reply = ask(client, question, temperature=1, seed=seed, presence_penalty=1.0)
        closer = NEW_TOPIC[lang].search(reply)
        assert closer, reply
        new = next(t for t in replies.TOPICS if t.teaser[lang] == closer["teaser"])
        if lang == "en":
            assert closer["name"] == new.name["en"]
        else:  # the Korean sentence names the topic itself
            assert any(word in closer["teaser"] for word in new.words)
        moved.add(new.name["en"])
    assert len(moved) >= 3  # the new topic is drawn, not always the same


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_every_teaser_is_one_whole_sentence(lang):
    for t in replies.TOPICS:
        teaser = t.teaser[lang]
        assert sentences(teaser) == [teaser] and teaser.endswith("."), teaser
        if lang == "en":
            assert teaser[0].isupper() and teaser.count(":") <= 1, teaser
        else:
            assert HANGUL.search(teaser) and any(word in teaser for word in t.words), teaser


# ---------------------------------------------------------------- verbosity


def paragraphs(reply):
    return reply.removeprefix(MARKER).strip().split("\n\n")


@pytest.mark.parametrize("question", [TOKEN_EN, TOKEN_KO, GREETING, "새로 온 학생을 반겨 줘.", "asdf qwerty"])
def test_verbosity_low_says_one_sentence_and_high_adds_a_paragraph(client, question):
    steady = {"temperature": 0}
    low, medium, high = (ask(client, question, verbosity=v, **steady) for v in ("low", "medium", "high"))
    assert ask(client, question, **steady) == medium  # medium is the default
    assert len(sentences(low)) == 1 and medium.startswith(low)
    assert len(paragraphs(medium)) == 1 and len(sentences(medium)) >= 2
    first, more = paragraphs(high)  # the medium answer, then a second paragraph
    assert paragraphs(medium)[0].startswith(first)
    assert len(sentences(more)) >= 2 and repeated(high) == 0  # says something new
    assert len(low) < len(medium) < len(high)
    assert korean(high) is korean(medium) is bool(HANGUL.search(question))


@pytest.mark.parametrize(("question", "word"), [(TOKEN_EN, "token"), (TOKEN_KO, "토큰")])
def test_at_high_verbosity_both_paragraphs_are_on_the_topic_and_vary_with_the_seed(client, question, word):
    seen = set()
    for seed in range(6):
        high = ask(client, question, verbosity="high", temperature=1, seed=seed)
        parts = paragraphs(high)
        assert len(parts) == 2 and all(word in p.lower() for p in parts), high
        rank(parts[0], topic(word).answers["ko" if HANGUL.search(question) else "en"])
        seen.add(high)
    assert len(seen) >= 3


def test_verbosity_works_at_the_default_effort_as_in_lesson_02(client):
    """No sampling parameters: the model's default reasoning effort, where verbosity still works."""
    for _ in range(4):
        counts = {}
        for verbosity in ("low", "medium", "high"):
            response = client.chat.completions.create(
                model=DEFAULT_MODEL, messages=[{"role": "user", "content": TOKEN_EN}], verbosity=verbosity
            )
            reply = response.choices[0].message.content
            counts[verbosity] = (len(sentences(reply)), len(paragraphs(reply)))
        assert counts["low"] == (1, 1) and counts["medium"][1] == 1 and counts["high"][1] == 2
        assert counts["low"][0] < counts["medium"][0] < counts["high"][0]


@pytest.mark.parametrize(
    ("question", "system", "verbosity"),
    [
        ("In one sentence, what is a token?", None, "high"),  # lesson 02's prompt
        ("토큰을 한 문장으로 설명해 줘.", None, "high"),
        (TOKEN_EN, "Be brief.", "high"),
    ],
)
def test_a_short_answer_asked_for_in_words_wins_over_high_verbosity(client, question, system, verbosity):
    reply = ask(client, question, system, temperature=0, verbosity=verbosity)
    assert len(sentences(reply)) == 1 and reply == ask(client, question, system, temperature=0, verbosity="low")


@pytest.mark.parametrize("prompt", ["Give me a long answer about tokens.", "토큰에 대해 길게 설명해 줘"])
def test_a_long_answer_asked_for_in_words_wins_over_low_verbosity(client, prompt):
    reply = ask(client, prompt, temperature=0, verbosity="low")
    assert len(paragraphs(reply)) >= 4 and reply == ask(client, prompt, temperature=0)


def test_verbosity_sets_how_much_of_a_text_a_summary_keeps(client):
    text = "Summarize: " + " ".join(f"Sentence number {i} says one thing." for i in range(1, 7))
    kept = {v: len(sentences(ask(client, text, temperature=0, verbosity=v))) for v in ("low", "medium", "high")}
    assert kept == {"low": 1, "medium": 2, "high": 4}


def test_high_verbosity_streams_the_same_two_paragraphs(client):
    params = {"model": DEFAULT_MODEL, "messages": [{"role": "user", "content": TOKEN_KO}], "verbosity": "high"}
    params |= {"reasoning_effort": "none", "temperature": 0}
    whole = client.chat.completions.create(**params).choices[0].message.content
    streamed = "".join(
        chunk.choices[0].delta.content or ""
        for chunk in client.chat.completions.create(stream=True, **params)
        if chunk.choices
    )
    assert streamed == whole and len(paragraphs(whole)) == 2


# ---------------------------------------------------------------- language


def korean(reply):
    return HANGUL.search(reply.removeprefix(MARKER)) is not None


@pytest.mark.parametrize(
    ("system", "question", "expected"),
    [
        ("You are a friendly tutor.", TOKEN_KO, True),  # the chat widget's and many lessons' prompt
        ("You are a friendly tutor for the Chat Completions API.", "어텐션을 아이에게 설명해 줘", True),
        ("너는 친절한 튜터야. 항상 한국어로 대답해.", "What does temperature do?", True),
        ("Answer in Korean.", TOKEN_EN, True),
        ("You are a concise tutor. Answer in English.", TOKEN_KO, False),
        ("너는 친절한 튜터야.", TOKEN_EN, False),
        (None, "안녕! 요즘 LLM을 공부하고 있어.", True),
    ],
)
def test_the_reply_is_in_the_learners_language_unless_the_prompt_asks_otherwise(client, system, question, expected):
    for params in ({"temperature": 0}, {"temperature": 1, "seed": 3}):
        assert korean(ask(client, question, system, **params)) is expected


def test_a_korean_message_gets_korean_in_a_chat_with_an_english_system_prompt(client):
    chat = Conversation(client, system="You are a friendly tutor.", params={"reasoning_effort": "none"})
    assert not korean(chat.send("Hello!"))
    assert korean(chat.send("토큰이 뭐야?"))
    assert korean(chat.send("내 이름은 차은우야"))
    reply = chat.send("내 이름이 뭐야?")
    assert korean(reply) and "차은우" in reply


# ---------------------------------------------------------------- the lessons' prompts


@pytest.mark.parametrize(
    ("prompt", "lang"),
    [
        ("Explain attention to a child.", "en"),
        ("Can you explain attention so a 10-year-old gets it?", "en"),
        ("어텐션을 아이에게 설명해 줘", "ko"),
        ("어려워... 어텐션을 초등학생도 이해하게 설명해 줘.", "ko"),
    ],
)
def test_attention_for_a_child_is_explained_simply(client, prompt, lang):
    word, jargon = ("attention", "token") if lang == "en" else ("어텐션", "토큰")
    for seed in range(6):
        reply = ask(client, prompt, temperature=1, seed=seed)
        rank(reply, topic("attention").simple[lang])
        assert word in reply.lower() and jargon not in reply  # words, not tokens, queries and softmax
    grown_up = ask(client, "What is attention?" if lang == "en" else "어텐션이 뭐야?", temperature=0)
    assert jargon in grown_up


@pytest.mark.parametrize(
    ("prompt", "phrasings"),
    [
        ("What does temperature do?", topic("temperature").answers["en"]),
        ("temperature는 뭐야?", topic("temperature").answers["ko"]),
        ("What is streaming?", topic("stream").answers["en"]),
        ("스트리밍이 뭐야?", topic("stream").answers["ko"]),
        ("How is the cost of a call computed?", topic("cost").answers["en"]),
        ("비용은 어떻게 계산해?", topic("cost").answers["ko"]),
        ("What are the roles of messages?", topic("role").answers["en"]),
        ("메시지 역할이 뭐야?", topic("role").answers["ko"]),
        ("Why does the model forget what I said?", topic("remember").answers["en"]),
        ("What is a transformer?", topic("transformer").answers["en"]),
        (GREETING, replies.TEXT["en"]["hello"]),
        ("새로 온 학생에게 인사해 줘. 안녕!", replies.TEXT["ko"]["hello"]),
    ],
)
def test_the_lessons_questions_are_answered_on_their_topic(client, prompt, phrasings):
    for seed in range(6):
        rank(ask(client, prompt, temperature=1, seed=seed), phrasings)


@pytest.mark.parametrize(
    "prompt",
    [
        "API를 처음 배우는 학생에게 인사해 줘.",
        "처음 온 학생을 반겨 줘.",
        "새 학생을 환영해 줘",
        "수강생들에게 반갑게 인사 좀 해 줄래?",
        "Greet a student who is new to the API.",
        "Welcome the new students to the course.",
        "Say hi to the class!",
    ],
)
def test_a_request_for_a_greeting_gets_a_greeting_in_its_language(client, prompt):
    lang = "ko" if HANGUL.search(prompt) else "en"
    for seed in range(4):
        rank(ask(client, prompt, temperature=1, seed=seed), replies.TEXT[lang]["hello"])


@pytest.mark.parametrize(
    ("prompt", "phrasings"),
    [
        ("학생에게 인사하고 토큰이 뭔지 알려 줘.", topic("token").answers["ko"]),
        ("스트리밍을 설명하기 전에 반겨 줘.", topic("stream").answers["ko"]),
        ("Greet the class, then explain what temperature does.", topic("temperature").answers["en"]),
        ("Welcome me and tell me what a call costs.", topic("cost").answers["en"]),
    ],
)
def test_a_greeting_request_about_a_topic_answers_the_topic(client, prompt, phrasings):
    for seed in range(4):
        rank(ask(client, prompt, temperature=1, seed=seed), phrasings)


@pytest.mark.parametrize(
    "prompt", ["이 데이터에서 인사이트를 뽑아 줘.", "상반기 실적을 정리해 줘.", "Which hill is highest?"]
)
def test_words_that_only_contain_a_greeting_get_no_greeting(client, prompt):
    lang = "ko" if HANGUL.search(prompt) else "en"
    reply = ask(client, prompt, temperature=0)
    assert not any(hello in reply for hello in replies.TEXT[lang]["hello"])
    assert prompt in reply  # the fallback, which quotes the message


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_every_phrasing_names_its_topic_and_every_greeting_welcomes(lang):
    for t in replies.TOPICS:
        for text in t.answers[lang] + (t.simple[lang] if t.simple else []):
            assert any(word in text.lower() for word in t.words), text
    welcome = "welcome" if lang == "en" else "환영"
    assert all(welcome in text.lower() for text in replies.TEXT[lang]["hello"])


def test_one_short_sentence_is_one_sentence(client):
    for seed in range(6):
        reply = ask(client, "Say hi to a new student in one short sentence.", temperature=1.2, seed=seed)
        assert len(sentences(reply)) == 1 and reply.startswith(MARKER)
    assert len(sentences(ask(client, "Say hi to a new student.", temperature=0))) >= 2


def test_a_brief_system_prompt_shortens_the_answer(client):
    brief = ask(client, TOKEN_KO, "너는 친절한 파이썬 튜터야. 짧게 답해.", temperature=0)
    full = ask(client, TOKEN_KO, "너는 친절한 파이썬 튜터야.", temperature=0)
    assert len(sentences(brief)) == 1 < len(sentences(full)) and full.startswith(brief)


@pytest.mark.parametrize(
    ("intro", "question", "name"),
    [("My name is Mina.", "What's my name?", "Mina"), ("내 이름은 차은우야", "내 이름이 뭐야?", "차은우")],
)
def test_a_name_is_remembered_across_turns_at_any_temperature(client, intro, question, name):
    for seed in range(4):
        chat = Conversation(client, params={"reasoning_effort": "none", "temperature": 1.3, "seed": seed})
        assert name in chat.send(intro)
        assert name in chat.send(question)


@pytest.mark.parametrize(
    ("prompt", "word"), [("Give me a long answer about tokens.", "token"), ("토큰에 대해 길게 설명해 줘", "토큰")]
)
def test_a_long_answer_about_tokens_has_paragraphs_and_is_cut_by_a_small_budget(client, prompt, word):
    full = ask(client, prompt, temperature=1, seed=2)
    paragraphs = full.split("\n\n")
    assert len(paragraphs) >= 4 and all(word in p.lower() for p in paragraphs)
    response = client.chat.completions.create(
        model=DEFAULT_MODEL,
        messages=[{"role": "user", "content": prompt}],
        reasoning_effort="none",
        temperature=1,
        seed=2,
        max_completion_tokens=30,
    )
    cut = response.choices[0].message.content
    assert response.choices[0].finish_reason == "length"
    assert full.startswith(cut) and len(cut) < len(full) / 4 and cut.startswith(MARKER)


def test_every_reply_is_marked_offline(client):
    prompts = [p for p, _ in VARIED] + ["Explain attention to a child.", "Give me a long answer", "asdf"]
    for prompt in prompts:
        for params in ({"temperature": 0}, {"temperature": 2, "seed": 1, "frequency_penalty": -2}):
            assert ask(client, prompt, **params).startswith(MARKER + " ")
    assert re.match(r"\[offline\] \S", ask(client, TOKEN_KO, temperature=1, seed=1, presence_penalty=2))


def test_a_korean_particle_ending_in_da_does_not_end_the_sentence():
    # "토큰마다" ends in 다 but is no sentence end: a one-sentence reply must not stop there.
    from helpers._offline.replies import SENTENCE_END

    assert SENTENCE_END.split("토크나이저는 텍스트를 토큰마다 숫자 하나로 바꿉니다. 다음 문장.") == [
        "토크나이저는 텍스트를 토큰마다 숫자 하나로 바꿉니다.",
        "다음 문장.",
    ]
    assert SENTENCE_END.split("첫 줄입니다\n둘째 줄입니다") == ["첫 줄입니다", "둘째 줄입니다"]
