"""Hostile timestamps, ttl and expires_at through every write surface, on every pair.

The rule (hybridmem.validation.read_instant): an instant is accepted when it has a
UTC offset (expires_at: naive is UTC) and lies in 1970-01-01 .. 9999-12-31 once in
UTC; everything else is a ValidationError (REST 422, CLI exit 2), never a 500, an
OverflowError or a stored value no reader parses. ttl is 1 s .. 100 years.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hybridmem import HybridStore
from hybridmem.errors import ValidationError
from hybridmem.models import Scope
from hybridmem.portability import EXPORT_FORMAT, EXPORT_VERSION, import_export, iter_export
from hybridmem.purger import PurgeLoop
from hybridmem.server import create_app
from hybridmem.validation import EARLIEST_INSTANT, LATEST_INSTANT, MAX_TTL
from tests.reliability import tally

E = [1.0, 0.5]
EARLIEST = "1970-01-01T00:00:00+00:00"
LATEST = "9999-12-31T00:00:00+00:00"

#: The cases of issue 25, section 1, and the edges of the accepted range.
ISSUE_CASES = [
    "0999-06-01T00:00:00+00:00",
    "9999-12-31T23:59:59-05:00",
    "0001-01-01T00:30:00+01:00",
]
EDGES = [
    EARLIEST,
    LATEST,
    "1969-12-31T23:59:59.999999+00:00",
    "9999-12-31T00:00:00.000001+00:00",
    "1970-01-01T01:00:00+01:00",
    "9999-12-30T20:00:00-04:00",
    "2024-05-01T12:00:00",
    "2024-05-01",
    "not a time",
    "",
    "2024-02-30T00:00:00+00:00",
    "2024-05-01T24:00:00+00:00",
]

_ZONES: st.SearchStrategy[Any] = st.sampled_from(
    [None, UTC, timezone(timedelta(hours=14)), timezone(timedelta(hours=-12, minutes=-30))]
)
_DATETIMES = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=_ZONES
)
INSTANTS: st.SearchStrategy[Any] = st.one_of(
    st.sampled_from(ISSUE_CASES + EDGES),
    _DATETIMES.map(datetime.isoformat),
    _DATETIMES,
    st.text(max_size=30),
    st.integers(),
)
TTLS: st.SearchStrategy[Any] = st.one_of(
    st.sampled_from([1e-7, 0.5, 0, -1, 1, 1.0, MAX_TTL.total_seconds(), 10**400, True, "60"]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**12), max_value=10**12),
)
SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def utc_or_none(value: object, *, naive_is_utc: bool = False) -> datetime | None:
    """An independent reading of the rule: the UTC instant that must be stored, or
    None when the value must be refused."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    if value.tzinfo is None:
        if not naive_is_utc:
            return None
        value = value.replace(tzinfo=UTC)
    try:
        stamp = value.astimezone(UTC)
    except OverflowError:
        return None
    return stamp if EARLIEST_INSTANT <= stamp <= LATEST_INSTANT else None


def _stored(store: HybridStore, memory_id: str, expires_at: datetime | None) -> Any:
    """The memory as stored, expired or not (an expired one is invisible to get()),
    or None when it was written already expired and the purge loop running beside
    the test erased it: then it must be gone from both stores."""
    found = store.vector.get([memory_id])
    if not found and expires_at is not None and expires_at <= datetime.now(UTC):
        assert store.graph.get_memory_node(memory_id) is None, f"{memory_id} half purged"
        return None
    assert len(found) == 1, f"memory {memory_id} was accepted but does not read back"
    return found[0]


@pytest.fixture
def purging(store: HybridStore) -> Iterator[PurgeLoop]:
    """The purge ``hybridmem serve`` runs, alongside every write of the test."""
    loop = PurgeLoop(store, 0.05).start()
    yield loop
    runs = loop.runs
    deadline = time.monotonic() + 10
    while loop.runs == runs and time.monotonic() < deadline:
        time.sleep(0.02)
    alive = loop.alive
    loop.stop()
    assert alive and loop.runs > runs, "the purge loop stopped running"


def _reopens(store: HybridStore) -> None:
    store.close()
    with HybridStore.from_config(store.config) as again:
        again.get_all(user_id="p")
        again.purge_expired()
        assert not again.journal.pending()


# -- the cases of the issue, one by one -------------------------------------------------


@pytest.mark.parametrize("created_at", ISSUE_CASES)
def test_add_many_refuses_the_issue_created_at(store: HybridStore, created_at: str) -> None:
    with pytest.raises(ValidationError, match=r"items\[0\]: invalid created_at"):
        store.add_many([{"text": "t", "embedding": E, "user_id": "p", "created_at": created_at}])
    assert store.get_all(user_id="p") == []


@pytest.mark.parametrize("expires_at", ISSUE_CASES)
def test_add_and_add_many_refuse_the_issue_expires_at(store: HybridStore, expires_at: str) -> None:
    with pytest.raises(ValidationError, match="invalid expires_at"):
        store.add("t", embedding=E, user_id="p", expires_at=expires_at)
    with pytest.raises(ValidationError, match=r"items\[0\]: invalid expires_at"):
        store.add_many([{"text": "t", "embedding": E, "user_id": "p", "expires_at": expires_at}])
    assert store.vector.count() == 0


