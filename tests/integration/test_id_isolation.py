"""Ids belong to their scope: no answer tells another scope's id from an unknown one.

A chosen id is a name within its scope, so a scope can neither take another's id
nor learn that it exists; and by-id calls made on behalf of a scope (the
``user_id`` / ``agent_id`` / ``run_id`` of get, update, delete, history) treat a
memory outside it exactly as an unknown id, checked under the memory's claim.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

import pytest

from hybridmem import HybridStore, NotFoundError
from hybridmem.ids import belongs_to, chosen_id, new_id, scoped_id
from hybridmem.models import NO_OPERATION, Scope
from tests.integration import raw

CHOSEN = "5b0f8c1e-3f4a-4c55-9d7e-2a6b1c0d9e8f"
UNKNOWN = str(uuid.UUID("7d3c2b1a-0f9e-4d8c-8b7a-6a5f4e3d2c1b"))
ALICE, BOB = Scope(user_id="alice"), Scope(user_id="bob")


def _answers(store: HybridStore, memory_id: str, caller: dict[str, str]) -> dict[str, Any]:
    """Every by-id answer the caller gets for ``memory_id``, with the id blanked."""
    answers: dict[str, Any] = {"get": store.get(memory_id, **caller)}
    try:
        store.update(memory_id, text="overwritten", **caller)
        answers["update"] = "updated"
    except NotFoundError as exc:
        answers["update"] = str(exc).replace(memory_id, "ID")
    result = store.delete(memory_id, **caller)
    answers["delete"] = (result.operation_id, result.scope, result["memories"], result.vectors)
    answers["history"] = store.history(memory_id, **caller)
    return answers


def test_another_scopes_id_answers_as_an_unknown_one(store: HybridStore) -> None:
    alice = store.add("alice's secret", embedding=[1.0, 0.0], user_id="alice")
    before = store.get(alice.id)
    as_bob = {"user_id": "bob"}
    assert (
        _answers(store, alice.id, as_bob)
        == _answers(store, UNKNOWN, as_bob)
        == {
            "get": None,
            "update": "memory ID not found",
            "delete": (NO_OPERATION, BOB, 0, 0),
            "history": [],
        }
    )
    # Nothing of alice's changed, and no operation was journaled for bob's calls.
    assert store.get(alice.id) == before
    assert [e.kind for e in store.history(alice.id)] == ["ADD"]
    assert store.journal.pending() == []
    # Her own scope (or none: a trusted in-process caller) reaches it.
    assert store.get(alice.id, user_id="alice") == before
    assert store.update(alice.id, text="alice's note", user_id="alice").text == "alice's note"


def test_a_narrower_scope_of_the_same_user_is_another_scope(store: HybridStore) -> None:
    run_one = store.add("run one", embedding=[1.0, 0.0], user_id="alice", run_id="r1")
    caller = {"user_id": "alice", "run_id": "r2"}
    assert _answers(store, run_one.id, caller) == _answers(store, UNKNOWN, caller)
    assert store.get(run_one.id) is not None


def test_no_scope_can_take_another_scopes_chosen_id(store: HybridStore) -> None:
    alice = store.add("alice's", embedding=[1.0, 0.0], user_id="alice", memory_id=CHOSEN)
    # The same name, and alice's stored id itself, both land in bob's own scope.
    bob_named = store.add("bob's", embedding=[0.0, 1.0], user_id="bob", memory_id=CHOSEN)
    bob_taking = store.add("bob's forgery", embedding=[0.0, 1.0], user_id="bob", memory_id=alice.id)
    assert len({alice.id, bob_named.id, bob_taking.id}) == 3
    assert all(belongs_to(m.id, BOB) for m in (bob_named, bob_taking))
    kept = store.get(alice.id)
    assert kept is not None and (kept.text, kept.user_id) == ("alice's", "alice")
    assert sorted(m.text for m in store.get_all(user_id="bob")) == ["bob's", "bob's forgery"]
    # Bob's erasure of his own scope leaves alice's memory whole.
    store.delete_all(user_id="bob")
    assert store.get(alice.id) == kept
    assert raw.vector_ids(store) == raw.memory_node_ids(store) == {alice.id}


def test_add_many_and_import_keep_ids_only_in_their_own_scope(store: HybridStore) -> None:
    alice = store.add("alice's", embedding=[1.0, 0.0], user_id="alice")
    # An import line of alice's memory, replayed into bob's scope: bob's own id.
    result = store.add_many(
        [
            {"memory_id": alice.id, "text": "replayed", "embedding": [0.0, 1.0], "user_id": "bob"},
            {"memory_id": CHOSEN, "text": "named", "embedding": [0.0, 1.0], "user_id": "bob"},
        ]
    )
    assert result.added == 2 and alice.id not in result.ids
    assert result.ids[1] == scoped_id(BOB, CHOSEN)
    # The same items again are recognised as stored: ids are stable per scope.
    again = store.add_many(
        [
            {"memory_id": m.id, "text": m.text, "embedding": m.embedding, "user_id": "bob"}
            for m in store.get_all(user_id="bob")
        ]
    )
    assert (again.added, again.unchanged) == (0, 2)
    kept = store.get(alice.id)
    assert kept is not None and kept.text == "alice's"


def test_the_scope_is_checked_under_the_claim(store: HybridStore) -> None:
    # The REST routes used to check a key's scope before the store call: an id
    # erased and written again by another scope in between was then overwritten.
    # The coordinator checks the caller's scope on what it reads under the claim.
    bob = store.add("bob's", embedding=[0.0, 1.0], user_id="bob")
    record = store.vector.get([bob.id])[0]
    with pytest.raises(NotFoundError):
        store._coordinator.update(
            bob.id, record.scope, lambda r: replace(r, text="alice's"), within=ALICE
        )
    result = store._coordinator.delete(bob.id, record.scope, within=ALICE)
    assert (result.operation_id, result["memories"]) == (NO_OPERATION, 0)
    kept = store.get(bob.id)
    assert kept is not None and kept.text == "bob's"


def test_ids_carry_their_scope() -> None:
    scopes = [ALICE, BOB, Scope(user_id="alice", agent_id="a"), Scope(agent_id="alice")]
    for scope in scopes:
        made, named = new_id(scope), scoped_id(scope, "doc-7")
        assert uuid.UUID(made).version == uuid.UUID(named).version == 8
        assert belongs_to(made, scope) and belongs_to(named, scope)
        assert not any(belongs_to(made, other) for other in scopes if other != scope)
        assert chosen_id(scope, named) == named
        assert all(chosen_id(other, named) != named for other in scopes if other != scope)
    assert new_id(ALICE) != new_id(ALICE)
    assert scoped_id(ALICE, "doc-7") == scoped_id(ALICE, "doc-7") != scoped_id(ALICE, "doc-8")
    assert not belongs_to(str(uuid.uuid4()), ALICE)
