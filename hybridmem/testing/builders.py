"""Small record builders for contract tests: deterministic, no randomness."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta

from hybridmem.models import Scope
from hybridmem.records import (
    EntityRecord,
    MemoryGraph,
    MemoryNode,
    RelationRecord,
    VectorRecord,
    entity_id,
    relation_id,
)

BASE_TIME = datetime(2026, 1, 1, tzinfo=UTC)
DIMENSION = 8


def memory_id(label: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"hybridmem-test:{label}"))


def embedding(label: str, dimension: int = DIMENSION) -> list[float]:
    """A deterministic, non-zero vector per label (a fake embedder)."""
    digest = hashlib.sha256(label.encode()).digest()
    return [(digest[i % len(digest)] + 1) / 256.0 for i in range(dimension)]


def vector_record(
    label: str, scope: Scope, *, text: str | None = None, offset_seconds: int = 0
) -> VectorRecord:
    text = text if text is not None else f"memory {label}"
    stamp = BASE_TIME + timedelta(seconds=offset_seconds)
    return VectorRecord.new(
        memory_id(label), text, embedding(label), scope, stamp, {"label": label}
    )


def memory_graph(
    label: str,
    scope: Scope,
    entities: tuple[tuple[str, str], ...] = (),
    relations: tuple[tuple[str, str, str], ...] = (),
) -> MemoryGraph:
    """A memory node mentioning ``entities`` (name, type) and asserting ``relations``
    (source name, target name, type) between them."""
    mid = memory_id(label)
    ns = scope.user_id
    records = {
        name: EntityRecord(entity_id(ns, name, type_), name, type_, ns) for name, type_ in entities
    }
    rels = tuple(
        RelationRecord(
            id=relation_id(mid, index),
            type=type_,
            source_id=records[source].id,
            target_id=records[target].id,
            memory_id=mid,
            user_id=scope.user_id,
            agent_id=scope.agent_id,
            run_id=scope.run_id,
            created_at=BASE_TIME,
        )
        for index, (source, target, type_) in enumerate(relations)
    )
    node = MemoryNode.new(mid, scope, BASE_TIME)
    return MemoryGraph(node, tuple(records.values()), rels)
