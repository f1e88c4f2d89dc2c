"""What the core hands to the ports: plain records with every id already decided.

The core computes entity and relation ids deterministically, so an adapter only
has to write with merge semantics to be idempotent (journal replay relies on it).
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hybridmem.models import Scope

_ENTITY_NAMESPACE = uuid.UUID("6f1c0f7e-8a57-4c8e-9a6b-2f4f3b7d9a10")
_RELATION_NAMESPACE = uuid.UUID("0b8e2e55-1f7c-4d3a-8f55-6b1d2c9e7a44")


def normalise_name(name: str) -> str:
    """Entities de-duplicate on this: case- and white-space-insensitive."""
    return " ".join(name.split()).casefold()


def entity_id(namespace: str | None, name: str, type_: str) -> str:
    # \x1f cannot occur in ids (control characters are rejected), so keys cannot collide.
    key = "\x1f".join(("" if namespace is None else "u" + namespace, normalise_name(name), type_))
    return str(uuid.uuid5(_ENTITY_NAMESPACE, key))


def relation_id(memory_id: str, index: int) -> str:
    return str(uuid.uuid5(_RELATION_NAMESPACE, f"{memory_id}\x1f{index}"))


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class EntityRecord:
    id: str
    name: str
    type: str
    user_id: str | None


@dataclass(frozen=True)
class RelationRecord:
    id: str
    type: str
    source_id: str
    target_id: str
    memory_id: str
    user_id: str | None
    agent_id: str | None
    run_id: str | None
    created_at: datetime


@dataclass(frozen=True)
class MemoryNode:
    """The graph side of a memory."""

    id: str
    user_id: str | None
    agent_id: str | None
    run_id: str | None
    created_at: datetime
    updated_at: datetime

    @property
    def scope(self) -> Scope:
        return Scope(user_id=self.user_id, agent_id=self.agent_id, run_id=self.run_id)


@dataclass(frozen=True)
class MemoryGraph:
    """Everything one memory writes into the graph: its node, the entities it
    mentions (relation endpoints included) and the relations it asserts."""

    node: MemoryNode
    entities: tuple[EntityRecord, ...] = ()
    relations: tuple[RelationRecord, ...] = ()


@dataclass(frozen=True)
class VectorRecord:
    """The vector side of a memory."""

    id: str
    embedding: list[float]
    text: str
    hash: str
    user_id: str | None
    agent_id: str | None
    run_id: str | None
    created_at: datetime
    updated_at: datetime
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def scope(self) -> Scope:
        return Scope(user_id=self.user_id, agent_id=self.agent_id, run_id=self.run_id)


@dataclass(frozen=True)
class GraphDeleteCounts:
    memory_nodes: int = 0
    relations: int = 0
    orphan_entities: int = 0

    def __add__(self, other: GraphDeleteCounts) -> GraphDeleteCounts:
        return GraphDeleteCounts(
            self.memory_nodes + other.memory_nodes,
            self.relations + other.relations,
            self.orphan_entities + other.orphan_entities,
        )
