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

from hybridmem.bulk import (
    AddManyTally,
    batches,
    check_batch_size,
    check_expiry,
    new_memory,
    prepare_batch,
)
from hybridmem.config import HybridMemConfig
from hybridmem.coordinator import Coordinator
from hybridmem.embedders import HOW_TO_CONFIGURE, Embedder
from hybridmem.embedders.resolve import embedder_for
from hybridmem.errors import ConfigurationError, NotFoundError, ValidationError
from hybridmem.faults import FaultHook, resolve
from hybridmem.filters import parse_filters, with_alive_at
from hybridmem.journal import Journal, expiry_text, now
from hybridmem.journal_port import JournalPort
from hybridmem.models import (
    NO_OPERATION,
    AddManyResult,
    AddProgressCallback,
    DeleteResult,
    Entity,
    HistoryEvent,
    Memory,
    Neighborhood,
    OperationInfo,
    ProgressCallback,
    ReconcileReport,
    RecoveredOperation,
    Relation,
    Scope,
    SearchHit,
)
from hybridmem.ownership import refuse_if_held
from hybridmem.ports import Coordinating, GraphStore, VectorStore
from hybridmem.reads import GraphReads
from hybridmem.records import VectorRecord, read_one, text_hash
from hybridmem.registry import create_store
from hybridmem.scope_locks import Claims
from hybridmem.store_meta import StoreMeta
from hybridmem.validation import (
    NO_FILTER_MESSAGE,
    check_embedding,
    check_id,
    check_limit,
    check_memory_id,
    check_metadata,
    check_name,
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
        self._meta = StoreMeta(local_journal)
        if self.embedder is not None:
            try:
                self._meta.check_embedder(self.embedder.name, self.embedder.dimension)
            except ConfigurationError:
                for closer in (vector.close, graph.close, self.journal.close, self._meta.close):
                    closer()
                raise
        self._coordinator = Coordinator(
            graph,
            vector,
            self.journal,
            batch_size=self.config.batch_size,
            fault=resolve(fault_hook),
            claims=claims,
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
        for closer in (self.vector.close, self.graph.close, self.journal.close, self._meta.close):
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
        self._meta.record_embedder(self.embedder.name, self.embedder.dimension)
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
        self._meta.forget_embedder()
        return counts

    def reconcile(self, *, fix: bool = False) -> ReconcileReport:
        """Scan both stores for every kind of orphan; with ``fix``, remove them."""
        return self._coordinator.reconcile(fix)

    def recover(self) -> list[RecoveredOperation]:
        """Finish pending deletions and roll back pending adds left by a crash."""
        return self._coordinator.recover()

    # -- reads -----------------------------------------------------------------------

    def get(
        self,
        memory_id: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> Memory | None:
        """The memory, or None when there is none (or it has expired). ``user_id`` /
        ``agent_id`` / ``run_id`` are the caller's scope: a memory outside it is None,
        like an unknown id."""
        memory_id = check_memory_id(memory_id)
        within = scope_from(user_id, agent_id, run_id, required_message=None)
        # A record the store holds but cannot decode fails this read, naming its id
        # (UnreadableRecordError); a scoped caller cannot tell whose it is, so for
        # them it is as absent as any other scope's.
        unscoped = within.is_empty()
        stored = read_one(self.vector, memory_id) if unscoped else self.vector.get([memory_id])
        found = self._alive(stored)
        return found[0].to_memory() if found and within.matches(found[0].scope) else None

    @staticmethod
    def _alive(records: Sequence[VectorRecord]) -> list[VectorRecord]:
        """What reads may return: the records not expired by now."""
        at = now()
        return [r for r in records if not r.expired(at)]

    def get_all(
        self,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        limit: int | None = None,
        offset: int = 0,
        filters: Mapping[str, Any] | None = None,
        entity: str | None = None,
    ) -> list[Memory]:
        """Memories in the scope, newest first (created_at, then id).

        ``filters`` (see :mod:`hybridmem.filters`) and paging apply in the store,
        before the limit. Paging is by ``offset``: the order is total (ties on
        created_at break on id), so pages neither repeat nor skip while nothing is
        written in between. ``entity`` keeps the memories that mention an entity of
        that name in the ``user_id`` namespace (required with it)."""
        scope = scope_from(user_id, agent_id, run_id)
        if limit is not None:
            check_limit(limit)
        offset = check_offset(offset)
        # Every read hides what has expired, in the store, before the limit.
        parsed = with_alive_at(parse_filters(filters), now())
        if entity is None:
            return [
                r.to_memory()
                for r in self.vector.list_scope(scope, limit, filters=parsed, offset=offset)
            ]
        name = check_name("entity", entity)
        _namespace(scope, "entity")
        records = self._graph_reads.entity_memories(name, scope, parsed, limit, offset)
        return [r.to_memory() for r in records]

    @property
    def _graph_reads(self) -> GraphReads:
        return GraphReads(self.graph, self.vector, self.journal)

    def search(
        self,
        query: str | Sequence[float] | None = None,
        *,
        embedding: Sequence[float] | None = None,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        limit: int = 10,
        filters: Mapping[str, Any] | None = None,
        graph: bool = False,
        entities: Sequence[str] | None = None,
    ) -> list[SearchHit]:
        """The memories in the scope closest to ``query``: a text (embedded by the
        configured embedder) or a vector (also accepted as ``embedding=``).

        ``filters`` apply in the store before the limit. ``graph=True`` gives each
        hit its graph context (``.entities``, ``.relations``). ``entities=[names]``
        anchors the search on entities of the ``user_id`` namespace: the vector
        ranking and a graph-proximity ranking are merged by reciprocal-rank fusion
        (:mod:`hybridmem.graph_reads`), and hits carry ``fused_score``."""
        scope = scope_from(user_id, agent_id, run_id)
        limit = check_limit(limit)
        vector_values = self._query_vector(query, embedding)
        parsed = with_alive_at(parse_filters(filters), now())
        anchors = _check_names("entities", entities) if entities is not None else []
        if not anchors:
            hits = [
                SearchHit(memory=record.to_memory(), score=score)
                for record, score in self.vector.search(vector_values, scope, limit, filters=parsed)
            ]
        else:
            _namespace(scope, "entities")
            hits = self._graph_reads.anchored(vector_values, scope, limit, parsed, anchors)
        if graph and hits:
            self._graph_reads.add_context(hits, scope)
        return hits

    def _query_vector(
        self, query: str | Sequence[float] | None, embedding: Sequence[float] | None
    ) -> list[float]:
        if (query is None) == (embedding is None):
            raise ValidationError("search needs exactly one of query (text or vector) or embedding")
        if isinstance(query, str):
            return self._embed([check_text(query, "query")])[0]
        return check_embedding(query if query is not None else embedding)

    def neighbors(
        self, name: str, *, user_id: str, depth: int = 1, limit: int = 100
    ) -> Neighborhood:
        """Entities and RELATES edges within ``depth`` hops of the entity ``name``
        in the ``user_id`` namespace (at most ``limit`` edges, nearest first)."""
        name = check_name("name", name)
        namespace = check_id("user_id", user_id)
        if isinstance(depth, bool) or not isinstance(depth, int) or not 1 <= depth <= MAX_DEPTH:
            raise ValidationError(f"invalid depth: must be an integer from 1 to {MAX_DEPTH}")
        return self._graph_reads.neighbors(name, namespace, depth, check_limit(limit))

    def entities(self, *, user_id: str | None = None) -> list[Entity]:
        if user_id is not None:
            check_id("user_id", user_id)
        return self._graph_reads.entities(user_id)

    def relations(
        self,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> list[Relation]:
        scope = scope_from(user_id, agent_id, run_id, required_message=None)
        return self._graph_reads.relations(scope)

    def history(
        self,
        memory_id: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> list[HistoryEvent]:
        """The memory's events. Once it has expired its texts are hidden here too
        (the events stay, as they do after an erasure); the purge erases them.
        ``user_id`` / ``agent_id`` / ``run_id`` are the caller's scope: the events
        of a memory outside it are not returned (``[]``, like an unknown id)."""
        memory_id = check_memory_id(memory_id)
        within = scope_from(user_id, agent_id, run_id, required_message=None)
        events = self.journal.history(memory_id)
        # The first event (the ADD) carries the memory's whole scope; a delete_all's
        # DELETE events carry only the filter it erased.
        if events and not within.matches(_scope_of(events[0])):
            return []
        due = self.journal.expiry_of(memory_id)
        if due is not None and due <= expiry_text(now()):
            return [e.model_copy(update={"old_text": None, "new_text": None}) for e in events]
        return events

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
            # Operations recovery gave up on (see recover()): non-zero needs a look.
            "set_aside_operations": len(self.journal.set_aside()),
        }


#: Graph reads stay bounded: hops of ``neighbors``. (Entity reads page through
#: every match: see hybridmem/reads.py, which also holds the anchored pool.)
MAX_DEPTH = 3


#: Keeps huge integers away from the stores' query engines (Kuzu's SKIP is int64).
MAX_OFFSET = 10_000_000


def check_offset(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_OFFSET:
        raise ValidationError(f"invalid offset: must be an integer from 0 to {MAX_OFFSET}")
    return value


def _check_names(parameter: str, names: object) -> list[str]:
    if isinstance(names, (str, bytes)) or not isinstance(names, Sequence):
        raise ValidationError(f"invalid {parameter}: must be a list of entity names")
    if len(names) > 100:
        raise ValidationError(f"invalid {parameter}: at most 100 names")
    return [check_name(f"{parameter}[{i}]", n) for i, n in enumerate(names)]


def _namespace(scope: Any, parameter: str) -> str:
    """Graph reads run in one user namespace: ``user_id`` is required with them."""
    if scope.user_id is None:
        raise ValidationError(f"{parameter} needs user_id: entities live in a user's namespace")
    return str(scope.user_id)


def _scope_of(event: HistoryEvent) -> Scope:
    return Scope(user_id=event.user_id, agent_id=event.agent_id, run_id=event.run_id)
