"""HybridStore: the public, synchronous API over a graph store and a vector store."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

from hybridmem import compaction
from hybridmem.bulk import AddManyTally, batches, new_memory, prepare_batch
from hybridmem.config import HybridMemConfig
from hybridmem.coordinator import Coordinator
from hybridmem.embedders import HOW_TO_CONFIGURE, Embedder
from hybridmem.embedders.resolve import embedder_for
from hybridmem.errors import ConfigurationError, NotFoundError, ValidationError
from hybridmem.faults import FaultHook, resolve
from hybridmem.journal import Journal, now
from hybridmem.journal_move import TakesMovedJournal, local_journal_holds_data, move_local_journal
from hybridmem.journal_port import JournalPort
from hybridmem.models import (
    NO_OPERATION,
    AddManyResult,
    AddProgressCallback,
    CompactionProgressCallback,
    CompactionReport,
    DeleteResult,
    Memory,
    ProgressCallback,
    ReconcileReport,
    RecoveredOperation,
)
from hybridmem.ownership import refuse_if_held
from hybridmem.ports import Coordinating, GraphStore, VectorStore
from hybridmem.records import VectorRecord, text_hash
from hybridmem.registry import create_store
from hybridmem.scope_locks import Claims
from hybridmem.store_meta import HoldsStoreMeta, StoreMeta, StoreMetaPort
from hybridmem.store_reads import StoreReads
from hybridmem.validation import (
    NO_FILTER_MESSAGE,
    check_batch_size,
    check_embedding,
    check_expiry,
    check_memory_id,
    check_metadata,
    check_text,
    scope_from,
)

ConfigSource = HybridMemConfig | Mapping[str, Any] | str | Path | None


class HybridStore(StoreReads):
    """A memory store whose every write and erasure spans a graph and a vector store.

    Build it with ``HybridStore.embedded(path)``, ``HybridStore.from_config(...)``
    or ``HybridStore()`` (the embedded default in ``~/.hybridmem`` or
    ``$HYBRIDMEM_DATA_DIR``). Thread-safe; use it as a context manager or call
    ``close()``. The reads are in :class:`hybridmem.store_reads.StoreReads`.
    """

    def __init__(
        self,
        config: ConfigSource = None,
        *,
        graph: GraphStore | None = None,
        vector: VectorStore | None = None,
        journal_path: Path | None = None,
        fault_hook: FaultHook | None = None,
        embedder: Embedder | None = None,
    ) -> None:
        self.config = HybridMemConfig.load(config)
        data_dir = self.config.data_dir
        if graph is None or vector is None:
            # A running `hybridmem serve` holds the embedded file: say how to reach it.
            refuse_if_held(self.config)
        #: Turns text into vectors for add(text) and search("query"); None when
        #: nothing is configured and wordllama is not installed.
        self.embedder: Embedder | None = embedder or embedder_for(self.config.embedder)
        #: An embedder built from the config is ours to close (openai holds a connection pool).
        self._owns_embedder = embedder is None
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
        local_journal = journal_path or data_dir / "journal.sqlite3"
        #: This store's id as the owner of its operations and claims.
        self.owner_id = str(uuid.uuid4())
        hook = graph.coordination if isinstance(graph, Coordinating) else None
        try:
            shared = hook(self.owner_id, local_journal) if hook is not None else None
        except BaseException:
            for store in opened:
                store.close()
            raise
        claims: Claims | None = None
        if shared is not None:
            # Journal, history, expiry index and claims shared by every process.
            self.journal: JournalPort = shared[0]
            claims = shared[1]
        else:
            self.journal = Journal(local_journal)
        #: The embedder record: where the journal is (shared, or the local file).
        self.meta: StoreMetaPort = (
            self.journal.store_meta
            if isinstance(self.journal, HoldsStoreMeta)
            else StoreMeta(local_journal)
        )
        fault = resolve(fault_hook)
        try:
            if (
                claims is not None
                and isinstance(self.journal, TakesMovedJournal)
                and local_journal_holds_data(local_journal)
            ):
                # A store that kept a local journal before: its operations, history
                # and expiry index join the shared ones, with no erasure meanwhile.
                with claims.everything():
                    move_local_journal(
                        local_journal,
                        self.journal.intake,
                        self.meta,
                        exists=graph.existing_memory_ids,
                        fault=fault,
                    )
            if self.embedder is not None:
                self.meta.check_embedder(self.embedder.name, self.embedder.dimension)
        except BaseException:
            for closer in (vector.close, graph.close, self.journal.close, self.meta.close):
                closer()
            raise
        self._coordinator = Coordinator(
            graph,
            vector,
            self.journal,
            batch_size=self.config.batch_size,
            fault=fault,
            claims=claims,
        )
        self._closed = False
        if self.config.recover_on_open:
            self.recover()

    @classmethod
    def embedded(cls, data_dir: str | Path, **settings: Any) -> HybridStore:
        """The embedded default pair in ``data_dir``: the graph in a LadybugDB file
        (``[graph] provider = "kuzu"``), the vectors in a SQLite file."""
        return cls(
            {
                "data_dir": Path(data_dir),
                "graph": {"provider": "kuzu"},
                "vector": {"provider": "sqlite"},
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
        for closer in (self.vector.close, self.graph.close, self.journal.close, self.meta.close):
            closer()
        close_embedder = getattr(self.embedder, "close", None)
        if self._owns_embedder and close_embedder is not None:
            close_embedder()

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

    def _embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Vectors for texts from the configured embedder, recorded on first use."""
        if self.embedder is None:
            raise ConfigurationError(HOW_TO_CONFIGURE)
        self.meta.record_embedder(self.embedder.name, self.embedder.dimension)
        return [check_embedding(v) for v in self.embedder.embed(list(texts))]

    def add(
        self,
        text: str,
        *,
        embedding: Sequence[float] | None = None,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        entities: Sequence[Mapping[str, str]] | None = None,
        relations: Sequence[Mapping[str, str]] | None = None,
        memory_id: str | None = None,
        expires_at: datetime | str | None = None,
        ttl: float | timedelta | None = None,
    ) -> Memory:
        """Write a memory to both stores; entities de-duplicate within the user's namespace.

        Without ``embedding``, the configured embedder embeds ``text``. ``memory_id``
        (a UUID) lets the caller name the memory, as framework stores that keep
        their own ids need: adding it again leaves one record, replaced when the
        text, embedding or metadata differ (see :meth:`Coordinator.add`); an id
        held by another scope's memory is refused.

        ``expires_at`` (a datetime or ISO 8601 text, naive meaning UTC; it must be
        in the future) or ``ttl`` (seconds, or a timedelta), at most one, makes the
        memory expire: from then on no read returns it, and ``purge_expired()``
        erases it from both stores and its text from history."""
        scope = scope_from(user_id, agent_id, run_id)
        text = check_text(text)
        meta = check_metadata(metadata)
        chosen = check_memory_id(memory_id) if memory_id is not None else None
        expiry = check_expiry(expires_at, ttl, at=now())
        vector_values = (
            check_embedding(embedding) if embedding is not None else self._embed([text])[0]
        )
        new = new_memory(
            text,
            vector_values,
            scope,
            meta,
            entities or (),
            relations or (),
            chosen,
            expires_at=expiry,
        )
        stored = self._coordinator.add(new.record, new.graph, caller_id=new.caller_id)
        return stored.to_memory()

    def add_many(
        self,
        items: Iterable[Mapping[str, Any]],
        *,
        batch_size: int | None = None,
        progress: AddProgressCallback | None = None,
    ) -> AddManyResult:
        """Write many memories, ``batch_size`` (default: the config's) at a time.

        Each item is a dict of ``add()``'s arguments (``text`` required; also
        ``created_at`` / ``updated_at`` to keep an imported memory's times). Each
        batch is checked whole, embedded in one embedder call when its items have
        no ``embedding``, and written as one journaled operation: all of it or none
        of it, also across a crash (``recover()`` rolls a half-written batch back).
        Items may be an iterator: it is read one batch at a time. An item whose
        ``memory_id`` is stored already, in the same scope and with the same
        content, is left as it is (``unchanged``), so an import can be run again.
        On an error, the batches before the failing one are stored; the error
        names the item (``items[i]``) and nothing of its batch is written."""
        size = check_batch_size(batch_size if batch_size is not None else self.config.batch_size)
        tally = AddManyTally(items, progress)
        for chunk in batches(items, size):
            started = time.monotonic()
            batch = prepare_batch(chunk, self._embed)
            outcome = self._coordinator.add_batch(batch)
            written = outcome.operation_id != NO_OPERATION
            tally.record(
                AddManyResult(
                    ids=[m.record.id for m in batch],
                    added=outcome.added,
                    unchanged=outcome.unchanged,
                    batches=1,
                    operation_ids=[outcome.operation_id] if written else [],
                    elapsed_seconds=time.monotonic() - started,
                )
            )
        return tally.finish()

    def update(
        self,
        memory_id: str,
        *,
        text: str | None = None,
        embedding: Sequence[float] | None = None,
        metadata: Mapping[str, Any] | None = None,
        expires_at: datetime | str | None = None,
        ttl: float | timedelta | None = None,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> Memory:
        """Change a memory's text, embedding, metadata or expiry (journaled; history
        keeps the old and new text until the memory is erased).

        ``expires_at`` / ``ttl`` (at most one, as in ``add``) give the memory a new
        expiry: a TTL refresh. ``user_id`` / ``agent_id`` / ``run_id`` are the
        caller's scope: a memory outside it raises NotFoundError exactly like an
        unknown id, checked under the memory's claim. A memory erased or expired
        meanwhile is never written back: NotFoundError."""
        memory_id = check_memory_id(memory_id)
        within = scope_from(user_id, agent_id, run_id, required_message=None)
        if text is None and embedding is None and metadata is None:
            if expires_at is None and ttl is None:
                raise ValidationError(
                    "update needs at least one of text, embedding or metadata (or a new expiry:"
                    " expires_at or ttl)"
                )
        # Everything is validated before the first store step.
        new_text = check_text(text) if text is not None else None
        new_embedding = check_embedding(embedding) if embedding is not None else None
        new_metadata = check_metadata(metadata) if metadata is not None else None
        stamp = now()
        new_expiry = check_expiry(expires_at, ttl, at=stamp)
        found = self._alive(self.vector.get([memory_id]))
        if not found or not within.matches(found[0].scope):
            raise NotFoundError(f"memory {memory_id} not found")

        def change(old: VectorRecord) -> VectorRecord:
            kept_text = new_text if new_text is not None else old.text
            return replace(
                old,
                text=kept_text,
                hash=text_hash(kept_text),
                embedding=new_embedding if new_embedding is not None else old.embedding,
                metadata=new_metadata if new_metadata is not None else old.metadata,
                updated_at=stamp,
                expires_at=new_expiry if new_expiry is not None else old.expires_at,
            )

        # The coordinator reads the memory again under its scope's claim: what was
        # read here may be erased by then, and must not be written back.
        updated = self._coordinator.update(memory_id, found[0].scope, change, within=within)
        return updated.to_memory()

    def delete(
        self,
        memory_id: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> DeleteResult:
        """Erase one memory from both stores (and its text from history). Idempotent.

        ``user_id`` / ``agent_id`` / ``run_id`` are the caller's scope: a memory
        outside it is left alone and answered exactly like an unknown id (zero
        counts), checked under the memory's claim."""
        memory_id = check_memory_id(memory_id)
        within = scope_from(user_id, agent_id, run_id, required_message=None)
        node = self.graph.get_memory_node(memory_id)
        if node is not None:
            scope = node.scope
        else:
            found = self.vector.get([memory_id])
            scope = found[0].scope if found else scope_from(required_message=None)
        # The coordinator checks again under the claim that the memory still exists.
        return self._coordinator.delete(memory_id, scope, within=within)

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

    def purge_expired(self, *, progress: ProgressCallback | None = None) -> DeleteResult:
        """Erase every memory whose ``expires_at`` has passed, from both stores (and
        their texts from history), as delete_all erases a scope: journaled, in
        batches, orphaned entities removed, resumable by ``recover()``. Its cost
        follows the number of expired memories (read from a time index beside the
        journal), not the store's size. The result's counts are delete_all's; its
        scope is empty (a purge spans scopes)."""
        return self._coordinator.purge_expired(progress)

    def reset(self) -> dict[str, int]:
        """Wipe both stores and every text in history. Returns what was there.

        The embedder record goes too: an empty store may take another embedder."""
        counts = self._coordinator.reset()
        self.meta.forget_embedder()
        return counts

    def reconcile(self, *, fix: bool = False) -> ReconcileReport:
        """Scan both stores for every kind of orphan; with ``fix``, remove them."""
        return self._coordinator.reconcile(fix)

    def recover(self) -> list[RecoveredOperation]:
        """Finish pending deletions and roll back pending adds left by a crash."""
        # A compaction first: the other operations' recovery may write to its files.
        return compaction.finish_interrupted(self) + self._coordinator.recover()

    def compact(self, *, progress: CompactionProgressCallback | None = None) -> CompactionReport:
        """Rewrite the embedded files with only live data, so that erased texts,
        names and ids leave them; scrub erased scope ids from the journal and VACUUM
        it. Claims the whole store; journaled, and resumed by ``recover()``. See
        docs/erasure-design.md, "Erasure to the byte"."""
        return compaction.compact(self, progress)
