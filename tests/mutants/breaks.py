"""The breaks: one small, realistic change per guarantee, applied by monkeypatching.

Each function here receives nothing and patches the code in place; it is run
once per process (the test process and every subprocess it starts: servers,
CLI, crash children) when ``HYBRIDMEM_MUTANT`` names it. A break wraps or
replaces one function by name, so it stays valid while the code around it
changes; if the function it targets is renamed, applying it fails loudly
(the row errors, which fails the run).
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any


def _replace(owner: Any, name: str, make: Callable[[Any], Any]) -> None:
    original = getattr(owner, name)  # AttributeError: the target moved; the row must follow it
    setattr(owner, name, make(original))


def _called_from(function_name: str) -> bool:
    """True when the caller of the patched function's caller is ``function_name``
    (used to break one REST route only)."""
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_code.co_name == function_name and "server" in frame.f_code.co_filename:
            return True
        frame = frame.f_back  # type: ignore[assignment]
    return False


# -- scope isolation in each store --------------------------------------------------------


def kuzu_graph_scope_narrowest_part_only() -> None:
    """Kuzu graph lookups keep only the narrowest scope part (agent A of every user)."""
    import hybridmem_kuzu.graph as graph
    from hybridmem.models import Scope

    def make(original: Any) -> Any:
        def scope_match(scope: Scope, *args: Any) -> Any:
            part, value = scope.narrowest()
            return original(Scope(**{part: value}), *args)

        return scope_match

    _replace(graph, "scope_match", make)


def kuzu_vector_scope_narrowest_part_only() -> None:
    """Kuzu vector lookups keep only the narrowest scope part."""
    import hybridmem_kuzu.vector as vector
    from hybridmem.models import Scope

    def make(original: Any) -> Any:
        def scope_match(scope: Scope, *args: Any) -> Any:
            part, value = scope.narrowest()
            return original(Scope(**{part: value}), *args)

        return scope_match

    _replace(vector, "scope_match", make)


def sqlite_vector_scope_narrowest_part_only() -> None:
    """SQLite vector lookups keep only the narrowest scope part (its digest)."""
    import hybridmem_sqlite.vector as vector
    from hybridmem_sqlite._rows import KEY_COLUMN, scope_key

    def make(original: Any) -> Any:
        def where(self: Any, scope: Any) -> tuple[str, list[Any]]:
            original(self, scope)  # keeps the refusal of an empty scope
            part, value = scope.narrowest()
            return f"{KEY_COLUMN[part]} = ?", [scope_key(self._digests, part, value)]

        return where

    _replace(vector.SQLiteVectorStore, "_where", make)


def neo4j_scope_first_part_only() -> None:
    """Neo4j WHERE clauses test the first scope part only."""
    import hybridmem_neo4j.graph as graph
    from hybridmem.models import Scope

    def make(original: Any) -> Any:
        def where(scope: Scope, var: str) -> str:
            parts = scope.parts()
            first = next(iter(parts))
            return str(original(Scope(**{first: parts[first]}), var))

        return where

    _replace(graph, "_where", make)


def neo4j_names_unprefixed() -> None:
    """Neo4j labels and types lose the store's prefix (plain ``Memory``, ``Entity``):
    the store matches another application's nodes and another store's."""
    import hybridmem_neo4j.names as names

    names.Names._quoted = lambda self, suffix: f"`{suffix}`"  # type: ignore[method-assign]


def weaviate_scope_first_part_only() -> None:
    """Weaviate filters on the first scope part only."""
    import hybridmem_weaviate.schema as vector
    from hybridmem.models import Scope

    def make(original: Any) -> Any:
        def scope_filter(scope: Scope) -> Any:
            parts = scope.parts()
            first = next(iter(parts))
            return original(Scope(**{first: parts[first]}))

        return scope_filter

    _replace(vector, "scope_filter", make)


def weaviate_scope_key_folds_case() -> None:
    """Weaviate matches ids case-insensitively (what word tokenization does)."""
    import hybridmem_weaviate.schema as vector

    _replace(vector, "scope_key", lambda original: lambda value: original(value.lower()))


def weaviate_scope_key_trims() -> None:
    """Weaviate matches ids with surrounding white space trimmed (FIELD tokenization)."""
    import hybridmem_weaviate.schema as vector

    _replace(vector, "scope_key", lambda original: lambda value: original(value.strip()))


def journal_erase_scope_too_wide() -> None:
    """History erasure by scope keys on the first part only (the user): other agents'
    and runs' history loses its text too."""
    import hybridmem.journal as journal
    from hybridmem.models import Scope

    def make(original: Any) -> Any:
        def finish(self: Any, op_id: str, counts: Any = None, **kwargs: Any) -> None:
            scope = kwargs.get("erase_scope")
            if scope is not None and len(scope.parts()) > 1:
                first, value = next(iter(scope.parts().items()))
                kwargs["erase_scope"] = Scope(**{first: value})
            original(self, op_id, counts, **kwargs)

        return finish

    _replace(journal.Journal, "finish", make)


