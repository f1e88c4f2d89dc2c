"""HybridStore's reads: by id, by scope, by similarity, the graph reads, history,
operations and counts. ``HybridStore`` inherits them; writes stay in hybridmem.store."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hybridmem.errors import ValidationError
from hybridmem.filters import parse_filters, with_alive_at
from hybridmem.journal import expiry_text, now
from hybridmem.journal_port import JournalPort
from hybridmem.models import (
    Entity,
    HistoryEvent,
    Memory,
    Neighborhood,
    OperationInfo,
    Relation,
    Scope,
    SearchHit,
)
from hybridmem.ports import GraphStore, VectorStore
from hybridmem.reads import GraphReads
from hybridmem.records import VectorRecord, read_one
from hybridmem.validation import (
    check_depth,
    check_embedding,
    check_id,
    check_limit,
    check_memory_id,
    check_name,
    check_names,
    check_namespace,
    check_offset,
    check_text,
    check_texts,
    scope_from,
)

# A sentinel id for ready(): a primary-key lookup that touches each store and
# never matches (memory ids are random UUIDs).
_PROBE_ID = "00000000-0000-0000-0000-000000000000"


class StoreReads:
    """The read half of ``HybridStore`` (which sets these attributes)."""

    graph: GraphStore
    vector: VectorStore
    journal: JournalPort

    def _embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Vectors for texts from the configured embedder (``HybridStore._embed``)."""
        raise NotImplementedError

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
        check_namespace(scope, "entity")
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
        anchors = check_names("entities", entities) if entities is not None else []
        if not anchors:
            hits = [
                SearchHit(memory=record.to_memory(), score=score)
                for record, score in self.vector.search(vector_values, scope, limit, filters=parsed)
            ]
        else:
            check_namespace(scope, "entities")
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

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """The configured embedder's vectors for ``texts`` (1 to 1,000 strings), as
        ``add`` and ``search`` would embed them: for callers that rank or compare
        vectors themselves (framework integrations), also over HTTP."""
        return self._embed(check_texts(texts))

    def neighbors(
        self, name: str, *, user_id: str, depth: int = 1, limit: int = 100
    ) -> Neighborhood:
        """Entities and RELATES edges within ``depth`` hops of the entity ``name``
        in the ``user_id`` namespace (at most ``limit`` edges, nearest first)."""
        name = check_name("name", name)
        namespace = check_id("user_id", user_id)
        check_depth(depth)
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


def _scope_of(event: HistoryEvent) -> Scope:
    return Scope(user_id=event.user_id, agent_id=event.agent_id, run_id=event.run_id)
