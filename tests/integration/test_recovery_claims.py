"""recover() runs each pending operation under the claim the operation itself took:
what recover() holds decides which other operations go ahead and which wait.

Each test leaves one operation pending (a crash at its first step), then pauses
recover() inside it (at a fault point, so with its claim held) and sends probe
operations from other threads. Whether a probe's claim is admitted or made to
wait is read off ``ScopeLocks`` when the probe first asks, so no test relies on
a sleep; timeouts only guard against a hang.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from hybridmem import HybridStore
from hybridmem.faults import InjectedFault
from hybridmem.ids import scoped_id
from hybridmem.models import RecoveredOperation, Scope
from hybridmem.scope_locks import ScopeLocks
from hybridmem.testing.builders import embedding
from tests.conftest import PairConfig

#: Guards against a hang; never reached when the code is right.
GUARD = 10.0

#: Where the crash leaves the operation pending, and where recover() is paused in it.
CRASH_AND_PAUSE = {
    "add": ("add.vector_written", "add.rollback.vector_deleted"),
    "update": ("update.journaled", "update.vector_written"),
    "delete": ("delete.journaled", "delete.vector_deleted"),
    "delete_all": ("delete_all.journaled", "delete_all.counted"),
    "reset": ("reset.journaled", "reset.vector_reset"),
    "reconcile": ("reconcile.journaled", "reconcile.relations_fixed"),
}

#: The probes: what each tries while recover() is paused in the operation on
#: memory "m" of user "u" (or on all of user "u" for delete_all).
PROBES = (
    "same memory",
    "another memory of the scope",
    "add into the scope",
    "add into another scope",
    "erase the scope",
    "erase another scope",
)


class _Hook:
    """Crashes one operation at ``crash_at``; pauses the thread named ``pause_in``
    (the recover thread unless told) at ``pause_at``."""

    def __init__(self) -> None:
        self.crash_at: str | None = None
        self.pause_at: str | None = None
        self.pause_in = "recover"
        self.paused = threading.Event()
        self.release = threading.Event()

    def __call__(self, point: str) -> None:
        if point == self.crash_at:
            self.crash_at = None
            raise InjectedFault(point)
        if point == self.pause_at and threading.current_thread().name == self.pause_in:
            self.paused.set()
            self.release.wait(timeout=GUARD)


class _FirstAnswers:
    """What ScopeLocks answered each thread the first time its claim asked to go:
    True (admitted at once), False (made to wait) or the error it raised."""

    def __init__(self, locks: ScopeLocks, monkeypatch: pytest.MonkeyPatch) -> None:
        self.first: dict[str, bool | str] = {}
        self._cond = threading.Condition()
        # With a shared journal the claims are leases whose in-process half is `local`.
        locks = getattr(locks, "local", locks)
        original = locks._admissible

        def admissible(claim: Any) -> bool:
            try:
                answer: bool | str = original(claim)
            except Exception as exc:
                answer = f"error: {exc!r}"
                self._note(answer)
                raise
            self._note(answer)
            return bool(answer)

        monkeypatch.setattr(locks, "_admissible", admissible)

    def _note(self, answer: bool | str) -> None:
        with self._cond:
            self.first.setdefault(threading.current_thread().name, answer)
            self._cond.notify_all()

    def waits(self, name: str) -> bool | str:
        with self._cond:
            assert self._cond.wait_for(lambda: name in self.first, timeout=GUARD), name
            answer = self.first[name]
        return answer if isinstance(answer, str) else not answer


def _start(
    name: str, action: Callable[[], object], errors: list[BaseException]
) -> threading.Thread:
    def run() -> None:
        try:
            action()
        except BaseException as exc:  # reported by the test
            errors.append(exc)

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    return thread


@contextmanager
def _store(pair_config: PairConfig, tmp_path: Path) -> Iterator[tuple[HybridStore, _Hook]]:
    hook = _Hook()
    config = {**pair_config(tmp_path / "d"), "recover_on_open": False}
    with HybridStore(config, fault_hook=hook) as store:
        yield store, hook


def _leave_pending(store: HybridStore, hook: _Hook, kind: str) -> dict[str, str]:
    """Memories m, m2 of user u and o of user v; one ``kind`` operation left pending."""
    ids = {
        "m2": store.add("m2", embedding=embedding("m2"), user_id="u").id,
        "o": store.add("o", embedding=embedding("o"), user_id="v").id,
    }
    hook.crash_at, hook.pause_at = CRASH_AND_PAUSE[kind]
    if kind != "add":
        ids["m"] = store.add("m", embedding=embedding("m"), user_id="u").id
    with pytest.raises(InjectedFault):
        if kind == "add":
            store.add("m", embedding=embedding("m"), user_id="u")
        elif kind == "update":
            store.update(ids["m"], text="m changed")
        elif kind == "delete":
            store.delete(ids["m"])
        elif kind == "delete_all":
            store.delete_all(user_id="u")
        elif kind == "reset":
            store.reset()
        else:
            store.reconcile(fix=True)
    [pending] = store.journal.pending()
    assert pending.kind == kind
    if kind == "add":
        assert pending.memory_id is not None
        ids["m"] = pending.memory_id
    return ids


def _claims_while_recovering(
    store: HybridStore, hook: _Hook, kind: str, monkeypatch: pytest.MonkeyPatch
) -> dict[str, bool | str]:
    """For each probe: does it wait while recover() is inside the pending ``kind``?
    Also checks that a second recover() skips the operation the first is running."""
    ids = _leave_pending(store, hook, kind)
    [pending] = store.journal.pending()
    answers = _FirstAnswers(store._coordinator.locks, monkeypatch)
    errors: list[BaseException] = []
    recovered: list[RecoveredOperation] = []
    recover = _start("recover", lambda: recovered.extend(store.recover()), errors)
    threads = [recover]
    try:
        assert hook.paused.wait(timeout=GUARD), "recover() reached the pause point"
        # In flight in this process: another recover() leaves it alone, at once.
        assert store.recover() == [], "a second recover() skips the running operation"
        probes: dict[str, Callable[[], object]] = {
            "same memory": lambda: store.delete(ids["m"]),
            "another memory of the scope": lambda: store.delete(ids["m2"]),
            "add into the scope": lambda: store.add("new", embedding=embedding("n"), user_id="u"),
            "add into another scope": lambda: store.add(
                "new", embedding=embedding("n"), user_id="v"
            ),
            "erase the scope": lambda: store.delete_all(user_id="u"),
            "erase another scope": lambda: store.delete_all(user_id="v"),
        }
        waits: dict[str, bool | str] = {}
        for name in PROBES:
            # One at a time, each admitted one run to its end: a claim waiting or
            # held by a probe would make a later conflicting probe wait too.
            thread = _start(name, probes[name], errors)
            threads.append(thread)
            waits[name] = answers.waits(name)
            if waits[name] is False:
                thread.join(timeout=GUARD)
                assert not thread.is_alive(), f"{name}: admitted, it runs to its end"
    finally:
        hook.release.set()
        for thread in threads:
            thread.join(timeout=GUARD)
    assert not any(thread.is_alive() for thread in threads), "every probe ran in the end"
    assert errors == []
    assert [r.operation_id for r in recovered] == [pending.id]
    assert store.journal.pending() == []
    return waits


@pytest.mark.parametrize("kind", ["add", "update", "delete"])
def test_recovering_one_memorys_operation_blocks_that_memory_and_not_another(
    pair_config: PairConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    with _store(pair_config, tmp_path) as (store, hook):
        assert _claims_while_recovering(store, hook, kind, monkeypatch) == {
            "same memory": True,
            "another memory of the scope": False,
            "add into the scope": False,
            "add into another scope": False,
            "erase the scope": True,
            "erase another scope": False,
        }


def test_recovering_a_delete_all_blocks_writes_into_its_scope_and_not_another(
    pair_config: PairConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Else an add racing the resumed erasure could outlive it: erasure is final.
    with _store(pair_config, tmp_path) as (store, hook):
        assert _claims_while_recovering(store, hook, "delete_all", monkeypatch) == {
            "same memory": True,
            "another memory of the scope": True,
            "add into the scope": True,
            "add into another scope": False,
            "erase the scope": True,
            "erase another scope": False,
        }


@pytest.mark.parametrize("kind", ["reset", "reconcile"])
def test_recovering_a_reset_or_reconcile_blocks_everything(
    pair_config: PairConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    with _store(pair_config, tmp_path) as (store, hook):
        assert _claims_while_recovering(store, hook, kind, monkeypatch) == dict.fromkeys(
            PROBES, True
        )


def test_two_recovers_waiting_for_one_claim_finish_the_operation_once(
    pair_config: PairConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Both read the operation as pending while a delete of its memory held the
    # claim; the second to get the claim finds it done and leaves it alone.
    with _store(pair_config, tmp_path) as (store, hook):
        ids = _leave_pending(store, hook, "delete")
        [pending] = store.journal.pending()
        answers = _FirstAnswers(store._coordinator.locks, monkeypatch)
        errors: list[BaseException] = []
        results: dict[str, list[RecoveredOperation]] = {}
        threads = []
        with store._coordinator.locks.records(Scope(user_id="u"), ids["m"]):
            for name in ("first", "second"):

                def recover(name: str = name) -> None:
                    results[name] = store.recover()

                threads.append(_start(name, recover, errors))
                assert answers.waits(name) is True, f"the {name} recover() waits for the claim"
        for thread in threads:
            thread.join(timeout=GUARD)
        assert errors == []
        assert [r.operation_id for r in results["first"]] == [pending.id]
        assert results["second"] == [], "the operation was finished once, by the first"
        assert [e.kind for e in store.history(ids["m"])] == ["ADD", "DELETE"]


def test_a_delete_of_an_id_being_added_waits_for_the_add(
    pair_config: PairConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # add claims the memory's id, not only its scope: a delete of that id in
    # between the add's two writes would leave the node without its vector.
    memory_id = scoped_id(Scope(user_id="u"), "6f1c0b7e-3f0a-4d52-9a47-8c2d1e5b9a10")
    with _store(pair_config, tmp_path) as (store, hook):
        hook.pause_at, hook.pause_in = "add.vector_written", "add"
        answers = _FirstAnswers(store._coordinator.locks, monkeypatch)
        errors: list[BaseException] = []
        add = _start(
            "add",
            lambda: store.add("m", embedding=embedding("m"), user_id="u", memory_id=memory_id),
            errors,
        )
        threads = [add]
        try:
            assert hook.paused.wait(timeout=GUARD), "the add reached its pause point"
            threads.append(_start("delete", lambda: store.delete(memory_id), errors))
            assert answers.waits("delete") is True, "the delete waits for the add"
        finally:
            hook.release.set()
            for thread in threads:
                thread.join(timeout=GUARD)
        assert errors == []
        assert [e.kind for e in store.history(memory_id)] == ["ADD", "DELETE"]
        assert store._coordinator.vector.get([memory_id]) == []
        assert store._coordinator.graph.get_memory_node(memory_id) is None


def test_a_second_recover_skips_the_running_operation_and_finishes_the_rest(
    pair_config: PairConfig, tmp_path: Path
) -> None:
    with _store(pair_config, tmp_path) as (store, hook):
        ids = _leave_pending(store, hook, "delete")
        [running] = store.journal.pending()
        hook.crash_at = "delete.journaled"
        with pytest.raises(InjectedFault):
            store.delete(ids["o"])
        [_, rest] = store.journal.pending()
        errors: list[BaseException] = []
        first: list[RecoveredOperation] = []
        thread = _start("recover", lambda: first.extend(store.recover()), errors)
        try:
            assert hook.paused.wait(timeout=GUARD), "recover() reached the pause point"
            second = store.recover()
        finally:
            hook.release.set()
            thread.join(timeout=GUARD)
        assert errors == []
        assert [r.operation_id for r in second] == [rest.id], "the running one skipped"
        assert [r.operation_id for r in first] == [running.id], "the rest was done already"
        assert store.journal.pending() == []
        assert [e.kind for e in store.history(ids["o"])] == ["ADD", "DELETE"]
