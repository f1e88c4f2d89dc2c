"""Records that cross the public API and the ports."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

ScopeField = Literal["user_id", "agent_id", "run_id"]

#: The scope fields, in the fixed order every filter lists them.
SCOPE_FIELDS: tuple[ScopeField, ...] = ("user_id", "agent_id", "run_id")


class Scope(BaseModel):
    """The (user_id, agent_id, run_id) triple. As a filter, given parts AND together."""

    model_config = ConfigDict(frozen=True)

    user_id: str | None = None
    agent_id: str | None = None
    run_id: str | None = None

    def terms(self) -> tuple[tuple[ScopeField, str], ...]:
        """The filter this scope stands for, the one description every backend
        translates (journal, Kuzu, Neo4j, Weaviate): a ``(field, value)`` pair per
        given part, in ``SCOPE_FIELDS`` order. A record matches when each of its
        fields equals the value: exact, case-sensitive, no pattern. Field names come
        from ``SCOPE_FIELDS`` only, so a query may name them; values stay parameters."""
        return tuple(
            (name, value) for name in SCOPE_FIELDS if (value := getattr(self, name)) is not None
        )

    def parts(self) -> dict[str, str]:
        """The given parts only, in a fixed order."""
        return {name: value for name, value in self.terms()}

    def is_empty(self) -> bool:
        return not self.terms()

    def matches(self, record: Scope) -> bool:
        """True when every part of this filter equals the record's part (exact, case-sensitive)."""
        return all(getattr(record, name) == value for name, value in self.terms())

    def narrowest(self) -> tuple[ScopeField, str]:
        """The part a scope lookup should start from: runs are usually smallest, users largest."""
        for name, value in reversed(self.terms()):
            return name, value
        raise ValueError("empty scope has no narrowest part")


class Memory(BaseModel):
    id: str
    text: str
    embedding: list[float]
    user_id: str | None = None
    agent_id: str | None = None
    run_id: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    hash: str
    created_at: datetime
    updated_at: datetime
    #: When the memory expires (invisible from then on, erased by purge_expired);
    #: None when it never expires.
    expires_at: datetime | None = None

    @property
    def scope(self) -> Scope:
        return Scope(user_id=self.user_id, agent_id=self.agent_id, run_id=self.run_id)


class SearchHit(BaseModel):
    memory: Memory
    #: Cosine similarity, higher is closer (1.0 is the same direction).
    score: float
    #: With ``graph=True``: the entities the memory mentions.
    entities: list[Entity] = Field(default_factory=list)
    #: With ``graph=True``: RELATES edges touching those entities (their 1-hop
    #: neighbourhood), in the memory's user namespace.
    relations: list[Relation] = Field(default_factory=list)
    #: With ``entities=[…]``: the reciprocal-rank-fusion score hits are ordered by.
    fused_score: float | None = None


class Entity(BaseModel):
    id: str
    name: str
    type: str
    #: The namespace: the user_id of the memories that mention it (None when they have none).
    user_id: str | None = None


class Relation(BaseModel):
    id: str
    type: str
    source: str
    target: str
    source_id: str
    target_id: str
    memory_id: str
    user_id: str | None = None
    agent_id: str | None = None
    run_id: str | None = None
    created_at: datetime


class Neighborhood(BaseModel):
    """What ``neighbors`` returns: entities within ``depth`` hops and the edges between."""

    entities: list[Entity]
    relations: list[Relation]


#: A journaled operation: what the coordinator runs, the journal records and the
#: fault points (hybridmem.faults) are named after.
OperationKind = Literal[
    "add",
    "add_many",
    "update",
    "delete",
    "delete_all",
    "reset",
    "reconcile",
    "purge_expired",
    "compact",
]

HistoryKind = Literal["ADD", "UPDATE", "DELETE", "DELETE_ALL", "RESET"]


class HistoryEvent(BaseModel):
    id: int
    kind: HistoryKind
    memory_id: str | None
    operation_id: str
    #: None once the memory is erased: history proves erasure without the erased data.
    old_text: str | None = None
    new_text: str | None = None
    hash: str | None = None
    user_id: str | None = None
    agent_id: str | None = None
    run_id: str | None = None
    counts: dict[str, int] | None = None
    erased_by: str | None = None
    created_at: datetime


class _ItemAccess(BaseModel):
    """Results read like the well-known memory API's dicts: ``result["message"]``."""

    def __getitem__(self, key: str) -> Any:
        try:
            return getattr(self, key)
        except AttributeError:
            raise KeyError(key) from None

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key in type(self).model_fields

    def keys(self) -> Iterator[str]:
        return iter(type(self).model_fields)

    def get(self, key: str, default: Any = None) -> Any:
        return getattr(self, key, default)