# -- bound API keys ---------------------------------------------------------------------


def _narrow_without_fill_in() -> Callable[..., Any]:
    from hybridmem.errors import PermissionDeniedError
    from hybridmem.models import Scope
    from hybridmem.validation import scope_from

    def narrow(self: Any, request: Any, *, fill_empty: bool) -> Scope:
        requested = scope_from(
            request.user_id, request.agent_id, request.run_id, required_message=None
        )
        if self.scope is None:
            return requested
        for name, bound in self.scope.parts().items():
            given = requested.parts().get(name)
            if given is not None and given != bound:
                raise PermissionDeniedError(
                    f"this API key is bound to {name}={bound!r} and cannot reach {name}={given!r}"
                )
        return requested

    return narrow


def narrow_without_fill_in() -> None:
    """Principal.narrow keeps the 403 check but stops filling in the key's bound parts."""
    from hybridmem.server import auth

    auth.Principal.narrow = _narrow_without_fill_in()  # type: ignore[method-assign]


def narrow_query_without_fill_in() -> None:
    """The issue's gap 1: on the query-parameter routes (GET/DELETE /memories,
    /relations) Principal.narrow keeps its 403 check but no longer fills in the
    key's bound parts; request bodies (add, search) are still narrowed."""
    from hybridmem.server import auth

    no_fill = _narrow_without_fill_in()

    def make(original: Any) -> Any:
        @functools.wraps(original)
        def narrow(self: auth.Principal, request: Any, *, fill_empty: bool) -> Any:
            if type(request).__name__ == "ScopeQuery":
                return no_fill(self, request, fill_empty=fill_empty)
            return original(self, request, fill_empty=fill_empty)

        return narrow

    _replace(auth.Principal, "narrow", make)


def narrow_without_conflict_check() -> None:
    """Principal.narrow fills in bound parts but lets a request name another value."""
    from hybridmem.models import Scope
    from hybridmem.server import auth
    from hybridmem.validation import scope_from

    def narrow(self: auth.Principal, request: Any, *, fill_empty: bool) -> Scope:
        requested = scope_from(
            request.user_id, request.agent_id, request.run_id, required_message=None
        )
        if self.scope is None or (requested.is_empty() and not fill_empty):
            return requested
        return Scope(**{**self.scope.parts(), **requested.parts()})

    auth.Principal.narrow = narrow  # type: ignore[method-assign]


def route_forgets_narrow(route: str) -> Callable[[], None]:
    def apply() -> None:
        from hybridmem.server import auth
        from hybridmem.validation import scope_from

        def make(original: Any) -> Any:
            @functools.wraps(original)
            def narrow(self: auth.Principal, request: Any, *, fill_empty: bool) -> Any:
                if _called_from(route):
                    return scope_from(
                        request.user_id, request.agent_id, request.run_id, required_message=None
                    )
                return original(self, request, fill_empty=fill_empty)

            return narrow

        _replace(auth.Principal, "narrow", make)

    apply.__doc__ = f"The {route} route passes the request's scope on without narrowing it."
    return apply


