"""The mem0 integration's metadata keys (``_mem0``, ``_mem0_id``, ``_mem0_key``) are
written only with an unrestricted key. mem0 finds a memory by its id across every
scope; a copy of bob's mem0 id planted by alice in her own scope made the id
ambiguous, and every mem0 read, update and delete of bob's memory then failed.
Before, a key bound to alice could plant it (add, add_many, update)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from hybridmem.client import HybridMemClient
from hybridmem.errors import PermissionDeniedError
from hybridmem.mem0_lookup import MEM0_ID_KEY, MEM0_KEY, MEM0_MARKER_KEY, mem0_key
from tests.server.conftest import ADMIN_KEY, ALICE_KEY
from tests.server.live import LiveServer

E1 = [1.0, 0.0]
ALICE = "auth-alice"


@pytest.fixture
def clients(keyed_server: LiveServer) -> Iterator[tuple[HybridMemClient, HybridMemClient]]:
    with (
        HybridMemClient(keyed_server.url, api_key=ADMIN_KEY) as admin,
        HybridMemClient(keyed_server.url, api_key=ALICE_KEY) as alice,
    ):
        yield admin, alice


def test_a_scoped_key_cannot_plant_another_users_mem0_id(
    clients: tuple[HybridMemClient, HybridMemClient], name: str
) -> None:
    admin, alice = clients
    mem0_id = str(uuid.uuid4())
    marked = {MEM0_MARKER_KEY: True, MEM0_ID_KEY: mem0_id, MEM0_KEY: mem0_key(mem0_id)}
    bob = admin.add(
        "bob's mem0 memory", embedding=E1, user_id=f"{name}-bob", memory_id=mem0_id, metadata=marked
    )
    mine = alice.add("alice's note", embedding=E1, agent_id=name)
    for plant in (
        lambda: alice.add("planted", embedding=E1, agent_id=name, metadata=marked),
        lambda: alice.add_many(
            [
                {"text": "fine", "embedding": E1, "agent_id": name},
                {"text": "planted", "embedding": E1, "agent_id": name, "metadata": marked},
            ]
        ),
        lambda: alice.update(mine.id, metadata={"note": 1, MEM0_ID_KEY: mem0_id}),
    ):
        with pytest.raises(PermissionDeniedError, match="reserved for the mem0 integration"):
            plant()
    # Nothing of the refused requests was written, and bob's id still names one memory.
    assert [m.text for m in alice.get_all(agent_id=name)] == ["alice's note"]
    assert alice.get(mine.id).metadata == {}  # type: ignore[union-attr]
    [found] = admin.mem0_lookup([mem0_id])
    assert (found.memory_id, found.user_id) == (bob.id, f"{name}-bob")
    # Other keys starting with an underscore are the caller's own.
    assert alice.add("x", embedding=E1, agent_id=name, metadata={"_mine": 1}).metadata == {
        "_mine": 1
    }
