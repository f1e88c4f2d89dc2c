"""Over HTTP, with scope-bound keys: another scope's id answers exactly as an unknown id.

Before ids were namespaced by scope, bob's key got 422 "taken by a memory of
another scope" for an id alice held and 201 for a fresh one: an existence
oracle, and a way to take ids (framework ids are predictable) before their owner.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from hybridmem import NotFoundError
from hybridmem.client import HybridMemClient
from tests.server.conftest import ADMIN_KEY, ALICE_KEY, BOB_KEY
from tests.server.live import LiveServer

E1 = [1.0, 0.0]
UNKNOWN = "7d3c2b1a-0f9e-4d8c-8b7a-6a5f4e3d2c1b"


@pytest.fixture
def alice(keyed_server: LiveServer) -> Iterator[HybridMemClient]:
    with HybridMemClient(keyed_server.url, api_key=ALICE_KEY) as client:
        yield client


def _bob(server: LiveServer) -> httpx.Client:
    return httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {BOB_KEY}"})


def _by_id_answers(http: httpx.Client, memory_id: str) -> list[tuple[int, Any]]:
    """Status and body of every by-id route, with the id blanked out of the body."""
    calls = [
        ("GET", f"/memories/{memory_id}", None),
        ("PATCH", f"/memories/{memory_id}", {"text": "bob was here"}),
        ("GET", f"/memories/{memory_id}/history", None),
        ("DELETE", f"/memories/{memory_id}", None),
    ]
    answers = []
    for method, path, body in calls:
        response = http.request(method, path, json=body)
        answers.append((response.status_code, response.text.replace(memory_id, "ID")))
    return answers


def test_another_scopes_id_and_an_unknown_id_get_one_answer(
    keyed_server: LiveServer, alice: HybridMemClient, name: str
) -> None:
    mine = alice.add("Alice's secret", embedding=E1, run_id=name)
    with _bob(keyed_server) as bob:
        theirs, unknown = _by_id_answers(bob, mine.id), _by_id_answers(bob, UNKNOWN)
    assert theirs == unknown
    assert {status for status, _ in theirs} == {404}
    kept = alice.get(mine.id)
    assert kept is not None and kept.text == "Alice's secret"
    assert [e.kind for e in alice.history(mine.id)] == ["ADD"]


def test_writing_another_scopes_id_answers_as_a_fresh_one(
    keyed_server: LiveServer, alice: HybridMemClient, name: str
) -> None:
    chosen = "0f8fad5b-d9cb-469f-a165-70867728950e"
    mine = alice.add("Alice's", embedding=E1, run_id=name, memory_id=chosen)
    with _bob(keyed_server) as bob:
        answers = [
            bob.post(
                "/memories",
                json={"text": "Bob's", "embedding": E1, "run_id": name, "memory_id": memory_id},
            )
            for memory_id in (mine.id, chosen, UNKNOWN)
        ]
        assert [a.status_code for a in answers] == [201, 201, 201]
        ids = [a.json()["id"] for a in answers]
        assert mine.id not in ids and len(set(ids)) == 3
        # Bob reads back what he wrote, under the ids he was given.
        assert all(bob.get(f"/memories/{i}").json()["text"] == "Bob's" for i in ids)
    kept = alice.get(mine.id)
    assert kept is not None and (kept.text, kept.user_id) == ("Alice's", "auth-alice")
    assert [m.id for m in alice.get_all(run_id=name)] == [mine.id]


def test_a_bound_key_reaches_its_own_memories_by_id(alice: HybridMemClient, name: str) -> None:
    mine = alice.add("note", embedding=E1, agent_id=name)
    assert alice.update(mine.id, text="edited").text == "edited"
    assert [e.kind for e in alice.history(mine.id)] == ["ADD", "UPDATE"]
    assert alice.delete(mine.id)["memories"] == 1
    assert alice.get(mine.id) is None


def test_an_admin_may_narrow_a_call_by_id_to_a_scope(
    keyed_server: LiveServer, alice: HybridMemClient, name: str
) -> None:
    mine = alice.add("note", embedding=E1, run_id=name)
    with HybridMemClient(keyed_server.url, api_key=ADMIN_KEY) as admin:
        assert admin.get(mine.id, user_id="someone-else") is None
        assert admin.get(mine.id, user_id="auth-alice") is not None
        with pytest.raises(NotFoundError):
            admin.delete(mine.id, user_id="someone-else")
        assert admin.get(mine.id) is not None
