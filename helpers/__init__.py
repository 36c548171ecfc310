"""The course's small library. Read the face in this order, one module a sitting:

1. ``models``: one dated table of model facts (limits, reasoning rules, prices, shutdown dates)
2. ``tokens``: counting tokens with tiktoken, and what a list of messages costs in tokens
3. ``pricing``: from tokens or a response's ``usage`` to dollars
4. ``chat``: a conversation that keeps its history (the API is stateless) and a chat loop
5. ``client``: ``get_client()``, the real API with a key and the offline model without one

Behind it, the engine room (private modules, read last if at all): ``_offline`` (the
offline model), ``_spend`` (the spend meter and cap), ``_settings``, ``_keys`` and
``_connect`` (how a client is made), ``_turns`` (the turn bookkeeping of a conversation),
``_encodings`` (tiktoken's encoding files, shipped so counting needs no download),
``_show`` (the lessons' charts and tables), ``practice`` (exercise checks and quizzes) and
``widgets`` (the lessons' interactive widgets, in English and Korean).
"""

from ._offline import OfflineAPI
from .chat import ChatError, Conversation, chat_loop, describe_error, scripted
from .client import MissingKeyError, find_key, get_async_client, get_client, offline_client
from .models import DEFAULT_MODEL, MODELS, lesson_models, model_info
from .pricing import PRICING, cost_breakdown, estimate_cost, monthly_cost, usage_cost, usd
from .tokens import count_message_tokens, count_tokens, encoding_for

__all__ = [
    # models
    "DEFAULT_MODEL",
    "MODELS",
    "lesson_models",
    "model_info",
    # tokens
    "count_message_tokens",
    "count_tokens",
    "encoding_for",
    # pricing
    "PRICING",
    "cost_breakdown",
    "estimate_cost",
    "monthly_cost",
    "usage_cost",
    "usd",
    # chat
    "ChatError",
    "Conversation",
    "chat_loop",
    "describe_error",
    "scripted",
    # client
    "MissingKeyError",
    "find_key",
    "get_async_client",
    "get_client",
    "offline_client",
    # the offline model, for the lessons that script its failures
    "OfflineAPI",
]
