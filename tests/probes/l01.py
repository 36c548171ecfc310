"""Probes for lesson 01's checks (helpers/practice/l01.py): the worked solutions, and answers a
learner might plausibly write that are wrong."""

from probes import right, wrong

ENGLISH_QUESTION = "{'role': 'user', 'content': 'What is a token?'}"
KOREAN_SYSTEM = "{'role': 'system', 'content': '항상 한국어로 대답해.'}"

PROBES = [
    right("ex1 solution", "ex.check_1(answer_1_solution)"),
    right("ex2 solution", "ex.check_2(is_complete_solution)"),
    wrong("ex1 still None", "ex.check_1(answer_1)"),
    wrong(
        "ex1 system message in English",
        "ex.check_1(msgs)",
        f"msgs = [{{'role': 'system', 'content': 'Always answer in Korean.'}}, {ENGLISH_QUESTION}]",
    ),
    wrong(
        "ex1 question in Korean",
        "ex.check_1(msgs)",
        f"msgs = [{KOREAN_SYSTEM}, {{'role': 'user', 'content': '토큰이 뭐야?'}}]",
    ),
    wrong(
        "ex1 the rule sent as a user message",
        "ex.check_1(msgs)",
        f"msgs = [{{'role': 'user', 'content': '항상 한국어로 대답해.'}}, {ENGLISH_QUESTION}]",
    ),
    wrong(
        "ex1 Korean system message without the language rule",
        "ex.check_1(msgs)",
        f"msgs = [{{'role': 'system', 'content': '너는 친절한 튜터야.'}}, {ENGLISH_QUESTION}]",
    ),
    wrong("ex1 question before the rule", "ex.check_1(msgs)", f"msgs = [{ENGLISH_QUESTION}, {KOREAN_SYSTEM}]"),
    wrong("ex1 a string, not a list", "ex.check_1('항상 한국어로 대답해. What is a token?')"),
    wrong("ex1 one message", "ex.check_1([{'role': 'system', 'content': '항상 한국어로 대답해. What is a token?'}])"),
    wrong("ex2 still unwritten", "ex.check_2(is_complete)"),
    wrong("ex2 always complete", "ex.check_2(lambda response: True)"),
    wrong("ex2 judges by the text", "ex.check_2(lambda response: bool(response.choices[0].message.content))"),
    wrong("ex2 returns finish_reason itself", "ex.check_2(lambda response: response.choices[0].finish_reason)"),
    wrong(
        "ex2 judges by the thinking",
        "ex.check_2(lambda response: response.usage.completion_tokens_details.reasoning_tokens == 0)",
    ),
    wrong("ex2 the response, not a function", "ex.check_2(ask('Hi!'))"),
]
