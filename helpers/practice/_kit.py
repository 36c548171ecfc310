"""What several lessons' checks share, written once: the offline model a check runs the
learner's code against, a stand-in client that records what that code sent, and the verdicts
that more than one check gives in the same words. Private: lessons import ``lesson`` only.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import openai

from .._offline import OfflineAPI
from ..client import offline_client
from . import Verdict, not_yet

TURN_ROLES = ["system", "user", "assistant", "user", "assistant"]  # a history after two turns


def own_model(api: OfflineAPI | None = None, **options: Any) -> tuple[OfflineAPI, openai.OpenAI]:
    """A check's own offline model and a client for it: free, the same replies on every run
    (seed 0) whatever key the learner has, and no SDK retries, so the check sees every request
    and every failure. ``api`` reuses a model made before; ``options`` go to the client (e.g.
    ``timeout``)."""
    if api is None:
        api = OfflineAPI(seed=0)
    return api, offline_client(api, max_retries=0, **options)


class RecordingClient:
    """A stand-in for the client a learner's code is given: ``chat.completions.create`` and
    ``base_url`` as on ``openai.OpenAI``. Each request goes to an offline model (``self.client``,
    whatever key the learner has); a subclass's ``create`` keeps what was sent and came back."""

    def __init__(self) -> None:
        self.client = offline_client(max_retries=0)
        self.chat = SimpleNamespace(completions=SimpleNamespace(create=self.create))
        self.base_url = self.client.base_url

    def create(self, **kwargs: Any) -> Any:
        raise NotImplementedError


def roles_of(messages: Any) -> list[Any]:
    """Each message's role (the type's name for an item that is not a dict)."""
    return [m.get("role") if isinstance(m, dict) else type(m).__name__ for m in messages]


def wrong_turn_roles(roles: list[Any], lang: str) -> Verdict | None:
    """A "Not yet" when a history after two turns does not have the roles it should."""
    if roles == TURN_ROLES:
        return None
    return not_yet(
        lang,
        f"after two turns the roles should be {', '.join(TURN_ROLES)}; they are {roles}.",
        f"두 턴 뒤 역할은 {', '.join(TURN_ROLES)} 순서여야 해요. 지금은 {roles}예요.",
    )


def not_a_function(name: str, value: object, number: int, lang: str, *, it: str = "") -> Verdict | None:
    """A "Not yet" when ``value``, the answer to check ``number``, is not the function ``name``.
    ``it``: how the English hint names the function the second time (``name`` by default)."""
    if callable(value):
        return None
    return not_yet(
        lang,
        f"pass the function itself, ex.check_{number}({name}), after running the cell that defines {it or name}.",
        f"함수 자체를 넘겨 주세요. {name}을(를) 정의한 셀을 먼저 실행한 뒤 다시 확인하세요.",
    )


def returns_none(name: str, lang: str) -> Verdict:
    """A "Not yet" for a function ``name`` whose body is still to be written."""
    return not_yet(
        lang,
        f"complete {name} (it returns None), run its cell, then run this one again.",
        f"{name} 함수가 None을 돌려줘요. 함수를 완성하고 그 셀을 실행한 뒤 다시 확인하세요.",
    )
