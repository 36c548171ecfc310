"""The offline model's replies: canned answers as data, in English and Korean, and the small
rules that choose one (a name to remember, a topic, a summary, a long reply, tool results).

Sampling stand-in: a real model draws every token from softmax(logits / temperature), cut to
the top_p share. Here each answer has several phrasings ranked from most to least likely, and
``Sampling`` weighs whole phrasings the same way (rank k has logit -RANK_STEP * k): temperature
0 always gives the first, 0.2 nearly always, 1 spreads the choice and 2 reaches the last ones;
top_p keeps the smallest set of top phrasings whose probability reaches top_p. The penalties
act on whole sentences: frequency_penalty < 0 says the last sentence again (once more per
unit, rounded up: -1.5 says it three times), > 0 leaves out the closing question, which repeats
the topic; presence_penalty > 0 ends on a topic the conversation has not touched yet.
verbosity sets the default length: "low" one sentence, "medium" the answer and its closing
question, "high" a second paragraph too; a length the messages ask for in words wins.
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass, field
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
# A sentence ends at . ! ? and a space, or at 다 and a line break ("토큰마다 숫자" goes on).
SENTENCE_END = re.compile(r"(?<=[.!?])\s+|(?<=다)\n\s*")
LONG = re.compile(r"\blong\b|\bin detail\b|긴 |길게|긴응답|자세히")  # not "belong" or "along"
# A greeting, or a request for one ("greet the class", "say hi", "인사해 줘", "반겨 줘"); a message
# that also names a topic gets the topic. Not 인사이트 (insight) nor 상반기/하반기 (half-year).
HELLO = re.compile(r"\b(?:hello|hi|hey|welcome)\b|\bgreet|안녕|환영|인사(?!이)|반겨|반갑|반가워|(?<![상하])반기")
NAME_QUESTION = re.compile(  # searched in the lower-cased message (faster than re.I)
    r"what(?:['’]s| is) my name|who am i\b|do you (?:know|remember) my name|"
    r"remember (?:my|who)|내 이름|제 이름|나 누구|내가 누구"
)
SUMMARY = re.compile(r"summari[sz]e|summary|요약")
SUMMARY_ASK = re.compile(r"^(?:please )?summari[sz]e(?: this| the following)?\s*[:.-]\s*", re.I)
# Asked for a short answer, in the last message or the system prompt: one sentence, no closer.
BRIEF = re.compile(
    r"\bone (?:short )?sentence|\bbe brief|\bbriefly\b|keep (?:it|answers|your answers|replies) short|한 문장|짧게"
)
# Asked for an explanation a child could follow: a topic's simple phrasings, where it has some.
SIMPLE = re.compile(
    r"\bchild|\bkids?\b|year[- ]old|\bsimple terms|\bsimply\b|아이(?:에게|한테|도|가)|어린이|초등학생|쉽게"
)
# An instruction in the system or developer prompt about the reply's language.
LANGUAGE_ASKED = re.compile(r"\bin (korean|english)\b|(한국어|영어)로", re.I)


@dataclass(frozen=True)
class Topic:
    """A short tutor answer: its trigger words (searched in the lower-cased last user message),
    the name the closers use, and its phrasings per language, most likely first."""

    words: tuple[str, ...]
    name: dict[str, str]
    answers: dict[str, list[str]]
    simple: dict[str, list[str]] | None = None  # for "explain it to a child", "초등학생도 알게"
    # One sentence that introduces the topic, for the presence penalty's closer.
    teaser: dict[str, str] = field(kw_only=True)


TOPICS = [
    Topic(
        ("token", "토큰"),
        {"en": "tokens", "ko": "토큰"},
        {
            "en": [
                "A token is a chunk of text the model reads and writes, often a word piece. "
                "You pay per token, so count them with tiktoken.",
                'Models never see letters or whole words: they see tokens, pieces such as "un", "believ" '
                'and "able". In English one token is about four characters, three quarters of a word.',
                "Think of tokens as the model's building blocks. Your prompt is cut into tokens, the model "
                "writes its reply one token at a time, and usage in each response counts both.",
                "Tokens are the unit everything is measured in: the context window, max_completion_tokens "
                "and the price per million. The same sentence in Korean often takes more tokens than in English.",
                "A tokenizer such as o200k_base turns text into a list of numbers, one per token, and the "
                "model only ever works with those numbers. Encode a sentence with tiktoken to see the split.",
            ],
            "ko": [
                "토큰은 모델이 읽고 쓰는 텍스트 조각으로, 보통 단어의 일부입니다. "
                "요금이 토큰 단위로 매겨지므로 tiktoken으로 세어 보세요.",
                "모델은 글자나 단어를 그대로 보지 않고 토큰이라는 조각으로 봅니다. 영어에서는 한 토큰이 "
                "평균 네 글자쯤이고, 한국어는 같은 뜻을 쓰는 데 토큰이 더 드는 경우가 많아요.",
                "토큰은 모델의 레고 블록 같은 거예요. 프롬프트는 토큰으로 잘려 들어가고, 모델은 답을 "
                "한 토큰씩 이어 붙여 만듭니다. 응답의 usage를 보면 몇 개를 썼는지 알 수 있어요.",
                "컨텍스트 창, max_completion_tokens, 100만 토큰당 가격처럼 API의 거의 모든 숫자가 토큰 "
                "단위예요. 그래서 토큰 수를 알면 길이와 비용을 함께 가늠할 수 있어요.",
                "o200k_base 같은 토크나이저는 텍스트를 토큰마다 숫자 하나로 바꾸고, 모델은 그 숫자만 "
                "다룹니다. tiktoken으로 문장을 인코딩해 보면 어떻게 나뉘는지 직접 볼 수 있어요.",
            ],
        },
        teaser={
            "en": "They are the pieces of text a model reads and writes, and every one of them is billed.",
            "ko": "토큰은 모델이 읽고 쓰는 텍스트 조각이고, 하나하나에 요금이 붙어요.",
        },
    ),
    Topic(
        ("temperature", "온도"),
        {"en": "temperature", "ko": "temperature"},
        {
            "en": [
                "temperature controls randomness: 0 gives the most likely reply every time, "
                "higher values (up to 2) give more varied replies.",
                "Before each token the model holds a list of candidates with probabilities. A low "
                "temperature sharpens that list towards the favourite; a high one flattens it, so unlikely "
                "words get picked too.",
                "Use temperature=0 when you want the same answer on every run, for tests or data "
                "extraction. Around 1 suits conversation; above 1.5 the text gets creative and sometimes odd.",
                "Try it: ask the same question five times at temperature 0, then five times at 1.5, and "
                "compare. Add a seed when you want a varied reply you can reproduce.",
                "temperature divides the model's scores before they become probabilities. Dividing by a "
                "small number lets the top choice win almost always; a large one gives the others a chance.",
            ],
            "ko": [
                "temperature는 무작위성을 조절합니다. 0이면 매번 가장 그럴듯한 답을, "
                "값이 클수록(최대 2) 더 다양한 답을 냅니다.",
                "모델은 토큰을 하나 고를 때마다 후보 목록과 확률을 갖고 있어요. temperature가 낮으면 "
                "1등 후보로 쏠리고, 높으면 확률이 고르게 퍼져서 뜻밖의 단어도 뽑힙니다.",
                "테스트나 데이터 추출처럼 매번 같은 답이 필요하면 temperature=0을 쓰세요. 대화에는 1 "
                "안팎이 어울리고, 1.5를 넘으면 창의적이지만 가끔 엉뚱한 글이 나와요.",
                "직접 해 보세요. 같은 질문을 temperature 0으로 다섯 번, 1.5로 다섯 번 보내 비교하면 "
                "차이가 바로 보여요. 다양한 답을 다시 재현하고 싶으면 seed를 함께 주세요.",
                "temperature는 모델의 점수를 확률로 바꾸기 전에 나누는 값이에요. 작은 수로 나누면 1등이 "
                "거의 항상 이기고, 큰 수로 나누면 다른 후보에게도 기회가 갑니다.",
            ],
        },
        teaser={
            "en": "It controls randomness: 0 gives the most likely reply every time, higher values more varied ones.",
            "ko": "temperature는 답의 무작위성을 조절해서, 0이면 매번 같은 답을, 값이 클수록 더 다양한 답을 내요.",
        },
    ),
    Topic(
        ("stream", "스트림", "스트리밍"),
        {"en": "streaming", "ko": "스트리밍"},
        {
            "en": [
                "With stream=True the reply arrives in small chunks as it is generated, "
                "so users see text appear right away.",
                "Streaming sends the reply as server-sent events: each chunk carries a small delta of "
                "text, and you print the pieces as they come. The chunk that ends the reply carries its "
                "finish_reason.",
                "Without streaming you wait for the whole reply and get it at once. With stream=True the "
                "first words show up almost at once, so a chat feels faster even if the total time is the same.",
                "In code, loop over the stream and read chunk.choices[0].delta.content, skipping the "
                'pieces that are None. Add stream_options={"include_usage": True} to get the token '
                "counts in a last chunk.",
                "A stream can be stopped half way: break out of the loop and close it, for example with "
                "a with block. That is how the Stop button of a chat app works.",
            ],
            "ko": [
                "stream=True로 요청하면 답변이 만들어지는 대로 작은 조각(chunk)으로 도착해서 "
                "사용자가 바로 글자를 볼 수 있습니다.",
                "스트리밍은 답을 서버 전송 이벤트(SSE)로 보냅니다. 청크마다 짧은 delta 텍스트가 들어 "
                "있어서 도착하는 대로 출력하면 돼요. 답을 끝내는 청크에는 finish_reason이 담겨 있어요.",
                "스트리밍이 없으면 답이 다 만들어질 때까지 기다렸다가 한 번에 받습니다. stream=True를 "
                "쓰면 첫 글자가 금방 보여서, 전체 시간은 같아도 채팅이 훨씬 빠르게 느껴져요.",
                "코드에서는 스트림을 반복하며 chunk.choices[0].delta.content를 읽고, None인 조각은 "
                '건너뛰세요. stream_options={"include_usage": True}를 주면 마지막 청크에서 토큰 수도 '
                "받을 수 있어요.",
                "스트림은 중간에 멈출 수 있어요. 반복문을 빠져나와 스트림을 닫으면 되고, with 블록을 "
                "쓰면 저절로 닫혀요. 채팅 앱의 정지 버튼이 바로 이렇게 동작합니다.",
            ],
        },
        teaser={
            "en": "With stream=True the reply arrives piece by piece, while it is being written.",
            "ko": "스트리밍을 켜면(stream=True) 답이 만들어지는 대로 조금씩 도착해요.",
        },
    ),
    Topic(
        ("attention", "어텐션"),
        {"en": "attention", "ko": "어텐션"},
        {
            "en": [
                "Attention lets each token look at every other token in the text and weigh how much each "
                'one matters for its meaning. In "The cat sat because it was tired", attention links '
                '"it" strongly to "cat".',
                "In self-attention every token asks a question (its query), every token offers a label "
                "(its key), and the scores between them decide how much of each token's information "
                "(its value) is mixed in.",
                "Attention scores every pair of tokens, turns the scores into weights with softmax and "
                "takes a weighted average. That is how a model keeps track of who did what in a long text.",
                "Attention is the heart of the Transformer: instead of reading word by word like older "
                "networks, every token attends to every other token at once, which is also why long "
                "contexts take more computing.",
                "Each attention head learns its own pattern of weights: one may link pronouns to names, "
                "another a verb to its subject. A model stacks many heads in many layers to refine what "
                "each token means.",
            ],
            "ko": [
                "어텐션은 각 토큰이 문장의 다른 모든 토큰을 살펴보고, 자기 뜻을 정하는 데 어떤 토큰이 "
                '얼마나 중요한지 가중치를 매기는 방법입니다. "The cat sat because it was tired"에서 '
                "it은 cat에 가장 큰 가중치를 줘요.",
                "셀프 어텐션에서는 각 토큰이 질문(query)을 던지고, 다른 토큰들은 이름표(key)를 내밉니다. "
                "둘 사이의 점수에 따라 각 토큰의 정보(value)를 얼마나 섞을지 정해요.",
                "어텐션은 모든 토큰 쌍의 점수를 계산하고, softmax로 가중치로 바꾼 뒤 가중 평균을 냅니다. "
                "그래서 긴 글에서도 누가 무엇을 했는지 따라갈 수 있어요.",
                "어텐션은 트랜스포머의 핵심이에요. 예전 신경망처럼 한 단어씩 읽는 대신 모든 토큰이 다른 "
                "모든 토큰을 한 번에 보고, 그래서 컨텍스트가 길수록 계산도 많아져요.",
                "어텐션 헤드마다 자기만의 가중치 패턴을 배웁니다. 어떤 헤드는 대명사를 이름에, 어떤 헤드는 "
                "동사를 주어에 연결하죠. 모델은 이런 헤드를 여러 층 쌓아 토큰의 뜻을 다듬어요.",
            ],
        },
        simple={
            "en": [
                "Attention is like listening for your teacher's voice in a noisy classroom: the model "
                "hears all the words at once, but it listens hardest to the ones that matter right now.",
                'Imagine reading "The dog chased the ball because it was fun": to know what "it" means, '
                "you look back at the other words. Attention lets the model look back like that, for "
                "every word.",
                "Think of a flashlight in a dark room full of words. When the model reads a word, "
                "attention shines the light brightest on the words that help explain it.",
                "When you do a puzzle, you don't look at every piece the same: you look hardest at the "
                "pieces that fit next to yours. Attention helps the model look hardest at the words that "
                "fit together.",
                'Attention is each word asking its friends in the sentence "Who can help me?", then '
                "listening most to the friends with the best answers.",
            ],
            "ko": [
                "어텐션은 시끄러운 교실에서 선생님 목소리에 귀를 기울이는 것과 비슷해요. 모델은 모든 "
                "단어를 한꺼번에 듣지만, 지금 중요한 단어에 가장 크게 집중해요.",
                "\"민수가 빵을 먹고 그는 행복했어요\"에서 '그'가 누구인지 알려면 앞의 단어를 다시 보잖아요. "
                "어텐션은 모델이 단어마다 이렇게 앞뒤를 돌아보게 해 줘요.",
                "어두운 방에 단어들이 가득하고 손전등이 하나 있다고 생각해 보세요. 모델이 한 단어를 읽을 "
                "때, 어텐션은 그 단어를 이해하는 데 도움이 되는 단어들에 불빛을 가장 밝게 비춰요.",
                "퍼즐을 맞출 때 모든 조각을 똑같이 보지 않고, 내 조각 옆에 맞을 것 같은 조각을 더 열심히 "
                "보죠? 어텐션도 서로 잘 맞는 단어들을 더 열심히 보게 해 줘요.",
                '어텐션은 단어마다 문장 속 친구들에게 "누가 나를 도와줄 수 있니?" 하고 묻고, 가장 좋은 '
                "답을 주는 친구의 말을 제일 귀담아듣는 거예요.",
            ],
        },
        teaser={
            "en": "It lets every token weigh how much each other token matters for its meaning.",
            "ko": "어텐션은 각 토큰이 다른 토큰들을 보며 자기 뜻에 무엇이 중요한지 가늠하게 해 줘요.",
        },
    ),
    Topic(
        ("transformer", "트랜스포머"),
        {"en": "Transformers", "ko": "트랜스포머"},
        {
            "en": [
                "A Transformer is the neural network behind GPT models: layers of self-attention and "
                "feed-forward blocks that read the whole sequence at once.",
                'The Transformer was introduced in 2017 in the paper "Attention Is All You Need". Its '
                "idea: drop recurrence and let attention connect every token with every other token directly.",
                "Inside a GPT-style Transformer, the text becomes token embeddings plus position "
                "information, flows through a stack of identical blocks, and comes out as a probability "
                "for every possible next token.",
                "Each Transformer block does two things: attention mixes information between tokens, then "
                "a feed-forward network works on each token alone. Stack dozens of blocks and you have a "
                "large language model.",
                "Transformers train fast because every position is processed in parallel, which is how "
                "they grew into today's large models. When they generate, they still write one token at a time.",
            ],
            "ko": [
                "트랜스포머는 GPT 모델의 바탕이 되는 신경망으로, 셀프 어텐션과 피드포워드 층을 쌓아 "
                "문장 전체를 한 번에 처리합니다.",
                '트랜스포머는 2017년 논문 "Attention Is All You Need"에서 처음 소개되었어요. 순환 구조를 '
                "버리고, 어텐션으로 모든 토큰을 서로 직접 연결한 것이 핵심이에요.",
                "GPT 같은 트랜스포머 안에서 텍스트는 토큰 임베딩과 위치 정보가 되고, 똑같은 블록을 여러 층 "
                "지나서, 다음에 올 수 있는 모든 토큰의 확률로 나와요.",
                "트랜스포머 블록은 두 가지 일을 해요. 어텐션이 토큰 사이에 정보를 섞고, 피드포워드 신경망이 "
                "각 토큰을 따로 처리합니다. 이런 블록을 수십 개 쌓으면 대형 언어 모델이 돼요.",
                "트랜스포머는 모든 위치를 병렬로 처리해서 학습이 빠르고, 그래서 지금의 큰 모델까지 키울 수 "
                "있었어요. 다만 글을 생성할 때는 여전히 한 토큰씩 씁니다.",
            ],
        },
        teaser={
            "en": "They are the neural networks behind GPT models, built from stacked layers of attention.",
            "ko": "트랜스포머는 GPT 모델의 바탕이 되는 신경망으로, 어텐션 층을 여러 겹 쌓아 만들어요.",
        },
    ),
    Topic(
        ("stateless", "history", "remember", "forget", "memory", "기억", "잊", "대화 내역"),
        {"en": "conversation history", "ko": "대화 내역"},
        {
            "en": [
                "The API is stateless: it remembers nothing between calls, so you send the whole "
                "conversation history in messages every time.",
                "The model has no memory of earlier requests. A chat only seems to remember because your "
                "code keeps a list of messages and sends all of it with every call.",
                "To hold a conversation, append each user message and each assistant reply to one list "
                "and pass that list as messages. Leave a turn out of that history and the model has never heard it.",
                "Every call starts from zero: the model sees exactly the messages you send, nothing more. "
                "So a long chat costs more each turn, because the history is sent, and billed, again.",
                "Memory in a chat app is your job, not the API's. Keep the history, trim or summarise it "
                "when it grows too long for the context window, and send what you kept.",
            ],
            "ko": [
                "API는 상태가 없습니다(stateless). 호출 사이에 아무것도 기억하지 않으므로 "
                "매번 messages에 대화 내역 전체를 보내야 합니다.",
                "모델은 이전 요청을 전혀 기억하지 못해요. 채팅이 기억하는 것처럼 보이는 건 코드가 메시지 "
                "목록을 간직했다가 호출할 때마다 전부 보내기 때문이에요.",
                "대화를 이어 가려면 사용자 메시지와 어시스턴트 답변을 하나의 목록에 차례로 붙이고, 그 "
                "목록을 messages로 보내세요. 대화 내역에서 빠진 턴은 모델이 들은 적 없는 말이 돼요.",
                "호출은 매번 0에서 시작해요. 모델은 보낸 메시지만 봅니다. 그래서 대화가 길어지면 대화 "
                "내역을 다시 보내고 다시 요금을 내니, 턴마다 비용이 늘어요.",
                "채팅 앱의 기억은 API가 아니라 여러분의 코드가 맡아요. 대화 내역을 보관하고, 컨텍스트 "
                "창에 비해 너무 길어지면 줄이거나 요약해서 보내세요.",
            ],
        },
        teaser={
            "en": "The API remembers nothing between calls, so your code sends the whole chat every time.",
            "ko": "API는 호출 사이에 아무것도 기억하지 않아서, 코드가 대화 내역 전체를 매번 보내야 해요.",
        },
    ),
    Topic(
        ("cost", "price", "비용", "가격", "요금"),
        {"en": "cost", "ko": "비용"},
        {
            "en": [
                "Cost = input tokens x input price + output tokens x output price, "
                "with prices quoted per million tokens.",
                "You pay for the tokens you send and the tokens you get back, and output tokens usually "
                "cost several times more than input ones. usage in each response has both counts.",
                "To estimate a bill, count the prompt with tiktoken, guess the reply's length and "
                "multiply each by its price per million tokens. Then multiply by your calls per day.",
                "Reasoning models bill their hidden reasoning tokens as output, so the same short answer "
                "costs more at a higher reasoning_effort. Look at completion_tokens_details.reasoning_tokens.",
                "The cheapest tokens are the ones you never send: a shorter system prompt, a trimmed "
                "history and a smaller model for easy tasks cut the cost more than anything else.",
            ],
            "ko": [
                "비용 = 입력 토큰 수 x 입력 단가 + 출력 토큰 수 x 출력 단가이며, 단가는 100만 토큰당 가격입니다.",
                "보내는 토큰과 받는 토큰 모두 요금이 붙고, 보통 출력 토큰이 입력 토큰보다 몇 배 비싸요. "
                "응답의 usage에 두 숫자가 모두 들어 있어요.",
                "비용을 어림하려면 tiktoken으로 프롬프트를 세고, 답의 길이를 짐작한 뒤, 각각 100만 "
                "토큰당 단가를 곱하세요. 여기에 하루 호출 수를 곱하면 돼요.",
                "추론 모델은 보이지 않는 추론 토큰도 출력으로 청구해요. 그래서 같은 짧은 답이라도 "
                "reasoning_effort가 높으면 비용이 더 들어요. completion_tokens_details.reasoning_tokens를 "
                "확인하세요.",
                "가장 싼 토큰은 보내지 않은 토큰이에요. 시스템 프롬프트를 줄이고, 대화 내역을 다듬고, "
                "쉬운 일에는 작은 모델을 쓰는 것이 비용을 가장 크게 줄여요.",
            ],
        },
        teaser={
            "en": "You pay for the tokens you send and the tokens you get back, at a price per million.",
            "ko": "비용은 보내는 토큰과 받는 토큰 수에 100만 토큰당 단가를 곱해서 정해져요.",
        },
    ),
    Topic(
        ("role", "system", "역할"),
        {"en": "roles", "ko": "역할"},
        {
            "en": [
                "Messages have roles: system sets the assistant's behaviour, user is the person, "
                "assistant is the model's earlier replies.",
                "Each message is a dict with a role and content. The system (or developer) message sets "
                "the rules, user messages carry the questions, and assistant messages hold what the model "
                "said before.",
                'Put instructions that hold for the whole chat in the system message, such as "Answer in '
                'Korean" or "Be brief". Models are trained to rank them above later requests from the user.',
                "On newer models the developer role takes the place of system: both carry your "
                "instructions. A tool message brings a function's result back to the model.",
                "Roles let you write a conversation like a script: a system line sets the scene, then user "
                "and assistant lines take turns. You can even write assistant lines yourself, to show an "
                "example answer.",
            ],
            "ko": [
                "메시지에는 역할이 있습니다. system은 어시스턴트의 태도를 정하고, user는 사용자, "
                "assistant는 모델의 이전 답변입니다.",
                "메시지는 role과 content가 있는 딕셔너리예요. system(또는 developer) 메시지는 규칙을 "
                "정하고, user 메시지는 질문을, assistant 메시지는 모델이 앞서 한 말을 담아요.",
                '대화 내내 지켜야 할 지시는 "한국어로 답해"나 "짧게 답해"처럼 system 메시지에 넣으세요. '
                "모델은 이런 지시를 나중에 오는 사용자 요청보다 우선하도록 훈련되어 있어요.",
                "새 모델에서는 developer 역할이 system을 대신하고, 둘 다 여러분의 지시를 담아요. tool "
                "메시지는 함수의 실행 결과를 모델에게 돌려줘요.",
                "역할을 쓰면 대화를 대본처럼 쓸 수 있어요. system으로 장면을 정하고, user와 assistant가 "
                "번갈아 말합니다. assistant 줄을 직접 써서 모범 답안을 보여 줄 수도 있어요.",
            ],
        },
        teaser={
            "en": "Every message has one: system sets the rules, user asks and assistant answers.",
            "ko": "모든 메시지에는 역할이 있어서, system은 규칙을 정하고 user는 묻고 assistant는 답해요.",
        },
    ),
]
TOPIC_OF = {word: topic for topic in TOPICS for word in topic.words}
TOPIC_WORD = re.compile("|".join(map(re.escape, TOPIC_OF)))

# The other replies, per language. A list holds phrasings, most likely first.
TEXT: dict[str, dict[str, Any]] = {
    "en": {
        "hello": [
            "Hello and welcome! I'm the course's offline model: ask me about tokens, temperature or streaming.",
            "Hi there, welcome to the course! Your first API call already worked, so the hardest step is behind you.",
            "Welcome aboard, it's great to have a new student here! Every lesson runs with or without an "
            "API key, so experiment freely.",
            "Hey, welcome to the class! Send me a question and look at the whole response: the reply, the "
            "finish_reason and the usage.",
            "Good to see you, and welcome! A tip for day one: change one parameter at a time and watch what "
            "it does to my replies.",
        ],
        "meet": [
            "Nice to meet you, {name}! What would you like to learn about the API today?",
            "Hello, {name}! Where shall we start: tokens, temperature or streaming?",
            "Welcome, {name}! I'll remember your name for as long as this conversation is sent back to me.",
            "Great to meet you, {name}. Ask me anything about the Chat Completions API.",
        ],
        "recall": [
            "Your name is {name}: you told me earlier in this conversation.",
            "You're {name}! It's right there in the earlier messages you sent with this request.",
            "{name}. I only know it because your code sent the earlier turns along with this question.",
        ],
        "unknown_name": "I don't know your name: nothing in the messages I was sent says it. "
        "The API is stateless, so send the earlier turns if I should remember.",
        "unheard_name": "I can read our earlier messages, but none of them tells me your name. "
        'Tell me with "My name is ..." and I will remember it as long as it is sent.',
        "echo": [
            'You said: "{text}". I am the course\'s offline model and only know a few topics; '
            "set OPENAI_API_KEY for real answers.",
            "I can't really answer \"{text}\": I'm the offline model and know only a handful of topics. "
            "Try tokens, temperature, streaming, cost or roles.",
            "Good question, but beyond what I know offline. With OPENAI_API_KEY set, a real model would "
            'answer "{text}".',
        ],
        "more": [
            "Want to know more about {topic}?",
            "Shall I show you an example about {topic}?",
            "Ask me a follow-up about {topic} any time.",
        ],
        "new": "Something new to explore: {topic}. {teaser}",
        # verbosity="high": the second paragraph of a greeting ("hello_more"), and of a reply to a
        # name or to a question on no topic ("known").
        "hello_more": "Here is how a lesson goes: short sections with small code cells, then exercises "
        "with checks and a quiz. Without an API key, I answer every request offline.",
        "known": "I can explain {topics}. Ask me about one of them, or set OPENAI_API_KEY to put any "
        "other question to a real model.",
        "tool_result": "Here is what {name} returned: {result}",
        "tool_results": "The tools returned: {results}",
        "summary": "Summary: {text}",
        "long": "Here is a long reply for testing streaming.",
        "long_about": "Here is a longer answer about {topic}, in a few parts.",
    },
    "ko": {
        "hello": [
            "안녕하세요, 환영해요! 저는 강좌용 오프라인 모델이에요. 토큰, temperature, 스트리밍에 대해 물어보세요.",
            "반가워요, 강좌에 오신 걸 환영합니다! 첫 API 호출이 이미 성공했으니 가장 어려운 단계는 지나갔어요.",
            "새로 오신 걸 환영해요! 모든 레슨은 API 키가 있든 없든 실행되니 마음껏 실험해 보세요.",
            "만나서 반가워요, 환영합니다! 질문을 보내고 답뿐 아니라 finish_reason과 usage까지 응답 전체를 살펴보세요.",
            "어서 오세요, 환영합니다! 첫날 팁 하나: 파라미터를 한 번에 하나씩 바꾸면서 제 답이 어떻게 "
            "달라지는지 보세요.",
        ],
        "meet": [
            "반가워요, {name}님! 오늘은 API의 어떤 부분을 배워 볼까요?",
            "안녕하세요, {name}님! 토큰, temperature, 스트리밍 중 어디부터 시작할까요?",
            "환영해요, {name}님! 이 대화가 제게 다시 전송되는 동안은 이름을 기억할게요.",
            "만나서 반가워요, {name}님. Chat Completions API에 대해 무엇이든 물어보세요.",
        ],
        "recall": [
            "당신의 이름은 {name}입니다. 이 대화 앞부분에서 알려 주셨어요.",
            "{name}님이잖아요! 이번 요청과 함께 보낸 이전 메시지에 적혀 있어요.",
            "{name}님이에요. 코드가 이전 대화를 이 질문과 함께 보내 줘서 알 수 있어요.",
        ],
        "unknown_name": "이름을 모르겠어요. 제가 받은 메시지 어디에도 이름이 없어요. "
        "API는 상태가 없으니 기억하게 하려면 이전 대화를 함께 보내세요.",
        "unheard_name": '앞의 대화는 받았지만 어디에도 이름이 없어요. "제 이름은 ...예요"라고 알려 주시면 '
        "대화가 함께 전송되는 동안 기억할게요.",
        "echo": [
            '"{text}"라고 하셨네요. 저는 강좌용 오프라인 모델이라 몇 가지 주제만 답할 수 있어요. '
            "실제 답변은 OPENAI_API_KEY를 설정하세요.",
            '"{text}"에는 제대로 답하기 어려워요. 저는 오프라인 모델이라 몇 가지 주제만 알아요. '
            "토큰, temperature, 스트리밍, 비용, 역할에 대해 물어보세요.",
            "좋은 질문이지만 오프라인으로는 제가 아는 범위를 넘어요. OPENAI_API_KEY를 설정하면 실제 "
            '모델이 "{text}"에 답해 줄 거예요.',
        ],
        "more": [
            "{topic}에 대해 더 알고 싶으신가요?",
            "{topic} 예시를 보여 드릴까요?",
            "{topic}에 대해 궁금한 게 더 있으면 언제든 물어보세요.",
        ],
        "new": "새로운 주제도 하나 소개할게요. {teaser}",
        "hello_more": "레슨은 이렇게 진행돼요. 짧은 절에는 작은 코드 셀이 있고, 끝에 확인이 붙은 연습 "
        "문제와 퀴즈가 있어요. API 키가 없으면 모든 요청에 제가 오프라인으로 답해요.",
        "known": "저는 {topics}에 대해 설명할 수 있어요. 그중 하나를 물어보거나, 다른 질문은 "
        "OPENAI_API_KEY를 설정해서 실제 모델에게 물어보세요.",
        "tool_result": "{name}의 결과입니다: {result}",
        "tool_results": "도구 결과입니다: {results}",
        "summary": "요약: {text}",
        "long": "스트리밍 테스트를 위한 긴 답변입니다.",
        "long_about": "{topic}에 대해 길게, 몇 부분으로 나눠 설명할게요.",
    },
}


def _has_hangul(text: str) -> bool:
    return not text.isascii() and HANGUL.search(text) is not None


def language(messages: list[dict[str, Any]]) -> str:
    """'ko' or 'en'. An instruction in a system or developer message decides ("Answer in
    Korean", "항상 한국어로 대답해"); else the last user message's language (Korean if it has
    Hangul); a message with no letters at all ("?", an emoji) follows the system prompt's."""
    system = " ".join(m["content"] for m in messages if m["role"] in ("system", "developer"))
    asked = LANGUAGE_ASKED.search(system)
    if asked:
        return "ko" if (asked.group(1) or asked.group(2)).lower() in ("korean", "한국어") else "en"
    last = next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")
    if _has_hangul(last):
        return "ko"
    if re.search("[A-Za-z]", last):
        return "en"
    return "ko" if _has_hangul(system) else "en"


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


