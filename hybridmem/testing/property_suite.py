"""Random add / update / delete / delete_all / reset / reconcile / recover / search
sequences against a plain reference model.

After every step: nothing of a deleted scope in either store, nothing outside
it lost, no orphan entity, no dangling relation, no half-memory; every live
memory holds the text the model says, and so does the newest event of its
history; no erased memory's text is left in history. Derandomized (the same
sequences every run, so CI is reproducible); HYBRIDMEM_PROPERTY_EXAMPLES sets
how many.
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, rule

from hybridmem import HybridStore, Scope
from hybridmem.records import normalise_name
from hybridmem.testing import raw
from hybridmem.testing.builders import embedding
from hybridmem.testing.pair_checks import scope_arguments, snapshot
from hybridmem.testing.pair_fixtures import PairConfig
from hybridmem.testing.pair_suite import PairSuite

USERS = ("u1", "U1", "u2")
AGENTS = (None, "a1", "a2")
RUNS = (None, "r1")
NAMES = ("Paris", "paris", "Tea", "Bob", "Rome")
EXAMPLES = int(os.environ.get("HYBRIDMEM_PROPERTY_EXAMPLES", "20"))


@dataclass
class Model:
    """The reference: what should exist, computed without any store."""

    memories: dict[str, Scope] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)
    mentions: dict[str, set[tuple[str | None, str, str]]] = field(default_factory=dict)
    relation_ids: dict[str, set[str]] = field(default_factory=dict)
    #: Memories erased at some point: none of their text may stay in history.
    erased: set[str] = field(default_factory=set)

    def entities(self) -> set[tuple[str | None, str, str]]:
        return set().union(*self.mentions.values()) if self.mentions else set()

    def drop(self, memory_id: str) -> None:
        if memory_id in self.memories:
            self.erased.add(memory_id)
        self.texts.pop(memory_id, None)
        self.memories.pop(memory_id, None)
        self.mentions.pop(memory_id, None)
        self.relation_ids.pop(memory_id, None)


def make_machine(pair_config: PairConfig, root: Path) -> type[RuleBasedStateMachine]:
    counter = itertools.count()

    class DeletionContract(RuleBasedStateMachine):
        memories = Bundle("memories")

        @initialize()
        def open_store(self) -> None:
            self.store = HybridStore({**pair_config(root / str(next(counter))), "batch_size": 3})
            self.store.reset()
            self.model = Model()
            self.last_deleted: Scope | None = None

        def teardown(self) -> None:
            self.store.close()

        @rule(
            target=memories,
            user=st.sampled_from(USERS),
            agent=st.sampled_from(AGENTS),
            run=st.sampled_from(RUNS),
            names=st.lists(st.sampled_from(NAMES), max_size=3),
            relate=st.booleans(),
        )
        def add(
            self, user: str, agent: str | None, run: str | None, names: list[str], relate: bool
        ) -> str:
            relations = []
            if relate and len(names) >= 2:
                relations = [{"source": names[0], "target": names[-1], "type": "near"}]
            text = f"{user} {agent} {run} {names} #{next(counter)}"
            memory = self.store.add(
                text,
                embedding=embedding(f"{user}{agent}{run}{names}"),
                user_id=user,
                agent_id=agent,
                run_id=run,
                entities=[{"name": n, "type": "place"} for n in names],
                relations=relations,
            )
            self.model.memories[memory.id] = memory.scope
            self.model.texts[memory.id] = text
            self.model.mentions[memory.id] = {(user, normalise_name(n), "place") for n in names}
            self.model.relation_ids[memory.id] = {
                r.id for r in self.store.relations(user_id=user) if r.memory_id == memory.id
            }
            assert len(self.model.relation_ids[memory.id]) == len(relations)
            self.last_deleted = None
            return memory.id

        @rule(memory_id=memories, text=st.text(max_size=20))
        def update(self, memory_id: str, text: str) -> None:
            if memory_id not in self.model.memories:
                return
            if "\x00" in text:
                before = self.store.get(memory_id)
                with pytest.raises(ValueError, match="NUL"):
                    self.store.update(memory_id, text=text)
                assert self.store.get(memory_id) == before
                return
            self.store.update(memory_id, text=text)
            self.model.texts[memory_id] = text

        @rule(memory_id=memories)
        def delete(self, memory_id: str) -> None:
            result = self.store.delete(memory_id)
            assert result.memories == (1 if memory_id in self.model.memories else 0)
            self.model.drop(memory_id)
            self.last_deleted = None

        @rule(
            user=st.sampled_from((None, *USERS)),
            agent=st.sampled_from(AGENTS),
            run=st.sampled_from(RUNS),
        )
        def delete_all(self, user: str | None, agent: str | None, run: str | None) -> None:
            scope = Scope(user_id=user, agent_id=agent, run_id=run)
            if scope.is_empty():
                return
            doomed = [m for m, s in self.model.memories.items() if scope.matches(s)]
            result = self.store.delete_all(**scope_arguments(scope))
            assert result.memories == len(doomed)
            for memory_id in doomed:
                self.model.drop(memory_id)
            self.last_deleted = scope

        @rule(data=st.data())
        def reset(self, data: st.DataObject) -> None:
            # Rare: a reset ends the interesting part of a sequence.
            if data.draw(st.integers(0, 9)) != 0:
                return
            self.store.reset()
            for memory_id in list(self.model.memories):
                self.model.drop(memory_id)
            self.last_deleted = None

        @rule()
        def reconcile_finds_nothing(self) -> None:
            assert self.store.reconcile().found.total() == 0
            assert self.store.reconcile(fix=True).removed.total() == 0

        @rule()
        def recover_finds_nothing(self) -> None:
            assert self.store.recover() == []

        @rule(user=st.sampled_from(USERS), agent=st.sampled_from(AGENTS))
        def search_sees_exactly_the_scope(self, user: str, agent: str | None) -> None:
            scope = Scope(user_id=user, agent_id=agent)
            expected = {m for m, s in self.model.memories.items() if scope.matches(s)}
            hits = self.store.search(embedding("q"), **scope_arguments(scope), limit=100)
            assert {h.memory.id for h in hits} == expected

        @invariant()
        def texts_and_history_match_the_model(self) -> None:
            if not hasattr(self, "store"):
                return
            for memory_id, text in self.model.texts.items():
                memory = self.store.get(memory_id)
                assert memory is not None and memory.text == text
                assert self.store.history(memory_id)[-1].new_text == text
            assert raw.history_texts(self.store.journal.path, self.model.erased) == 0

        @invariant()
        def stores_match_the_model(self) -> None:
            if not hasattr(self, "store"):
                return
            snap = snapshot(self.store)
            expected = set(self.model.memories)
            assert snap.vector_ids == expected, "vector store differs from the model"
            assert snap.node_ids == expected, "graph memory nodes differ from the model"
            assert snap.entities == self.model.entities(), "orphan or lost entity"
            assert snap.relation_ids == set().union(*self.model.relation_ids.values(), set())
            if self.last_deleted is not None:
                parts = scope_arguments(self.last_deleted)
                assert self.store.get_all(**parts) == []
                assert self.store.relations(**parts) == []

    return DeletionContract


class PropertySuite(PairSuite):
    """Random add / update / delete / delete_all / reset / reconcile / recover /
    search sequences against a reference model (hypothesis, derandomized;
    HYBRIDMEM_PROPERTY_EXAMPLES sets how many).

    Troubleshooting: the failing sequence is printed; replay it step by step."""

    def test_random_sequences_keep_the_contract(
        self, pair_config: PairConfig, tmp_path: Path
    ) -> None:
        machine = make_machine(pair_config, tmp_path)
        machine.TestCase.settings = settings(
            max_examples=EXAMPLES,
            stateful_step_count=15,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        machine.TestCase().runTest()
