"""What the core hands to the ports: plain records with every id already decided.

The core computes entity and relation ids deterministically (``parse_memory_graph``),
so an adapter only has to write with merge semantics to be idempotent (journal
replay relies on it). Each record that has a public twin in ``hybridmem.models``
converts to it in one place: ``VectorRecord.to_memory``, ``EntityRecord.to_entity``,
``RelationRecord.to_relation``.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple, Protocol, TypeVar

from hybridmem.errors import UnreadableRecordError, ValidationError
from hybridmem.models import Entity, Memory, Relation, Scope
from hybridmem.validation import check_name

log = logging.getLogger("hybridmem.records")

Row = TypeVar("Row")
Decoded = TypeVar("Decoded")

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

    def to_entity(self) -> Entity:
        return Entity(id=self.id, name=self.name, type=self.type, user_id=self.user_id)


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

    def to_relation(self, source: str, target: str) -> Relation:
        """The public twin, with the endpoints' names the graph store read alongside."""
        return Relation(
            id=self.id,
            type=self.type,
            source=source,
            target=target,
            source_id=self.source_id,
            target_id=self.target_id,
            memory_id=self.memory_id,
            user_id=self.user_id,
            agent_id=self.agent_id,
            run_id=self.run_id,
            created_at=self.created_at,
        )


class RelationWithNames(NamedTuple):
    """A RELATES edge as ``GraphStore.relations`` reads it: the record and the names
    of its source and target entities."""

    record: RelationRecord
    source: str
    target: str


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

    @classmethod
    def new(cls, memory_id: str, scope: Scope, stamp: datetime) -> MemoryNode:
        """A memory node created and updated at ``stamp``."""
        return cls(memory_id, scope.user_id, scope.agent_id, scope.run_id, stamp, stamp)


@dataclass(frozen=True)
class MemoryGraph:
    """Everything one memory writes into the graph: its node, the entities it
    mentions (relation endpoints included) and the relations it asserts."""

    node: MemoryNode
    entities: tuple[EntityRecord, ...] = ()
    relations: tuple[RelationRecord, ...] = ()


@dataclass(frozen=True)
class GraphRows:
    """``MemoryGraph`` records flattened into the parameter rows a graph adapter's
    batched merge statements take, one list per statement. Entity rows carry the
    entity's namespace as ``ns`` (the user id of the memory that mentions it)."""

    nodes: list[dict[str, Any]]
    entities: list[dict[str, Any]]
    #: ``{"m": memory id, "e": entity id}``
    mentions: list[dict[str, Any]]
    #: Endpoints as ``source`` and ``target`` entity ids.
    relations: list[dict[str, Any]]


def _unchanged(value: datetime) -> Any:
    return value


def graph_rows(
    memories: Iterable[MemoryGraph], timestamp: Callable[[datetime], Any] = _unchanged
) -> GraphRows:
    """Pure: the rows for ``memories``, in order. ``timestamp`` converts datetimes
    for a store that cannot keep them as they are (Kuzu stores sortable text)."""
    rows = GraphRows(nodes=[], entities=[], mentions=[], relations=[])
    # An entity mentioned by many memories of a batch is written once.
    seen_entities: set[str] = set()
    for item in memories:
        node = item.node
        rows.nodes.append(
            {
                "id": node.id,
                "user_id": node.user_id,
                "agent_id": node.agent_id,
                "run_id": node.run_id,
                "created_at": timestamp(node.created_at),
                "updated_at": timestamp(node.updated_at),
            }
        )
        for entity in item.entities:
            if entity.id not in seen_entities:
                seen_entities.add(entity.id)
                rows.entities.append(
                    {"id": entity.id, "name": entity.name, "type": entity.type, "ns": node.user_id}
                )
            rows.mentions.append({"m": node.id, "e": entity.id})
        rows.relations.extend(
            {
                "id": r.id,
                "type": r.type,
                "source": r.source_id,
                "target": r.target_id,
                "memory_id": r.memory_id,
                "user_id": r.user_id,
                "agent_id": r.agent_id,
                "run_id": r.run_id,
                "created_at": timestamp(r.created_at),
            }
            for r in item.relations
        )
    return rows


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
    #: When the memory stops being visible to reads (purge_expired then erases it);
    #: None: it never expires.
    expires_at: datetime | None = None

    @property
    def scope(self) -> Scope:
        return Scope(user_id=self.user_id, agent_id=self.agent_id, run_id=self.run_id)

    def expired(self, at: datetime) -> bool:
        """True when the memory is no longer visible at ``at``."""
        return self.expires_at is not None and self.expires_at <= at

    @classmethod
    def new(
        cls,
        memory_id: str,
        text: str,
        embedding: list[float],
        scope: Scope,
        stamp: datetime,
        metadata: dict[str, Any],
    ) -> VectorRecord:
        """A memory's first version: hashed text, created and updated at ``stamp``."""
        return cls(
            id=memory_id,
            embedding=embedding,
            text=text,
            hash=text_hash(text),
            user_id=scope.user_id,
            agent_id=scope.agent_id,
            run_id=scope.run_id,
            created_at=stamp,
            updated_at=stamp,
            metadata=metadata,
        )

    def to_memory(self) -> Memory:
        return Memory(
            id=self.id,
            text=self.text,
            embedding=self.embedding,
            user_id=self.user_id,
            agent_id=self.agent_id,
            run_id=self.run_id,
            metadata=self.metadata,
            hash=self.hash,
            created_at=self.created_at,
            updated_at=self.updated_at,
            expires_at=self.expires_at,
        )


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


