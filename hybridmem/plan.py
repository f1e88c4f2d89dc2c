"""The bookkeeping of an erasure: how it counts, when it gives up, what it reports.

Pure: no I/O. The step sequence (which store first, batches, fault points,
journal writes) lives in the modules of ``hybridmem.operations``, which call this
module around each step for:

* the running tally (``DeletionTally``), which survives a crash through the
  journal's checkpoints and resumes from them, with every adjustment a step
  makes to it (a resumed batch, a lone vector, a scope the vector store dropped);
* the guard that refuses to loop on a store that keeps returning ids it was
  told to delete (``DeletionPlan.next_batch_guard``);
* the progress events and the final result (``DeletionPlan.progress`` and
  ``.result``), and the dry run's result (``preview``).

So all of that is unit-tested without a store (``tests/unit/test_plan.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace

from hybridmem.errors import StoreError
from hybridmem.models import DeleteProgress, DeleteResult, Scope
from hybridmem.records import GraphDeleteCounts

DELETE_ALL_MESSAGE = "Memories deleted successfully!"
DELETE_MESSAGE = "Memory deleted successfully!"
PURGE_MESSAGE = "Expired memories purged successfully!"


@dataclass
class DeletionTally:
    """Running counts of one erasure; survives a crash through journal checkpoints."""

    memories: int = 0
    vectors: int = 0
    memory_nodes: int = 0
    relations: int = 0
    orphan_entities: int = 0
    batches: int = 0

    @classmethod
    def from_counts(cls, counts: dict[str, int]) -> DeletionTally:
        known = {name: int(counts.get(name, 0)) for name in cls.__dataclass_fields__}
        return cls(**known)

    def counts(self) -> dict[str, int]:
        return asdict(self)

    def public_counts(self) -> dict[str, int]:
        """What a result and the history report: the counts but the batches."""
        return {name: value for name, value in self.counts().items() if name != "batches"}

    def add_batch(self, vectors: int, graph: GraphDeleteCounts) -> None:
        # Batch ids come from memory nodes, so each removed node is one memory,
        # whether or not its vector still existed.
        self.memories += graph.memory_nodes
        self.vectors += vectors
        self.memory_nodes += graph.memory_nodes
        self.relations += graph.relations
        self.orphan_entities += graph.orphan_entities
        self.batches += 1

    def add_resumed_batch(self, vectors: int, graph: GraphDeleteCounts, *, noted: int) -> None:
        """A batch noted before a crash and erased again: its nodes may be gone
        already, but each of its ``noted`` ids was a memory when noted, and this
        erasure is what removed it."""
        self.add_batch(vectors, replace(graph, memory_nodes=noted))

    def add_one(self, vectors: int, graph: GraphDeleteCounts) -> None:
        """The erasure of one memory (``delete``)."""
        self.add_batch(vectors, graph)
        if graph.memory_nodes == 0 and vectors:
            # Only the vector was left (an orphan): it is still one memory erased.
            self.memories += vectors

    def add_swept_vectors(self, vectors: int) -> None:
        # Vectors without a node: each is a memory that only the vector store still held.
        self.memories += vectors
        self.vectors += vectors

    def add_dropped_scope(self, dropped: int, with_nodes: int) -> None:
        """A vector store dropped the scope's ``dropped`` vectors in one call;
        ``with_nodes`` of them had a memory node (their memory is counted with its
        node's batch), each of the others was a memory of its own."""
        self.vectors += with_nodes
        self.add_swept_vectors(dropped - with_nodes)


@dataclass
class DeletionPlan:
    operation_id: str
    scope: Scope
    batch_size: int
    tally: DeletionTally = field(default_factory=DeletionTally)
    total: int = 0
    _last_batch: frozenset[str] = frozenset()

    def next_batch_guard(self, ids: Sequence[str]) -> None:
        """Refuse to loop forever on a store that reports ids it then fails to delete."""
        batch = frozenset(ids)
        if batch and batch == self._last_batch:
            raise StoreError(
                "graph store",
                "-",
                f"the same {len(batch)} memory ids were returned after being deleted",
            )
        self._last_batch = batch

    def progress(self, phase: str) -> DeleteProgress:
        done = self.tally.memories
        total = max(self.total, done)
        if phase == "done":
            total = done
        return DeleteProgress(
            operation_id=self.operation_id,
            phase=phase,  # type: ignore[arg-type]
            done=done,
            total=total,
        )

    def result(self, elapsed_seconds: float, *, message: str = DELETE_ALL_MESSAGE) -> DeleteResult:
        return DeleteResult.model_validate(
            {
                "message": message,
                "operation_id": self.operation_id,
                "scope": self.scope,
                **self.tally.public_counts(),
                "elapsed_seconds": round(elapsed_seconds, 6),
            }
        )


def preview(
    operation_id: str, scope: Scope, vectors: int, graph: GraphDeleteCounts, elapsed: float
) -> DeleteResult:
    """The dry-run result. ``memories`` is the larger of the two stores' counts:
    exact whenever they agree, which they do unless a crash left orphans."""
    return DeleteResult(
        message=DELETE_ALL_MESSAGE,
        operation_id=operation_id,
        scope=scope,
        dry_run=True,
        memories=max(vectors, graph.memory_nodes),
        vectors=vectors,
        memory_nodes=graph.memory_nodes,
        relations=graph.relations,
        orphan_entities=graph.orphan_entities,
        elapsed_seconds=round(elapsed, 6),
    )
