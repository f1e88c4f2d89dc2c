"""The VectorStore port's contract: ``VectorStoreContract``.

Subclass it and override the ``vector_store`` fixture to yield a fresh, empty store.
Each test's docstring ends with a Troubleshooting hint for adapter authors.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from hybridmem.errors import DimensionMismatchError, HybridMemError
from hybridmem.filters import parse_filters
from hybridmem.models import Scope
from hybridmem.ports import VectorStore
from hybridmem.testing.builders import embedding, memory_id, vector_record
from hybridmem.testing.contract_base import (
    ALICE,
    ALICE_A1,
    ALICE_A1_R1,
    ALICE_A2,
    BOB,
    TRICKY,
    StoreFixtures,
)


class VectorStoreContract(StoreFixtures):
    def test_is_a_vector_store(self, vector_store: VectorStore) -> None:
        """Troubleshooting: implement every method of hybridmem.ports.VectorStore."""
        assert isinstance(vector_store, VectorStore)
        assert vector_store.name and vector_store.address

    def test_upsert_and_get_round_trip(self, vector_store: VectorStore) -> None:
        """Troubleshooting: store text, scope, metadata, hash and timestamps unchanged."""
        record = vector_record("m1", ALICE_A1_R1, text="Ünïcode text — with 'quotes'")
        vector_store.upsert([record])
        [got] = vector_store.get([record.id])
        assert (got.id, got.text, got.hash, got.metadata) == (
            record.id,
            record.text,
            record.hash,
            record.metadata,
        )
        assert got.scope == ALICE_A1_R1
        assert got.created_at == record.created_at
        assert got.embedding == pytest.approx(record.embedding, rel=1e-5)

    def test_upsert_twice_leaves_one_record(self, vector_store: VectorStore) -> None:
        """Troubleshooting: upsert replaces by id."""
        vector_store.upsert([vector_record("m1", ALICE, text="first")])
        vector_store.upsert([vector_record("m1", ALICE, text="second")])
        assert vector_store.count() == 1
        assert vector_store.get([memory_id("m1")])[0].text == "second"

    def test_dimension_mismatch_is_rejected(self, vector_store: VectorStore) -> None:
        """Troubleshooting: raise DimensionMismatchError before writing anything."""
        vector_store.upsert([vector_record("m1", ALICE)])
        bad = vector_record("m2", ALICE)
        with pytest.raises(DimensionMismatchError):
            vector_store.upsert([replace(bad, embedding=[1.0, 2.0])])
        assert vector_store.count() == 1

    def test_delete_by_ids_counts_and_is_idempotent(self, vector_store: VectorStore) -> None:
        """Troubleshooting: deleting a missing id counts zero."""
        vector_store.upsert([vector_record(f"m{i}", ALICE) for i in range(3)])
        assert vector_store.delete([memory_id("m0"), memory_id("m1"), memory_id("zz")]) == 2
        assert vector_store.delete([memory_id("m0")]) == 0
        assert vector_store.delete([]) == 0
        assert vector_store.existing_ids([memory_id("m1"), memory_id("m2")]) == {memory_id("m2")}

    def test_scope_matching_is_exact(self, vector_store: VectorStore) -> None:
        """Troubleshooting: exact, case-sensitive matching — for Weaviate use FIELD
        tokenization on scope properties."""
        vector_store.upsert(
            [vector_record(f"t{i}", Scope(user_id=v)) for i, v in enumerate(TRICKY)]
            + [vector_record("plain", ALICE)]
        )
        for i, value in enumerate(TRICKY):
            assert vector_store.count_scope(Scope(user_id=value)) == 1
            [hit] = vector_store.search(embedding("q"), Scope(user_id=value), 10)
            assert hit[0].id == memory_id(f"t{i}")
        assert vector_store.delete_scope(Scope(user_id="Alice"), 10) == 1
        assert vector_store.count_scope(ALICE) == 1
        assert vector_store.count() == len(TRICKY)

    def test_delete_scope_in_small_batches_removes_all(self, vector_store: VectorStore) -> None:
        """Troubleshooting: loop until nothing matches; never stop after one batch."""
        vector_store.upsert([vector_record(f"a{i}", ALICE_A1) for i in range(25)])
        vector_store.upsert([vector_record(f"b{i}", ALICE_A2) for i in range(5)])
        assert vector_store.delete_scope(ALICE_A1, 7) == 25
        assert vector_store.count_scope(ALICE_A1) == 0
        assert vector_store.count_scope(ALICE) == 5
        assert vector_store.delete_scope(ALICE_A1, 7) == 0

    def test_search_filters_before_limit(self, vector_store: VectorStore) -> None:
        """Troubleshooting: apply the scope filter inside the query (pre-filtering);
        post-filtering a global top-k loses hits."""
        vector_store.upsert([vector_record(f"b{i}", BOB) for i in range(30)])
        vector_store.upsert([vector_record("a0", ALICE), vector_record("a1", ALICE)])
        hits = vector_store.search(embedding("b3"), ALICE, 5)
        assert {r.id for r, _ in hits} == {memory_id("a0"), memory_id("a1")}
        best, score = vector_store.search(embedding("b3"), BOB, 1)[0]
        assert best.id == memory_id("b3") and score == pytest.approx(1.0, abs=1e-3)

    def test_search_sees_every_write_at_once(self, vector_store: VectorStore) -> None:
        """Troubleshooting: a search after a write sees it — new, replaced, deleted by
        id or by scope — even when the scope was searched before (drop or update any
        cached copy of a scope inside the write)."""

        def ids(scope: Scope, query: str, limit: int = 10) -> list[str]:
            return [r.id for r, _ in vector_store.search(embedding(query), scope, limit)]

        vector_store.upsert([vector_record(f"a{i}", ALICE_A1) for i in range(4)])
        vector_store.upsert([vector_record("a2-0", ALICE_A2), vector_record("b0", BOB)])
        assert set(ids(ALICE, "q")) == {memory_id(f"a{i}") for i in range(4)} | {memory_id("a2-0")}
        assert ids(ALICE_A1, "a1", 1) == [memory_id("a1")]
        vector_store.upsert([vector_record("a9", ALICE_A1)])
        assert ids(ALICE_A1, "a9", 1) == [memory_id("a9")]
        assert ids(ALICE, "a9", 1) == [memory_id("a9")]
        moved = replace(vector_record("a1", ALICE_A1, text="replaced"), embedding=embedding("z"))
        vector_store.upsert([moved])
        [(best, score)] = vector_store.search(embedding("z"), ALICE_A1, 1)
        assert (best.id, best.text) == (memory_id("a1"), "replaced")
        assert best.embedding == pytest.approx(embedding("z"), rel=1e-5)
        assert score == pytest.approx(1.0, abs=1e-3)
        vector_store.delete([memory_id("a9")])
        assert memory_id("a9") not in ids(ALICE_A1, "a9") + ids(ALICE, "a9")
        vector_store.delete_scope(ALICE_A2, 10)
        assert memory_id("a2-0") not in ids(ALICE, "a2-0")
        assert set(ids(ALICE, "q")) == {memory_id(f"a{i}") for i in range(4)}
        assert ids(BOB, "q") == [memory_id("b0")]

    def test_list_scope_newest_first_with_limit(self, vector_store: VectorStore) -> None:
        """Troubleshooting: order by created_at descending."""
        vector_store.upsert([vector_record(f"m{i}", ALICE, offset_seconds=i) for i in range(5)])
        listed = vector_store.list_scope(ALICE, 3)
        assert [r.id for r in listed] == [memory_id(f"m{i}") for i in (4, 3, 2)]
        assert len(vector_store.list_scope(ALICE, None)) == 5

    def test_iter_ids_and_reset(self, vector_store: VectorStore) -> None:
        """Troubleshooting: iter_ids must visit every record exactly once."""
        vector_store.upsert([vector_record(f"m{i}", ALICE) for i in range(7)])
        seen = [i for batch in vector_store.iter_ids(3) for i in batch]
        assert sorted(seen) == sorted(memory_id(f"m{i}") for i in range(7))
        vector_store.reset()
        assert vector_store.count() == 0

    def test_errors_are_hybridmem_errors(self, vector_store: VectorStore) -> None:
        """Troubleshooting: translate driver errors into hybridmem.errors; never let a
        driver's exception (or a bare ValueError) out."""
        vector_store.upsert([vector_record("m1", ALICE)])
        with pytest.raises(HybridMemError) as caught:
            vector_store.upsert([replace(vector_record("m2", ALICE), embedding=[1.0])])
        assert type(caught.value).__module__ == "hybridmem.errors"

    # -- filters and paging ------------------------------------------------------------

    def _seed_metadata(self, vector_store: VectorStore) -> None:
        from dataclasses import replace

        records = []
        for i in range(8):
            metadata: dict[str, Any] = {"n": i, "parity": "even" if i % 2 == 0 else "odd"}
            if i < 4:
                metadata["flag"] = i % 2 == 0
            if i == 7:
                metadata = {"n": "7", "note": " spaced "}  # a string, not the number 7
            records.append(
                replace(vector_record(f"f{i}", ALICE, offset_seconds=i), metadata=metadata)
            )
        records.append(replace(vector_record("bob", BOB), metadata={"n": 1, "parity": "odd"}))
        vector_store.upsert(records)

    def _listed(self, vector_store: VectorStore, filters: dict[str, Any]) -> list[int]:
        found = vector_store.list_scope(ALICE, None, filters=parse_filters(filters))
        return sorted(_index(r.id) for r in found)

    def test_filters_every_operator(self, vector_store: VectorStore) -> None:
        """Troubleshooting: translate each operator of hybridmem.filters into the
        store's own filter, ANDed with the scope; numbers compare as numbers."""
        self._seed_metadata(vector_store)
        assert self._listed(vector_store, {"parity": "even"}) == [0, 2, 4, 6]
        assert self._listed(vector_store, {"n": {"$eq": 3}}) == [3]
        assert self._listed(vector_store, {"n": {"$gt": 4}}) == [5, 6]
        assert self._listed(vector_store, {"n": {"$gte": 4, "$lt": 6}}) == [4, 5]
        assert self._listed(vector_store, {"n": {"$lte": 1}}) == [0, 1]
        assert self._listed(vector_store, {"n": {"$in": [1, 5, 70]}}) == [1, 5]
        assert self._listed(vector_store, {"parity": "odd", "n": {"$nin": [1, 3]}}) == [5]
        # f7 has no parity: $ne matches it, as in MongoDB.
        assert self._listed(vector_store, {"parity": {"$ne": "odd"}}) == [0, 2, 4, 6, 7]

    def test_filters_keep_types_apart_and_treat_missing_keys(
        self, vector_store: VectorStore
    ) -> None:
        """Troubleshooting: a boolean never equals a number, "7" never equals 7,
        strings match exactly (white space included); a record without the key
        matches only $ne and $nin."""
        self._seed_metadata(vector_store)
        assert self._listed(vector_store, {"flag": True}) == [0, 2]
        assert self._listed(vector_store, {"flag": 1}) == []
        assert self._listed(vector_store, {"n": "7"}) == [7]
        assert self._listed(vector_store, {"n": 7}) == []
        assert self._listed(vector_store, {"note": " spaced "}) == [7]
        assert self._listed(vector_store, {"note": "spaced"}) == []
        assert self._listed(vector_store, {"flag": {"$ne": True}}) == [1, 3, 4, 5, 6, 7]
        assert self._listed(vector_store, {"missing": {"$nin": ["x"]}}) == list(range(8))
        assert self._listed(vector_store, {"missing": "x"}) == []

    def test_filters_on_timestamps(self, vector_store: VectorStore) -> None:
        """Troubleshooting: created_at and updated_at are the record's own
        timestamps, compared as instants."""
        from datetime import timedelta

        from hybridmem.testing.builders import BASE_TIME

        self._seed_metadata(vector_store)
        since = (BASE_TIME + timedelta(seconds=5)).isoformat()
        assert self._listed(vector_store, {"created_at": {"$gte": since}}) == [5, 6, 7]
        assert self._listed(vector_store, {"updated_at": {"$lt": since}}) == [0, 1, 2, 3, 4]

    def test_search_filters_before_the_limit(self, vector_store: VectorStore) -> None:
        """Troubleshooting: the filter must narrow the candidates inside the query;
        filtering a top-k afterwards returns fewer hits than asked for."""
        self._seed_metadata(vector_store)
        hits = vector_store.search(
            embedding("f0"), ALICE, 2, filters=parse_filters({"parity": "odd", "n": {"$gt": 2}})
        )
        assert sorted(_index(r.id) for r, _ in hits) == [3, 5]
        assert (
            vector_store.search(embedding("f0"), ALICE, 2, filters=parse_filters({"n": 99})) == []
        )

    def test_list_scope_pages_by_offset(self, vector_store: VectorStore) -> None:
        """Troubleshooting: order by created_at descending, then id; skip ``offset``
        after filtering; pages neither repeat nor skip a record."""
        self._seed_metadata(vector_store)
        pages = [vector_store.list_scope(ALICE, 3, offset=o) for o in (0, 3, 6, 9)]
        walked = [_index(r.id) for page in pages for r in page]
        assert walked == [7, 6, 5, 4, 3, 2, 1, 0]
        even = vector_store.list_scope(
            ALICE, 2, filters=parse_filters({"parity": "even"}), offset=1
        )
        assert [_index(r.id) for r in even] == [4, 2]


def _index(record_id: str) -> int:
    """The i of a record built by ``vector_record(f"f{i}")``."""
    for i in range(8):
        if memory_id(f"f{i}") == record_id:
            return i
    return -1
