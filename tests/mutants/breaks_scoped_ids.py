"""Breaks of issue 25's guarantees: ids belong to their scope, scope checked under the
claim, no operation keeps the store shut. Applied like ``breaks`` (by name)."""

from __future__ import annotations

from typing import Any

from tests.mutants.breaks import _replace


def chosen_ids_shared_across_scopes() -> None:
    """A caller's memory_id is stored as given: one id namespace across scopes again."""
    from hybridmem import bulk

    _replace(bulk, "chosen_id", lambda original: lambda scope, memory_id: memory_id)


def update_ignores_the_callers_scope() -> None:
    """update() checks the caller's scope before the claim only (as the REST route did)."""
    from hybridmem.models import Scope
    from hybridmem.operations import update

    def make(original: Any) -> Any:
        def run(ctx: Any, memory_id: str, scope: Any, change: Any, **_: Any) -> Any:
            return original(ctx, memory_id, scope, change, within=Scope())

        return run

    _replace(update, "run", make)


def delete_ignores_the_callers_scope() -> None:
    """delete() erases a memory outside the caller's scope."""
    from hybridmem.models import Scope
    from hybridmem.operations import delete

    def make(original: Any) -> Any:
        def run(ctx: Any, memory_id: str, scope: Any, **_: Any) -> Any:
            return original(ctx, memory_id, scope, within=Scope())

        return run

    _replace(delete, "run", make)


def get_ignores_the_callers_scope() -> None:
    """get() returns a memory of another scope to a scoped caller."""
    from hybridmem import store

    def make(original: Any) -> Any:
        def get(self: Any, memory_id: str, **_: Any) -> Any:
            return original(self, memory_id)

        return get

    _replace(store.HybridStore, "get", make)


def recover_stops_at_a_failing_operation() -> None:
    """recover() lets any operation's failure escape: one bad operation keeps the store shut."""
    from hybridmem import journal

    def make(original: Any) -> Any:
        def failed(self: Any, op_id: str, error: str) -> bool:
            raise RuntimeError(f"recovery of {op_id} failed: {error}")

        return failed

    _replace(journal.Journal, "recovery_failed", make)


def _replace_everywhere(owner: Any, name: str, make: Any) -> None:
    """``_replace`` in ``owner`` and in every loaded module that imported the same
    object by name (``from x import name``), so the break reaches every caller."""
    import sys

    original = getattr(owner, name)
    replacement = make(original)
    for module in list(sys.modules.values()):
        if module is not None and getattr(module, name, None) is original:
            setattr(module, name, replacement)
    setattr(owner, name, replacement)


# -- timestamps and records that cannot block the store (issue 25) ------------------------


def timestamps_any_year() -> None:
    """The timestamp rule's range is gone: year 999 (and its unreadable text) gets in."""
    from datetime import UTC, datetime

    from hybridmem import validation

    validation.EARLIEST_INSTANT = datetime(1, 1, 2, tzinfo=UTC)


def ttl_without_minimum() -> None:
    """A ttl of 1e-7 s is accepted: the memory is born expired."""
    from datetime import timedelta

    from hybridmem import validation

    validation.MIN_TTL = timedelta(microseconds=0)


def one_bad_row_fails_every_read() -> None:
    """Rows are decoded all or nothing again: one damaged record fails reads of the others."""
    import hybridmem.records as records
    import hybridmem_kuzu.vector  # noqa: F401 - loaded so its imported name is patched too

    def make(original: Any) -> Any:
        def decode_all(store: str, rows: Any, decode: Any, row_id: Any) -> list[Any]:
            return [decode(row) for row in rows]

        return decode_all

    _replace_everywhere(records, "decode_rows", make)


def import_writes_before_checking() -> None:
    """import no longer checks the whole file first: a truncated file's batches stay."""
    from hybridmem import portability

    _replace_everywhere(portability, "check_export", lambda original: lambda lines: 0)


# -- graph reads (issue 25) -------------------------------------------------------------


def graph_context_ignores_the_callers_scope() -> None:
    """Search's graph context takes every edge of the hit's user: other runs' leak in."""
    from hybridmem import reads
    from hybridmem.models import Scope

    def make(original: Any) -> Any:
        def hit_context(graph: Any, memories: Any, scope: Any, expired: Any) -> Any:
            return original(graph, memories, Scope(), expired)

        return hit_context

    _replace(reads, "hit_context", make)


def graph_reads_show_expired() -> None:
    """Graph reads take no account of expiry: expired memories' relations come back."""
    from hybridmem import reads

    _replace(reads.GraphReads, "expired", lambda original: lambda self, ids: set())


def entity_reads_capped() -> None:
    """get_all(entity=) reads one page of the newest 10,000 ids and filters after it."""
    from hybridmem import reads

    def make(original: Any) -> Any:
        def capped(
            graph: Any, entity_ids: Any, scope: Any, want: Any, eligible: Any, skip: Any = ()
        ) -> Any:
            from hybridmem.models import Scope

            batch = graph.mentioning_memory_ids(entity_ids, Scope(user_id=scope.user_id), 10_000)
            kept = eligible([m for m, _ in batch])
            found = [(m, n) for m, n in batch if m in kept and m not in skip]
            return found if want is None else found[:want]

        return capped

    _replace(reads, "eligible_mentioning", make)


# -- the LangChain VectorStore (issue 26) -------------------------------------------------


def langchain_store_reads_every_memory_of_its_scope() -> None:
    """A VectorStore returns memories it did not write: their ids do not round-trip."""
    from langchain_hybridmem import vectorstores

    def make(original: Any) -> Any:
        def unfiltered(self: Any, filter: Any) -> Any:
            return dict(filter) if filter else None

        return unfiltered

    _replace(vectorstores.HybridMemVectorStore, "_filters", make)
