from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest

from hybridmem.errors import StoreError, StoreUnavailableError
from hybridmem.models import Scope
from hybridmem.testing import VectorStoreContract
from hybridmem.testing.builders import embedding, vector_record
from hybridmem_weaviate import WeaviateVectorStore
from tests.servers.weaviate import WeaviateServer, native

pytestmark = pytest.mark.weaviate


def _collection(request: pytest.FixtureRequest) -> str:
    return "T" + re.sub(r"[^A-Za-z0-9]", "", request.node.name)[:60]


@pytest.fixture
def weaviate_store(
    weaviate_server: WeaviateServer, request: pytest.FixtureRequest
) -> Iterator[WeaviateVectorStore]:
    store = WeaviateVectorStore(weaviate_server.host, weaviate_server.http_port,
                                weaviate_server.grpc_port, _collection(request))
    store.reset()
    yield store
    store.drop()
    store.close()


class TestWeaviateVectorStore(VectorStoreContract):
    @pytest.fixture
    def vector_store(self, weaviate_store: WeaviateVectorStore) -> Iterator[WeaviateVectorStore]:
        yield weaviate_store


# Ids that word tokenization (the default) would merge with "alice".
LOOKALIKES = [
    "alice", "Alice", "ALICE", "alice smith", "alice@example.com", "alice.", "alice-1",
    "ａｌｉｃｅ", unicodedata.normalize("NFC", "alicé"), unicodedata.normalize("NFD", "alicé"),
    " alice", "alice ",
]


def test_scope_isolation_between_lookalike_ids(weaviate_store: WeaviateVectorStore) -> None:
    weaviate_store.upsert([vector_record(f"l{i}", Scope(user_id=v)) for i, v in enumerate(LOOKALIKES)])
    for i, value in enumerate(LOOKALIKES):
        assert weaviate_store.count_scope(Scope(user_id=value)) == 1, value
        hits = weaviate_store.search(embedding("q"), Scope(user_id=value), 50)
        assert [r.user_id for r, _ in hits] == [value]
    assert weaviate_store.delete_scope(Scope(user_id="alice"), 100) == 1
    assert weaviate_store.count() == len(LOOKALIKES) - 1
    for value in LOOKALIKES[1:]:
        assert weaviate_store.count_scope(Scope(user_id=value)) == 1, value


def test_delete_scope_beyond_query_maximum_results(tmp_path: Path) -> None:
    """One delete_many removes at most QUERY_MAXIMUM_RESULTS objects: the adapter loops."""
    server = native().start(tmp_path / "small", QUERY_MAXIMUM_RESULTS="50")
    try:
        store = WeaviateVectorStore(server.host, server.http_port, server.grpc_port, "Small")
        store.upsert([vector_record(f"b{i}", Scope(user_id="big")) for i in range(500)])
        store.upsert([vector_record(f"o{i}", Scope(user_id="other")) for i in range(7)])
        assert store.count_scope(Scope(user_id="big")) == 500
        assert store.delete_scope(Scope(user_id="big"), 1000) == 500
        assert store.count_scope(Scope(user_id="big")) == 0
        assert store.count_scope(Scope(user_id="other")) == 7
        store.close()
    finally:
        server.stop()


def test_partial_batch_failure_raises(weaviate_store: WeaviateVectorStore) -> None:
    from dataclasses import replace

    good = vector_record("good", Scope(user_id="u"))
    bad = replace(vector_record("bad", Scope(user_id="u")), embedding=[float("nan")] * 8)
    with pytest.raises(StoreError):
        weaviate_store.upsert([good, bad])


def test_unreachable_server_names_the_address() -> None:
    with pytest.raises(StoreUnavailableError) as caught:
        WeaviateVectorStore("127.0.0.1", 1, 2, "X", timeout_seconds=1)
    assert "Weaviate vector store" in str(caught.value) and "http://127.0.0.1:1" in str(caught.value)
