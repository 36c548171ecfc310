"""The offline model's canned replies: data keyed by language ("en", "ko"), and the small
rules that pick one (a name to remember, a topic, a summary, a long reply, tool results)."""

from __future__ import annotations

import random
import re
from typing import Any

MARKER = "[offline]"
HANGUL = re.compile(r"[\uac00-\ud7a3]")
_NAME = r"([A-Z][a-z]+(?:-[A-Z][a-z]+)?)"  # a capitalised word: "I am tired" is no name
NAME_INTRO = [
    re.compile(r"\bmy name(?:['’]s| is) " + _NAME.replace("[A-Z][a-z]", "[A-Za-z][a-z]", 1), re.I),
    re.compile(r"\b(?:[Ii] am|[Ii]['’]?m|[Cc]all me|[Ii]['’]m called|[Ii] am called|[Nn]ame['’]s) " + _NAME),
    re.compile(r"(?:내|제) 이름은 ([가-힣A-Za-z]{1,10}?)(?:이라고|라고|이야|야|입니다|이에요|예요|이고|$|[\s.,!~])"),
    re.compile(r"(?:^|[\s,.!])(?:나는|저는|난|전|나) ([가-힣]{1,5}?)(?:이라고|라고) (?:해요|합니다|해|불러)"),
    re.compile(r"(?:^|[\s,.!])(?:나는|저는|난|전|나) ([가-힣]{1,5}?)(?:이야|야|입니다|이에요|예요)(?:[\s.,!~]|$)"),
]
# Every pattern above needs one of these in the lower-cased text (a quick test before the five).
NAME_HINT = re.compile(r"name|\bi(?:['’]?m)?\b|call me|[가-힣]")
# Capitalised words that follow "I'm" but are no name, and Korean nouns that follow "저는".
NOT_NAMES = frozenset(
    "Korean English American British Canadian Chinese Japanese German French Spanish Italian Indian "
    "Fine Good Great Okay Ok Well Sorry Sure Here Back Done Ready Not Just So Also Still Very Really "
    "Happy Sad Tired Hungry New Learning Trying Going Looking Interested Currently Actually Glad Excited "
    "Confused Stuck Busy Curious Thinking Working Studying Using Getting A An The From In At On Your "
    "Student Teacher Developer Engineer Beginner New".split()
) | {
    "한국인",
    "한국사람",
    "학생",
    "대학생",
    "고등학생",
    "개발자",
    "엔지니어",
    "선생님",
    "교사",
    "초보자",
    "초보",
    "회사원",
    "디자이너",
    "미국인",
    "외국인",
    "괜찮",
    "여기",
    "처음",
}
SENTENCE_END = re.compile(r"(?<=[.!?다])\s+")
LONG = re.compile(r"\blong\b|긴 |길게|긴응답")  # not "belong" or "along"
HELLO = re.compile(r"\b(hello|hi|hey)\b|안녕")
NAME_QUESTION = re.compile(  # searched in the lower-cased message (faster than re.I)
    r"what(?:['’]s| is) my name|who am i\b|do you (?:know|remember) my name|"
    r"remember (?:my|who)|내 이름|제 이름|나 누구|내가 누구"
)
# What each of NAME_HINT, NAME_QUESTION, LONG and the summary words needs in the lower-cased text.
# A quick test: it may match more (a word ending in "i", "belong"), never less. No branch starts
# with \b, so the regex engine skips ahead to the letters that can begin a match.
RARE = re.compile(r"name|i(?:['’]?m)?\b|call me|remember|summar|long\b|[가-힣]")

