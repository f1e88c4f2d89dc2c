from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from hybridmem.testing import GraphStoreContract, VectorStoreContract
from hybridmem_kuzu import KuzuGraphStore, KuzuVectorStore

# Both batch plans must satisfy the contract: small test tables would otherwise
# only ever exercise the scan plan.
PLANS = ["auto", "lookup", "scan"]


class TestKuzuGraphStore(GraphStoreContract):
    @pytest.fixture(params=PLANS)
    def graph_store(
        self, tmp_path: Path, request: pytest.FixtureRequest
    ) -> Iterator[KuzuGraphStore]:
        store = KuzuGraphStore(tmp_path / "graph.kuzu", batch_plan=request.param)
        yield store
        store.close()


class TestKuzuVectorStore(VectorStoreContract):
    @pytest.fixture(params=PLANS)
    def vector_store(
        self, tmp_path: Path, request: pytest.FixtureRequest
    ) -> Iterator[KuzuVectorStore]:
        store = KuzuVectorStore(tmp_path / "vectors.kuzu", batch_plan=request.param)
        yield store
        store.close()


if os.environ.get("HYBRIDMEM_LADYBUG_CHILD"):

    class TestLadybugGraphStore(GraphStoreContract):
        """The maintained fork (same API) under the graph contract."""

        @pytest.fixture
        def graph_store(self, tmp_path: Path) -> Iterator[KuzuGraphStore]:
            store = KuzuGraphStore(tmp_path / "graph.lbug", engine="ladybug")
            yield store
            store.close()


def test_graph_contract_passes_on_ladybug() -> None:
    """LadybugDB and Kuzu cannot share a process, so the contract runs in a child.
    Its vector extension downloads at run time, which is why vectors stay on Kuzu."""
    child = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            f"{__file__}::TestLadybugGraphStore",
        ],
        env={**os.environ, "HYBRIDMEM_LADYBUG_CHILD": "1"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert child.returncode == 0, child.stdout[-3000:]
    contract_tests = [name for name in dir(GraphStoreContract) if name.startswith("test_")]
    assert re.search(rf"\b{len(contract_tests)} passed\b", child.stdout), child.stdout[-500:]


def test_mixing_engines_in_one_process_is_a_clear_error(tmp_path: Path) -> None:
    from hybridmem.errors import ConfigurationError

    KuzuGraphStore(tmp_path / "k.kuzu").close()  # loads kuzu in this process
    with pytest.raises(ConfigurationError, match="one engine per process"):
        KuzuGraphStore(tmp_path / "l.lbug", engine="ladybug")


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
    store = KuzuVectorStore(path)
    store.upsert([old])
    store._db.rows("ALTER TABLE Vec DROP expires_at")
    store.close()
    reopened = KuzuVectorStore(path)
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