def route_forgets_visibility(route: str) -> Callable[[], None]:
    if route in ("get", "update", "delete", "history"):
        return _route_forgets_callers_scope(route)

    def apply() -> None:
        from hybridmem.server import auth

        def make(original: Any) -> Any:
            @functools.wraps(original)
            def check_visible(self: auth.Principal, record: Any, what: str) -> None:
                if not _called_from(route):
                    original(self, record, what)

            return check_visible

        _replace(auth.Principal, "check_visible", make)

    apply.__doc__ = f"The {route} route shows records outside the key's scope."
    return apply


def _route_forgets_callers_scope(route: str) -> Callable[[], None]:
    """The routes by id hand the key's scope to the store, which checks it under the
    memory's claim: the break drops it on one route."""

    def apply() -> None:
        from hybridmem.models import Scope
        from hybridmem.server.routes import memories

        def make(original: Any) -> Any:
            @functools.wraps(original)
            def caller_scope(principal: Any, query: Any) -> Any:
                return Scope() if _called_from(route) else original(principal, query)

            return caller_scope

        _replace(memories, "caller_scope", make)

    apply.__doc__ = f"The {route} route shows records outside the key's scope."
    return apply


def entities_namespace_unchecked() -> None:
    """GET /entities reads the namespace the request names, or every namespace."""
    from hybridmem.server import auth

    _replace(
        auth.Principal,
        "entity_namespace",
        lambda original: lambda self, user_id: user_id,
    )


# -- orphans ----------------------------------------------------------------------------


def kuzu_delete_keeps_orphan_entities() -> None:
    """Deleting memories leaves the entities only they used."""
    import hybridmem_kuzu.graph as graph

    _replace(graph.KuzuGraphStore, "_delete_orphans", lambda original: lambda self, c: 0)


def kuzu_reconcile_finds_nothing() -> None:
    """Kuzu's orphan-entity and dangling-relation scans count and remove nothing."""
    import hybridmem_kuzu.graph as graph

    store = graph.KuzuGraphStore
    store.count_orphan_entities = lambda self: 0  # type: ignore[method-assign]
    store.delete_orphan_entities = lambda self: 0  # type: ignore[method-assign]
    store.count_dangling_relations = lambda self, protected: 0  # type: ignore[method-assign]
    store.delete_dangling_relations = lambda self, protected: 0  # type: ignore[method-assign]


def kuzu_reconcile_counts_but_keeps() -> None:
    """Kuzu's delete_* of reconcile report what they would remove and remove nothing."""
    import hybridmem_kuzu.graph as graph

    store = graph.KuzuGraphStore
    store.delete_orphan_entities = store.count_orphan_entities  # type: ignore[method-assign]
    store.delete_dangling_relations = store.count_dangling_relations  # type: ignore[method-assign]


def reconcile_skips_orphan_vectors() -> None:
    """reconcile() never looks at vectors without a memory node."""
    from hybridmem.operations import reconcile

    def make(original: Any) -> Any:
        def scan(ctx: Any, op_id: str | None) -> Any:
            real = ctx.vector.iter_ids
            ctx.vector.iter_ids = lambda batch_size: iter(())
            try:
                return original(ctx, op_id)
            finally:
                ctx.vector.iter_ids = real

        return scan

    _replace(reconcile, "scan", make)


def delete_all_skips_vector_sweep() -> None:
    """delete_all never sweeps the scope's vectors that have no memory node."""
    from hybridmem.operations import erase

    def make(original: Any) -> Any:
        def run(ctx: Any, *args: Any, **kwargs: Any) -> Any:
            real = ctx.vector.delete_scope
            ctx.vector.delete_scope = lambda scope, batch_size: 0
            try:
                return original(ctx, *args, **kwargs)
            finally:
                ctx.vector.delete_scope = real

        return run

    _replace(erase, "erase_scope", make)


