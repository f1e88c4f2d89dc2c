"""What the typed payloads share: the empty payload, the decoding error, and the
readers of JSON fields.

A payload is what the journal keeps of an operation between ``begin`` and
``finish`` (as a JSON object; ``finish`` drops it, as it may hold text). Each
operation module has its own, with ``to_json`` and ``from_json``; the JSON is the
one earlier versions wrote, so an operation they left pending still recovers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Self

from hybridmem.models import Scope


class PayloadError(ValueError):
    """A journaled payload cannot be decoded: recovery of that operation fails
    (and, after its attempts, is set aside) while the others go on."""


@dataclass(frozen=True)
class NoPayload:
    """The payload of an operation whose journal row (kind, scope, memory id) says
    all: nothing is written, and whatever is read back is ignored."""

    def to_json(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        return cls()


def strings(data: Mapping[str, Any], key: str) -> tuple[str, ...]:
    """The list of strings under ``key`` (none when absent)."""
    value = data.get(key, ())
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise PayloadError(f"payload field {key!r} is not a list of strings: {value!r}")
    return tuple(value)


def text(data: Mapping[str, Any], key: str, default: str | None = None) -> str:
    value = data.get(key, default)
    if not isinstance(value, str):
        raise PayloadError(f"payload field {key!r} is not a string: {value!r}")
    return value


def instant(data: Mapping[str, Any], key: str) -> datetime | None:
    """An ISO 8601 time under ``key``; None when absent or null."""
    value = data.get(key)
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except (TypeError, ValueError) as exc:
        raise PayloadError(f"payload field {key!r} is not an ISO time: {value!r}") from exc


def scope_to_json(scope: Scope) -> list[str | None]:
    return [scope.user_id, scope.agent_id, scope.run_id]


def scope_from_json(value: Any) -> Scope:
    if not isinstance(value, list | tuple) or len(value) != 3:
        raise PayloadError(f"payload scope is not [user_id, agent_id, run_id]: {value!r}")
    user_id, agent_id, run_id = value
    return Scope(user_id=user_id, agent_id=agent_id, run_id=run_id)
