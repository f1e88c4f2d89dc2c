"""Replicated Weaviate (three nodes on loopback, replication factor 3): an erasure
made while one replica is out must never come back, on any node, at any
consistency level, once that replica returns.

Every read is made twice over: through hybridmem (``store.search``, ``get_all``,
``get``, ``vector.count_scope``, on node1 at the configured level) and through a
raw client on *each* node at ONE, QUORUM and ALL (filtered fetch, fetch by id,
filtered near_vector, filtered and total counts), a few rounds over a few
seconds. Reads at ONE run first: a QUORUM or ALL read that finds a stale object
repairs it, which would hide the stale replica from the reads that follow.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import weaviate
from weaviate.classes.config import ConsistencyLevel
from weaviate.classes.query import Filter

from hybridmem import HybridStore, Scope, StoreError, StoreUnavailableError
from hybridmem.testing.builders import embedding
from hybridmem_weaviate import native_cluster
from hybridmem_weaviate.vector import scope_key
from tests.integration.checks import assert_no_half_memory_or_orphan
from tests.integration.seeding import seed_victims_and_keepers

pytestmark = pytest.mark.weaviate

LEVELS = ("ONE", "QUORUM", "ALL")
VICTIMS = 12
KEEPERS = 3
#: Read rounds after the restart, and the pause between them.
ROUNDS = 3
PAUSE = 1.5
#: Stale node (index 2, "node3").
STALE = 2

#: hybridmem_weaviate.native_cluster.WeaviateCluster.
Cluster = Any
#: pytest's record_testsuite_property.
Record = Callable[[str, object], None]


def _cluster_module() -> ModuleType:
    return native_cluster


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """One three-node cluster for the module; each test uses its own collection."""
    launched = _cluster_module().WeaviateCluster(tmp_path_factory.mktemp("weaviate-replication"))
    launched.start()
    print(f"\nweaviate 3-node cluster formed in {launched.form_seconds:.1f}s")
    try:
        yield launched
    finally:
        launched.stop()


@pytest.fixture
def whole_cluster(cluster: Cluster) -> Iterator[Cluster]:
    """The cluster with every node up, before and after the test (a test that fails
    with a node down must not leave it down for the next one)."""
    for i in range(cluster.size):
        if not cluster.running(i):
            cluster.start_node(i)
    yield cluster
    for i in range(cluster.size):
        if not cluster.running(i):
            cluster.start_node(i)


# -- the world as each node sees it -----------------------------------------------------


@dataclass
class Memories:
    victims: list[str]
    keepers: list[str]


@dataclass
class Reads:
    """What one pass of raw reads found, and what is wrong with it."""

    reads: int = 0
    #: (node, level) -> ids of the victim's records that some read returned.
    victims_seen: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    #: Kept records a vector search missed although a fetch returns them: a gap in
    #: that node's vector index, not an erasure problem (see the crash test below).
    index_gaps: list[str] = field(default_factory=list)


def _connect(cluster: Cluster, index: int) -> weaviate.WeaviateClient:
    node = cluster.node(index)
    return weaviate.connect_to_local(
        host="127.0.0.1", port=node.http_port, grpc_port=node.grpc_port
    )


def _read_node(
    client: weaviate.WeaviateClient,
    collection: str,
    node: str,
    level: str,
    memories: Memories,
    out: Reads,
) -> None:
    coll = client.collections.use(collection).with_consistency_level(ConsistencyLevel(level))
    victim = Filter.by_property("user_key").equal(scope_key("victim"))
    keeper = Filter.by_property("user_key").equal(scope_key("keeper"))
    where = f"{node} at {level}"
    seen: set[str] = set()

    def read(what: str, action: Callable[[], Any]) -> Any:
        out.reads += 1
        try:
            return action()
        except Exception as exc:  # every failed read is a finding, whatever its type
            out.problems.append(f"{where}: {what} failed: {' '.join(str(exc).split())[:300]}")
            return None

    found = read("victim fetch", lambda: coll.query.fetch_objects(filters=victim, limit=100))
    if found is not None:
        seen |= {str(o.uuid) for o in found.objects}
    by_id = read(
        "victim fetch by id",
        lambda: coll.query.fetch_objects(
            filters=Filter.by_id().contains_any(memories.victims), limit=100
        ),
    )
    if by_id is not None:
        seen |= {str(o.uuid) for o in by_id.objects}
    near = read(
        "victim near_vector",
        lambda: coll.query.near_vector(near_vector=embedding("v0"), filters=victim, limit=100),
    )
    if near is not None:
        seen |= {str(o.uuid) for o in near.objects}
    counted = read(
        "victim count", lambda: coll.aggregate.over_all(filters=victim, total_count=True)
    )
    if counted is not None and counted.total_count:
        out.problems.append(f"{where}: victim count is {counted.total_count}")
    out.victims_seen[(node, level)] = seen

    kept = read("keeper fetch", lambda: coll.query.fetch_objects(filters=keeper, limit=100))
    if kept is not None and {str(o.uuid) for o in kept.objects} != set(memories.keepers):
        out.problems.append(f"{where}: keeper fetch returned {len(kept.objects)} of {KEEPERS}")
    near_keeper = read(
        "keeper near_vector",
        lambda: coll.query.near_vector(near_vector=embedding("k0"), filters=keeper, limit=100),
    )
    if near_keeper is not None and len(near_keeper.objects) != KEEPERS:
        out.index_gaps.append(
            f"{where}: keeper near_vector returned {len(near_keeper.objects)} of {KEEPERS}"
        )
    total = read("total count", lambda: coll.aggregate.over_all(total_count=True))
    if total is not None and total.total_count != KEEPERS:
        out.problems.append(f"{where}: total count {total.total_count}, expected {KEEPERS}")


def read_every_node(cluster: Cluster, collection: str, memories: Memories) -> Reads:
    """One round: every running node at ONE, then QUORUM, then ALL."""
    out = Reads()
    running = [i for i in range(cluster.size) if cluster.running(i)]
    clients = {i: _connect(cluster, i) for i in running}
    try:
        for level in LEVELS:
            for i in running:
                _read_node(clients[i], collection, cluster.name(i), level, memories, out)
    finally:
        for client in clients.values():
            client.close()
    for (node, level), seen in sorted(out.victims_seen.items()):
        if seen:
            out.problems.append(
                f"{node} at {level}: {len(seen)} of {len(memories.victims)} erased records"
                " came back"
            )
    return out


def hybridmem_problems(store: HybridStore, memories: Memories) -> list[str]:
    """The library's own reads (node1, configured level)."""
    problems = []
    victim = Scope(user_id="victim")
    if (n := store.vector.count_scope(victim)) != 0:
        problems.append(f"hybridmem count_scope(victim) = {n}")
    if hits := store.search(embedding("v0"), user_id="victim", limit=100):
        problems.append(f"hybridmem search(victim) returned {len(hits)} hits")
    if listed := store.get_all(user_id="victim"):
        problems.append(f"hybridmem get_all(victim) returned {len(listed)}")
    if back := [m for m in memories.victims if store.get(m) is not None]:
        problems.append(f"hybridmem get() found {len(back)} erased memories")
    if {m.id for m in store.get_all(user_id="keeper")} != set(memories.keepers):
        problems.append("hybridmem get_all(keeper) lost keepers")
    return problems