# -- history ----------------------------------------------------------------------------


def journal_erase_ids_noop() -> None:
    """Erasing one memory leaves its text in history."""
    import hybridmem.journal as journal

    journal.Journal._erase = staticmethod(lambda db, op_id, memory_ids: None)  # type: ignore[method-assign]


def journal_finish_ignores_erase_scope() -> None:
    """Journal.finish drops erase_scope: delete_all erases history text only batch by batch."""
    import hybridmem.journal as journal

    def make(original: Any) -> Any:
        def finish(self: Any, op_id: str, counts: Any = None, **kwargs: Any) -> None:
            kwargs.pop("erase_scope", None)
            original(self, op_id, counts, **kwargs)

        return finish

    _replace(journal.Journal, "finish", make)


def journal_finish_ignores_erase_everything() -> None:
    """reset() keeps the history text of everything it wiped."""
    import hybridmem.journal as journal

    def make(original: Any) -> Any:
        def finish(self: Any, op_id: str, counts: Any = None, **kwargs: Any) -> None:
            kwargs["erase_everything"] = False
            original(self, op_id, counts, **kwargs)

        return finish

    _replace(journal.Journal, "finish", make)


# -- crash recovery ---------------------------------------------------------------------


def recovery_restarts_the_tally() -> None:
    """A resumed delete_all forgets the counts its checkpoints recorded."""
    from hybridmem import plan

    plan.DeletionTally.from_counts = classmethod(  # type: ignore[method-assign, assignment]
        lambda cls, counts: cls()
    )


def delete_all_batch_not_noted() -> None:
    """delete_all no longer notes a batch's ids before erasing them (today's main before
    this branch): a crash between a batch's store steps and its checkpoint loses its
    count and its DELETE events."""
    import hybridmem.journal as journal

    journal.Journal.note_batch = lambda self, op_id, memory_ids, *scopes: None  # type: ignore[method-assign]


def checkpoint_without_events() -> None:
    """delete_all checkpoints record counts but no DELETE events."""
    import hybridmem.journal as journal

    def make(original: Any) -> Any:
        def checkpoint(self: Any, op_id: str, counts: Any, **kwargs: Any) -> None:
            kwargs["events"] = [e for e in kwargs.get("events", ()) if e.kind != "DELETE"]
            original(self, op_id, counts, **kwargs)

        return checkpoint

    _replace(journal.Journal, "checkpoint", make)


def recover_completes_adds() -> None:
    """recover() keeps an interrupted add's half (vector without node) instead of rolling back."""
    from hybridmem.operations import add

    def make(original: Any) -> Any:
        def roll_back(ctx: Any, op_id: str, memory_id: str) -> None:
            ctx.journal.finish(op_id, {"rolled_back": 1})

        return roll_back

    _replace(add, "roll_back", make)


def rollback_keeps_graph() -> None:
    """Rolling back an add removes its vector but leaves its memory node and entities."""
    from hybridmem.operations import add

    def make(original: Any) -> Any:
        def roll_back(ctx: Any, op_id: str, memory_id: str) -> None:
            ctx.vector.delete([memory_id])
            ctx.journal.finish(op_id, {"rolled_back": 1})

        return roll_back

    _replace(add, "roll_back", make)


def recover_skips_pending() -> None:
    """Opening a store no longer finishes pending operations (recover() finds nothing)."""
    import hybridmem.journal as journal

    journal.Journal.pending = lambda self: []  # type: ignore[method-assign]


# -- guards and idempotence -------------------------------------------------------------


