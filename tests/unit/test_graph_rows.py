"""graph_rows: the one flattening of MemoryGraph records both graph adapters write."""

from __future__ import annotations

from datetime import datetime

from hybridmem.models import Scope
from hybridmem.records import graph_rows
from hybridmem.testing.builders import memory_graph


def test_rows_per_statement_with_entity_namespace_and_relation_endpoints() -> None:
    scope = Scope(user_id="alice", agent_id="a1")
    first = memory_graph(
        "one", scope, (("Paris", "city"), ("Eve", "person")), (("Eve", "Paris", "visits"),)
    )
    second = memory_graph("two", Scope(run_id="r"))

    rows = graph_rows([first, second])

    assert [n["id"] for n in rows.nodes] == [first.node.id, second.node.id]
    assert rows.nodes[0]["agent_id"] == "a1" and rows.nodes[1]["run_id"] == "r"
    assert rows.nodes[0]["created_at"] == first.node.created_at
    assert [(e["name"], e["ns"]) for e in rows.entities] == [("Paris", "alice"), ("Eve", "alice")]
    assert rows.mentions == [{"m": first.node.id, "e": e.id} for e in first.entities]
    (relation,) = rows.relations
    assert relation["source"] == first.entities[1].id
    assert relation["target"] == first.entities[0].id
    assert relation["memory_id"] == first.node.id and relation["type"] == "visits"


def test_timestamps_converted_for_stores_that_keep_text() -> None:
    graph = memory_graph("one", Scope(user_id="u"), (("A", "t"), ("B", "t")), (("A", "B", "r"),))

    rows = graph_rows([graph], datetime.isoformat)

    assert rows.nodes[0]["created_at"] == graph.node.created_at.isoformat()
    assert rows.nodes[0]["updated_at"] == graph.node.updated_at.isoformat()
    assert rows.relations[0]["created_at"] == graph.relations[0].created_at.isoformat()
