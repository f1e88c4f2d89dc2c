"""The final look of tests/shared/test_worker_model.py: a fresh store and plain
reads of Neo4j and Weaviate (``hybridmem.testing.raw``) against the model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from neo4j import GraphDatabase

from hybridmem import HybridStore
from hybridmem.testing import raw
from tests.shared.model_fates import Export, Model, Tracked
from tests.shared.state import shared_labels


def check_final_state(store: HybridStore, model: Model, dirs: list[Path], seed: int) -> None:
    where = f"seed {seed}"
    stats = store.stats()
    assert stats["pending_operations"] == 0, f"{where}: operations left pending"
    assert stats["set_aside_operations"] == 0, f"{where}: operations set aside"
    assert store.recover() == [], where
    store.purge_expired()
    assert store.reconcile().found.total() == 0, f"{where}: orphans"
    assert raw.orphan_entity_ids(store) == set(), f"{where}: orphan entities"

    vectors, nodes = raw.vector_ids(store), raw.memory_node_ids(store)
    assert vectors == nodes, f"{where}: half-memories {vectors ^ nodes}"
    gone: list[Tracked] = []
    for memory in model.memories.values():
        fate = model.fate(memory)
        if memory.in_flight:
            assert memory.id not in vectors, f"{where}: {memory.id} was not rolled back"
            assert store.history(memory.id) == [], f"{where}: history of a rolled-back add"
        if fate == "alive" or (fate == "either" and memory.id in vectors):
            _check_alive(store, memory, vectors, where)
        else:
            _check_gone(store, memory, vectors, where)
            gone.append(memory)
    assert raw.history_texts(store.journal.path, [m.id for m in gone]) == 0, where
    for data_dir in dirs:
        # With per-process journals, each worker's history is in its own file.
        journal = data_dir / "journal.sqlite3"
        if journal.exists():
            texts = raw.history_texts(journal, [m.id for m in gone])
            assert texts == 0, f"{where}: erased texts in {journal}"
    erased_texts = {text for m in gone for text in m.texts}
    assert _shared_state_texts(store, erased_texts) == [], f"{where}: erased texts in Neo4j"
    for export in model.exports:
        _check_export(model, export, where)


def _check_alive(store: HybridStore, memory: Tracked, vectors: set[str], where: str) -> None:
    found = store.get(memory.id)
    assert found is not None, f"{where}: acknowledged {memory.id} is lost"
    assert found.text == memory.latest, f"{where}: {memory.id} has an old text"
    assert store.history(memory.id)[-1].new_text == memory.latest, where
    assert memory.id in vectors, where


def _check_gone(store: HybridStore, memory: Tracked, vectors: set[str], where: str) -> None:
    assert store.get(memory.id) is None, f"{where}: erased {memory.id} is readable"
    assert memory.id not in vectors, f"{where}: erased {memory.id} is in a store"
    for event in store.history(memory.id):
        assert event.old_text is None and event.new_text is None, (
            f"{where}: erased {memory.id}'s text is in its history"
        )


def _shared_state_texts(store: HybridStore, texts: set[str]) -> list[str]:
    """Erased texts held by any node of the shared coordination state (operations,
    payloads, history, expiry rows...), read straight from Neo4j."""
    graph = store.config.graph.options()
    found: list[str] = []
    with (
        GraphDatabase.driver(graph["uri"], auth=(graph["user"], graph["password"])) as driver,
        driver.session(database=graph["database"]) as session,
    ):
        for label in shared_labels(graph["label_prefix"]):
            for record in session.run(f"MATCH (n:{label}) RETURN properties(n) AS p"):
                blob = json.dumps(record["p"], default=str)
                found.extend(text for text in texts if text in blob)
    return found


def _check_export(model: Model, export: Export, where: str) -> None:
    lines: list[dict[str, Any]] = [
        json.loads(raw_line) for raw_line in Path(export.path).read_text().splitlines()
    ]
    assert lines[-1]["type"] == "end", f"{where}: {export.path} is cut short"
    exported = {line["id"]: line["text"] for line in lines if line["type"] == "memory"}
    for memory_id, text in exported.items():
        memory = model.memories.get(memory_id)
        assert memory is not None and memory.user == export.user, f"{where}: {export.path}"
        assert text in memory.texts, f"{where}: {export.path}: a text never given"
        assert not model.erased_before(memory, export), (
            f"{where}: {export.path} holds {memory_id}, erased before the export began"
        )
    for line in lines:
        if line["type"] == "history":
            assert line["memory_id"] in exported, f"{where}: history of an unexported memory"
    for memory in model.memories.values():
        if memory.user == export.user and model.surely_in(memory, export):
            assert memory.id in exported, f"{where}: {export.path} misses {memory.id}"