class DeleteResult(_ItemAccess):
    message: str
    operation_id: str
    scope: Scope
    dry_run: bool = False
    #: Distinct memories removed: ids that had a vector, a memory node, or both.
    memories: int = 0
    vectors: int = 0
    memory_nodes: int = 0
    relations: int = 0
    orphan_entities: int = 0
    elapsed_seconds: float = 0.0


class DeleteProgress(BaseModel):
    """Handed to the ``progress`` callback after every batch."""

    operation_id: str
    phase: Literal["counting", "deleting", "cleanup", "done"]
    done: int
    total: int


class ErasureAccepted(BaseModel):
    """``DELETE /memories`` or ``POST /compact`` answered 202: the operation goes on
    in the server. Its state and counts are at ``url`` (``GET
    /operations/{operation_id}``); the clients follow it and return the same result
    as in process. ``queued``: it waits for another operation's claim. A queued
    delete_all is journaled already (its URL answers its pending record); a queued
    compaction is not (its URL answers 404 until it begins)."""

    operation_id: str
    status: Literal["running", "queued"] = "running"
    url: str
    scope: Scope
    #: Progress when the server answered: memories erased of ``total``.
    done: int
    total: int


#: The ``progress`` argument of ``delete_all``, in-process and over HTTP.
ProgressCallback = Callable[[DeleteProgress], None]


#: The operation id of a call that found nothing to do: nothing was journaled.
NO_OPERATION = "none"


class CompactionProgress(BaseModel):
    """Handed to the ``progress`` callback as the compaction goes."""

    phase: Literal["graph", "vector", "swapping", "journal", "done"]
    #: Records copied so far in this phase, and the role's count at its start.
    done: int
    total: int


CompactionProgressCallback = Callable[[CompactionProgress], None]


class CompactionReport(BaseModel):
    """What ``compact()`` did. The counts are the live records copied into the
    rewritten files: 0 for a role kept in a server (Neo4j, Weaviate), which
    hybridmem does not rewrite."""

    operation_id: str
    #: Files rewritten (absolute paths); empty when no role keeps a local file.
    files: list[str] = Field(default_factory=list)
    memory_nodes: int = 0
    vectors: int = 0
    entities: int = 0
    relations: int = 0
    #: Scope ids in the journal that no live memory holds, replaced by digests.
    scope_ids_scrubbed: int = 0
    #: False when the journal is not a local SQLite file (the shared journal in
    #: Neo4j): a compaction leaves it as it is.
    journal_scrubbed: bool = False
    #: The store's files (graph, vector, journal, with their WALs), before and after.
    bytes_before: int = 0
    bytes_after: int = 0
    elapsed_seconds: float = 0.0


class AddProgress(BaseModel):
    """Handed to add_many's ``progress`` callback after every batch."""

    operation_id: str
    phase: Literal["adding", "done"]
    done: int
    #: None when the items came as an iterator of unknown length.
    total: int | None = None


AddProgressCallback = Callable[[AddProgress], None]


class AddManyResult(_ItemAccess):
    message: str = "Memories added successfully!"
    #: The memory ids, in the order of the items.
    ids: list[str] = Field(default_factory=list)
    #: Written now, and already stored as given (an import run again).
    added: int = 0
    unchanged: int = 0
    batches: int = 0
    #: One journaled operation per batch that wrote something.
    operation_ids: list[str] = Field(default_factory=list)
    elapsed_seconds: float = 0.0


class OrphanCounts(BaseModel):
    orphan_entities: int = 0
    dangling_relations: int = 0
    orphan_vectors: int = 0
    orphan_memory_nodes: int = 0

    def total(self) -> int:
        return (
            self.orphan_entities
            + self.dangling_relations
            + self.orphan_vectors
            + self.orphan_memory_nodes
        )


class ReconcileReport(_ItemAccess):
    found: OrphanCounts
    removed: OrphanCounts
    fixed: bool


class RecoveredOperation(BaseModel):
    operation_id: str
    kind: str
    outcome: Literal["completed", "rolled_back", "failed", "set_aside"]
    #: Why a recovery failed ("failed": retried on the next recover(); "set_aside":
    #: no longer retried until ``hybridmem recover --retry-set-aside``).
    error: str | None = None


class OperationInfo(BaseModel):
    id: str
    kind: str
    state: Literal["pending", "done", "set_aside"]
    user_id: str | None = None
    agent_id: str | None = None
    run_id: str | None = None
    memory_id: str | None = None
    counts: dict[str, int] = Field(default_factory=dict)
    error: str | None = None
    created_at: datetime
    updated_at: datetime
