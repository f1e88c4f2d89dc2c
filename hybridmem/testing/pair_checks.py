"""What "the contract holds" means for a pair, checked against both stores directly.

The checks read through the backends' registered witnesses
(``hybridmem.testing.witness``) and the journal file, never through
``reconcile()``, which is code under test like the rest.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from hybridmem.models import Scope
from hybridmem.records import normalise_name
from hybridmem.store import HybridStore
from hybridmem.testing import raw
from hybridmem.testing.builders import memory_graph, vector_record


@dataclass(frozen=True)
class Snapshot:
    vector_ids: frozenset[str]
    node_ids: frozenset[str]
    entities: frozenset[tuple[str | None, str, str]]
    relation_ids: frozenset[str]


def snapshot(store: HybridStore) -> Snapshot:
    return Snapshot(
        vector_ids=frozenset(i for b in store.vector.iter_ids(500) for i in b),
        node_ids=frozenset(i for b in store.graph.iter_memory_ids(500) for i in b),
        entities=frozenset(
            (e.user_id, normalise_name(e.name), e.type) for e in store.graph.entities()
        ),
        relation_ids=frozenset(r.id for r, _, _ in store.graph.relations()),
    )


def assert_no_half_memory_or_orphan(store: HybridStore) -> None:
    """Read straight from the stores with their witnesses, not through reconcile(),
    which is code under test like the rest."""
    vectors, nodes = raw.vector_ids(store), raw.memory_node_ids(store)
    assert vectors == nodes, (
        f"half-memories: vectors only {sorted(vectors - nodes)},"
        f" nodes only {sorted(nodes - vectors)}"
    )
    dangling = {r for r, m in raw.relation_memory_ids(store).items() if m not in nodes}
    assert not dangling, f"dangling relations: {sorted(dangling)}"
    orphans = raw.orphan_entity_ids(store)
    assert not orphans, f"orphan entities: {sorted(orphans)}"
    assert not store.journal.pending(), "operations left pending"


def scope_arguments(scope: Scope) -> dict[str, Any]:
    """The scope's given parts, as keyword arguments of the store's methods."""
    return dict(scope.parts())


def assert_scope_empty(store: HybridStore, scope: Scope) -> None:
    parts = scope_arguments(scope)
    assert store.vector.count_scope(scope) == 0
    assert store.graph.scope_memory_ids(scope, 1) == []
    assert store.get_all(**parts) == []
    assert store.relations(**parts) == []


def make_orphans(store: HybridStore, label: str) -> tuple[str, str]:
    """What outside interference or an old crash leaves: a vector without a memory
    node, and a memory node (with an entity) without a vector. Returns their ids."""
    scope = Scope(user_id=f"orphans-{label}")
    vector_only = vector_record(f"{label}-vector-only", scope)
    node_only = memory_graph(f"{label}-node-only", scope, (("Lonely", "t"),))
    store.vector.upsert([vector_only])
    store.graph.add_memories([node_only])
    return vector_only.id, node_only.node.id


def assert_history_consistent(store: HybridStore, memory_ids: Iterable[str]) -> None:
    """History agrees with the stores: a memory that exists has its ADD (and the
    text it holds now in its newest event); a memory that is gone keeps ids and
    hashes but no text, and names the operation that erased it."""
    present = snapshot(store).vector_ids
    for memory_id in memory_ids:
        events = store.history(memory_id)
        if memory_id in present:
            memory = store.get(memory_id)
            assert memory is not None
            assert events and events[0].kind == "ADD", f"{memory_id}: no ADD event"
            assert all(e.kind in ("ADD", "UPDATE") for e in events), events
            assert events[-1].new_text == memory.text, f"{memory_id}: history text differs"
        else:
            assert all(e.old_text is None and e.new_text is None for e in events), (
                f"{memory_id}: erased text still in history"
            )
            if events:
                assert all(e.erased_by for e in events), f"{memory_id}: erasure not recorded"
