"""API keys: 401 without a valid key; a scope-bound key never reaches outside its scope."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from hybridmem import MissingScopeError, NotFoundError
from hybridmem.client import HybridMemClient
from hybridmem.errors import AuthenticationError, PermissionDeniedError
from hybridmem.validation import NO_FILTER_MESSAGE
from tests.server.conftest import ADMIN_KEY, ALICE_BOT_KEY, ALICE_KEY
from tests.server.live import LiveServer

E1 = [1.0, 0.0]
ALICE, BOT = "auth-alice", "auth-bot"


@pytest.fixture
def admin(keyed_server: LiveServer) -> Iterator[HybridMemClient]:
    with HybridMemClient(keyed_server.url, api_key=ADMIN_KEY) as client:
        yield client


@pytest.fixture
def alice(keyed_server: LiveServer) -> Iterator[HybridMemClient]:
    with HybridMemClient(keyed_server.url, api_key=ALICE_KEY) as client:
        yield client


def test_missing_or_wrong_key_is_401(keyed_server: LiveServer) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong-key-0123456789"}, {"X-API-Key": "nope"}):
        raw = httpx.get(f"{keyed_server.url}/stats", headers=headers)
        assert raw.status_code == 401, headers
        assert raw.json()["error"]["type"] == "AuthenticationError"
    with HybridMemClient(keyed_server.url) as anonymous, pytest.raises(AuthenticationError):
        anonymous.get_all(user_id="anyone")
    with (
        HybridMemClient(keyed_server.url, api_key=ADMIN_KEY + "x") as wrong,
        pytest.raises(AuthenticationError, match="unknown API key"),
    ):
        wrong.stats()
    # Probes stay open for orchestrators; X-API-Key works as well as a bearer token.
    assert httpx.get(f"{keyed_server.url}/readyz").status_code == 200
    assert httpx.get(f"{keyed_server.url}/stats", headers={"X-API-Key": ADMIN_KEY}).is_success


def test_a_scoped_key_is_narrowed_to_its_scope(
    admin: HybridMemClient, alice: HybridMemClient, name: str
) -> None:
    bob = f"{name}-bob"
    bobs = admin.add("Bob's secret", embedding=E1, user_id=bob)
    # Bound parts the request leaves out are filled in.
    mine = alice.add("Alice's note", embedding=E1, agent_id=name)
    assert (mine.user_id, mine.agent_id) == (ALICE, name)
    assert [m.id for m in alice.get_all(agent_id=name)] == [mine.id]
    assert [h.memory.id for h in alice.search(E1, agent_id=name)] == [mine.id]

    # Naming another user is refused outright.
    for attempt in (
        lambda: alice.add("x", embedding=E1, user_id=bob),
        lambda: alice.get_all(user_id=bob),
        lambda: alice.search(E1, user_id=bob),
        lambda: alice.relations(user_id=bob),
        lambda: alice.entities(user_id=bob),
        lambda: alice.delete_all(user_id=bob),
        lambda: alice.delete_all(user_id=bob, dry_run=True),
    ):
        with pytest.raises(PermissionDeniedError, match="bound to user_id='auth-alice'"):
            attempt()

    # Ids outside the scope look exactly like missing ones.
    assert alice.get(bobs.id) is None
    for attempt in (
        lambda: alice.delete(bobs.id),
        lambda: alice.update(bobs.id, text="overwritten"),
        lambda: alice.history(bobs.id),
    ):
        with pytest.raises(NotFoundError):
            attempt()
    assert admin.get(bobs.id) == bobs, "Bob's memory was touched through Alice's key"

    erased = admin.delete_all(user_id=bob)
    assert alice.operation(erased.operation_id) is None
    assert admin.operation(erased.operation_id) is not None
    alice.delete_all(agent_id=name)


def test_a_scoped_key_without_a_filter_still_gets_the_exact_400(
    keyed_server: LiveServer, admin: HybridMemClient, alice: HybridMemClient, name: str
) -> None:
    """No filter never silently becomes "erase my whole scope"."""
    kept = alice.add("kept", embedding=E1, agent_id=name)
    with pytest.raises(MissingScopeError):
        alice.delete_all()
    raw = httpx.delete(
        f"{keyed_server.url}/memories", headers={"Authorization": f"Bearer {ALICE_KEY}"}
    )
    assert raw.status_code == 400
    assert raw.json()["error"]["message"] == NO_FILTER_MESSAGE
    assert admin.get(kept.id) == kept
    alice.delete_all(agent_id=name)


def test_a_scoped_key_cannot_call_whole_store_operations(
    keyed_server: LiveServer, alice: HybridMemClient
) -> None:
    for attempt in (alice.reset, alice.reconcile, alice.recover, alice.stats, alice.purge_expired):
        with pytest.raises(PermissionDeniedError, match="spans every scope"):
            attempt()
    raw = httpx.post(
        f"{keyed_server.url}/reset",
        json={"confirm": True},
        headers={"Authorization": f"Bearer {ALICE_KEY}"},
    )
    assert raw.status_code == 403 and raw.json()["error"]["type"] == "PermissionDeniedError"


def test_a_key_bound_below_the_user_is_narrowed_further(
    keyed_server: LiveServer, admin: HybridMemClient, name: str
) -> None:
    with HybridMemClient(keyed_server.url, api_key=ALICE_BOT_KEY) as bot:
        own = bot.add(
            "bot fact",
            embedding=E1,
            run_id=name,
            entities=[{"name": "Lisbon", "type": "city"}],
            relations=[{"source": "Lisbon", "target": "Portugal", "type": "in"}],
        )
        assert (own.user_id, own.agent_id, own.run_id) == (ALICE, BOT, name)
        sibling = admin.add("other agent", embedding=E1, user_id=ALICE, agent_id=f"{name}-other")
        assert bot.get(sibling.id) is None
        with pytest.raises(PermissionDeniedError):
            bot.get_all(user_id=ALICE, agent_id=f"{name}-other")
        # Entities are shared by all of a user's agents: not for a key bound to one agent.
        with pytest.raises(PermissionDeniedError, match="entities are shared"):
            bot.entities()
        # No filter on relations means "everything I may see", not everything.
        assert {r.memory_id for r in bot.relations()} == {own.id}
        assert bot.delete_all(run_id=name).memories == 1
        assert admin.get(sibling.id) == sibling
        admin.delete_all(user_id=ALICE, agent_id=f"{name}-other")


def test_a_bound_key_reaches_only_its_own_records_on_every_route(
    admin: HybridMemClient, alice: HybridMemClient, name: str
) -> None:
    """Bob's records share Alice's agent and run, so every route that failed to
    narrow a request (or to hide a record) would show or erase them."""
    agent, run, bob = f"{name}-shared", f"{name}-run", f"{name}-bob"
    graph = {
        "entities": [{"name": "Lisbon", "type": "city"}],
        "relations": [{"source": "Lisbon", "target": "Portugal", "type": "in"}],
    }
    bobs = admin.add("Bob's secret", embedding=E1, user_id=bob, agent_id=agent, run_id=run, **graph)
    bob_op = admin.delete_all(user_id=bob, agent_id=f"{agent}-old")
    bob_relation = {r.id for r in admin.relations(user_id=bob)}

    # add: the bound user is filled in.
    mine = alice.add("Alice's note", embedding=E1, agent_id=agent, run_id=run, **graph)
    assert (mine.user_id, mine.agent_id, mine.run_id) == (ALICE, agent, run)
    # Reads by a part Bob shares show Alice's records only.
    for scope in ({"agent_id": agent}, {"run_id": run}, {"agent_id": agent, "run_id": run}):
        assert [m.id for m in alice.get_all(**scope)] == [mine.id], scope
        assert [h.memory.id for h in alice.search(E1, **scope)] == [mine.id], scope
        assert {r.memory_id for r in alice.relations(**scope)} == {mine.id}, scope
    assert not bob_relation & {r.id for r in alice.relations()}
    assert {e.user_id for e in alice.entities()} == {ALICE}
    assert {e.user_id for e in admin.entities(user_id=bob)} == {bob}
    # By id: Bob's memory, its history and his operation look missing.
    assert alice.get(bobs.id) is None
    assert alice.operation(bob_op.operation_id) is None
    for attempt in (
        lambda: alice.history(bobs.id),
        lambda: alice.update(bobs.id, text="overwritten"),
        lambda: alice.delete(bobs.id),
    ):
        with pytest.raises(NotFoundError):
            attempt()
    # An erasure by a shared part erases Alice's records only.
    preview = alice.delete_all(agent_id=agent, dry_run=True)
    assert (preview.memories, preview.relations) == (1, 1)
    erased = alice.delete_all(run_id=run)
    assert erased.memories == 1 and erased.scope.user_id == ALICE
    assert admin.get(bobs.id) == bobs, "Bob's memory was touched through Alice's key"
    assert [e.kind for e in admin.history(bobs.id)] == ["ADD"]
    assert {r.id for r in admin.relations(user_id=bob)} == bob_relation
    admin.delete_all(user_id=bob)
