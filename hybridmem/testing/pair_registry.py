"""The pair registry: which adapter pairs the pair suites run on, and how to open each.

An adapter declares, in its own package, one ``TestBackend`` per store it offers
(its provider, the config section a test opens it with, the server fixture it
needs, its witness) and the ``TestPair``s it joins, and exposes them through the
``hybridmem.testing`` entry point::

    [project.entry-points."hybridmem.testing"]
    mystore = "mystore_hybridmem.testing:registration"

where ``registration`` is a ``Registration``. The core's test tree (and any
adapter's) reads the pairs from ``load_registry()``; nothing lists them by hand.
Entry points load in name order, so the pairs keep one order from run to run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from hybridmem.store import HybridStore
    from hybridmem.testing.witness import GraphWitness, VectorWitness

ENTRY_POINT_GROUP = "hybridmem.testing"
# "opt_in": runs only when HYBRIDMEM_TEST_PAIRS names it (a backend on trial).
PairKind = Literal["default", "tenancy", "opt_in"]


@dataclass(frozen=True)
class SectionRequest:
    """What a backend's ``section`` sees when a test opens a pair.

    ``server`` is the value of the backend's ``server_fixture`` (None without one);
    ``unique`` is a name no other test of this session uses (a digest of the test id
    and the process), for backends whose stores outlive a test (a collection);
    ``partner`` is the name of the other backend of the pair.
    """

    server: Any
    unique: str
    partner: str


@dataclass(frozen=True)
class TestBackend:
    """One store as the pair suites open it.

    ``name`` is how pair ids spell it (``"weaviate_mt"``); ``provider`` is the
    adapter's provider name in a configuration. ``section(role, request)`` returns the
    config section (with ``provider``) for a role. ``server_fixture`` names the pytest
    fixture that starts or finds its server, in the pytest plugin ``pytest_plugin``.
    ``launcher`` (``"package.module:attribute"``, imported only when a server is
    started) is its native test server, a ``hybridmem.testing.launchers.Launcher``,
    which ``python -m hybridmem.testing.servers start`` starts for a run.
    ``persistent`` stores outlive a test: they are reset before each test, and
    ``after_test`` (given a store opened on the pair) cleans up after it.
    ``graph_witness`` / ``vector_witness`` read the backend directly, bypassing the
    adapter (see ``hybridmem.testing.witness``); ``stores`` are the adapter's store
    classes, by which a witness is found for an opened store.
    """

    __test__ = False  # a dataclass named Test*, not a test class

    name: str
    provider: str
    section: Callable[[str, SectionRequest], dict[str, Any]]
    marks: tuple[str, ...] = ()
    server_fixture: str | None = None
    pytest_plugin: str | None = None
    launcher: str | None = None
    persistent: bool = False
    after_test: Callable[[HybridStore], None] | None = None
    graph_witness: Callable[[Any], GraphWitness] | None = None
    vector_witness: Callable[[Any], VectorWitness] | None = None
    stores: tuple[type, ...] = ()


@dataclass(frozen=True)
class TestPair:
    """A graph backend and a vector backend, by name, as ``"graph+vector"``.

    ``kind="tenancy"`` pairs run only where a suite asks for them (or
    HYBRIDMEM_TEST_PAIRS names them); ``kind="opt_in"`` pairs only when
    HYBRIDMEM_TEST_PAIRS names them; ``production`` pairs (the pairs users are
    pointed to) carry the tests of code that lives in one adapter at a time.
    """

    __test__ = False

    id: str
    kind: PairKind = "default"
    production: bool = False

    @property
    def graph(self) -> str:
        return self.id.split("+")[0]

    @property
    def vector(self) -> str:
        return self.id.split("+")[1]


@dataclass(frozen=True)
class Registration:
    """What one adapter package registers: its backends and the pairs it joins."""

    backends: tuple[TestBackend, ...] = ()
    pairs: tuple[TestPair, ...] = ()


@dataclass(frozen=True)
class PairRegistry:
    backends: Mapping[str, TestBackend] = field(default_factory=dict)
    pairs: tuple[TestPair, ...] = ()

    def ids(self, kind: PairKind) -> tuple[str, ...]:
        return tuple(p.id for p in self.pairs if p.kind == kind)

    def pair(self, pair_id: str) -> TestPair:
        for pair in self.pairs:
            if pair.id == pair_id:
                return pair
        raise KeyError(f"no registered pair {pair_id!r}; registered: {[p.id for p in self.pairs]}")

    def backend_of(self, store: object, role: Literal["graph", "vector"]) -> TestBackend:
        """The first backend whose ``stores`` include ``store``'s class and that has a
        witness for ``role``."""
        for backend in self.backends.values():
            witness = backend.graph_witness if role == "graph" else backend.vector_witness
            if witness is not None and isinstance(store, backend.stores):
                return backend
        raise LookupError(
            f"no {role} witness registered for {type(store).__name__}: register a TestBackend "
            f"with stores and {role}_witness under the {ENTRY_POINT_GROUP!r} entry point"
        )

    def pytest_plugins(self) -> list[str]:
        return sorted({b.pytest_plugin for b in self.backends.values() if b.pytest_plugin})


def build_registry(registrations: Mapping[str, Registration]) -> PairRegistry:
    """One registry from registrations by entry-point name; refuses two backends or two
    pairs of one name. A pair naming a backend that is not installed is left out
    (HYBRIDMEM_TEST_PAIRS naming it is then an unknown pair)."""
    backends: dict[str, TestBackend] = {}
    pairs: list[TestPair] = []
    for source, registration in sorted(registrations.items()):
        if not isinstance(registration, Registration):
            raise TypeError(f"{ENTRY_POINT_GROUP} entry point {source!r} is not a Registration")
        for backend in registration.backends:
            if backend.name in backends:
                raise ValueError(f"test backend {backend.name!r} is registered twice")
            backends[backend.name] = backend
        pairs.extend(registration.pairs)
    seen: set[str] = set()
    for pair in pairs:
        if pair.id in seen:
            raise ValueError(f"pair {pair.id!r} is registered twice")
        seen.add(pair.id)
    installed = tuple(p for p in pairs if {p.graph, p.vector} <= set(backends))
    return PairRegistry(backends, installed)


@cache
def load_registry() -> PairRegistry:
    """Every installed adapter's registration (the ``hybridmem.testing`` entry points)."""
    found = {ep.name: ep.load() for ep in entry_points(group=ENTRY_POINT_GROUP)}
    return build_registry(found)
