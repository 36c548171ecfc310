"""Probes for lesson 09's checks (helpers/practice/l09.py), the capstone: the worked
solutions, and classes a learner might write that must not pass. The lesson's kernel
provides Conversation, usage_cost, usd, NO_THINKING, the unfilled ``Chatbot``,
``CostedChat`` and ``CappedChat``, and the solutions ``ChatbotSolution``,
``CostedChatSolution`` and ``CappedChatSolution``."""

from probes import right, wrong


def bot(name: str, parent: str, say: str) -> str:
    """A class ``name`` deriving from ``parent`` whose ``say`` has the body ``say``."""
    return f"class {name}({parent}):\n    def say(self, text):\n" + "".join(
        f"        {line}\n" for line in say.split("\n")
    )


def capped(name: str, test: str) -> str:
    """A CappedChat whose limit test is ``test`` (True: refuse), made before the request."""
    return bot(
        name,
        "CappedChatSolution",
        f"if {test}:\n    raise RuntimeError('limit reached')\nreturn CostedChatSolution.say(self, text)",
    )


PRICED = "usage = self.chat.usages[-1]\n"

PROBES = [
    right("step 1 solution", "ex.check_1(ChatbotSolution)"),
    right("step 2 solution", "ex.check_2(CostedChatSolution)"),
    right("step 3 solution", "ex.check_3(CappedChatSolution)"),
    # Step 1: a chatbot that streams.
    wrong("step 1 left unfilled", "ex.check_1(Chatbot)"),
    wrong("step 1 an instance, not the class", "ex.check_1(None)"),
    wrong(
        "step 1 send instead of stream",
        "ex.check_1(Sends)",
        bot("Sends", "ChatbotSolution", "reply = self.chat.send(text)\nprint(reply)\nreturn reply"),
    ),
    wrong(
        "step 1 printed only at the end",
        "ex.check_1(PrintsLate)",
        bot("PrintsLate", "ChatbotSolution", "reply = ''.join(self.chat.stream(text))\nprint(reply)\nreturn reply"),
    ),
    wrong(
        "step 1 returns nothing",
        "ex.check_1(NoReturn)",
        bot("NoReturn", "ChatbotSolution", "for piece in self.chat.stream(text):\n    print(piece, end='')"),
    ),
    wrong(
        "step 1 returns the pieces",
        "ex.check_1(Pieces)",
        bot("Pieces", "ChatbotSolution", "pieces = list(self.chat.stream(text))\nprint(*pieces)\nreturn pieces"),
    ),
    wrong(
        "step 1 a new conversation every turn",
        "ex.check_1(Forgets)",
        bot(
            "Forgets",
            "ChatbotSolution",
            "self.chat = Conversation(self.chat.client, system=self.chat.system, params=NO_THINKING)\n"
            "return ChatbotSolution.say(self, text)",
        ),
    ),
    # Step 2: what each turn costs.
    wrong("step 2 left unfilled", "ex.check_2(CostedChat)"),
    wrong(
        "step 2 the running total",
        "ex.check_2(Running)",
        bot(
            "Running",
            "CostedChatSolution",
            "reply = ChatbotSolution.say(self, text)\n"
            + PRICED
            + "self.costs.append(sum(usage_cost(self.chat.model, u) "
            "for u in self.chat.usages))\nprint(usage.prompt_tokens, usage.completion_tokens)\nreturn reply",
        ),
    ),
    wrong(
        "step 2 nothing printed",
        "ex.check_2(Silent)",
        bot(
            "Silent",
            "CostedChatSolution",
            "reply = ChatbotSolution.say(self, text)\n"
            + PRICED
            + "self.costs.append(usage_cost(self.chat.model, usage))\nreturn reply",
        ),
    ),
    wrong(
        "step 2 every token at the input price",
        "ex.check_2(InputPrice)",
        bot(
            "InputPrice",
            "CostedChatSolution",
            "reply = ChatbotSolution.say(self, text)\n"
            + PRICED
            + "self.costs.append(usage.total_tokens / 1_000_000 * 0.10)\n"
            "print(usage.prompt_tokens, usage.completion_tokens)\nreturn reply",
        ),
    ),
    wrong(
        "step 2 priced as another model",
        "ex.check_2(OtherModel)",
        bot(
            "OtherModel",
            "CostedChatSolution",
            "reply = ChatbotSolution.say(self, text)\n" + PRICED + "self.costs.append(usage_cost('gpt-6-sol', usage))\n"
            "print(usage.prompt_tokens, usage.completion_tokens)\nreturn reply",
        ),
    ),
    # Step 3: a spend limit.
    wrong("step 3 left unfilled", "ex.check_3(CappedChat)"),
    wrong(
        "step 3 checked after sending",
        "ex.check_3(After)",
        bot(
            "After",
            "CappedChatSolution",
            "reply = CostedChatSolution.say(self, text)\n"
            "if sum(self.costs) >= self.limit_usd:\n    raise RuntimeError('limit reached')\nreturn reply",
        ),
    ),
    wrong(
        "step 3 strictly more than the limit", "ex.check_3(Over)", capped("Over", "sum(self.costs) > self.limit_usd")
    ),
    wrong(
        "step 3 the last turn only",
        "ex.check_3(LastTurn)",
        capped("LastTurn", "(self.costs[-1] if self.costs else 0) >= self.limit_usd"),
    ),
    wrong(
        "step 3 stops quietly",
        "ex.check_3(Quiet)",
        bot(
            "Quiet",
            "CappedChatSolution",
            "if sum(self.costs) >= self.limit_usd:\n    print('limit reached')\n    return None\n"
            "return CostedChatSolution.say(self, text)",
        ),
    ),
]
