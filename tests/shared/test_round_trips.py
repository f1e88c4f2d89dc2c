"""Single operations on the shared pair pay the fewest Neo4j commits (issue 28).

Each commit is 1-5 ms on a loaded server, most of a single add's or delete's
time: an add is the claim with the journal's begin, then the graph write with
the journal's finish and the claim's release; a delete(id) reads the memory's
scope once, then the same two. Counted by wrapping the driver's session and
query calls of the calling thread (the lease renewer's writes are another
thread's), so a change that adds a round trip back fails here, not only in a
benchmark. The stores must also be left as the contract says: the memory whole
after the add, gone after the delete, history complete, and no claim left.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import neo4j
import pytest
from neo4j import GraphDatabase, RoutingControl

from hybridmem import HybridStore
from hybridmem.testing.builders import embedding
from hybridmem_neo4j.names import Names
from hybridmem_neo4j.shared_names import SharedNames
from tests.shared.conftest import SharedConfig


@contextmanager
def neo4j_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    """Counts of this thread's Neo4j transactions: ``write`` and ``read``."""
    counts: Counter[str] = Counter()
    me = threading.get_ident()

    def counted(name: str, kind: Callable[[Any], str]) -> None:
        original = getattr(owner_of[name], name)

        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            if threading.get_ident() == me:
                counts[kind(kwargs)] += 1
            return original(self, *args, **kwargs)

        monkeypatch.setattr(owner_of[name], name, wrapper)

    owner_of = {
        "execute_write": neo4j.Session,
        "execute_read": neo4j.Session,
        "execute_query": neo4j.Driver,
    }
    counted("execute_write", lambda kw: "write")
    counted("execute_read", lambda kw: "read")
    counted(
        "execute_query",
        lambda kw: "read" if kw.get("routing_") == RoutingControl.READ else "write",
    )
    yield counts


def claim_nodes(config: dict[str, Any]) -> int:
    graph = config["graph"]
    label = SharedNames(Names(graph["label_prefix"])).claim
    with GraphDatabase.driver(graph["uri"], auth=(graph["user"], graph["password"])) as driver:
        records = driver.execute_query(
            f"MATCH (c:{label}) RETURN count(c)", database_=graph["database"]
        ).records
    return int(records[0][0])


def test_add_and_delete_by_id_take_two_commits_each(
    shared_config: SharedConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = shared_config(tmp_path)
    with HybridStore(config) as store:
        # Warm: the first statements of a store open its schema and its lease.
        store.delete(store.add("warm", embedding=embedding("e0"), user_id="alice").id)
        with neo4j_calls(monkeypatch) as added:
            memory = store.add(
                "likes tea",
                embedding=embedding("e1"),
                user_id="alice",
                entities=[{"name": "alice", "type": "person"}, {"name": "tea", "type": "drink"}],
                relations=[{"source": "alice", "target": "tea", "type": "likes"}],
            )
        assert dict(added) == {"write": 2}, added
        assert store.get(memory.id) is not None
        assert claim_nodes(config) == 0, "the add's claim outlived it"

        with neo4j_calls(monkeypatch) as updated:
            store.update(memory.id, text="likes green tea", embedding=embedding("e2"))
        # The claim, the journal's begin (it carries the version read under the
        # claim), then the graph's touch with the finish.
        assert updated["write"] == 3, updated

        with neo4j_calls(monkeypatch) as deleted:
            result = store.delete(memory.id)
        assert dict(deleted) == {"read": 1, "write": 2}, deleted
        assert result.memories == 1 and result.memory_nodes == 1
        assert store.get(memory.id) is None
        assert [e.kind for e in store.history(memory.id)] == ["ADD", "UPDATE", "DELETE"]
        assert store.stats()["memory_nodes"] == 0
        assert claim_nodes(config) == 0, "the delete's claim outlived it"


def test_a_delete_of_a_memory_with_only_its_vector_still_erases_it(
    shared_config: SharedConfig, tmp_path: Path
) -> None:
    """The one-round-trip delete needs the memory's node; a half memory (its node
    lost, say by a crash of a tool outside hybridmem) takes the usual path."""
    config = shared_config(tmp_path)
    with HybridStore(config) as store:
        memory = store.add("half", embedding=embedding("e3"), user_id="bob")
        store.graph.delete_memories([memory.id])
        result = store.delete(memory.id, user_id="bob")
        assert result.memories == 1 and result.vectors == 1
        assert store.vector.get([memory.id]) == []
        assert store.journal.pending() == []
        assert store.stats()["vectors"] == 0
