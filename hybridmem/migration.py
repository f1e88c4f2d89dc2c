"""Copy a store's memories (all, or one scope) into another adapter pair, then verify.

``migrate`` streams the source a batch at a time through its ports, as export
does, and writes each batch into the destination with ``add_many``: ids, texts,
embeddings, metadata, timestamps, expiries, entities and relations are kept, and each
batch is one journaled operation, all or nothing. History is *not* copied: the
destination's history starts with one ADD event per copied memory.

Resuming: a crash leaves at most one destination batch pending, which the
destination's ``recover()`` (run when it opens) rolls back. Running the same
migration again re-reads the source; every memory already copied comes back
from ``add_many`` as ``unchanged`` and the rest is written.

Verifying: after copying, the scope's vector and memory-node counts are compared
on both sides, and for each source batch the same ids are read from the
destination and compared by a hash of their canonical content (see
``fingerprint``). A destination holding extra memories in the scope fails on the
counts. Memory stays bounded by the batch size throughout.
"""

from __future__ import annotations

import array
import hashlib
import itertools
import json
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from hybridmem.migration_guard import check_distinct, check_vectors_fit
from hybridmem.models import Scope
from hybridmem.portability import MemoryBatch, add_arguments, memory_batches
from hybridmem.records import EntityRecord, RelationWithNames, VectorRecord
from hybridmem.store import HybridStore
from hybridmem.validation import check_batch_size

#: A report lists at most this many mismatching ids (the count is always whole).
MAX_LISTED_MISMATCHES = 20


class MigrationProgress(BaseModel):
    """Handed to the ``progress`` callback after every batch."""

    phase: Literal["copying", "verifying", "done"]
    #: Source memories handled so far in this phase, and the scope's count at its start.
    done: int
    total: int


MigrationProgressCallback = Callable[[MigrationProgress], None]


class MigrationReport(BaseModel):
    scope: dict[str, str]
    #: The source's memories in the scope when the migration started.
    total: int = 0
    #: Written into the destination by this run, and found there already (copied by
    #: an earlier, interrupted run: they come back from add_many as unchanged).
    copied: int = 0
    already_present: int = 0
    #: Journaled destination batches this run wrote.
    batches: int = 0
    copy_seconds: float = 0.0
    #: Memories compared by hash, and the counts of the scope on both sides.
    checked: int = 0
    source_vectors: int = 0
    destination_vectors: int = 0
    source_memory_nodes: int = 0
    destination_memory_nodes: int = 0
    #: Source memories missing from the destination or different there; the ids of
    #: the first ``MAX_LISTED_MISMATCHES``.
    mismatched: int = 0
    mismatched_ids: list[str] = Field(default_factory=list)
    verify_seconds: float = 0.0
    #: Counts equal on both sides and no memory differs.
    verified: bool = False


def migrate(
    source: HybridStore,
    destination: HybridStore,
    scope: Scope,
    *,
    batch_size: int | None = None,
    progress: MigrationProgressCallback | None = None,
) -> MigrationReport:
    """Copy the memories of ``scope`` (every memory when it is empty) from ``source``
    into ``destination``, then verify the copy; see the module docstring.

    Refuses, before writing anything, a destination that shares a store or the
    journal with the source (ValidationError), and one whose vectors or recorded
    embedder differ in dimension from the source's (DimensionMismatchError)."""
    check_distinct(source, destination)
    size = check_batch_size(batch_size if batch_size is not None else destination.config.batch_size)
    report = MigrationReport(scope=scope.parts(), total=_vector_count(source, scope))
    started = time.monotonic()
    batches = memory_batches(source, scope, size)
    # The first batch tells the dimension when the source recorded no embedder.
    first = next(batches, None)
    check_vectors_fit(source, destination, len(first.records[0].embedding) if first else None)
    items = (
        _item(record, batch)
        for batch in itertools.chain([first] if first else [], batches)
        for record in batch.records
    )
    # One add_many per batch rather than one over the whole stream: its result
    # lists every id, which would grow with the store.
    while chunk := list(itertools.islice(items, size)):
        result = destination.add_many(chunk, batch_size=size)
        report.copied += result.added
        report.already_present += result.unchanged
        report.batches += len(result.operation_ids)
        _report(progress, "copying", report.copied + report.already_present, report.total)
    report.copy_seconds = time.monotonic() - started
    checked = verify(source, destination, scope, batch_size=size, progress=progress)
    return checked.model_copy(
        update=report.model_dump(
            include={"total", "copied", "already_present", "batches", "copy_seconds"}
        )
    )