def find_topic(low: str) -> Topic | None:
    """The topic a lower-cased message mentions first (its leftmost trigger word)."""
    found = TOPIC_WORD.search(low)
    return TOPIC_OF[found.group()] if found else None


def tool_answer(results: list[tuple[str, str]], lang: str) -> str:
    """A reply that uses the results of the tool calls it made."""
    t = TEXT[lang]
    if len(results) == 1:
        name, result = results[0]
        return f"{MARKER} " + t["tool_result"].format(name=name, result=result[:400])
    joined = "; ".join(f"{name}: {result[:200]}" for name, result in results)
    return f"{MARKER} " + t["tool_results"].format(results=joined)


RANK_STEP = 0.8  # the logit gap between neighbouring phrasings (see the module's docstring)


def probabilities(count: int, temperature: float, top_p: float = 1.0) -> list[float]:
    """The chances of ``count`` ranked phrasings: softmax(logits / temperature), then only the
    top ones whose probabilities first add up to top_p (the others get none and are left off)."""
    weights = [math.exp(-RANK_STEP * rank / temperature) for rank in range(count)]
    total = sum(weights)
    kept: list[float] = []
    for weight in weights:
        kept.append(weight / total)
        if sum(kept) >= top_p - 1e-9:
            break
    return kept


@dataclass
class Sampling:
    """How one choice picks among ranked phrasings. Without a generator (temperature 0) it is
    always the first. ``taken`` is shared by the ``n`` choices of one request: a choice takes
    no phrasing an earlier one took while others are left, so n=3 gives three replies."""

    rng: random.Random | None = None
    temperature: float = 1.0
    top_p: float = 1.0
    taken: set[str] = field(default_factory=set)

    def pick(self, phrasings: list[str]) -> str:
        if self.rng is None or len(phrasings) == 1:
            return phrasings[0]
        chances = probabilities(len(phrasings), self.temperature, self.top_p)
        kept = list(zip(phrasings, chances, strict=False))  # top_p may leave the last ones off
        options = [(text, p) for text, p in kept if p > 0 and text not in self.taken] or kept  # none left: repeat
        texts, weights = zip(*options, strict=True)
        text = self.rng.choices(texts, weights)[0]
        self.taken.add(text)
        return text


