"""The SQLite vector store: the shipped conformance suite, with and without its
search cache, and what the store itself promises: erasure to the byte when a
delete returns, a second process's writes seen at once, its options refused by
name, a compaction's rewrite, and the narrow listing (``list_scope_metadata``,
which the LangGraph namespace index reads its markers with) answering as
``list_scope`` does."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from hybridmem.errors import ConfigurationError, StoreUnavailableError
from hybridmem.models import Scope
from hybridmem.records import VectorRecord
from hybridmem.testing import VectorStoreContract
from hybridmem.testing.builders import embedding, vector_record
from hybridmem_sqlite import SQLiteVectorStore, plugin

# 0: every search reads the scope from the file; 256: the cached path.
CACHE_MB = [0, 256]


class TestSQLiteVectorStore(VectorStoreContract):
    @pytest.fixture(params=CACHE_MB, ids=lambda mb: f"cache{mb}")
    def vector_store(
        self, tmp_path: Path, request: pytest.FixtureRequest
    ) -> Iterator[SQLiteVectorStore]:
        store = SQLiteVectorStore(tmp_path / "vectors.sqlite3", search_cache_mb=request.param)
        yield store
        store.close()


def _files_holding(directory: Path, values: list[str]) -> list[tuple[str, str]]:
    return [
        (path.name, value)
        for path in sorted(directory.iterdir())
        if path.is_file()
        for value in values
        if value.encode() in path.read_bytes()
    ]


def _marked(label: str, user: str) -> VectorRecord:
    record = vector_record(label, Scope(user_id=user, agent_id=f"{user}-agent"))
    return replace(record, text=f"TEXT-{label}-{user}", metadata={"note": f"META-{label}"})


def test_erased_values_leave_the_file_and_wal_when_delete_returns(tmp_path: Path) -> None:
    """No compaction: delete, delete_scope and reset leave no erased text, metadata
    value, id or scope id in any file, open or closed; the kept rows stay whole."""
    directory = tmp_path / "store"
    store = SQLiteVectorStore(directory / "vectors.sqlite3")
    kept = [_marked(f"keep{i}", "keeper") for i in range(50)]
    by_id = [_marked(f"gone{i}", "USERbyidQZ") for i in range(40)]
    by_scope = [_marked(f"scoped{i}", "USERscopeQZ") for i in range(300)]
    store.upsert(kept + by_id + by_scope)
    # Searched first, so the scopes are cached and the index pages are read.
    for user in ("keeper", "USERbyidQZ", "USERscopeQZ"):
        assert store.search(embedding("q"), Scope(user_id=user), 5)
    erased = [r.text for r in by_id + by_scope] + [
        "META-gone1",
        "META-scoped7",
        "USERbyidQZ",
        "USERscopeQZ",
        "USERbyidQZ-agent",
        by_id[3].id,
        by_scope[5].id,
    ]
    assert len(_files_holding(directory, erased)) == len(erased)
    assert store.delete([r.id for r in by_id]) == 40
    assert store.delete_scope(Scope(user_id="USERscopeQZ"), batch_size=64) == 300
    assert _files_holding(directory, erased) == []
    assert store.search(embedding("q"), Scope(user_id="USERscopeQZ"), 5) == []
    assert len(store.list_scope(Scope(user_id="keeper"), None)) == 50
    store.close()
    assert _files_holding(directory, erased) == []
    reopened = SQLiteVectorStore(directory / "vectors.sqlite3")
    assert {r.text for r in reopened.list_scope(Scope(user_id="keeper"), None)} == {
        r.text for r in kept
    }
    reopened.reset()
    assert _files_holding(directory, ["TEXT-keep3-keeper", "keeper-agent"]) == []
    reopened.close()


def test_a_write_from_another_connection_is_searched_at_once(tmp_path: Path) -> None:
    """Two processes may open the file: a cached scope is read again after another
    connection commits (PRAGMA data_version), so a search sees its write."""
    path = tmp_path / "vectors.sqlite3"
    scope = Scope(user_id="shared")
    first, second = SQLiteVectorStore(path), SQLiteVectorStore(path)
    try:
        first.upsert([vector_record("a", scope)])
        assert [r.id for r, _ in first.search(embedding("b"), scope, 5)] == [
            vector_record("a", scope).id
        ]
        second.upsert([vector_record("b", scope)])
        assert first.search(embedding("b"), scope, 1)[0][0].id == vector_record("b", scope).id
        second.delete([vector_record("b", scope).id])
        assert [r.id for r, _ in first.search(embedding("b"), scope, 5)] == [
            vector_record("a", scope).id
        ]
    finally:
        first.close()
        second.close()


def test_a_write_waiting_on_another_process_lock_is_unavailable(tmp_path: Path) -> None:
    """A write lock held past busy_timeout is StoreUnavailableError (the journal keeps
    the operation pending for recover()), and nothing was written."""
    path = tmp_path / "vectors.sqlite3"
    holder = SQLiteVectorStore(path)
    waiter = SQLiteVectorStore(path, busy_timeout_ms=50)
    try:
        holder._db.execute("BEGIN IMMEDIATE")
        with pytest.raises(StoreUnavailableError, match="locked"):
            waiter.upsert([vector_record("x", Scope(user_id="u"))])
        holder._db.execute("ROLLBACK")
        assert waiter.count() == 0
    finally:
        holder.close()
        waiter.close()


def test_unknown_options_are_refused_by_name(tmp_path: Path) -> None:
    assert plugin.vector is not None
    with pytest.raises(ConfigurationError, match=r"vector\.buffer_pool_mb"):
        plugin.vector({"buffer_pool_mb": 64}, tmp_path)
    store = plugin.vector({"path": "v.db", "search_cache_mb": 0}, tmp_path)
    try:
        assert store.address == str(tmp_path / "v.db")
    finally:
        store.close()


def test_swap_in_replaces_the_file_with_its_twin(tmp_path: Path) -> None:
    """What a compaction does: copy the live rows into a blank twin and swap it in."""
    store = SQLiteVectorStore(tmp_path / "vectors.sqlite3")
    scope = Scope(user_id="u")
    store.upsert([vector_record(f"r{i}", scope) for i in range(20)])
    store.delete([vector_record("r0", scope).id])
    twin = store.blank_twin(tmp_path / "vectors.sqlite3.compacting")
    for ids in store.iter_ids(7):
        twin.upsert(store.get(ids), fresh=True)
    twin.close()
    store.checkpoint_file()
    store.swap_in(tmp_path / "vectors.sqlite3.compacting")
    try:
        assert store.count() == 19
        [(hit, score)] = store.search(embedding("r5"), scope, 1)
        assert hit.id == vector_record("r5", scope).id and score == pytest.approx(1.0)
        assert not (tmp_path / "vectors.sqlite3.compacting").exists()
    finally:
        store.close()


def test_the_dimension_another_connection_set_is_kept(tmp_path: Path) -> None:
    """Two processes opened an empty file; the first write fixes the dimension for both."""
    from hybridmem.errors import DimensionMismatchError

    path = tmp_path / "vectors.sqlite3"
    first, second = SQLiteVectorStore(path), SQLiteVectorStore(path)
    try:
        first.upsert([vector_record("a", Scope(user_id="u"))])
        with pytest.raises(DimensionMismatchError):
            second.upsert([replace(vector_record("b", Scope(user_id="u")), embedding=[1.0, 0.0])])
        assert first.count() == 1
    finally:
        first.close()
        second.close()


def test_a_data_directory_with_the_old_default_kuzu_vectors_is_refused_not_emptied(
    tmp_path: Path,
) -> None:
    """The default vector role moved from the Kuzu file to SQLite: a store written
    under the old default must not open as an empty vector store (every memory
    would read as vectorless and reconcile would call them orphans)."""
    from hybridmem import HybridStore
    from hybridmem.errors import MigrationRequiredError

    old = {"data_dir": tmp_path, "graph": {"provider": "kuzu"}, "vector": {"provider": "kuzu"}}
    with HybridStore(old) as store:
        kept = store.add(text="kept", embedding=embedding("kept"), user_id="u")
    with pytest.raises(MigrationRequiredError, match=r'provider = "kuzu".*hybridmem export'):
        HybridStore({"data_dir": tmp_path})
    assert not (tmp_path / "vectors.sqlite3").exists()
    with HybridStore(old) as store:
        assert store.get(kept.id, user_id="u") is not None


@pytest.fixture(scope="module")
def listed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SQLiteVectorStore]:
    """Three users of 60 records; created_at repeats every 7 records (ties by id)."""
    store = SQLiteVectorStore(tmp_path_factory.mktemp("listed") / "vectors.sqlite3")
    store.upsert(
        [
            replace(
                vector_record(
                    f"u{u}-{i}", Scope(user_id=f"u{u}", agent_id=f"a{i % 2}"), offset_seconds=i % 7
                ),
                metadata={"i": i, "nested": {"u": u, "tags": ["x", i]}},
            )
            for u in range(3)
            for i in range(60)
        ]
    )
    yield store
    store.close()


@pytest.mark.parametrize(("limit", "offset"), [(None, 0), (8, 0), (8, 5), (100, 40), (5, 59)])
@pytest.mark.parametrize(
    "scope", [Scope(user_id="u1"), Scope(user_id="u1", agent_id="a0")], ids=["user", "two parts"]
)
def test_the_narrow_listing_answers_as_list_scope(
    listed: SQLiteVectorStore, scope: Scope, limit: int | None, offset: int
) -> None:
    full = listed.list_scope(scope, limit, offset=offset)
    assert listed.list_scope_metadata(scope, limit, offset=offset) == [
        (r.id, r.metadata, r.created_at) for r in full
    ]
    assert listed.list_scope_metadata(Scope(user_id="nobody"), limit, offset=offset) == []


def test_the_narrow_listing_pages_through_the_scope_once(listed: SQLiteVectorStore) -> None:
    scope = Scope(user_id="u2")
    pages = [listed.list_scope_metadata(scope, 7, offset=start) for start in range(0, 60, 7)]
    assert [row for page in pages for row in page] == listed.list_scope_metadata(scope, None)
    assert len({row[0] for page in pages for row in page}) == 60


def test_the_narrow_listing_leaves_out_a_damaged_record(tmp_path: Path) -> None:
    store = SQLiteVectorStore(tmp_path / "vectors.sqlite3")
    try:
        scope = Scope(user_id="u")
        store.upsert([vector_record(f"m{i}", scope, offset_seconds=i) for i in range(4)])
        damaged = store.list_scope(scope, None)[1].id
        # Two objects where one should be: a joined parse would shift every row after.
        store._db.execute("UPDATE vec SET metadata = '{},{}' WHERE id = ?", (damaged,))
        listed = store.list_scope_metadata(scope, None)
        assert [row[0] for row in listed] == [r.id for r in store.list_scope(scope, None)]
        assert damaged not in [row[0] for row in listed] and len(listed) == 3
    finally:
        store.close()
