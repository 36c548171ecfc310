"""Interactive widgets for the lessons: a chat box, a tokenizer playground and a cost
calculator. Read them last: they are the course's engine room, not part of a lesson.

    from helpers.widgets import chat_widget, tokenizer_playground, cost_calculator
    chat = chat_widget(client)              # lessons 03 and 04
    playground = tokenizer_playground()     # lesson 05
    calculator = cost_calculator()          # lesson 06
    chat = chat_widget(client, lang="ko")   # the Korean track: labels in Korean, costs in won first

One module a widget, each a thin view over plain functions and small dataclasses
(tested in tests/test_widgets.py):

- ``chat``: ChatWidget over a helpers.Conversation: streaming a turn, Stop, the history,
  and the tokens and cost of each call as the spend meter (helpers._spend) charges it;
- ``tokenizer``: TokenizerPlayground: a text's tokens in each encoding, side by side;
- ``cost``: CostCalculator, the estimate behind it, and the dated USD/KRW rate (KRW_RATE);
- ``_html``: what they share: text/plain summaries, one-line messages, rows that wrap, and
  ``Words``, which reads a widget's ``TEXT`` table in the language asked for
  (``lang="en"``, the default, or ``"ko"``; anything else is a ValueError).

They use only ipywidgets APIs common to 7.7 (Colab) and 8 (JupyterLab). Where widgets
cannot render (GitHub, a notebook opened without a kernel) the cell shows the widget's
``repr``: a short, stable summary that claims nothing interactive, such as
``Chat widget (gpt-6-luna, offline): it runs only in a live notebook.``, in the widget's
language (``채팅 위젯 (gpt-6-luna, 오프라인): 실행 중인 노트북에서만 동작합니다.``).
"""

from .chat import ChatWidget, chat_widget
from .cost import KRW_RATE, CostCalculator, ExchangeRate, cost_calculator, format_krw
from .tokenizer import TokenizerPlayground, tokenizer_playground

__all__ = [
    "ChatWidget",
    "CostCalculator",
    "ExchangeRate",
    "KRW_RATE",
    "TokenizerPlayground",
    "chat_widget",
    "cost_calculator",
    "format_krw",
    "tokenizer_playground",
]
