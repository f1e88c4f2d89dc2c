"""The breaks of finality, the Kuzu search cache, add_many, expiry and Weaviate
multi-tenancy. Applied like ``breaks`` (by name; see its docstring)."""

from __future__ import annotations

import functools
from typing import Any

from tests.mutants.breaks import _replace

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
