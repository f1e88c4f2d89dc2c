"""export: every field of every memory in the scope reaches the file, nothing else
does, history carries only text that is still held, and the file reads back."""

from __future__ import annotations

import io
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from hybridmem import HybridStore, Scope
from hybridmem.errors import ValidationError
from hybridmem.portability import (
    EXPORT_FORMAT,
    EXPORT_VERSION,
    ITEM_KEYS,
    iter_export,
    read_export,
    write_export,
)
from hybridmem.records import relation_id
from hybridmem.testing.builders import embedding
from tests.conftest import narrowed_to_production_pairs

# Each adapter's reads of a memory whole are in one of the production pairs.
pair_config = narrowed_to_production_pairs()

# Same-name entities of two types, a relation endpoint nobody listed, and
# relations in an order that is not alphabetical: all must come back as added.
ENTITIES = [
    {"name": "Paris", "type": "person"},
    {"name": "Paris", "type": "city"},
    {"name": "Zoë", "type": "person"},
]
RELATIONS = [
    {"source": "zoë", "target": "Paris", "type": "visits"},
    {"source": "Zoë", "target": "Tokyo", "type": "plans"},
    {"source": "PARIS", "target": "Zoë", "type": "friend_of"},
]
METADATA = {"source": "chat", "n": 3, "nested": {"ok": [1, 2.5, None, True]}, "ü": "✓"}


def _lines(store: HybridStore, scope: Scope, **kwargs: Any) -> list[dict[str, Any]]:
    out = io.StringIO()
    write_export(store, out, scope, **kwargs)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def _text(store: HybridStore, scope: Scope, **kwargs: Any) -> str:
    out = io.StringIO()
    write_export(store, out, scope, **kwargs)
    return out.getvalue()


def _seed(store: HybridStore) -> dict[str, str]:
    ids = {
        "rich": store.add(
            "Zoë visits Paris with Paris",
            embedding=embedding("rich"),
            user_id="alice",
            agent_id="a1",
            run_id="r1",
            metadata=METADATA,
            entities=ENTITIES,
            relations=RELATIONS,
        ).id,
        "plain": store.add("alice plain", embedding=embedding("plain"), user_id="alice").id,
        "other_agent": store.add(
            "alice a2 note", embedding=embedding("a2"), user_id="alice", agent_id="a2"
        ).id,
        "bob": store.add(
            "bob secret note",
            embedding=embedding("bob"),
            user_id="bob",
            entities=[{"name": "Bob", "type": "person"}],
            relations=[{"source": "Bob", "target": "Lisbon", "type": "lives_in"}],
        ).id,
        "agent_only": store.add("agent-only note", embedding=embedding("ag"), agent_id="a9").id,
    }
    store.update(ids["plain"], text="alice plain (edited)", metadata={"v": 2})
    return ids


