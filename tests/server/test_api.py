"""Every operation through the real HTTP client against a live ``hybridmem serve``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from hybridmem import (
    DeleteProgress,
    DimensionMismatchError,
    InvalidScopeError,
    MissingScopeError,
    NotFoundError,
    ValidationError,
)
from hybridmem.client import HybridMemClient
from hybridmem.ids import scoped_id
from hybridmem.models import Scope
from hybridmem.validation import NO_FILTER_MESSAGE
from tests.server.live import LiveServer, start_server, write_config

E1, E2, E3 = [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.9, 0.1, 0.0]


@pytest.fixture
def client(open_server: LiveServer) -> Iterator[HybridMemClient]:
    with HybridMemClient(open_server.url) as opened:
        yield opened


def test_add_get_update_history_delete(client: HybridMemClient, name: str) -> None:
    memory = client.add(
        "Alice lives in Lisbon",
        embedding=E1,
        user_id=name,
        agent_id="travel",
        run_id="r1",
        metadata={"source": "chat"},
        entities=[{"name": "Alice", "type": "person"}, {"name": "Lisbon", "type": "city"}],
        relations=[{"source": "Alice", "target": "Lisbon", "type": "lives_in"}],
    )
    assert (memory.user_id, memory.agent_id, memory.run_id) == (name, "travel", "r1")
    assert client.get(memory.id) == memory

    updated = client.update(memory.id, text="Alice lives in Porto", metadata={"source": "fix"})
    assert (updated.text, updated.metadata, updated.embedding) == (
        "Alice lives in Porto",
        {"source": "fix"},
        E1,
    )
    assert client.get(memory.id) == updated

    kinds = [(e.kind, e.old_text, e.new_text) for e in client.history(memory.id)]
    assert kinds == [
        ("ADD", None, "Alice lives in Lisbon"),
        ("UPDATE", "Alice lives in Lisbon", "Alice lives in Porto"),
    ]

    result = client.delete(memory.id)
    assert (result.memories, result.vectors, result.memory_nodes, result.relations) == (1, 1, 1, 1)
    assert result.orphan_entities == 2
    assert client.get(memory.id) is None
    history = client.history(memory.id)
    assert [e.kind for e in history] == ["ADD", "UPDATE", "DELETE"]
    assert all(e.old_text is None and e.new_text is None for e in history), "text not erased"
    again = client.delete(memory.id)
    assert again.memories == 0, "deleting a missing id is a no-op"


def test_get_all_and_search_stay_in_their_scope(client: HybridMemClient, name: str) -> None:
    mine = [client.add(f"m{i}", embedding=E1 if i else E3, user_id=name) for i in range(3)]
    other = client.add("other", embedding=E1, user_id=f"{name}-other")

    listed = client.get_all(user_id=name)
    assert sorted(m.id for m in listed) == sorted(m.id for m in mine)
    assert len(client.get_all(user_id=name, limit=2)) == 2

    hits = client.search(E3, user_id=name, limit=10)
    assert hits[0].memory.id == mine[0].id
    assert hits[0].score == pytest.approx(1.0)
    assert other.id not in {h.memory.id for h in hits}
    assert client.search(E2, user_id=name, limit=1)[0].memory.user_id == name
    # Exact, case-sensitive matching travels intact: "%" is no wildcard.
    assert client.get_all(user_id=f"{name}%") == []


def test_entities_and_relations_read_the_graph(client: HybridMemClient, name: str) -> None:
    client.add(
        "Bob visits Kyoto",
        embedding=E2,
        user_id=name,
        agent_id="a1",
        entities=[{"name": "Bob", "type": "person"}],
        relations=[{"source": "Bob", "target": "Kyoto", "type": "visits"}],
    )
    assert sorted((e.name, e.type) for e in client.entities(user_id=name)) == [
        ("Bob", "person"),
        ("Kyoto", "entity"),
    ]
    [relation] = client.relations(user_id=name)
    assert (relation.source, relation.type, relation.target) == ("Bob", "visits", "Kyoto")
    assert client.relations(user_id=name, agent_id="other-agent") == []


def test_delete_all_counts_dry_run_progress_and_operation(
    client: HybridMemClient, name: str
) -> None:
    for i in range(4):
        client.add(
            f"fact {i}",
            embedding=E1,
            user_id=name,
            run_id="r" if i < 3 else "keep",
            entities=[{"name": f"E{i}", "type": "t"}],
        )
    keeper = client.add("keeper", embedding=E1, user_id=f"{name}-keeper")

    preview = client.delete_all(user_id=name, run_id="r", dry_run=True)
    assert preview.dry_run and (preview.memories, preview.vectors, preview.memory_nodes) == (
        3,
        3,
        3,
    )
    assert len(client.get_all(user_id=name)) == 4, "a dry run touches nothing"

    events: list[DeleteProgress] = []
    result = client.delete_all(user_id=name, run_id="r", progress=events.append)
    assert result["message"] == "Memories deleted successfully!"
    assert (result.memories, result.vectors, result.memory_nodes, result.orphan_entities) == (
        3,
        3,
        3,
        3,
    )
    assert result.scope.parts() == {"user_id": name, "run_id": "r"}
    assert [(e.phase, e.done, e.operation_id) for e in events] == [("done", 3, result.operation_id)]
    info = client.operation(result.operation_id)
    assert info is not None and info.state == "done" and info.counts["memories"] == 3
    assert [m.run_id for m in client.get_all(user_id=name)] == ["keep"]
    assert client.get(keeper.id) == keeper

    twice = client.delete_all(user_id=name, run_id="r")
    assert (twice["message"], twice.memories) == ("Memories deleted successfully!", 0)
    assert client.operation("no-such-operation") is None


def test_delete_all_without_filter_is_400_with_the_exact_message(
    client: HybridMemClient, open_server: LiveServer, name: str
) -> None:
    kept = client.add("kept", embedding=E1, user_id=name)
    with pytest.raises(MissingScopeError) as local:
        client.delete_all()
    assert str(local.value) == NO_FILTER_MESSAGE

    raw = httpx.delete(f"{open_server.url}/memories", params={"dry_run": "false"})
    assert raw.status_code == 400
    assert raw.json() == {"error": {"type": "MissingScopeError", "message": NO_FILTER_MESSAGE}}
    assert client.get(kept.id) == kept


def test_invalid_ids_are_422_naming_the_parameter(
    client: HybridMemClient, open_server: LiveServer
) -> None:
    for params, parameter in (
        ({"user_id": "   "}, "user_id"),
        ({"user_id": "u", "agent_id": "x\x00y"}, "agent_id"),
        ({"run_id": "r" * 257}, "run_id"),
    ):
        raw = httpx.delete(f"{open_server.url}/memories", params=params)
        assert raw.status_code == 422, raw.text
        error = raw.json()["error"]
        assert (error["type"], error["parameter"]) == ("InvalidScopeError", parameter)
        assert error["message"].startswith(f"invalid {parameter}: ")
        with pytest.raises(InvalidScopeError) as local:
            client.delete_all(**params)
        assert local.value.parameter == parameter

    raw = httpx.get(f"{open_server.url}/memories/not-a-uuid")
    assert raw.status_code == 422
    assert raw.json()["error"]["parameter"] == "memory_id"
    with pytest.raises(ValidationError, match="memory_id"):
        client.get("not-a-uuid")


def test_server_side_errors_arrive_as_the_in_process_exceptions(
    client: HybridMemClient, open_server: LiveServer, name: str
) -> None:
    memory = client.add("three dims", embedding=E1, user_id=name)
    with pytest.raises(ValidationError, match="at least one of text, embedding or metadata"):
        client.update(memory.id)
    with pytest.raises(DimensionMismatchError):
        client.add("two dims", embedding=[1.0, 0.0], user_id=name)
    with pytest.raises(NotFoundError):
        client.update("00000000-0000-4000-8000-000000000000", text="x")
    with pytest.raises(ValidationError, match="entities"):
        client.add("bad", embedding=E1, user_id=name, entities=[{"type": "no name"}])
    # The server's own schema checks answer in the same shape.
    raw = httpx.post(f"{open_server.url}/search", json={"embedding": "nope", "user_id": name})
    assert raw.status_code == 422 and raw.json()["error"]["parameter"] == "embedding"
    raw = httpx.get(f"{open_server.url}/memories", params={"user_id": name, "limit": 0})
    assert raw.status_code == 422 and raw.json()["error"]["parameter"] == "limit"


def test_stats_reconcile_recover_and_probes(
    client: HybridMemClient, open_server: LiveServer
) -> None:
    stats = client.stats()
    assert {"vectors", "memory_nodes", "entities", "relations", "pending_operations"} <= set(stats)
    report = client.reconcile(fix=True)
    assert report.fixed and report.found.total() == 0
    assert client.recover() == []
    assert httpx.get(f"{open_server.url}/healthz").json() == {
        "status": "ok",
        "set_aside_operations": 0,
    }
    assert httpx.get(f"{open_server.url}/readyz").json() == {
        "status": "ready",
        "set_aside_operations": 0,
    }
    assert client.ready() is None


def test_reset_needs_confirmation(tmp_path: Path) -> None:
    """On a server of its own: reset wipes everything."""
    server = start_server(write_config(tmp_path / "hybridmem.toml", tmp_path / "data"))
    try:
        with HybridMemClient(server.url) as client:
            client.add("a", embedding=E1, user_id="reset-a")
            client.add("b", embedding=E1, user_id="reset-b")
            for body in ({}, {"confirm": False}):
                raw = httpx.post(f"{server.url}/reset", json=body)
                assert raw.status_code == 422 and raw.json()["error"]["parameter"] == "confirm"
            assert client.stats()["vectors"] == 2
            assert client.reset() == {
                "vectors": 2,
                "memory_nodes": 2,
                "entities": 0,
                "relations": 0,
            }
            assert client.stats()["vectors"] == 0
    finally:
        server.stop()


def test_add_with_a_caller_chosen_id_over_http(client: HybridMemClient, name: str) -> None:
    memory_id = "6f1c0b55-1f5c-4d47-9a54-0c6a7e3f2b10"
    first = client.add("first", embedding=E1, user_id=name, memory_id=memory_id)
    again = client.add("second", embedding=E2, user_id=name, memory_id=memory_id)
    assert again.id == first.id == scoped_id(Scope(user_id=name), memory_id)
    assert [m.text for m in client.get_all(user_id=name)] == ["second"]
    # In another scope the same chosen id is another memory.
    other = client.add("x", embedding=E1, user_id=name + "-other", memory_id=memory_id)
    assert other.id != again.id
    with pytest.raises(ValidationError, match="memory_id"):
        client.add("x", embedding=E1, user_id=name, memory_id="not-a-uuid")
