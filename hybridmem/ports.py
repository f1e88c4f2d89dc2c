"""The two ports every adapter implements. The docstrings are the contract.

Rules that hold for every method of both ports:

* Every value reaches the backend as a query parameter. Labels, relationship
  types, collection and property names are fixed in the adapter's code and are
  never built from a value that came from a caller.
* Scope matching is exact and case-sensitive: ``*``, ``%``, quotes and the like
  are ordinary characters. A ``Scope`` filter matches a record when every part
  it gives equals the record's part; absent parts do not constrain.
* Driver errors never escape: an unreachable backend raises
  ``StoreUnavailableError`` naming the store and its address; anything else the
  backend rejects raises ``StoreError``.
* Writes are idempotent: writing the same record twice leaves one record, and
  deleting a missing id is a no-op that counts zero. Journal replay relies on it.
* Cost follows the size of the arguments or the scope, not of the store,
  except for reconcile's ``count_*``/``delete_*`` of orphans, the ``iter_*`` and
  ``stats`` methods, which may scan.
* Methods may be called from several threads; an adapter serialises what its
  backend cannot run concurrently.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from hybridmem.filters import Filters
from hybridmem.models import Scope
from hybridmem.records import (
    EntityRecord,
    GraphDeleteCounts,
    MemoryGraph,
    MemoryNode,
    RelationWithNames,
    VectorRecord,
)

if TYPE_CHECKING:
    from hybridmem.journal_port import JournalPort
    from hybridmem.scope_locks import Claims


@runtime_checkable
class GraphStore(Protocol):
    """Memory nodes, entities, MENTIONS and RELATES edges.

    Shape: ``(Memory)-[:MENTIONS]->(Entity)`` and
    ``(Entity)-[:RELATES {id, type, memory_id, user_id, agent_id, run_id,
    created_at}]->(Entity)``. Every RELATES edge is written in the same
    transaction as the memory node named by its ``memory_id``, and the memory
    MENTIONS both of its endpoints (the core puts relation endpoints into
    ``entities``), so "the entities a memory touched" is "the entities it
    MENTIONS".
    """

    #: Human name for errors, for example ``"Neo4j graph store"``.
    name: str
    #: Where it lives, for errors: a URI or a path.
    address: str

    def add_memories(self, memories: Sequence[MemoryGraph], *, fresh: bool = False) -> None:
        """Write each memory node, MERGE its entities by id, a MENTIONS edge to each
        of them, and its RELATES edges (merged by relation id), all in one
        transaction: afterwards either all of the batch is visible or none of it.
        Entities are created with the namespace ``node.user_id``. ``fresh``: the
        memory ids were generated for this write, so no node or relation carries
        them yet and an adapter may create them without looking."""
        ...

    def get_memory_node(self, memory_id: str) -> MemoryNode | None:
        """The memory node with that id, or None."""
        ...

    def touch_memory(self, memory_id: str, updated_at: datetime) -> bool:
        """Set ``updated_at`` on the memory node; False when it does not exist."""
        ...

    def scope_memory_ids(self, scope: Scope, limit: int) -> list[str]:
        """Up to ``limit`` ids of memory nodes matching ``scope`` (any order).

        Must be an index or primary-key lookup on the scope, never a label scan."""
        ...

    def existing_memory_ids(self, ids: Sequence[str]) -> set[str]:
        """Which of ``ids`` have a memory node."""
        ...

    def delete_memories(self, ids: Sequence[str]) -> GraphDeleteCounts:
        """Delete these memory nodes with their MENTIONS, every RELATES edge whose
        ``memory_id`` is one of ``ids``, and then every entity those memories or
        relations touched that is left with no MENTIONS and no RELATES edge.
        Only touched entities are checked; never a scan of all entities.
        Missing ids count zero. Counts are what was actually removed."""
        ...

    def count_scope(self, scope: Scope) -> GraphDeleteCounts:
        """What ``delete_memories`` of every memory matching ``scope`` would remove,
        without removing it: memory nodes, RELATES edges asserted by them, and
        touched entities that no memory outside the scope would still reach."""
        ...

    def entities(self, user_id: str | None = None) -> list[EntityRecord]:
        """Entities in the namespace ``user_id``; every entity when it is None."""
        ...

    def relations(self, scope: Scope | None = None) -> list[RelationWithNames]:
        """RELATES edges matching ``scope`` (all when None), with source and target
        entity names."""
        ...

    # Graph reads: each starts from a key (the user's scope, entity or memory ids)
    # and expands a bounded number of hops; only the namespace ``user_id`` is read,
    # and only what memories in the caller's ``scope`` assert or mention.

    def find_entities(self, user_id: str, names: Sequence[str]) -> list[EntityRecord]:
        """Entities in the namespace ``user_id`` whose name equals one of ``names``
        (compared as ``normalise_name`` does: case- and white-space-insensitive).
        Never a label scan: cost follows the namespace, not the store."""
        ...

    def mentioning_memory_ids(
        self, entity_ids: Sequence[str], scope: Scope, limit: int, offset: int = 0
    ) -> list[tuple[str, int]]:
        """Memories matching ``scope`` (every part it gives equals the memory's; an
        empty scope does not constrain: the entity ids already fix the namespace)
        that MENTION one of ``entity_ids``, each once with how many of those
        entities it mentions: newest first (created_at, then id, both descending),
        skipping ``offset`` memories, at most ``limit``. The core pages with it,
        so the order must be total. Cost follows the entities' MENTIONS."""
        ...

    def memory_entities(self, memory_ids: Sequence[str]) -> dict[str, list[EntityRecord]]:
        """For each id, the entities its memory node MENTIONS ([] when none or missing)."""
        ...

    def memory_relations(self, memory_ids: Sequence[str]) -> dict[str, list[RelationWithNames]]:
        """For each id, the RELATES edges its memory asserts (``memory_id`` equal to
        it), with source and target names, in no particular order ([] when none or
        missing). Cost follows the memories' entities, never the store: export
        reads a batch at a time with it."""
        ...

    def entity_relations(
        self,
        entity_ids: Sequence[str],
        scope: Scope,
        limit: int,
        exclude_memory_ids: Sequence[str] = (),
    ) -> tuple[list[EntityRecord], list[RelationWithNames]]:
        """RELATES edges with an endpoint in ``entity_ids`` and both endpoints in the
        namespace ``scope.user_id`` (required), asserted by a memory matching
        ``scope`` (the edge's ``agent_id`` / ``run_id`` equal each part the scope
        gives) whose id is not in ``exclude_memory_ids`` (the core's expired
        memories): at most ``limit``, oldest first (created_at, then id), with the
        entities at their ends and the source and target names. One hop; the core
        iterates. Scope and exclusion are applied in the query, before the limit."""
        ...

    def iter_memory_ids(self, batch_size: int) -> Iterator[list[str]]:
        """Every memory node id, in batches (reconcile's scan)."""
        ...

    def count_orphan_entities(self) -> int:
        """How many entities have no MENTIONS and no RELATES edge."""
        ...

    def delete_orphan_entities(self) -> int:
        """Delete the entities ``count_orphan_entities`` counts; returns how many."""
        ...

    def count_dangling_relations(self, protected: Sequence[str]) -> int:
        """How many RELATES edges have a memory_id with no memory node, not counting
        those whose memory_id is in ``protected`` (adds in flight)."""
        ...

    def delete_dangling_relations(self, protected: Sequence[str]) -> int:
        """Delete the edges ``count_dangling_relations`` counts, sparing the same
        ``protected`` ones; returns how many."""
        ...

    def stats(self) -> dict[str, int]:
        """Whole-store counts: ``memory_nodes``, ``entities``, ``relations``."""
        ...

    def reset(self) -> None:
        """Remove everything this store holds (schema may stay)."""
        ...

    def close(self) -> None:
        """Release connections and file locks; safe to call twice."""
        ...


