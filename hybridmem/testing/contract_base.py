"""What every port contract shares: the fixtures a subclass overrides, the rule that
no contract test is dodged silently, and the scopes and records the tests use.

A subclass that overrides a contract test must mark it
``pytest.mark.xfail(reason=...)``, or the class fails at import.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from hybridmem.models import Scope
from hybridmem.ports import GraphStore, VectorStore
from hybridmem.testing.builders import memory_graph

ALICE = Scope(user_id="alice")
ALICE_A1 = Scope(user_id="alice", agent_id="a1")
ALICE_A2 = Scope(user_id="alice", agent_id="a2")
ALICE_A1_R1 = Scope(user_id="alice", agent_id="a1", run_id="r1")
BOB = Scope(user_id="bob")
#: Memory "m1": two entities and a relation between them.
ALICE_LIVES_IN_PARIS = memory_graph(
    "m1", ALICE_A1, (("Alice", "person"), ("Paris", "city")), (("Alice", "Paris", "lives_in"),)
)
# Ids a sloppy adapter would treat as patterns, tokens or query text.
TRICKY = (
    "Alice",
    "alice smith",
    "alice*",
    "%",
    "a'lice",
    'a"lice',
    "}) MATCH (n) DETACH DELETE n //",
)


class _NoSilentDodge:
    """Fails any subclass that overrides a contract test without an explicit xfail."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for base in cls.__mro__[1:]:
            if not issubclass(base, _NoSilentDodge) or base is _NoSilentDodge:
                continue
            for name, contract in vars(base).items():
                if not name.startswith("test_"):
                    continue
                override = getattr(cls, name)
                if override is contract:
                    continue
                marks = getattr(override, "pytestmark", [])
                if not any(m.name == "xfail" and m.kwargs.get("reason") for m in marks):
                    raise TypeError(
                        f"{cls.__name__}.{name} overrides a contract test; mark it "
                        "@pytest.mark.xfail(reason=...) to declare the capability unsupported"
                    )


class StoreFixtures(_NoSilentDodge):
    """The fixtures a contract's subclass overrides, each yielding a fresh, empty store
    (a subclass overrides those its contract uses)."""

    @pytest.fixture
    def graph_store(self) -> Iterator[GraphStore]:
        raise NotImplementedError("override the graph_store fixture")

    @pytest.fixture
    def vector_store(self) -> Iterator[VectorStore]:
        raise NotImplementedError("override the vector_store fixture")