# -- the scenario -----------------------------------------------------------------------


@dataclass
class Outcome:
    acknowledged: bool
    error: StoreError | None
    pending_kinds: list[str]
    #: Victim ids each surviving node returned, per level, while node3 was out.
    during_outage: dict[tuple[str, str], set[str]]
    outage_problems: list[str]
    rounds: list[Reads]
    library_problems: list[str]
    delete_seconds: float
    restart_seconds: float

    def problems(self) -> list[str]:
        found = [p for r in self.rounds for p in r.problems] + self.library_problems
        return list(dict.fromkeys(found))  # the same finding every round: once

    def index_gaps(self) -> list[str]:
        return list(dict.fromkeys(g for r in self.rounds for g in r.index_gaps))

    def summary(self, name: str, cluster: Cluster) -> str:
        reads = sum(r.reads for r in self.rounds)
        return (
            f"[{name}] {cluster.size} nodes x {len(LEVELS)} levels x {len(self.rounds)} rounds"
            f" = {reads} raw reads + hybridmem count/search/get_all/get;"
            f" delete_all {'acknowledged' if self.acknowledged else 'raised'}"
            f" in {self.delete_seconds:.1f}s; node3 back in {self.restart_seconds:.1f}s;"
            f" {len(self.problems())} distinct problems"
        )


def _config(cluster: Cluster, tmp_path: Path, collection: str, level: str) -> dict[str, Any]:
    first = cluster.node(0)
    return {
        "data_dir": str(tmp_path / "data"),
        "batch_size": 5,
        "graph": {"provider": "kuzu"},
        "vector": {
            "provider": "weaviate",
            "host": "127.0.0.1",
            "http_port": first.http_port,
            "grpc_port": first.grpc_port,
            "collection": collection,
            "replication_factor": 3,
            "consistency_level": level,
            # A delete meeting a crashed replica blocks until the client's write
            # deadline (6 x this): keep it short.
            "timeout_seconds": 2,
        },
    }


