"""The Kuzu vector store's scope reads cost what their scope holds, not the store.

A filtered read of one scope (with the expiry clause ``get_all`` adds to every
read) once made Kuzu scan the whole Vec table and hash-join it to the scope: the
filter function ran on most records of the store (10,000 calls, 100 ms, to answer
a 100-record scope of a 10,000-record store). The function's calls are counted
through its parsed-filters cache, which every call consults once. The narrow
listing (``list_scope_metadata``) answers as ``list_scope`` does.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from hybridmem.filters import Filters, parse_filters, with_alive_at
from hybridmem.models import Scope
from hybridmem.testing.builders import BASE_TIME, vector_record
from hybridmem_kuzu import KuzuVectorStore, _filters
from tests.contract.kuzu_engines import ENGINE, suite_on_other_engines

USERS = 30
PER_USER = 100


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KuzuVectorStore]:
    path = tmp_path_factory.mktemp("scope-reads") / "vectors.kuzu"
    vectors = KuzuVectorStore(path, engine=ENGINE, search_cache_mb=0)
    records = []
    for u in range(USERS):
        for i in range(PER_USER):
            scope = Scope(user_id=f"u{u}", agent_id=f"a{u}") if i % 2 else Scope(user_id=f"u{u}")
            base = vector_record(f"u{u}-{i}", scope, offset_seconds=i % 7)
            expires = BASE_TIME + timedelta(hours=i % 24) if i % 5 == 0 else None
            records.append(replace(base, metadata={"k": i % 3, "i": i}, expires_at=expires))
    vectors.upsert(records)
    yield vectors
    vectors.close()


READS: dict[str, dict[str, object]] = {
    "expiry only": {},
    "expiry and a condition": {"k": 1},
    "expiry and two conditions": {"k": {"$in": [0, 2]}, "i": {"$gte": 10}},
}
SCOPES = {
    "one part": Scope(user_id="u7"),
    "two parts": Scope(user_id="u7", agent_id="a7"),
}


def _alive(filters: dict[str, object]) -> Filters:
    # Half the expiring records are past due at this instant, half not.
    return with_alive_at(parse_filters(filters or None), BASE_TIME + timedelta(hours=12))


def _filter_calls() -> int:
    info = _filters._parsed.cache_info()
    return info.hits + info.misses


@pytest.mark.parametrize("read", [name for name, given in READS.items() if given])
@pytest.mark.parametrize("part", SCOPES)
def test_a_filtered_scope_read_filters_only_the_scope(
    store: KuzuVectorStore, read: str, part: str
) -> None:
    scope, filters = SCOPES[part], _alive(READS[read])
    before = _filter_calls()
    found = store.list_scope(scope, None, filters=filters)
    calls = _filter_calls() - before
    assert found and calls <= PER_USER, f"{calls} filter calls for a {PER_USER}-record scope"


@pytest.mark.parametrize("read", READS)
@pytest.mark.parametrize("part", SCOPES)
def test_a_filtered_scope_read_returns_what_the_filters_keep(
    store: KuzuVectorStore, read: str, part: str
) -> None:
    scope, filters = SCOPES[part], _alive(READS[read])
    everything = store.list_scope(scope, None)
    want = [
        r.id
        for r in everything
        if filters.matches(r.metadata, r.created_at, r.updated_at)
        and (r.expires_at is None or r.expires_at > (filters.alive_at or BASE_TIME))
    ]
    got = [r.id for r in store.list_scope(scope, None, filters=filters)]
    assert got == want and 0 < len(got) < len(everything)
    assert [r.id for r in store.list_scope(scope, 7, filters=filters, offset=3)] == want[3:10]


@pytest.mark.parametrize(("limit", "offset"), [(None, 0), (8, 0), (8, 5), (200, 40), (5, 99)])
def test_the_narrow_listing_answers_as_list_scope(
    store: KuzuVectorStore, limit: int | None, offset: int
) -> None:
    scope = Scope(user_id="u3")
    full = store.list_scope(scope, limit, offset=offset)
    narrow = store.list_scope_metadata(scope, limit, offset=offset)
    assert narrow == [(r.id, r.metadata, r.created_at) for r in full]
    assert store.list_scope_metadata(Scope(user_id="nobody"), limit, offset=offset) == []


def test_the_narrow_listing_leaves_out_a_damaged_record(tmp_path: Path) -> None:
    vectors = KuzuVectorStore(tmp_path / "v.kuzu", engine=ENGINE)
    try:
        scope = Scope(user_id="u")
        vectors.upsert([vector_record(f"m{i}", scope, offset_seconds=i) for i in range(4)])
        damaged = vectors.list_scope(scope, None)[1].id
        vectors._db.rows(
            "MATCH (v:Vec {id: $id}) SET v.metadata = $m", {"id": damaged, "m": "{},{}"}
        )
        listed = [row[0] for row in vectors.list_scope_metadata(scope, None)]
        assert listed == [r.id for r in vectors.list_scope(scope, None)]
        assert damaged not in listed and len(listed) == 3
    finally:
        vectors.close()


test_the_suite_passes_on_every_engine = suite_on_other_engines(__file__)
