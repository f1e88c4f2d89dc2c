from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hybridmem.testing import GraphStoreContract, VectorStoreContract
from hybridmem_kuzu import KuzuGraphStore, KuzuVectorStore
from tests.contract.kuzu_engines import ENGINE, OTHER_ENGINE, suite_on_other_engines

# Both batch plans must satisfy the contract: small test tables would otherwise
# only ever exercise the scan plan.
PLANS = ["auto", "lookup", "scan"]


class TestKuzuGraphStore(GraphStoreContract):
    @pytest.fixture(params=PLANS)
    def graph_store(
        self, tmp_path: Path, request: pytest.FixtureRequest
    ) -> Iterator[KuzuGraphStore]:
        store = KuzuGraphStore(tmp_path / "graph.kuzu", engine=ENGINE, batch_plan=request.param)
        yield store
        store.close()


class TestKuzuVectorStore(VectorStoreContract):
    @pytest.fixture(params=PLANS)
    def vector_store(
        self, tmp_path: Path, request: pytest.FixtureRequest
    ) -> Iterator[KuzuVectorStore]:
        store = KuzuVectorStore(tmp_path / "vectors.kuzu", engine=ENGINE, batch_plan=request.param)
        yield store
        store.close()


def test_mixing_engines_in_one_process_is_a_clear_error(tmp_path: Path) -> None:
    from hybridmem.errors import ConfigurationError

    KuzuGraphStore(tmp_path / "a.kuzu", engine=ENGINE).close()  # loads ENGINE here
    with pytest.raises(ConfigurationError, match="one engine per process"):
        KuzuGraphStore(tmp_path / "b.kuzu", engine=OTHER_ENGINE)


def test_a_vector_file_made_before_expiry_gains_the_column_and_keeps_its_records(
    tmp_path: Path,
) -> None:
    """An upgrade: a Vec table without expires_at (as the previous version made it)
    gets the column on open; its records never expire and stay visible."""
    from datetime import UTC, datetime

    from hybridmem.filters import Filters
    from hybridmem.models import Scope
    from hybridmem.testing.builders import vector_record

    path = tmp_path / "vectors.kuzu"
    scope = Scope(user_id="upgrade")
    old = vector_record("old", scope)
    store = KuzuVectorStore(path, engine=ENGINE)
    store.upsert([old])
    store._db.rows("ALTER TABLE Vec DROP expires_at")
    store.close()
    reopened = KuzuVectorStore(path, engine=ENGINE)
    try:
        alive = Filters((), alive_at=datetime.now(UTC))
        assert [r.id for r in reopened.list_scope(scope, None, filters=alive)] == [old.id]
        assert [r.id for r, _ in reopened.search(old.embedding, scope, 5, filters=alive)] == [
            old.id
        ]
        [read_back] = reopened.get([old.id])
        assert read_back.expires_at is None
    finally:
        reopened.close()


test_the_suite_passes_on_every_engine = suite_on_other_engines(__file__)