def erase_with_node3_out(
    cluster: Cluster,
    tmp_path: Path,
    collection: str,
    level: str,
    take_down: Callable[[int], None],
) -> tuple[Outcome, Memories]:
    with HybridStore(_config(cluster, tmp_path, collection, level)) as store:
        try:
            ids = seed_victims_and_keepers(store, VICTIMS, KEEPERS)
            memories = Memories(
                victims=[ids[f"v{i}"] for i in range(VICTIMS)],
                keepers=[ids[f"k{i}"] for i in range(KEEPERS)],
            )
            before = read_every_node(cluster, collection, memories)
            assert all(len(s) == VICTIMS for s in before.victims_seen.values()), before

            take_down(STALE)
            error: StoreError | None = None
            started = time.monotonic()
            try:
                store.delete_all(user_id="victim")
            except StoreError as exc:
                error = exc
            delete_seconds = time.monotonic() - started
            pending = [op.kind for op in store.journal.pending()]
            if error is not None:
                assert "Weaviate vector store" in str(error), error
                assert f"127.0.0.1:{cluster.node(0).http_port}" in str(error), error
                assert pending == ["delete_all"], pending
            else:
                assert pending == [], pending
            # A replica set that took part of the erasure would show some records
            # of the scope and not others.
            outage = read_every_node(cluster, collection, memories)
            outage_problems = []
            for (node, lvl), seen in outage.victims_seen.items():
                if seen and seen != set(memories.victims):
                    outage_problems.append(
                        f"{node} at {lvl}: {len(seen)} of {VICTIMS} during the outage"
                    )

            cluster.start_node(STALE)
            # Nothing pending (the erasure was acknowledged) leaves nothing to do here:
            # the rounds below then meet node3 exactly as it came back.
            recovered = store.recover()
            assert [r.outcome for r in recovered] == ["completed"] * len(pending)
            rounds = []
            for round_number in range(ROUNDS):
                if round_number:
                    time.sleep(PAUSE)
                rounds.append(read_every_node(cluster, collection, memories))
            library = hybridmem_problems(store, memories)
            assert_no_half_memory_or_orphan(store)
            return (
                Outcome(
                    acknowledged=error is None,
                    error=error,
                    pending_kinds=pending,
                    during_outage={k: v for k, v in outage.victims_seen.items() if v},
                    outage_problems=outage_problems,
                    rounds=rounds,
                    library_problems=library,
                    delete_seconds=delete_seconds,
                    restart_seconds=cluster.restart_seconds,
                ),
                memories,
            )
        finally:
            if cluster.running(0):
                store.vector.drop()  # type: ignore[attr-defined]


def _report(name: str, cluster: Cluster, outcome: Outcome, record: Record) -> None:
    line = outcome.summary(name, cluster)
    print(f"\n{line}")
    for problem in outcome.problems():
        print(f"  - {problem}")
    for gap in outcome.index_gaps():
        print(f"  - vector index gap: {gap}")
    if outcome.error is not None:
        print(f"  delete_all raised: {outcome.error}")
    if outcome.during_outage:
        shown = {f"{n}@{lv}": len(s) for (n, lv), s in sorted(outcome.during_outage.items())}
        print(f"  victims visible during the outage: {shown}")
    # Suite-level junit properties: xunit2 (pytest's default) drops per-test ones.
    key = "weaviate_replication_" + "_".join(name.replace(",", "").split())
    record(key, line)
    record(key + "_problems", "; ".join(outcome.problems() + outcome.index_gaps()))


# -- tests ------------------------------------------------------------------------------


def test_all_with_a_crashed_replica_stays_pending_then_recovers_everywhere(
    whole_cluster: Cluster, tmp_path: Path, record_testsuite_property: Record
) -> None:
    """node3 is killed (SIGKILL) and the erasure starts at once, while the others
    still count it as a member: the delete at ALL cannot reach it, fails as a whole
    with a clear error, stays pending, and recover() finishes it once node3 is back.
    """
    outcome, _ = erase_with_node3_out(
        whole_cluster,
        tmp_path,
        "ReplicationCrashedReplicaAll",
        "ALL",
        whole_cluster.kill_node,
    )
    _report("ALL, node3 killed", whole_cluster, outcome, record_testsuite_property)
    assert isinstance(outcome.error, StoreUnavailableError), outcome.error
    assert outcome.pending_kinds == ["delete_all"]
    # All or nothing: the aborted delete left every record in place.
    assert not outcome.outage_problems, outcome.outage_problems
    assert outcome.problems() == []