def no_filter_guard_off() -> None:
    """delete_all with no filter is no longer refused up front."""
    import hybridmem.store as store

    def make(original: Any) -> Any:
        def scope_from(*args: Any, required_message: str | None = "x", **kwargs: Any) -> Any:
            if required_message == store.NO_FILTER_MESSAGE:
                required_message = None
            return original(*args, required_message=required_message, **kwargs)

        return scope_from

    _replace(store, "scope_from", make)


def kuzu_vector_delete_not_idempotent() -> None:
    """Deleting a vector id that is already gone is an error (so a repeated step fails)."""
    import hybridmem_kuzu.vector as vector
    from hybridmem.errors import StoreError

    def make(original: Any) -> Any:
        def delete(self: Any, ids: Any) -> int:
            removed = int(original(self, ids))
            if removed != len(set(ids)):
                raise StoreError("vector store", "-", f"{len(ids) - removed} ids not found")
            return removed

        return delete

    _replace(vector.KuzuVectorStore, "delete", make)


def kuzu_batch_takes_stored_memories_for_new() -> None:
    """A batch write takes every memory for new, so the edges of one already
    stored are CREATEd again instead of MERGEd (duplicate mentions, relations
    and scope links)."""
    import hybridmem_kuzu._database as database

    def make(original: Any) -> Any:
        def existing(self: Any, table: str, key: str, values: Any) -> set[str]:
            return set() if table in ("Memory", "Vec") else set(original(self, table, key, values))

        return existing

    _replace(database.KuzuDatabase, "existing", make)


def kuzu_graph_merge_becomes_create() -> None:
    """Writing a memory graph again duplicates its relations (a CREATE where a MERGE
    should be), so a repeated step is not a no-op."""
    import hybridmem_kuzu.graph as graph

    def make(original: Any) -> Any:
        def add_memories(self: Any, memories: Any, **options: Any) -> None:
            again = self.existing_memory_ids([m.node.id for m in memories]) if memories else set()
            original(self, memories, **options)
            for item in memories:
                if item.node.id not in again:
                    continue
                for rel in item.relations:
                    self._db.rows(
                        "MATCH (a:Entity {id: $s}), (b:Entity {id: $t})"
                        " CREATE (a)-[:RELATES {id: $id, type: $type, memory_id: $m,"
                        " user_id: $u, created_at: $c}]->(b)",
                        {
                            "s": rel.source_id,
                            "t": rel.target_id,
                            "id": rel.id + "-again",
                            "type": rel.type,
                            "m": rel.memory_id,
                            "u": rel.user_id,
                            "c": rel.created_at.isoformat(),
                        },
                    )

        return add_memories

    _replace(graph.KuzuGraphStore, "add_memories", make)


# -- finality (issue 10) ----------------------------------------------------------------


def update_reads_before_its_claim() -> None:
    """update reads the memory before it claims the scope and writes what it read
    without looking again: an update racing an erasure brings the memory back."""
    import threading

    from hybridmem.operations import update

    stale = threading.local()

    def make(original: Any) -> Any:
        def run(ctx: Any, memory_id: str, scope: Any, change: Any, **kwargs: Any) -> Any:
            vector = ctx.vector
            if not getattr(vector, "_mutant_stale_reads", False):
                real_get = vector.get

                def get(ids: Any) -> Any:
                    found = getattr(stale, "found", None)
                    return found if found is not None else real_get(ids)

                vector.get = get
                vector._mutant_stale_reads = True
            stale.found = None
            stale.found = vector.get([memory_id])  # before the claim
            try:
                # Under the claim, the re-read returns what was read before it.
                return original(ctx, memory_id, scope, change, **kwargs)
            finally:
                stale.found = None

        return run

    _replace(update, "run", make)


def scope_claims_ignored() -> None:
    """Record claims no longer wait for an erasure of their scope (or it for them)."""
    import contextlib

    from hybridmem import scope_locks

    scope_locks.ScopeLocks.records = (  # type: ignore[method-assign]
        lambda self, scope, memory_id=None: contextlib.nullcontext()
    )