def known_topics(lang: str) -> str:
    """Every topic's name in one phrase: "tokens, temperature, ... and roles"."""
    names = [topic.name[lang] for topic in TOPICS]
    return ", ".join(names) if lang == "ko" else ", ".join(names[:-1]) + " and " + names[-1]


def second(phrasings: list[str], first: str) -> str:
    """The most likely phrasing besides ``first``: a second paragraph that says something else."""
    return next(text for text in phrasings if text != first)


def compose_reply(
    messages: list[dict[str, Any]],
    sampling: Sampling | None = None,
    *,
    presence_penalty: float = 0.0,
    frequency_penalty: float = 0.0,
    verbosity: str = "medium",
    lang: str | None = None,
) -> str:
    """The offline model's reply. ``sampling``: how to pick among phrasings (None: the most
    likely, as at temperature 0); ``verbosity``: "low" answers in one sentence, "high" adds a
    second paragraph, unless the messages themselves ask for a long or a short answer; ``lang``:
    the conversation's language if the caller knows it."""
    sampling = sampling or Sampling()
    lang = lang or language(messages)
    t = TEXT[lang]
    users = [m["content"] for m in messages if m["role"] == "user"]
    last = users[-1].strip() if users else ""
    low = last.lower()
    system = " ".join(m["content"] for m in messages if m["role"] in ("system", "developer")).lower()
    topic = find_topic(low)
    introduced = find_name(last)
    closer = ""
    # A length asked for in words wins over the verbosity parameter, as on GPT-5 ("trained to
    # respond to natural-language verbosity overrides in the prompt", OpenAI's prompting guide).
    asked_long = LONG.search(low) is not None
    asked_brief = not asked_long and bool(BRIEF.search(low) or BRIEF.search(system))
    short = asked_brief or (verbosity == "low" and not asked_long)
    fuller = verbosity == "high" and not (asked_long or asked_brief)
    more = ""  # the second paragraph a high verbosity adds

    if introduced is None and NAME_QUESTION.search(low):
        names = [n for n in map(find_name, users[:-1]) if n]
        # With earlier turns sent, the learner's code is right: do not claim they were not sent.
        if names:
            body = sampling.pick(t["recall"]).format(name=names[-1])
        else:
            body = t["unheard_name" if users[:-1] else "unknown_name"]
        more = TOPIC_OF["memory"].answers[lang][1]  # why a name is remembered or not
    elif introduced:
        body = sampling.pick(t["meet"]).format(name=introduced)
        more = t["known"].format(topics=known_topics(lang))
    elif SUMMARY.search(low):
        source = SUMMARY_ASK.sub("", max(users, key=len).strip())  # the text, not "Summarize:"
        sentences = [s for s in SENTENCE_END.split(source) if s]
        kept = 4 if fuller else 2  # a fuller summary keeps more of the text's sentences
        body = t["summary"].format(text=" ".join(sentences[:kept])[: 150 * kept])
    elif asked_long:
        if topic:  # several paragraphs about it: the sampled phrasing first, then the others
            first = sampling.pick(topic.answers[lang])
            rest = [a for a in topic.answers[lang] if a != first]
            paragraphs = [t["long_about"].format(topic=topic.name[lang]), first, *rest]
        else:  # a tour of every topic (the chat widget's tests stream it)
            paragraphs = [t["long"]] + [other.answers[lang][0] for other in TOPICS]
        body = "\n\n".join(paragraphs)
    elif topic:
        phrasings = (topic.simple if topic.simple and SIMPLE.search(low) else topic.answers)[lang]
        body = sampling.pick(phrasings)
        more = second(phrasings, body)
        closer = sampling.pick(t["more"]).format(topic=topic.name[lang])
    elif HELLO.search(low):
        body = sampling.pick(t["hello"])
        more = t["hello_more"]
    else:
        echoed = last[:80] + ("..." if len(last) > 80 else "")
        body = sampling.pick(t["echo"]).format(text=echoed)
        more = t["known"].format(topics=known_topics(lang))

    if short:
        body, closer = SENTENCE_END.split(body, maxsplit=1)[0], ""
    elif fuller and more:
        body += "\n\n" + more

    # Penalties, on whole sentences (see the module's docstring).
    if presence_penalty > 0:
        seen = " ".join([body] + [m["content"] or "" for m in messages]).lower()
        fresh = [other for other in TOPICS if not any(w in seen for w in other.words)]
        if fresh:
            new = sampling.rng.choice(fresh) if sampling.rng else fresh[0]
            closer = t["new"].format(topic=new.name[lang], teaser=new.teaser[lang])
    elif frequency_penalty > 0:
        closer = ""
    text = f"{MARKER} {body}" + (f" {closer}" if closer else "")
    if frequency_penalty < 0:  # repetition is rewarded: say the last sentence again
        again = closer or SENTENCE_END.split(body)[-1]
        text += f" {again}" * math.ceil(-frequency_penalty)
    return text