def test_all_with_a_stopped_replica_is_not_acknowledged_and_nothing_comes_back(
    whole_cluster: Cluster, tmp_path: Path, record_testsuite_property: Record
) -> None:
    """What DESIGN.md promises ("an erasure is acknowledged by every replica"):
    with node3 stopped, delete_all at ALL must not report success; after node3 is
    back and recover() has run, no erased record is visible anywhere."""
    outcome, _ = erase_with_node3_out(
        whole_cluster,
        tmp_path,
        "ReplicationStoppedReplicaAll",
        "ALL",
        whole_cluster.stop_node,
    )
    _report("ALL, node3 stopped", whole_cluster, outcome, record_testsuite_property)
    problems = outcome.problems()
    if outcome.acknowledged:
        problems.insert(0, "delete_all at ALL was acknowledged with node3 stopped")
    assert isinstance(outcome.error, StoreUnavailableError), outcome.error
    assert outcome.pending_kinds == ["delete_all"]
    assert not outcome.outage_problems, outcome.outage_problems
    assert problems == []


def test_quorum_reads_still_erase_at_all_with_a_stopped_replica(
    whole_cluster: Cluster, tmp_path: Path, record_testsuite_property: Record
) -> None:
    """consistency_level = QUORUM applies to reads and writes; an erasure still
    needs every replica. With node3 stopped, delete_all is refused and stays
    pending; once node3 is back, recover() finishes it and no erased record is
    visible anywhere, at any level."""
    outcome, _ = erase_with_node3_out(
        whole_cluster,
        tmp_path,
        "ReplicationStoppedReplicaQuorum",
        "QUORUM",
        whole_cluster.stop_node,
    )
    _report("QUORUM, node3 stopped", whole_cluster, outcome, record_testsuite_property)
    assert isinstance(outcome.error, StoreUnavailableError), outcome.error
    assert "replicas" in str(outcome.error)
    assert outcome.pending_kinds == ["delete_all"]
    assert not outcome.outage_problems, outcome.outage_problems
    assert outcome.problems() == []


@pytest.mark.xfail(
    strict=True,
    reason=(
        "Weaviate 1.36.10: after SIGKILL and restart, node3's HNSW vector index misses"
        " about one vector per shard, seemingly the last written to it (2 or 3 of 15"
        " objects with 3 shards: insertion indexes 11, 12 and 14 in one run; the same when the"
        " kill came 10s after the last write) for as long as measured, although the objects"
        " and their vectors are in its object store (fetch_objects with include_vector"
        " returns all). A vector search served by node3 misses them at ONE, QUORUM and"
        " ALL alike: consistency levels check the objects a search found, never the"
        " ones it missed. Searches through node1/node2 find everything."
    ),
)
def test_a_crashed_replica_still_finds_every_kept_vector(
    whole_cluster: Cluster, tmp_path: Path, record_testsuite_property: Record
) -> None:
    """Not an erasure, but what the erasure tests rely on: after a replica crashes
    and restarts, a vector search served by it still finds every kept record."""
    collection = "ReplicationCrashedReplicaSearch"
    labels = [f"s{i}" for i in range(15)]
    with HybridStore(_config(whole_cluster, tmp_path, collection, "ALL")) as store:
        try:
            ids = {
                store.add(f"kept {label}", embedding=embedding(label), user_id="keeper").id
                for label in labels
            }
            whole_cluster.kill_node(STALE)
            whole_cluster.start_node(STALE)
            keeper = Filter.by_property("user_key").equal(scope_key("keeper"))
            gaps: list[str] = []
            reads = 0
            for i in range(whole_cluster.size):
                with _connect(whole_cluster, i) as client:
                    for level in LEVELS:
                        coll = client.collections.use(collection).with_consistency_level(
                            ConsistencyLevel(level)
                        )
                        fetched = coll.query.fetch_objects(
                            filters=keeper, limit=100, include_vector=True
                        ).objects
                        found = coll.query.near_vector(
                            near_vector=embedding("s0"), filters=keeper, limit=100
                        ).objects
                        reads += 2
                        assert {str(o.uuid) for o in fetched} == ids
                        assert all(o.vector for o in fetched)
                        missed = ids - {str(o.uuid) for o in found}
                        if missed:
                            gaps.append(
                                f"{whole_cluster.name(i)} at {level}: near_vector missed"
                                f" {len(missed)} of {len(ids)}"
                            )
            hits = store.search(embedding("s0"), user_id="keeper", limit=100)
            if {h.memory.id for h in hits} != ids:
                gaps.append(f"hybridmem search (node1) found {len(hits)} of {len(ids)}")
            line = (
                f"[search after crash] {whole_cluster.size} nodes x {len(LEVELS)} levels"
                f" = {reads} raw reads + hybridmem search; {len(gaps)} gaps"
            )
            print(f"\n{line}")
            for gap in gaps:
                print(f"  - {gap}")
            record_testsuite_property("weaviate_replication_search_after_crash", line)
            assert gaps == []
        finally:
            store.vector.drop()  # type: ignore[attr-defined]
