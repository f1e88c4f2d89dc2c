"""HybridStore: the public, synchronous API over a graph store and a vector store."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from types import TracebackType
from typing import Any

from hybridmem.config import HybridMemConfig
from hybridmem.coordinator import Coordinator
from hybridmem.errors import NotFoundError, ValidationError
from hybridmem.faults import FaultHook, resolve
from hybridmem.journal import Journal, now
from hybridmem.models import (
    DeleteResult,
    Entity,
    HistoryEvent,
    Memory,
    OperationInfo,
    ProgressCallback,
    ReconcileReport,
    RecoveredOperation,
    Relation,
    SearchHit,
)
from hybridmem.ports import GraphStore, VectorStore
from hybridmem.records import MemoryNode, VectorRecord, parse_memory_graph, text_hash
from hybridmem.registry import create_store
from hybridmem.validation import (
    NO_FILTER_MESSAGE,
    check_embedding,
    check_id,
    check_limit,
    check_memory_id,
    check_metadata,
    check_text,
    scope_from,
)

ConfigSource = HybridMemConfig | Mapping[str, Any] | str | Path | None

# A sentinel id for ready(): a primary-key lookup that touches each store and
# never matches (memory ids are random UUIDs).
_PROBE_ID = "00000000-0000-0000-0000-000000000000"


class HybridStore:
    """A memory store whose every write and erasure spans a graph and a vector store.

    Build it with ``HybridStore.embedded(path)``, ``HybridStore.from_config(...)``
    or ``HybridStore()`` (the embedded default in ``~/.hybridmem`` or
    ``$HYBRIDMEM_DATA_DIR``). Thread-safe; use it as a context manager or call
    ``close()``.
    """

    def __init__(
        self,
        config: ConfigSource = None,
        *,
        graph: GraphStore | None = None,
        vector: VectorStore | None = None,
        journal_path: Path | None = None,
        fault_hook: FaultHook | None = None,
    ) -> None:
        self.config = HybridMemConfig.load(config)
        data_dir = self.config.data_dir
        opened: list[GraphStore | VectorStore] = []
        try:
            if graph is None:
                graph = create_store(
                    "graph", self.config.graph.provider, self.config.graph.options(), data_dir
                )
                opened.append(graph)
            if vector is None:
                vector = create_store(
                    "vector", self.config.vector.provider, self.config.vector.options(), data_dir
                )
                opened.append(vector)
        except BaseException:
            for store in opened:
                store.close()
            raise
        assert graph is not None and vector is not None
        self.graph: GraphStore = graph
        self.vector: VectorStore = vector
        self.journal = Journal(journal_path or data_dir / "journal.sqlite3")
        self._coordinator = Coordinator(
            graph,
            vector,
            self.journal,
            batch_size=self.config.batch_size,
            fault=resolve(fault_hook),
        )
        self._closed = False
        if self.config.recover_on_open:
            self.recover()

    @classmethod
    def embedded(cls, data_dir: str | Path, **settings: Any) -> HybridStore:
        """The embedded default pair (Kuzu graph + Kuzu vector files) in ``data_dir``."""
        return cls(
            {
                "data_dir": Path(data_dir),
                "graph": {"provider": "kuzu"},
                "vector": {"provider": "kuzu"},
                **settings,
            }
        )

    @classmethod
    def from_config(cls, config: ConfigSource, **kwargs: Any) -> HybridStore:
        """From a ``HybridMemConfig``, a dict, or a path to a TOML file."""
        return cls(config, **kwargs)

    # -- lifecycle -----------------------------------------------------------------

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for closer in (self.vector.close, self.graph.close, self.journal.close):
            closer()

    def __enter__(self) -> HybridStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- writes --------------------------------------------------------------------

    def add(
        self,
        text: str,
        *,
        embedding: Sequence[float],
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        entities: Sequence[Mapping[str, str]] | None = None,
        relations: Sequence[Mapping[str, str]] | None = None,
    ) -> Memory:
        """Write a memory to both stores; entities de-duplicate within the user's namespace."""
        scope = scope_from(user_id, agent_id, run_id)
        text = check_text(text)
        vector_values = check_embedding(embedding)
        meta = check_metadata(metadata)
        memory_id = str(uuid.uuid4())
        stamp = now()
        graph = parse_memory_graph(
            MemoryNode.new(memory_id, scope, stamp), entities or (), relations or ()
        )
        record = VectorRecord.new(memory_id, text, vector_values, scope, stamp, meta)
        self._coordinator.add(record, graph)
        return record.to_memory()

    def update(
        self,
        memory_id: str,
        *,
        text: str | None = None,
        embedding: Sequence[float] | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> Memory:
        memory_id = check_memory_id(memory_id)
        if text is None and embedding is None and metadata is None:
            raise ValidationError("update needs at least one of text, embedding or metadata")
        # Everything is validated before the first store step.
        new_text = check_text(text) if text is not None else None
        new_embedding = check_embedding(embedding) if embedding is not None else None
        new_metadata = check_metadata(metadata) if metadata is not None else None
        found = self.vector.get([memory_id])
        if not found:
            raise NotFoundError(f"memory {memory_id} not found")

        def change(old: VectorRecord) -> VectorRecord:
            kept_text = new_text if new_text is not None else old.text
            return replace(
                old,
                text=kept_text,
                hash=text_hash(kept_text),
                embedding=new_embedding if new_embedding is not None else old.embedding,
                metadata=new_metadata if new_metadata is not None else old.metadata,
                updated_at=now(),
            )

        # The coordinator reads the memory again under its scope's claim: what was
        # read here may be erased by then, and must not be written back.
        return self._coordinator.update(memory_id, found[0].scope, change).to_memory()

    def delete(self, memory_id: str) -> DeleteResult:
        """Erase one memory from both stores (and its text from history). Idempotent."""
        memory_id = check_memory_id(memory_id)
        node = self.graph.get_memory_node(memory_id)
        if node is not None:
            scope = node.scope
        else:
            found = self.vector.get([memory_id])
            scope = found[0].scope if found else scope_from(required_message=None)
        # The coordinator checks again under the claim that the memory still exists.
        return self._coordinator.delete(memory_id, scope)

    def delete_all(
        self,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        dry_run: bool = False,
        progress: ProgressCallback | None = None,
    ) -> DeleteResult:
        """Erase everything the scope owns from both stores, in one resumable pass.

        Raises ValueError (with the well-known message) when no filter is given.
        The result reads like a dict: ``result["message"]`` is
        ``"Memories deleted successfully!"``; it also carries the operation id and
        the counts. ``dry_run=True`` counts and touches nothing.
        """
        scope = scope_from(user_id, agent_id, run_id, required_message=NO_FILTER_MESSAGE)
        if dry_run:
            return self._coordinator.preview(scope)
        return self._coordinator.delete_all(scope, progress)

    def reset(self) -> dict[str, int]:
        """Wipe both stores and every text in history. Returns what was there."""
        return self._coordinator.reset()

    def reconcile(self, *, fix: bool = False) -> ReconcileReport:
        """Scan both stores for every kind of orphan; with ``fix``, remove them."""
        return self._coordinator.reconcile(fix)

    def recover(self) -> list[RecoveredOperation]:
        """Finish pending deletions and roll back pending adds left by a crash."""
        return self._coordinator.recover()

    # -- reads -----------------------------------------------------------------------

    def get(self, memory_id: str) -> Memory | None:
        found = self.vector.get([check_memory_id(memory_id)])
        return found[0].to_memory() if found else None

    def get_all(
        self,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        limit: int | None = None,
    ) -> list[Memory]:
        scope = scope_from(user_id, agent_id, run_id)
        if limit is not None:
            check_limit(limit)
        return [r.to_memory() for r in self.vector.list_scope(scope, limit)]

    def search(
        self,
        embedding: Sequence[float],
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        limit: int = 10,
    ) -> list[SearchHit]:
        scope = scope_from(user_id, agent_id, run_id)
        hits = self.vector.search(check_embedding(embedding), scope, check_limit(limit))
        return [SearchHit(memory=record.to_memory(), score=score) for record, score in hits]

    def entities(self, *, user_id: str | None = None) -> list[Entity]:
        if user_id is not None:
            check_id("user_id", user_id)
        return [e.to_entity() for e in self.graph.entities(user_id)]

    def relations(
        self,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> list[Relation]:
        scope = scope_from(user_id, agent_id, run_id, required_message=None)
        found = self.graph.relations(None if scope.is_empty() else scope)
        return [r.to_relation(source, target) for r, source, target in found]

    def history(self, memory_id: str) -> list[HistoryEvent]:
        return self.journal.history(check_memory_id(memory_id))

    def operation(self, operation_id: str) -> OperationInfo | None:
        """The journal's record of an operation (state, scope, counts)."""
        return self.journal.operation(operation_id)

    def ready(self) -> None:
        """Returns when both stores answer a lookup; otherwise raises the store's
        error (``StoreUnavailableError`` naming the store and its address)."""
        self.graph.get_memory_node(_PROBE_ID)
        self.vector.get([_PROBE_ID])

    def stats(self) -> dict[str, int]:
        return {
            "vectors": self.vector.count(),
            **self.graph.stats(),
            "pending_operations": len(self.journal.pending()),
        }