def parse_memory_graph(
    node: MemoryNode,
    entities: Sequence[Mapping[str, str]],
    relations: Sequence[Mapping[str, str]],
) -> MemoryGraph:
    """The graph of the memory ``node``: the caller's entities and relations checked,
    with their ids decided. Entities live in the namespace ``node.user_id``;
    relation endpoints become mentions, creating an entity when the relation names
    one not listed; relations carry the node's scope and creation time."""
    namespace = node.user_id
    by_name: dict[str, EntityRecord] = {}
    ordered: dict[str, EntityRecord] = {}
    if isinstance(entities, (str, bytes)) or not isinstance(entities, Sequence):
        raise ValidationError("invalid entities: must be a list of {'name': …, 'type': …}")
    for index, item in enumerate(entities):
        if not isinstance(item, Mapping):
            raise ValidationError(f"invalid entities[{index}]: must be a dict with name and type")
        name = check_name(f"entities[{index}].name", item.get("name"))
        type_ = check_name(f"entities[{index}].type", item.get("type", "entity"))
        record = EntityRecord(entity_id(namespace, name, type_), name, type_, namespace)
        ordered.setdefault(record.id, record)
        by_name.setdefault(normalise_name(name), record)
    if isinstance(relations, (str, bytes)) or not isinstance(relations, Sequence):
        raise ValidationError("invalid relations: must be a list of {'source', 'target', 'type'}")
    relation_records: list[RelationRecord] = []
    for index, item in enumerate(relations):
        if not isinstance(item, Mapping):
            raise ValidationError(f"invalid relations[{index}]: must be a dict")
        ends = []
        for side in ("source", "target"):
            name = check_name(f"relations[{index}].{side}", item.get(side))
            found = by_name.get(normalise_name(name))
            if found is None:
                found = EntityRecord(
                    entity_id(namespace, name, "entity"), name, "entity", namespace
                )
                by_name[normalise_name(name)] = found
                ordered.setdefault(found.id, found)
            ends.append(found)
        relation_records.append(
            RelationRecord(
                id=relation_id(node.id, index),
                type=check_name(f"relations[{index}].type", item.get("type")),
                source_id=ends[0].id,
                target_id=ends[1].id,
                memory_id=node.id,
                user_id=node.user_id,
                agent_id=node.agent_id,
                run_id=node.run_id,
                created_at=node.created_at,
            )
        )
    return MemoryGraph(node, tuple(ordered.values()), tuple(relation_records))


@dataclass(frozen=True)
class NewMemory:
    """One memory of an add_many batch, validated and with its ids decided."""

    record: VectorRecord
    graph: MemoryGraph
    #: The caller chose the id: an identical stored memory is left unchanged.
    caller_id: bool = False


# -- decoding stored rows ------------------------------------------------------------


def decode_rows(
    store: str,
    rows: Iterable[Row],
    decode: Callable[[Row], Decoded],
    row_id: Callable[[Row], object],
) -> list[Decoded]:
    """Decodes rows one at a time: a row that fails is logged, naming its id, and left
    out, so that one damaged record never fails a read of the others."""
    out: list[Decoded] = []
    for row in rows:
        try:
            out.append(decode(row))
        except Exception as exc:  # whatever a damaged row makes a decoder raise
            log.warning("%s", unreadable(store, row, row_id, exc))
    return out


def unreadable(
    store: str, row: Row, row_id: Callable[[Row], object], exc: Exception
) -> UnreadableRecordError:
    """The error naming the id of a row that ``exc`` kept from being decoded."""
    try:
        memory_id = str(row_id(row))
    except Exception:  # the id itself is what is damaged
        memory_id = "(unknown id)"
    return UnreadableRecordError(store, memory_id, f"{type(exc).__name__}: {exc}")


class _ReadsById(Protocol):
    def get(self, ids: Sequence[str]) -> list[VectorRecord]: ...

    def existing_ids(self, ids: Sequence[str]) -> set[str]: ...


def read_one(vector: _ReadsById, memory_id: str) -> list[VectorRecord]:
    """The vector record of ``memory_id`` ([] when there is none), for a read that
    asks for this one memory: a record the store holds but cannot decode raises
    UnreadableRecordError naming it, instead of reading as absent (the reads of many
    records leave it out, see ``decode_rows``)."""
    found = vector.get([memory_id])
    if not found and vector.existing_ids([memory_id]):
        raise UnreadableRecordError(
            getattr(vector, "name", "vector store"),
            memory_id,
            "a stored field does not decode; the log names it",
        )
    return found
