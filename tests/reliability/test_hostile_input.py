"""Hostile input through the Python API, on every adapter pair: a clear
ValueError (and nothing changed), or exact literal matching with no effect
outside the literal scope."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hybridmem import HybridStore, NotFoundError, Scope, ValidationError
from hybridmem.testing.builders import embedding
from hybridmem.validation import scope_from
from tests.conftest import PairConfig
from tests.integration.checks import assert_no_half_memory_or_orphan, snapshot
from tests.reliability import hostile, tally

SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
)


def _literal(scope: dict[str, Any]) -> Scope | None:
    """The scope the library must match exactly, or None if it must refuse it."""
    try:
        return scope_from(**scope, required_message=None)
    except ValueError:
        return None


class Bystanders:
    """Records of other users (named like what a sloppy matcher would confuse
    with the payloads), re-seeded whenever a literal scope legitimately took some."""

    def __init__(self, store: HybridStore) -> None:
        self.store = store
        self.scopes: dict[str, Scope] = {}
        self.reseed()

    def reseed(self) -> None:
        present = {s.user_id for s in self.scopes.values()}
        for i, user in enumerate(hostile.BYSTANDERS):
            if user in present:
                continue
            memory = self.store.add(
                f"bystander {i}",
                embedding=embedding(f"by{i}"),
                user_id=user,
                agent_id="agent",
                run_id="run",
                entities=[{"name": "Shared", "type": "t"}],
            )
            self.scopes[memory.id] = memory.scope
        self.before = snapshot(self.store)

    def matching(self, scope: Scope) -> set[str]:
        return {memory_id for memory_id, own in self.scopes.items() if scope.matches(own)}

    def forget(self, memory_ids: set[str]) -> None:
        for memory_id in memory_ids:
            del self.scopes[memory_id]


@pytest.fixture
def seeded(pair_config: PairConfig, tmp_path: Path) -> Iterator[Bystanders]:
    with HybridStore(pair_config(tmp_path / "d")) as store:
        yield Bystanders(store)


def _refused(action: Any) -> bool:
    try:
        action()
    except ValueError:
        return True
    return False


@SETTINGS
@given(scope=hostile.scopes())
def test_scoped_entry_points_refuse_or_match_literally(
    seeded: Bystanders, scope: dict[str, Any]
) -> None:
    store = seeded.store
    tally.count("hostile inputs fuzzed (Python API scopes)")
    literal = _literal(scope)
    given_parts = {k: v for k, v in scope.items() if v is not None}
    if literal is None or literal.is_empty():
        # Refused everywhere, before any store is touched.
        assert _refused(lambda: store.add("x", embedding=[1.0, 0.5], **scope))
        assert _refused(lambda: store.get_all(**scope))
        assert _refused(lambda: store.search([1.0, 0.5], **scope))
        assert _refused(lambda: store.delete_all(**scope))
        assert _refused(lambda: store.delete_all(**scope, dry_run=True))
        if literal is not None or not given_parts:
            assert _refused(lambda: store.relations(**scope)) is bool(given_parts)
        assert snapshot(store) == seeded.before
        tally.count("hostile scopes refused (Python API)")
        return
    added = store.add(
        "hostile", embedding=embedding("hostile"), **scope, entities=[{"name": "E", "type": "t"}]
    )
    assert added.scope == literal
    # Exactly the records whose parts equal the literal ones: the new one, and a
    # bystander only if the payload is literally its id.
    expected = seeded.matching(literal) | {added.id}
    assert {m.id for m in store.get_all(**scope)} == expected
    hits = store.search(embedding("hostile"), **scope, limit=50)
    assert {h.memory.id for h in hits} == expected
    assert store.delete_all(**scope, dry_run=True).memories == len(expected)
    result = store.delete_all(**scope)
    assert (result.memories, result.vectors, result.memory_nodes) == (len(expected),) * 3
    after = snapshot(store)
    assert after.vector_ids == seeded.before.vector_ids - expected, "outside the literal scope"
    seeded.forget(expected - {added.id})
    seeded.reseed()
    assert_no_half_memory_or_orphan(store)
    tally.count("hostile scopes matched literally (Python API)")


def _variants(real: str) -> list[str]:
    """A real id and look-alikes: the forms a UUID parser accepts, and near misses."""
    return [
        real,
        real.upper(),
        real.replace("-", ""),
        "{" + real + "}",
        f"urn:uuid:{real}",
        f" {real}",
        f"{real} ",
        real[:-1],
        real[:-1] + ("0" if real[-1] != "0" else "1"),
        real + "'",
        real + "%",
        real + "*",
    ]


def _as_uuid(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


@SETTINGS
@given(memory_id=hostile.memory_ids(), data=st.data())
def test_memory_id_entry_points_refuse_or_match_literally(
    seeded: Bystanders, memory_id: Any, data: st.DataObject
) -> None:
    """A memory id is a UUID, compared as one: a real record's id (in any form a
    UUID parser reads) finds exactly that record; anything else finds nothing or is
    refused as invalid, and never changes a bystander."""
    store, bystanders = seeded.store, seeded.before
    tally.count("hostile inputs fuzzed (Python API memory ids)")
    real = data.draw(st.sampled_from(sorted(bystanders.vector_ids)))
    for candidate in (memory_id, data.draw(st.sampled_from(_variants(real)))):
        canonical = _as_uuid(candidate)
        if canonical is None:
            for action in (
                store.get,
                store.history,
                store.delete,
                lambda memory_id: store.update(memory_id, text="changed"),
            ):
                with pytest.raises(ValidationError, match="memory_id"):
                    action(candidate)
        elif canonical in bystanders.vector_ids:
            found = store.get(candidate)
            assert found is not None and found.id == canonical
            assert store.history(candidate)[0].kind == "ADD"
            assert {e.memory_id for e in store.history(candidate)} == {canonical}
        else:
            assert store.get(candidate) is None
            assert store.history(candidate) == []
            # (delete of a missing id is idempotent; issue 10 decides its answer.)
            with pytest.raises(NotFoundError):
                store.update(candidate, text="changed")
    assert snapshot(store) == bystanders


@SETTINGS
@given(
    name=st.sampled_from(hostile.INJECTIONS + hostile.CONFUSABLES + hostile.BAD_STRINGS)
    | st.text(max_size=30),
    type_=st.sampled_from([*hostile.INJECTIONS, "person"]),
)
def test_entity_names_and_types_are_values_never_query_text(
    seeded: Bystanders, name: str, type_: str
) -> None:
    store, bystanders = seeded.store, seeded.before
    tally.count("hostile inputs fuzzed (Python API entities)")
    entities = [{"name": name, "type": type_}, {"name": "Shared", "type": "t"}]
    relations = [{"source": name, "target": "Shared", "type": type_}]
    try:
        added = store.add(
            "e", embedding=[1.0, 0.5], user_id="fuzz", entities=entities, relations=relations
        )
    except ValueError:
        assert snapshot(store) == bystanders
        return
    assert {e.name for e in store.entities(user_id="fuzz")} == {name, "Shared"}
    [relation] = store.relations(user_id="fuzz")
    assert (relation.source, relation.type, relation.memory_id) == (name, type_, added.id)
    store.delete_all(user_id="fuzz")
    assert store.entities(user_id="fuzz") == []
    assert snapshot(store) == bystanders
