"""Probes for lesson 09's checks (helpers/practice/l09.py), the capstone: the worked
solutions, and classes a learner might write that must not pass. The lesson's kernel
provides Conversation, usage_cost, usd, NO_THINKING, the unfilled ``Chatbot``,
``CostedChat`` and ``CappedChat``, and the solutions ``ChatbotSolution``,
``CostedChatSolution`` and ``CappedChatSolution``."""

from probes import Probe, right, wrong

SOLUTIONS = {1: "ChatbotSolution", 2: "CostedChatSolution", 3: "CappedChatSolution"}


def bot(name: str, parent: str, say: str) -> str:
    """A class ``name`` deriving from ``parent`` whose ``say`` has the body ``say``."""
    return f"class {name}({parent}):\n    def say(self, text):\n" + "".join(
        f"        {line}\n" for line in say.split("\n")
    )


def subclass(label: str, step: int, name: str, say: str) -> Probe:
    """Step ``step``'s wrong answer ``label``: a class ``name`` deriving from that step's
    solution, whose ``say`` has the body ``say``."""
    return wrong(label, f"ex.check_{step}({name})", bot(name, SOLUTIONS[step], say))


def capped(label: str, name: str, test: str) -> Probe:
    """A CappedChat whose limit test is ``test`` (True: refuse), made before the request."""
    return subclass(
        label,
        3,
        name,
        f"if {test}:\n    raise RuntimeError('limit reached')\nreturn CostedChatSolution.say(self, text)",
    )


# A turn of step 2 up to its pricing: the reply streamed, the usage it reported.
PRICED = "reply = ChatbotSolution.say(self, text)\nusage = self.chat.usages[-1]\n"

PROBES = [
    right("step 1 solution", "ex.check_1(ChatbotSolution)"),
    right("step 2 solution", "ex.check_2(CostedChatSolution)"),
    right("step 3 solution", "ex.check_3(CappedChatSolution)"),
    # Step 1: a chatbot that streams.
    wrong("step 1 left unfilled", "ex.check_1(Chatbot)"),
    wrong("step 1 an instance, not the class", "ex.check_1(None)"),
    subclass("step 1 send instead of stream", 1, "Sends", "reply = self.chat.send(text)\nprint(reply)\nreturn reply"),
    subclass(
        "step 1 printed only at the end",
        1,
        "PrintsLate",
        "reply = ''.join(self.chat.stream(text))\nprint(reply)\nreturn reply",
    ),
    subclass("step 1 returns nothing", 1, "NoReturn", "for piece in self.chat.stream(text):\n    print(piece, end='')"),
    subclass(
        "step 1 returns the pieces",
        1,
        "Pieces",
        "pieces = list(self.chat.stream(text))\nprint(*pieces)\nreturn pieces",
    ),
    subclass(
        "step 1 a new conversation every turn",
        1,
        "Forgets",
        "self.chat = Conversation(self.chat.client, system=self.chat.system, params=NO_THINKING)\n"
        "return ChatbotSolution.say(self, text)",
    ),
    # Step 2: what each turn costs.
    wrong("step 2 left unfilled", "ex.check_2(CostedChat)"),
    subclass(
        "step 2 the running total",
        2,
        "Running",
        PRICED + "self.costs.append(sum(usage_cost(self.chat.model, u) "
        "for u in self.chat.usages))\nprint(usage.prompt_tokens, usage.completion_tokens)\nreturn reply",
    ),
    subclass(
        "step 2 nothing printed",
        2,
        "Silent",
        PRICED + "self.costs.append(usage_cost(self.chat.model, usage))\nreturn reply",
    ),
    subclass(
        "step 2 every token at the input price",
        2,
        "InputPrice",
        PRICED + "self.costs.append(usage.total_tokens / 1_000_000 * 0.10)\n"
        "print(usage.prompt_tokens, usage.completion_tokens)\nreturn reply",
    ),
    subclass(
        "step 2 priced as another model",
        2,
        "OtherModel",
        PRICED + "self.costs.append(usage_cost('gpt-6-sol', usage))\n"
        "print(usage.prompt_tokens, usage.completion_tokens)\nreturn reply",
    ),
    # Step 3: a spend limit.
    wrong("step 3 left unfilled", "ex.check_3(CappedChat)"),
    subclass(
        "step 3 checked after sending",
        3,
        "After",
        "reply = CostedChatSolution.say(self, text)\n"
        "if sum(self.costs) >= self.limit_usd:\n    raise RuntimeError('limit reached')\nreturn reply",
    ),
    capped("step 3 strictly more than the limit", "Over", "sum(self.costs) > self.limit_usd"),
    capped("step 3 the last turn only", "LastTurn", "(self.costs[-1] if self.costs else 0) >= self.limit_usd"),
    subclass(
        "step 3 stops quietly",
        3,
        "Quiet",
        "if sum(self.costs) >= self.limit_usd:\n    print('limit reached')\n    return None\n"
        "return CostedChatSolution.say(self, text)",
    ),
]