def _memories(lines: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {line["id"]: line for line in lines if line["type"] == "memory"}


def test_every_field_round_trips(store: HybridStore, tmp_path: Path) -> None:
    ids = _seed(store)
    lines = _lines(store, Scope(), batch_size=2)
    memories = _memories(lines)
    assert set(memories) == set(ids.values())
    for memory_id, line in memories.items():
        stored = store.get(memory_id)
        assert stored is not None
        assert line["text"] == stored.text
        assert line["embedding"] == pytest.approx(stored.embedding, rel=1e-6, abs=1e-7)
        assert (line["user_id"], line["agent_id"], line["run_id"]) == (
            stored.user_id,
            stored.agent_id,
            stored.run_id,
        )
        assert line["metadata"] == stored.metadata
        assert datetime.fromisoformat(line["created_at"]) == stored.created_at
        assert datetime.fromisoformat(line["updated_at"]) == stored.updated_at
    rich = memories[ids["rich"]]
    assert rich["metadata"] == METADATA
    assert [(r["type"]) for r in rich["relations"]] == ["visits", "plans", "friend_of"]
    assert memories[ids["plain"]]["metadata"] == {"v": 2}
    assert memories[ids["plain"]]["updated_at"] > memories[ids["plain"]]["created_at"]
    assert memories[ids["agent_only"]]["entities"] == []
    # Re-adding what the file says gives the same entity and relation ids.
    with HybridStore.embedded(tmp_path / "copy") as copy:
        for line in memories.values():
            copy.add(
                line["text"],
                embedding=line["embedding"],
                memory_id=line["id"],
                user_id=line["user_id"],
                agent_id=line["agent_id"],
                run_id=line["run_id"],
                metadata=line["metadata"],
                entities=line["entities"],
                relations=line["relations"],
            )
        for memory_id in ids.values():
            assert _entity_ids(copy, memory_id) == _entity_ids(store, memory_id)
            assert _relations(copy, memory_id) == _relations(store, memory_id)
    assert {r[0] for r in _relations(store, ids["rich"])} == {
        relation_id(ids["rich"], i) for i in range(3)
    }


def _entity_ids(store: HybridStore, memory_id: str) -> set[tuple[str, str, str]]:
    return {
        (e.id, e.type, e.user_id or "") for e in store.graph.memory_entities([memory_id])[memory_id]
    }


def _relations(store: HybridStore, memory_id: str) -> list[tuple[str, str, str, str]]:
    found = store.graph.memory_relations([memory_id])[memory_id]
    return sorted((r.id, r.type, r.source_id, r.target_id) for r, _, _ in found)


def test_header_and_end_lines(store: HybridStore) -> None:
    _seed(store)
    lines = _lines(store, Scope(user_id="alice"))
    header, end = lines[0], lines[-1]
    assert header["type"] == "header"
    assert (header["format"], header["version"]) == (EXPORT_FORMAT, EXPORT_VERSION)
    assert header["scope"] == {"user_id": "alice"}
    assert header["dimension"] == len(embedding("x"))
    assert header["embedder"] is None, "no text was embedded by the store"
    assert datetime.fromisoformat(header["exported_at"]).tzinfo is not None
    kinds = [line["type"] for line in lines]
    assert kinds == ["header"] + ["memory"] * 3 + ["history"] * (len(lines) - 5) + ["end"]
    assert end == {"type": "end", "memories": 3, "history": kinds.count("history")}
    without = _lines(store, Scope(user_id="alice"), include_history=False)
    assert [line["type"] for line in without] == ["header"] + ["memory"] * 3 + ["end"]
    assert without[-1] == {"type": "end", "memories": 3, "history": 0}


def test_an_empty_store_exports_header_and_end(store: HybridStore) -> None:
    lines = _lines(store, Scope())
    assert [line["type"] for line in lines] == ["header", "end"]
    assert lines[0]["dimension"] is None
    assert lines[-1] == {"type": "end", "memories": 0, "history": 0}


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        (Scope(user_id="alice"), {"rich", "plain", "other_agent"}),
        (Scope(user_id="alice", agent_id="a1"), {"rich"}),
        (Scope(agent_id="a2"), {"other_agent"}),
        (Scope(run_id="r1"), {"rich"}),
        (Scope(user_id="nobody"), set()),
        (Scope(user_id="Alice"), set()),
    ],
)
def test_only_the_scope_is_exported(store: HybridStore, scope: Scope, expected: set[str]) -> None:
    ids = _seed(store)
    text = _text(store, scope, batch_size=2)
    lines = [json.loads(line) for line in text.splitlines()]
    assert set(_memories(lines)) == {ids[name] for name in expected}
    history_ids = {line["memory_id"] for line in lines if line["type"] == "history"}
    assert history_ids == {ids[name] for name in expected}
    for name in set(ids) - expected:
        assert ids[name] not in text
    if "bob" not in expected:
        assert "bob secret" not in text and "Lisbon" not in text


def test_history_holds_only_text_that_is_not_erased(store: HybridStore) -> None:
    ids = _seed(store)
    erased = store.add(
        "erase me: 555-0199", embedding=embedding("e"), user_id="alice", metadata={"k": "v"}
    ).id
    store.update(erased, text="erase me again: 555-0142")
    store.delete(erased)
    text = _text(store, Scope())
    assert "555-01" not in text
    assert erased not in text
    lines = [json.loads(line) for line in text.splitlines()]
    history = [line for line in lines if line["type"] == "history"]
    plain = [
        (h["kind"], h["old_text"], h["new_text"]) for h in history if h["memory_id"] == ids["plain"]
    ]
    assert plain == [
        ("ADD", None, "alice plain"),
        ("UPDATE", "alice plain", "alice plain (edited)"),
    ]
    assert all(h["erased_by"] is None for h in history)
    assert {h["memory_id"] for h in history} == set(ids.values())
    event = store.history(ids["plain"])[1]
    exported = next(h for h in history if h["id"] == event.id)
    assert {k: v for k, v in exported.items() if k != "type"} == event.model_dump(mode="json")