@runtime_checkable
class VectorStore(Protocol):
    """Vector records: id, embedding, text, scope, metadata, hash, timestamps.

    Scope properties must match exactly: ids that differ only by case, spaces,
    punctuation or unicode normalisation are different scopes.
    """

    name: str
    address: str

    def upsert(self, records: Sequence[VectorRecord], *, fresh: bool = False) -> None:
        """Insert or replace by id. Every per-record failure raises; a partial batch
        is never reported as success. Embeddings of a dimension other than the
        store's raise ``DimensionMismatchError``. ``fresh``: the ids were generated
        for this write, none can exist yet, and an adapter may insert without looking."""
        ...

    def get(self, ids: Sequence[str]) -> list[VectorRecord]:
        """The records with these ids that exist, in no particular order."""
        ...

    def existing_ids(self, ids: Sequence[str]) -> set[str]:
        """Which of ``ids`` have a vector record."""
        ...

    def delete(self, ids: Sequence[str]) -> int:
        """Delete by ids in one bulk server-side call (or a few); returns how many
        existed and were deleted."""
        ...

    def delete_scope(self, scope: Scope, batch_size: int) -> int:
        """Delete every record matching ``scope`` by a server-side filter, in batches
        of at most ``batch_size``, until none matches; returns how many were deleted."""
        ...

    def drop_scope(self, scope: Scope) -> list[str] | None:
        """When the store keeps ``scope`` apart (a Weaviate tenant per user), erase
        all of its records in one call and return their ids; None when it does not
        (the records are then deleted by id and by ``delete_scope``). Idempotent:
        dropping a dropped scope returns []."""
        ...

    def count_scope(self, scope: Scope) -> int:
        """How many records match ``scope`` (server-side count)."""
        ...

    def list_scope(
        self,
        scope: Scope,
        limit: int | None,
        *,
        filters: Filters | None = None,
        offset: int = 0,
    ) -> list[VectorRecord]:
        """Records matching ``scope`` and ``filters``, newest first (by created_at,
        then id), skipping ``offset``, at most ``limit`` (all when None). Filters
        are evaluated in the store, before offset and limit."""
        ...

    def search(
        self,
        embedding: Sequence[float],
        scope: Scope,
        limit: int,
        *,
        filters: Filters | None = None,
    ) -> list[tuple[VectorRecord, float]]:
        """The ``limit`` records matching ``scope`` (and ``filters``) closest to
        ``embedding``, best first, each with its cosine similarity. Only records
        matching; filtering happens in the store, before the limit."""
        ...

    def iter_ids(self, batch_size: int) -> Iterator[list[str]]:
        """Every record id, in batches (reconcile's scan)."""
        ...

    def count(self) -> int:
        """Whole-store count."""
        ...

    def reset(self) -> None:
        """Remove every record."""
        ...

    def close(self) -> None:
        """Release connections and file locks; safe to call twice."""
        ...


@runtime_checkable
class Coordinating(Protocol):
    """An optional method of a graph store whose server can hold the coordination
    state that every process opening the same configuration shares.

    ``coordination(owner_id, local)`` answers ``(journal, claims)``: a journal
    (``hybridmem.journal_port.JournalPort``; ``local`` is the local file path it
    reports as ``path``) and claims (``hybridmem.scope_locks.Claims``) that are
    leases held by ``owner_id`` in the server, or None when the store is
    configured to keep today's per-process journal and claims. The store calls
    it once, on open; closing the journal releases the owner's lease.
    """

    def coordination(self, owner_id: str, local: Path) -> tuple[JournalPort, Claims] | None: ...
