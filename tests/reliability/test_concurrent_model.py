"""Concurrent updates, deletes, delete_alls and adds, checked against a model (hypothesis).

Each example is a few rounds; the operations of a round start together on their
own threads. Whatever order they took, once all of them have answered:

* every memory an erasure of the round targeted (its id, or its scope) is gone from
  both stores and its text from history: no racing write brought any part back;
* every other memory is whole, with its old text or the text of an update of the
  round that answered success, and history agrees;
* an update that answered "not found" wrote nothing, and an erasure's counts add up:
  each erased memory counted exactly once;
* an add of the round is either whole or erased whole by a delete_all of its scope.

Seeded and derandomized, so CI replays the same examples.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hybridmem import HybridStore, NotFoundError, Scope
from hybridmem.testing.builders import embedding
from tests.conftest import PairConfig
from tests.integration import raw
from tests.integration.checks import assert_no_half_memory_or_orphan
from tests.integration.races import run_together
from tests.reliability import tally

USERS, AGENTS = ("u0", "u1"), ("a0", "a1")

scopes = st.builds(Scope, user_id=st.sampled_from(USERS), agent_id=st.sampled_from(AGENTS))
filters = st.one_of(
    st.builds(Scope, user_id=st.sampled_from(USERS)),
    st.builds(Scope, agent_id=st.sampled_from(AGENTS)),
    scopes,
)
# Indexes into the memories alive at the start of the round: few, so that several
# operations of a round often aim at the same memory.
operations = st.one_of(
    st.tuples(st.just("update"), st.integers(0, 5), st.booleans()),
    st.tuples(st.just("delete"), st.integers(0, 5)),
    st.tuples(st.just("delete_all"), filters),
    st.tuples(st.just("add"), scopes),
)
rounds = st.lists(st.lists(operations, min_size=2, max_size=8), min_size=1, max_size=3)


@dataclass
class Known:
    scope: Scope
    text: str


def _update(store: HybridStore, memory_id: str, text: str | None) -> Any:
    """The updated memory, or None when it was not found (erased first)."""
    try:
        return store.update(memory_id, text=text, metadata=None if text else {"touched": True})
    except NotFoundError:
        return None


def _run_round(
    store: HybridStore, model: dict[str, Known], ops: list[Any], label: str
) -> dict[str, Known]:
    alive = sorted(model)
    actions: list[tuple[str, str | None, Callable[[], Any]]] = []
    targeted: set[str] = set()
    erasing: list[Scope] = []
    for k, op in enumerate(ops):
        kind = op[0]
        if kind in ("update", "delete") and not alive:
            continue
        if kind == "update":
            memory_id = alive[op[1] % len(alive)]
            new_text = f"{label}-update-{k}" if op[2] else None
            actions.append(("update", memory_id, partial(_update, store, memory_id, new_text)))
        elif kind == "delete":
            memory_id = alive[op[1] % len(alive)]
            targeted.add(memory_id)
            actions.append(("delete", memory_id, partial(store.delete, memory_id)))
        elif kind == "delete_all":
            erasing.append(op[1])
            actions.append(("delete_all", None, partial(store.delete_all, **op[1].parts())))
        else:
            text = f"{label}-add-{k}"
            add = partial(store.add, text, embedding=embedding(text), **op[1].parts())
            actions.append(("add", None, add))
    results = run_together([action for _, _, action in actions], len(actions) or 1)
    tally.count("operations under concurrency", len(actions))

    erased = {m for m in model if m in targeted or any(s.matches(model[m].scope) for s in erasing)}
    updated: dict[str, set[str]] = {}
    for (kind, memory_id, _), result in zip(actions, results, strict=True):
        if kind == "update" and memory_id is not None:
            if result is None:
                assert memory_id in erased, f"update of {memory_id} found nothing, yet no erasure"
            else:
                updated.setdefault(memory_id, set()).add(result.text)

    after: dict[str, Known] = {}
    for memory_id, known in model.items():
        memory = store.get(memory_id)
        if memory_id in erased:
            assert memory is None, f"{memory_id} erased this round, yet readable: came back"
            assert raw.history_texts(store.journal.path, [memory_id]) == 0, "text left in history"
            continue
        assert memory is not None, f"{memory_id} lost without an erasure"
        assert memory.text in {known.text} | updated.get(memory_id, set())
        assert store.history(memory_id)[-1].new_text == memory.text
        after[memory_id] = Known(known.scope, memory.text)
    added = 0
    for (kind, _, _), result in zip(actions, results, strict=True):
        if kind != "add":
            continue
        memory = store.get(result.id)
        if memory is None:
            assert any(s.matches(result.scope) for s in erasing), "an add was lost"
            assert raw.history_texts(store.journal.path, [result.id]) == 0
            added += 1
        else:
            after[result.id] = Known(result.scope, memory.text)
    counted = sum(
        r.memories
        for (kind, _, _), r in zip(actions, results, strict=True)
        if kind in ("delete", "delete_all")
    )
    assert counted == len(erased) + added, "each erased memory is counted exactly once"
    return after


@settings(
    max_examples=6,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(seeds=st.lists(scopes, min_size=3, max_size=8), plan=rounds)
def test_concurrent_writes_and_erasures_match_the_model(
    pair_config: PairConfig, tmp_path: Path, seeds: list[Scope], plan: list[list[Any]]
) -> None:
    with HybridStore(pair_config(tmp_path / "data")) as store:
        store.reset()
        model: dict[str, Known] = {}
        for i, scope in enumerate(seeds):
            memory = store.add(
                f"seed-{i}",
                embedding=embedding(f"seed-{i}"),
                user_id=scope.user_id,
                agent_id=scope.agent_id,
            )
            model[memory.id] = Known(scope, memory.text)
        for number, ops in enumerate(plan):
            model = _run_round(store, model, ops, f"r{number}")
            assert_no_half_memory_or_orphan(store)
