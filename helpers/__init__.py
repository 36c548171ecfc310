"""The course's small library: a client with or without a key, the offline model,
token counting, pricing and a conversation that keeps its history.

Read it in this order: models, tokens, pricing, offline, spend, client, chat, widgets.
"""

from .chat import ChatError, Conversation, chat_loop, describe_error, scripted
from .client import (
    BaseURLError,
    InvalidKeyError,
    KeySourceError,
    MissingKeyError,
    find_key,
    get_async_client,
    get_client,
    offline_client,
)
from .models import DEFAULT_MODEL, MODELS, ModelInfo, UnknownModelError, current_models, lesson_models, model_info
from .offline import OfflineAPI
from .pricing import PRICING, cost_breakdown, estimate_cost, monthly_cost, usage_cost
from .tokens import count_message_tokens, count_tokens, encoding_for

__all__ = [
    "BaseURLError",
    "chat_loop",
    "ChatError",
    "Conversation",
    "cost_breakdown",
    "count_message_tokens",
    "count_tokens",
    "current_models",
    "DEFAULT_MODEL",
    "describe_error",
    "encoding_for",
    "estimate_cost",
    "find_key",
    "get_async_client",
    "get_client",
    "InvalidKeyError",
    "KeySourceError",
    "lesson_models",
    "MissingKeyError",
    "model_info",
    "ModelInfo",
    "MODELS",
    "monthly_cost",
    "offline_client",
    "OfflineAPI",
    "PRICING",
    "scripted",
    "UnknownModelError",
    "usage_cost",
]