def unknown_query_parameters_ignored() -> None:
    """REST routes ignore query parameters they do not take (``dryrun=true`` erases)."""
    from hybridmem.server import guards

    # The router holds the function object itself: change what it does, not the name.
    guards.known_parameters.__code__ = (lambda request: None).__code__


def kuzu_filters_ignored() -> None:
    """Kuzu's vector store drops the filters it is given: every record of the scope matches."""
    import hybridmem_kuzu.vector as vector

    store = vector.KuzuVectorStore
    original = store._filtered
    store._filtered = lambda self, scope, filters: original(self, scope, None)  # type: ignore[method-assign]
    # Searches of a cached scope filter its kept rows instead.
    _replace(vector, "_cached_row_matches", lambda original: lambda filters, fields: True)


def kuzu_entity_lookup_any_namespace() -> None:
    """Kuzu's entity reads forget the user's namespace: a name is looked up among every
    user's entities, and the memories mentioning them are not narrowed to the user."""
    import hybridmem_kuzu._graph_reads as reads
    from hybridmem.records import EntityRecord, normalise_name

    def find_entities(self: Any, user_id: str, names: Any) -> list[EntityRecord]:
        wanted = {normalise_name(name) for name in names}
        rows = self._db.rows("MATCH (e:Entity) RETURN e.id, e.name, e.type, e.user_id", {})
        return [
            EntityRecord(row[0], row[1], row[2], row[3])
            for row in rows
            if normalise_name(row[1]) in wanted
        ]

    def mentioning_memory_ids(
        self: Any, entity_ids: Any, scope: Any, limit: int, offset: int = 0
    ) -> list[tuple[str, int]]:
        rows = self._db.each(
            "MATCH (e:Entity {id: x.id})<-[:MENTIONS]-(m:Memory) RETURN m.id, e.id, m.created_at",
            [{"id": i} for i in dict.fromkeys(entity_ids)],
            "Entity",
        )
        rows.sort(key=lambda row: (row[2], row[0]), reverse=True)
        return [(row[0], 1) for row in rows[offset : offset + limit]]

    reads.KuzuGraphReads.find_entities = find_entities  # type: ignore[method-assign]
    reads.KuzuGraphReads.mentioning_memory_ids = mentioning_memory_ids  # type: ignore[method-assign]


def mcp_unknown_arguments_ignored() -> None:
    """MCP tools drop arguments they do not take (``agnt_id`` widens an erasure)."""
    from hybridmem import mcp_server

    def memory_tool(self: Any, fn: Any) -> Any:
        return self.tool(structured_output=True)(fn)

    mcp_server._MemoryServer.memory_tool = memory_tool  # type: ignore[method-assign]


# -- the Kuzu search cache (issue 11) -----------------------------------------------------


def kuzu_search_cache_keeps_deleted_rows() -> None:
    """The Kuzu search cache is not told of deletes: a deleted memory is still found."""
    from hybridmem_kuzu import _search_cache

    _replace(_search_cache.SearchCache, "deleted", lambda original: lambda *args: None)


def kuzu_search_cache_misses_writes() -> None:
    """The Kuzu search cache is not told of upserts: new and replaced memories go unseen."""
    from hybridmem_kuzu import _search_cache

    _replace(_search_cache.SearchCache, "written", lambda original: lambda *args: None)


# -- add_many (issue 13) -----------------------------------------------------------------


def batch_rollback_keeps_records() -> None:
    """recover() closes an interrupted add_many batch without removing what it wrote."""
    from hybridmem.operations import add_many

    def make(original: Any) -> Any:
        def roll_back(ctx: Any, op_id: str, ids: Any) -> None:
            ctx.journal.finish(op_id, {"rolled_back": len(ids)})

        return roll_back

    _replace(add_many, "roll_back", make)


def batch_claims_ignored() -> None:
    """add_many no longer claims its batch: an erasure of its scope runs beside it."""
    import contextlib

    from hybridmem import scope_locks

    scope_locks.ScopeLocks.batch = (  # type: ignore[method-assign]
        lambda self, items: contextlib.nullcontext()
    )