# Short tutor answers, keyed by words that trigger them: (english, korean).
TOPICS: dict[tuple[str, ...], tuple[str, str]] = {
    ("token", "토큰"): (
        "A token is a chunk of text the model reads and writes, often a word piece. "
        "You pay per token, so count them with tiktoken.",
        "토큰은 모델이 읽고 쓰는 텍스트 조각으로, 보통 단어의 일부입니다. "
        "요금이 토큰 단위로 매겨지므로 tiktoken으로 세어 보세요.",
    ),
    ("temperature", "온도"): (
        "temperature controls randomness: 0 gives the most likely reply every time, "
        "higher values (up to 2) give more varied replies.",
        "temperature는 무작위성을 조절합니다. 0이면 매번 가장 그럴듯한 답을, "
        "값이 클수록(최대 2) 더 다양한 답을 냅니다.",
    ),
    ("stream", "스트림", "스트리밍"): (
        "With stream=True the reply arrives in small chunks as it is generated, so users see text appear right away.",
        "stream=True로 요청하면 답변이 만들어지는 대로 작은 조각(chunk)으로 도착해서 "
        "사용자가 바로 글자를 볼 수 있습니다.",
    ),
    ("attention", "어텐션"): (
        "Attention lets each word look at the other words and decide which ones matter most, "
        "like listening for the teacher's voice in a noisy classroom.",
        "어텐션은 각 단어가 다른 단어들을 살펴보고 어떤 단어가 중요한지 정하는 방법입니다. "
        "시끄러운 교실에서 선생님 목소리에 집중하는 것과 비슷해요.",
    ),
    ("transformer", "트랜스포머"): (
        "A Transformer is the neural network behind GPT models: layers of self-attention and "
        "feed-forward blocks that read the whole sequence at once.",
        "트랜스포머는 GPT 모델의 바탕이 되는 신경망으로, 셀프 어텐션과 피드포워드 층을 쌓아 "
        "문장 전체를 한 번에 처리합니다.",
    ),
    ("stateless", "history", "remember", "기억", "대화 내역"): (
        "The API is stateless: it remembers nothing between calls, so you send the whole "
        "conversation history in messages every time.",
        "API는 상태가 없습니다(stateless). 호출 사이에 아무것도 기억하지 않으므로 "
        "매번 messages에 대화 내역 전체를 보내야 합니다.",
    ),
    ("cost", "price", "비용", "가격", "요금"): (
        "Cost = input tokens x input price + output tokens x output price, with prices quoted per million tokens.",
        "비용 = 입력 토큰 수 x 입력 단가 + 출력 토큰 수 x 출력 단가이며, 단가는 100만 토큰당 가격입니다.",
    ),
    ("role", "system", "역할"): (
        "Messages have roles: system sets the assistant's behaviour, user is the person, "
        "assistant is the model's earlier replies.",
        "메시지에는 역할이 있습니다. system은 어시스턴트의 태도를 정하고, user는 사용자, "
        "assistant는 모델의 이전 답변입니다.",
    ),
}
TOPIC_OF = {word: keys for keys in TOPICS for word in keys}
TOPIC_WORD = re.compile("|".join(map(re.escape, TOPIC_OF)))
OPENERS = {
    "en": ["", "Sure! ", "Good question. ", "Happy to help. ", "Here is the short version: "],
    "ko": ["", "좋아요! ", "좋은 질문이에요. ", "기꺼이 도와드릴게요. ", "짧게 설명하면, "],
}
TEXT = {
    "en": {
        "hello": "Hello! I'm the course's offline model. Ask me about tokens, temperature or streaming.",
        "meet": "Nice to meet you, {name}! What would you like to learn about the API today?",
        "recall": "Your name is {name}: you told me earlier in this conversation.",
        "unknown_name": "I don't know your name: nothing in the messages I was sent says it. "
        "The API is stateless, so send the earlier turns if I should remember.",
        "unheard_name": "I can read our earlier messages, but none of them tells me your name. "
        'Tell me with "My name is ..." and I will remember it as long as it is sent.',
        "tool_result": "Here is what {name} returned: {result}",
        "tool_results": "The tools returned: {results}",
        "summary": "Summary: {text}",
        "long": "Here is a long reply for testing streaming. ",
        "echo": 'You said: "{text}". I am the course\'s offline model and only know a few '
        "topics; set OPENAI_API_KEY for real answers.",
        "more": "Want to know more about {topic}?",
        "new": "Something new to explore: {topic}.",
    },
    "ko": {
        "hello": "안녕하세요! 저는 코스용 오프라인 모델이에요. 토큰, temperature, 스트리밍에 대해 물어보세요.",
        "meet": "반가워요, {name}님! 오늘은 API의 어떤 부분을 배워 볼까요?",
        "recall": "당신의 이름은 {name}입니다. 이 대화 앞부분에서 알려 주셨어요.",
        "unknown_name": "이름을 모르겠어요. 제가 받은 메시지 어디에도 이름이 없어요. "
        "API는 상태가 없으니 기억하게 하려면 이전 대화를 함께 보내세요.",
        "unheard_name": '앞의 대화는 받았지만 어디에도 이름이 없어요. "제 이름은 ...예요"라고 알려 주시면 '
        "대화가 함께 전송되는 동안 기억할게요.",
        "tool_result": "{name}의 결과입니다: {result}",
        "tool_results": "도구 결과입니다: {results}",
        "summary": "요약: {text}",
        "long": "스트리밍 테스트를 위한 긴 답변입니다. ",
        "echo": '"{text}"라고 하셨네요. 저는 코스용 오프라인 모델이라 몇 가지 주제만 답할 수 '
        "있어요. 실제 답변은 OPENAI_API_KEY를 설정하세요.",
        "more": "{topic}에 대해 더 알고 싶으신가요?",
        "new": "새로운 주제도 있어요: {topic}.",
    },
}