def verify(
    source: HybridStore,
    destination: HybridStore,
    scope: Scope,
    *,
    batch_size: int | None = None,
    progress: MigrationProgressCallback | None = None,
) -> MigrationReport:
    """Compare the scope on both sides without writing: counts, and each source
    memory's fingerprint against the destination's memory of the same id."""
    size = check_batch_size(batch_size if batch_size is not None else source.config.batch_size)
    started = time.monotonic()
    report = MigrationReport(scope=scope.parts(), total=_vector_count(source, scope))
    for batch in memory_batches(source, scope, size):
        ids = batch.ids
        theirs = MemoryBatch(
            destination.vector.get(ids),
            destination.graph.memory_entities(ids),
            destination.graph.memory_relations(ids),
        )
        ours_nodes = source.graph.existing_memory_ids(ids)
        their_nodes = destination.graph.existing_memory_ids(ids)
        expected = _fingerprints(batch, ours_nodes)
        found = _fingerprints(theirs, their_nodes)
        for memory_id in ids:
            if found.get(memory_id) != expected[memory_id]:
                report.mismatched += 1
                if len(report.mismatched_ids) < MAX_LISTED_MISMATCHES:
                    report.mismatched_ids.append(memory_id)
        report.checked += len(ids)
        _report(progress, "verifying", report.checked, report.total)
    # Counted after the pass, so that a memory added meanwhile on either side shows.
    report.source_vectors = _vector_count(source, scope)
    report.destination_vectors = _vector_count(destination, scope)
    report.source_memory_nodes = _node_count(source, scope)
    report.destination_memory_nodes = _node_count(destination, scope)
    report.verified = (
        report.mismatched == 0
        and report.source_vectors == report.destination_vectors
        and report.source_memory_nodes == report.destination_memory_nodes
    )
    report.verify_seconds = time.monotonic() - started
    _report(progress, "done", report.checked, report.total)
    return report


# -- reading the source ------------------------------------------------------------


def _item(record: VectorRecord, batch: MemoryBatch) -> dict[str, Any]:
    """The add_many item that re-adds ``record`` with its graph (as an export line would)."""
    entities, relations = add_arguments(
        record, batch.entities.get(record.id, []), batch.relations.get(record.id, [])
    )
    return {
        "memory_id": record.id,
        "text": record.text,
        "embedding": record.embedding,
        "user_id": record.user_id,
        "agent_id": record.agent_id,
        "run_id": record.run_id,
        "metadata": record.metadata,
        "entities": entities,
        "relations": relations,
        "created_at": record.created_at,
        "updated_at": record.updated_at,
        # Kept, even when already past: the copy stays invisible until purged.
        "expires_at": record.expires_at,
    }


def _vector_count(store: HybridStore, scope: Scope) -> int:
    return store.vector.count() if scope.is_empty() else store.vector.count_scope(scope)


def _node_count(store: HybridStore, scope: Scope) -> int:
    if scope.is_empty():
        return store.graph.stats()["memory_nodes"]
    return store.graph.count_scope(scope).memory_nodes


def _report(
    progress: MigrationProgressCallback | None,
    phase: Literal["copying", "verifying", "done"],
    done: int,
    total: int,
) -> None:
    if progress is not None:
        progress(MigrationProgress(phase=phase, done=done, total=total))


# -- fingerprints ---------------------------------------------------------------------


def _fingerprints(batch: MemoryBatch, nodes: set[str]) -> dict[str, str]:
    return {
        r.id: fingerprint(
            r, batch.entities.get(r.id, []), batch.relations.get(r.id, []), r.id in nodes
        )
        for r in batch.records
    }


def fingerprint(
    record: VectorRecord,
    entities: Sequence[EntityRecord],
    relations: Sequence[RelationWithNames],
    has_node: bool,
) -> str:
    """A hash of everything an export line of the memory says, plus the ids of its
    entities and relations and whether its memory node exists.

    Embeddings are compared at float32 precision, what every vector store keeps;
    timestamps in UTC; metadata with sorted keys; entities and relations sorted, as
    their stores return them in no particular order."""
    canonical = {
        "id": record.id,
        "text": record.text,
        "embedding": array.array("f", record.embedding).tobytes().hex(),
        "scope": [record.user_id, record.agent_id, record.run_id],
        "metadata": record.metadata,
        "created_at": _utc(record.created_at),
        "updated_at": _utc(record.updated_at),
        # At millisecond precision: what every store keeps of a date.
        "expires_at": None
        if record.expires_at is None
        else record.expires_at.astimezone(UTC).isoformat(timespec="milliseconds"),
        "entities": sorted(([e.id, e.name, e.type, e.user_id] for e in entities), key=json.dumps),
        "relations": sorted(
            (
                [
                    r.id,
                    r.type,
                    r.source_id,
                    r.target_id,
                    source,
                    target,
                    r.memory_id,
                    r.user_id,
                    r.agent_id,
                    r.run_id,
                    _utc(r.created_at),
                ]
                for r, source, target in relations
            ),
            key=json.dumps,
        ),
        "node": has_node,
    }
    text = json.dumps(canonical, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _utc(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()