def reconcile_ignores_pending_batches() -> None:
    """reconcile takes a pending batch's half-written records for orphans."""
    from hybridmem import journal

    _replace(journal.Journal, "pending_added_ids", lambda original: lambda self: set())


def add_many_rewrites_stored_ids() -> None:
    """add_many writes every item again, even one stored already as given: an import
    run twice journals every memory twice."""
    from hybridmem.operations import add_many

    def make(original: Any) -> Any:
        return lambda ctx, batch: list(batch)

    _replace(add_many, "not_yet_stored", make)


# -- expiry ---------------------------------------------------------------------------------


def kuzu_reads_show_expired() -> None:
    """Kuzu vector reads forget the alive filter: expired memories are searched and listed."""
    from dataclasses import replace

    from hybridmem_kuzu.vector import KuzuVectorStore

    def strip(original: Any) -> Any:
        @functools.wraps(original)
        def without_alive(self: Any, *args: Any, **kwargs: Any) -> Any:
            args = tuple(replace(a, alive_at=None) if _is_filters(a) else a for a in args)
            kwargs = {
                k: replace(v, alive_at=None) if _is_filters(v) else v for k, v in kwargs.items()
            }
            return original(self, *args, **kwargs)

        return without_alive

    _replace(KuzuVectorStore, "_filtered", strip)
    _replace(KuzuVectorStore, "_search_cached", strip)


def _is_filters(value: Any) -> bool:
    from hybridmem.filters import Filters

    return isinstance(value, Filters)


def purge_trusts_the_index() -> None:
    """purge_expired erases every due index row without checking, under its claim,
    that the memory still expires then (a renewed memory is erased)."""
    from hybridmem.operations import purge

    def make(original: Any) -> Any:
        def due(ctx: Any, rows: Any, at: Any) -> Any:
            return list(rows), [], []

        return due

    _replace(purge, "due", make)


def purge_skips_claims() -> None:
    """purge_expired reads and erases its batches without claiming them first."""
    from contextlib import nullcontext

    from hybridmem.operations import purge

    def make(original: Any) -> Any:
        def run(ctx: Any, *args: Any, **kwargs: Any) -> Any:
            real = ctx.locks.batch
            ctx.locks.batch = lambda items: nullcontext()
            try:
                return original(ctx, *args, **kwargs)
            finally:
                ctx.locks.batch = real

        return run

    _replace(purge, "purge", make)


# -- Weaviate multi-tenancy ---------------------------------------------------------------


def weaviate_tenant_drop_keeps_directory() -> None:
    """Dropping a user's tenant leaves the directory entries that name the user."""
    import hybridmem_weaviate.tenancy as tenancy

    _replace(
        tenancy.WeaviateTenantVectorStore,
        "_unplace_tenant",
        lambda original: lambda self, tenant: None,
    )


def weaviate_tenant_move_keeps_old_copy() -> None:
    """A record written again under another user leaves its old copy in the old
    user's tenant, where no id lookup reaches it any more."""
    import hybridmem_weaviate.tenancy as tenancy

    def make(original: Any) -> Any:
        def placed(self: Any, ids: Any) -> dict[str, str]:
            return {}

        return placed

    _replace(tenancy.WeaviateTenantVectorStore, "_placed_before_write", make)


def weaviate_tenant_drop_widens_scope() -> None:
    """delete_all(user_id=…, agent_id=…) drops the user's whole tenant."""
    import hybridmem_weaviate.tenancy as tenancy
    from hybridmem.models import Scope

    def make(original: Any) -> Any:
        def drop_scope(self: Any, scope: Any) -> Any:
            return original(self, Scope(user_id=scope.user_id) if scope.user_id else scope)

        return drop_scope

    _replace(tenancy.WeaviateTenantVectorStore, "drop_scope", make)
