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
    from hybridmem import coordinator
    from hybridmem.models import Scope

    def make(original: Any) -> Any:
        def update(self: Any, memory_id: str, scope: Any, change: Any, **_: Any) -> Any:
            return original(self, memory_id, scope, change, within=Scope())

        return update

    _replace(coordinator.Coordinator, "update", make)


def delete_ignores_the_callers_scope() -> None:
    """delete() erases a memory outside the caller's scope."""
    from hybridmem import coordinator
    from hybridmem.models import Scope

    def make(original: Any) -> Any:
        def delete(self: Any, memory_id: str, scope: Any, **_: Any) -> Any:
            return original(self, memory_id, scope, within=Scope())

        return delete

    _replace(coordinator.Coordinator, "delete", make)


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
