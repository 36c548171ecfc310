"""``Request``: a request body once validated, typed.

It has a module of its own because three need it: ``request.validate`` makes it, and the checks
and replies in ``tools`` and ``structured`` fill in and read its fields. While it lived in
request.py, the three imported each other in a circle (request needs tools and structured to
validate; they needed request for this type, behind an ``if TYPE_CHECKING`` that hid the circle
from Python but not from a reader or a type checker). Now the imports go one way only."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..models import ModelInfo


@dataclass(slots=True)
class Request:
    """A validated request: what the offline model needs to answer it."""

    body: dict[str, Any]
    model: ModelInfo
    messages: list[dict[str, Any]]  # role, content (text) [, name, tool_calls, tool_call_id]
    effort: str | None  # the reasoning effort in force; None for a model that does not reason
    prompt_tokens: int  # counted once, by request.validate
    n: int = 1
    temperature: float = 1.0
    top_p: float = 1.0
    presence_penalty: float = 0.0
    frequency_penalty: float = 0.0
    seed: int | None = None
    stops: list[str] = field(default_factory=list)
    limit: int | None = None  # max_completion_tokens or max_tokens
    stream: bool = False
    include_usage: bool = False
    logprobs: bool = False
    top_logprobs: int = 0
    tools: list[dict[str, Any]] = field(default_factory=list)  # the `function` objects
    tool_choice: Any = None  # "none" | "auto" | "required" | a function name (str) after validation
    allowed: list[str] | None = None  # names an allowed_tools choice keeps
    parallel_tool_calls: bool = True
    response_format: dict[str, Any] | None = None
    tool_turns: bool = True  # False: no message calls tools or answers a call (validate finds out)