def language(messages: list[dict[str, str]]) -> str:
    """'ko' or 'en': the system prompt's language, else the last user message's."""
    for m in messages:
        if m["role"] in ("system", "developer"):
            sample = m["content"]
            break
    else:
        sample = next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")
    return "ko" if not sample.isascii() and HANGUL.search(sample) else "en"


def find_name(text: str) -> str | None:
    """The name a message introduces ("My name's Bob", "I'm Alice", "저는 김민수라고 해요",
    "나 민지야"), or None; words such as "Korean" or "fine" after "I'm" are no name."""
    if not NAME_HINT.search(text.lower()):  # most messages introduce no one: one search rules them out
        return None
    for pattern in NAME_INTRO:
        for match in pattern.finditer(text):
            name = match.group(1)
            name = name[:1].upper() + name[1:]
            if name not in NOT_NAMES and not name.endswith(("ing", "ed")):
                return name
    return None


def _topic(low: str) -> tuple[tuple[str, ...], tuple[str, str]] | None:
    """The topic a lower-cased message mentions first, with its answers."""
    found = TOPIC_WORD.search(low)  # the leftmost trigger word is the topic mentioned first
    if found is None:
        return None
    keys = TOPIC_OF[found.group()]
    return keys, TOPICS[keys]


def tool_answer(results: list[tuple[str, str]], lang: str) -> str:
    """A reply that uses the results of the tool calls it made."""
    t = TEXT[lang]
    if len(results) == 1:
        name, result = results[0]
        return f"{MARKER} " + t["tool_result"].format(name=name, result=result[:400])
    joined = "; ".join(f"{name}: {result[:200]}" for name, result in results)
    return f"{MARKER} " + t["tool_results"].format(results=joined)


def compose_reply(
    messages: list[dict[str, Any]],
    rng: random.Random | None,
    *,
    top_p: float = 1.0,
    presence_penalty: float = 0.0,
    frequency_penalty: float = 0.0,
    lang: str | None = None,
) -> str:
    """The offline model's reply. ``rng`` is None at temperature 0 (no randomness); ``lang``:
    the conversation's language if the caller knows it already."""
    lang = lang or language(messages)
    t = TEXT[lang]
    users = [m["content"] for m in messages if m["role"] == "user"]
    last = users[-1].strip() if users else ""
    low = last.lower()
    closer = ""
    # Most messages introduce no name, ask for none, want no summary and no long reply: one
    # search tells, before the searches for each.
    rare = RARE.search(low) is not None
    introduced = find_name(last) if rare else None

    if rare and introduced is None and NAME_QUESTION.search(low):
        names = [n for n in map(find_name, users[:-1]) if n]
        # With earlier turns sent, the learner's code is right: do not claim they were not sent.
        body = t["recall"].format(name=names[-1]) if names else t["unheard_name" if users[:-1] else "unknown_name"]
    elif introduced:
        body = t["meet"].format(name=introduced)
    elif rare and any(w in low for w in ("summarize", "summarise", "summary", "요약")):
        source = max((m["content"] for m in messages if m["role"] == "user"), key=len)
        sentences = SENTENCE_END.split(source.strip())
        body = t["summary"].format(text=" ".join(s for s in sentences[:2] if s)[:300])
    elif rare and LONG.search(low):
        body = t["long"] + " ".join(TOPICS[k][lang == "ko"] for k in TOPICS)
    elif (found := _topic(low)) is not None:
        keys, answers = found
        body = answers[lang == "ko"]
        closer = t["more"].format(topic=keys[lang == "ko" and len(keys) > 1])
    elif HELLO.search(low):
        body = t["hello"]
    else:
        body = t["echo"].format(text=last[:80] + ("..." if len(last) > 80 else ""))

    # Sampling stand-in: temperature > 0 picks among phrasings; top_p keeps only the
    # most likely share of them (top_p=0.1 leaves just the first).
    openers = OPENERS[lang]
    pool = openers[: max(1, round(len(openers) * top_p))]
    opener = rng.choice(pool) if rng else pool[0]
    if body.startswith(t["long"]):
        opener = ""  # "Here is the short version: Here is a long reply" reads badly
    # A positive frequency penalty discourages repeating words: drop the closer, which
    # repeats the topic. A positive presence penalty pushes towards new topics.
    if frequency_penalty > 0:
        closer = ""
    if presence_penalty > 0:
        seen = " ".join(m["content"] for m in messages).lower()
        fresh = [k for k in TOPICS if not any(w in seen for w in k)]
        if fresh:
            keys = fresh[rng.randrange(len(fresh))] if rng else fresh[0]
            closer = t["new"].format(topic=keys[lang == "ko" and len(keys) > 1])
    text = f"{MARKER} {opener}{body}"
    if closer:
        text += f" {closer}"
        if frequency_penalty < 0:  # negative: repetition is rewarded
            text += f" {closer}"
    return text
