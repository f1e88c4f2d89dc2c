"""The breaks of orphans, history, crash recovery, guards and idempotence.
Applied like ``breaks`` (by name; see its docstring)."""

from __future__ import annotations

from typing import Any

from tests.mutants.breaks import _replace

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