def test_a_ttl_shorter_than_a_second_is_refused(store: HybridStore) -> None:
    for ttl in (1e-7, 0.5, timedelta(microseconds=1)):
        with pytest.raises(ValidationError, match="invalid ttl"):
            store.add("t", embedding=E, user_id="p", ttl=ttl)
    assert store.add("t", embedding=E, user_id="p", ttl=1).expires_at is not None


def test_rest_answers_422_for_the_issue_cases(store: HybridStore) -> None:
    with TestClient(create_app(store)) as client:
        for value in ISSUE_CASES:
            item = {"text": "t", "embedding": E, "user_id": "p"}
            for field in ("created_at", "expires_at"):
                answer = client.post("/memories/batch", json={"items": [{**item, field: value}]})
                assert answer.status_code == 422, (field, value, answer.text)
                assert field in answer.json()["error"]["message"]
            single = client.post("/memories", json={**item, "expires_at": value})
            assert single.status_code == 422, (value, single.text)
        short = client.post(
            "/memories", json={"text": "t", "embedding": E, "user_id": "p", "ttl": 1e-7}
        )
        assert short.status_code == 422 and "ttl" in short.json()["error"]["message"]
        assert client.get("/memories", params={"user_id": "p"}).json() == []


def test_the_earliest_and_latest_instants_read_back_exactly(store: HybridStore) -> None:
    """Every adapter stores the whole accepted range in a form that reads back."""
    now = datetime.now(UTC)
    latest_expiry = (now + MAX_TTL - timedelta(seconds=1)).isoformat()
    relation = [{"source": "a", "target": "b", "type": "knows"}]
    items = [
        {"text": "first", "embedding": E, "user_id": "p", "created_at": EARLIEST,
         "updated_at": EARLIEST, "expires_at": latest_expiry, "relations": relation},
        {"text": "last", "embedding": E, "user_id": "p", "created_at": LATEST,
         "updated_at": LATEST, "relations": relation},
        {"text": "gone", "embedding": E, "user_id": "p", "created_at": EARLIEST,
         "expires_at": EARLIEST},
    ]  # fmt: skip
    first, last, gone = store.add_many(items).ids
    want = {
        first: (EARLIEST_INSTANT, EARLIEST_INSTANT, datetime.fromisoformat(latest_expiry)),
        last: (LATEST_INSTANT, LATEST_INSTANT, None),
    }
    for memory_id, (created, updated, expires) in want.items():
        got = store.get(memory_id)
        assert got is not None
        assert (got.created_at, got.updated_at, got.expires_at) == (created, updated, expires)
    listed = {m.id: (m.created_at, m.updated_at, m.expires_at) for m in store.get_all(user_id="p")}
    assert listed == want
    lines = [line for line in iter_export(store, Scope(user_id="p")) if line["type"] == "memory"]
    exported = {
        line["id"]: tuple(
            None if line[k] is None else datetime.fromisoformat(line[k])
            for k in ("created_at", "updated_at", "expires_at")
        )
        for line in lines
    }
    assert exported == want
    # The graph keeps the times too (relations carry their memory's created_at).
    by_memory = {r.memory_id: r.created_at for r in store.relations(user_id="p")}
    assert by_memory[first] == EARLIEST_INSTANT and by_memory[last] == LATEST_INSTANT
    assert _stored(store, gone, None).expires_at == EARLIEST_INSTANT
    assert store.purge_expired().memories == 1
    _reopens(store)


# -- the property ----------------------------------------------------------------------


@SETTINGS
@given(created=INSTANTS, expires=st.one_of(st.none(), INSTANTS))
def test_add_many_stores_exactly_what_the_rule_accepts(
    store: HybridStore, purging: PurgeLoop, created: Any, expires: Any
) -> None:
    item = {"text": "t", "embedding": E, "user_id": "p", "created_at": created}
    if expires is not None:
        item["expires_at"] = expires
    want_created = utc_or_none(created)
    want_expiry = None if expires is None else utc_or_none(expires, naive_is_utc=True)
    expiry_ok = expires is None or (
        want_expiry is not None and want_expiry <= datetime.now(UTC) + MAX_TTL - timedelta(hours=1)
    )
    tally.count("hostile timestamps: add_many")
    try:
        memory_id = store.add_many([item]).ids[0]
    except ValidationError as exc:
        assert str(exc).startswith("items[0]: invalid ")
        assert want_created is None or not expiry_ok, f"refused {item}: {exc}"
        return
    assert want_created is not None and expiry_ok, f"accepted {item}"
    stored = _stored(store, memory_id, want_expiry)
    if stored is not None:
        assert stored.created_at == want_created == stored.updated_at
        assert stored.expires_at == want_expiry