def test_the_file_reads_back_as_add_many_items(store: HybridStore) -> None:
    ids = _seed(store)
    text = _text(store, Scope(user_id="alice"))
    items = list(read_export(text.splitlines()))
    assert {item["memory_id"] for item in items} == {ids["rich"], ids["plain"], ids["other_agent"]}
    by_id = {item["memory_id"]: item for item in items}
    line = _memories([json.loads(x) for x in text.splitlines()])[ids["rich"]]
    item = by_id[ids["rich"]]
    assert tuple(item) == ITEM_KEYS
    assert item["entities"] == line["entities"] and item["relations"] == line["relations"]
    assert (item["created_at"], item["updated_at"]) == (line["created_at"], line["updated_at"])
    assert item["embedding"] == line["embedding"] and item["metadata"] == METADATA


def test_a_truncated_or_newer_file_is_refused(store: HybridStore) -> None:
    _seed(store)
    lines = _text(store, Scope()).splitlines()
    with pytest.raises(ValidationError, match="truncated export"):
        list(read_export(lines[:-1]))
    with pytest.raises(ValidationError, match=r"line \d+: not valid JSON"):
        list(read_export([*lines[:3], lines[3][: len(lines[3]) // 2]]))
    header = json.loads(lines[0])
    newer = json.dumps({**header, "version": EXPORT_VERSION + 1})
    with pytest.raises(
        ValidationError, match=f"line 1: export version {EXPORT_VERSION + 1} is newer"
    ):
        list(read_export([newer, *lines[1:]]))
    other = json.dumps({**header, "format": "mem0-export"})
    with pytest.raises(ValidationError, match="line 1: not a hybridmem-export file"):
        list(read_export([other, *lines[1:]]))
    dropped = [*lines[:2], *lines[3:]]
    with pytest.raises(ValidationError, match="the end line counts"):
        list(read_export(dropped))


def test_batches_do_not_change_the_export(store: HybridStore) -> None:
    ids = [
        store.add(f"note {i}", embedding=embedding(f"n{i}"), user_id="u" if i % 3 else "v").id
        for i in range(11)
    ]
    for batch_size in (1, 4, 500):
        lines = _lines(store, Scope(user_id="u"), batch_size=batch_size)
        assert sorted(_memories(lines)) == sorted(ids[i] for i in range(11) if i % 3)
        assert lines[-1]["memories"] == 7
    with pytest.raises(ValidationError, match="batch_size"):
        next(iter_export(store, Scope(), batch_size=0))


def _state(store: HybridStore) -> dict[str, Any]:
    """Everything export promises to carry, read from the stores (embeddings rounded
    to float32 precision: the vector stores keep float32)."""
    memories = {}
    for batch in store.vector.iter_ids(100):
        for record in store.vector.get(batch):
            memories[record.id] = (
                record.text,
                tuple(round(x, 5) for x in record.embedding),
                record.scope,
                json.dumps(record.metadata, sort_keys=True),
                record.created_at,
                record.updated_at,
                frozenset(_entity_ids(store, record.id)),
                tuple(_relations(store, record.id)),
            )
    return {
        "memories": memories,
        "entities": sorted((e.id, e.name, e.type, e.user_id or "") for e in store.entities()),
        "relations": sorted(r.id for r in store.relations()),
    }


def test_export_reset_import_gives_the_store_back_exactly(store: HybridStore) -> None:
    _seed(store)
    before = _state(store)
    text = _text(store, Scope())
    store.reset()
    result = store.add_many(read_export(text.splitlines()), batch_size=2)
    assert (result.added, result.unchanged) == (5, 0)
    assert _state(store) == before
    # Imported again: nothing is added twice, nothing changes.
    again = store.add_many(read_export(text.splitlines()), batch_size=2)
    assert (again.added, again.unchanged) == (0, 5)
    assert _state(store) == before