@SETTINGS
@given(ttl=st.one_of(st.none(), TTLS), expires=st.one_of(st.none(), INSTANTS))
def test_add_takes_a_ttl_or_an_expiry_only_inside_the_rule(
    store: HybridStore, purging: PurgeLoop, ttl: Any, expires: Any
) -> None:
    tally.count("hostile timestamps: add")
    before = datetime.now(UTC)
    try:
        memory = store.add("t", embedding=E, user_id="p", ttl=ttl, expires_at=expires)
    except ValidationError as exc:
        assert "ttl" in str(exc) or "expires_at" in str(exc)
        return
    after = datetime.now(UTC)
    assert ttl is None or expires is None
    stored = _stored(store, memory.id, memory.expires_at)
    assert stored is None or stored.expires_at == memory.expires_at
    if ttl is not None:
        seconds = ttl.total_seconds() if isinstance(ttl, timedelta) else float(ttl)
        assert 1 <= seconds <= MAX_TTL.total_seconds()
    if expires is not None:
        assert memory.expires_at == utc_or_none(expires, naive_is_utc=True)
    if memory.expires_at is not None:
        assert before < memory.expires_at <= after + MAX_TTL


@SETTINGS
@given(created=INSTANTS, expires=st.one_of(st.none(), INSTANTS), ttl=st.one_of(st.none(), TTLS))
def test_rest_answers_422_or_stores_exactly(
    store: HybridStore, purging: PurgeLoop, created: Any, expires: Any, ttl: Any
) -> None:
    tally.count("hostile timestamps: REST")
    as_json = [v.isoformat() if isinstance(v, datetime) else v for v in (created, expires)]
    created, expires = as_json
    if isinstance(ttl, float) and not (ttl == ttl and abs(ttl) != float("inf")):
        ttl = None  # JSON has no NaN or infinity
    if isinstance(ttl, int) and abs(ttl) > 10**15:
        ttl = None
    with TestClient(create_app(store), raise_server_exceptions=False) as client:
        item: dict[str, Any] = {"text": "t", "embedding": E, "user_id": "p", "created_at": created}
        if expires is not None:
            item["expires_at"] = expires
        batch = client.post("/memories/batch", json={"items": [item]})
        assert batch.status_code in (200, 422), batch.text
        if batch.status_code == 200:
            want_expiry = None if expires is None else utc_or_none(expires, naive_is_utc=True)
            stored = _stored(store, batch.json()["ids"][0], want_expiry)
            if stored is not None:
                assert stored.created_at == utc_or_none(created)
                assert stored.expires_at == want_expiry
        body: dict[str, Any] = {"text": "t", "embedding": E, "user_id": "p"}
        if ttl is not None:
            body["ttl"] = ttl
        if expires is not None:
            body["expires_at"] = expires
        single = client.post("/memories", json=body)
        assert single.status_code in (201, 422), single.text
        if single.status_code == 201:
            answer = single.json()
            want = answer["expires_at"]
            want_expiry = None if want is None else datetime.fromisoformat(want)
            stored = _stored(store, answer["id"], want_expiry)
            assert stored is None or stored.expires_at == want_expiry


@SETTINGS
@given(created=INSTANTS, expires=st.one_of(st.none(), INSTANTS))
def test_import_refuses_or_stores_exactly(
    store: HybridStore, purging: PurgeLoop, tmp_path_factory: pytest.TempPathFactory,
    created: Any, expires: Any,
) -> None:  # fmt: skip
    tally.count("hostile timestamps: import")
    created, expires = (v.isoformat() if isinstance(v, datetime) else v for v in (created, expires))
    memory_id = "0f6c1f0e-4a8e-4f7d-9c1b-1d2e3f4a5b6c"
    lines = [
        {"type": "header", "format": EXPORT_FORMAT, "version": EXPORT_VERSION, "dimension": 2},
        {"type": "memory", "id": memory_id, "text": "t", "embedding": E, "user_id": "p",
         "created_at": created, "updated_at": created, "expires_at": expires},
        {"type": "end", "memories": 1, "history": 0},
    ]  # fmt: skip
    path = Path(tmp_path_factory.mktemp("import")) / "one.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    try:
        result = import_export(store, path)
    except ValidationError as exc:
        assert str(exc).startswith("line 2: invalid ")
        return
    want_created = utc_or_none(created)
    assert want_created is not None, f"accepted {created!r}"
    want_expiry = None if expires is None else utc_or_none(expires, naive_is_utc=True)
    stored = _stored(store, result.ids[0], want_expiry)
    if stored is not None:
        assert stored.created_at == want_created
        assert stored.expires_at == want_expiry
    store.delete(result.ids[0])


def test_the_store_reopens_after_hostile_writes(store: HybridStore) -> None:
    loop = PurgeLoop(store, 0.05).start()
    for value in ISSUE_CASES + EDGES:
        for field in ("created_at", "expires_at"):
            try:
                store.add_many([{"text": "t", "embedding": E, "user_id": "p", field: value}])
            except ValidationError:
                pass
    store.purge_expired()
    alive = loop.alive
    loop.stop()
    assert alive and loop.failures == 0
    _reopens(store)
