"""The embedded default's engine: LadybugDB unless the config says "kuzu", its page
cache sized from the machine, a store of the other engine refused at open with
the commands that move it, and a checkpoint that cannot get memory handled as
each engine needs (issue 24). Runs on every engine (see kuzu_engines)."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from hybridmem import HybridStore
from hybridmem.errors import MigrationRequiredError, StoreError
from hybridmem.registry import parse_options
from hybridmem.testing.builders import embedding
from hybridmem_kuzu import KuzuOptions, KuzuVectorOptions
from hybridmem_kuzu._engine import (
    DEFAULT_ENGINE,
    POOL_CAP_MB,
    POOL_FLOOR_MB,
    physical_memory_mb,
)
from tests.contract.kuzu_engines import ENGINE, OTHER_ENGINE, suite_on_other_engines

#: The first bytes each engine writes into a database file.
MAGIC = {"kuzu": b"KUZU", "ladybug": b"LBUG"}


def _config(data_dir: Path, **graph: Any) -> dict[str, Any]:
    engine = {} if ENGINE == DEFAULT_ENGINE else {"engine": ENGINE}
    return {
        "data_dir": str(data_dir),
        "graph": {"provider": "kuzu", **engine, **graph},
        "vector": {"provider": "kuzu", **engine},
    }


def test_a_config_without_engine_runs_on_ladybug_with_a_pool_sized_from_memory() -> None:
    for options, role in ((KuzuOptions, "graph"), (KuzuVectorOptions, "vector")):
        parsed = parse_options(options, {}, role, "kuzu")
        assert parsed.engine == "ladybug"
        memory = physical_memory_mb()
        assert memory is not None
        assert parsed.buffer_pool_mb == max(POOL_FLOOR_MB, min(POOL_CAP_MB, memory // 8))
        # The config still decides.
        chosen = parse_options(options, {"engine": "kuzu", "buffer_pool_mb": 64}, role, "kuzu")
        assert (chosen.engine, chosen.buffer_pool_mb) == ("kuzu", 64)


def test_the_store_writes_this_engines_files(tmp_path: Path) -> None:
    with HybridStore(_config(tmp_path)) as store:
        store.add("first", embedding=embedding("first"), user_id="u")
    for name in ("graph.kuzu", "vectors.kuzu"):
        assert (tmp_path / name).read_bytes()[:4] == MAGIC[ENGINE]


def _write_with_other_engine(data_dir: Path) -> None:
    """A store the other engine made (it cannot be loaded in this process)."""
    script = (
        "import sys\n"
        "from hybridmem import HybridStore\n"
        "from hybridmem.testing.builders import embedding\n"
        "config = {'data_dir': sys.argv[1], 'graph': {'provider': 'kuzu', 'engine': sys.argv[2]},"
        " 'vector': {'provider': 'kuzu', 'engine': sys.argv[2]}}\n"
        "with HybridStore(config) as store:\n"
        "    store.add('kept', embedding=embedding('kept'), user_id='u')\n"
    )
    subprocess.run(
        [sys.executable, "-c", script, str(data_dir), OTHER_ENGINE], check=True, timeout=300
    )


def test_a_store_of_the_other_engine_is_refused_at_open_naming_the_move(tmp_path: Path) -> None:
    _write_with_other_engine(tmp_path)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    with pytest.raises(MigrationRequiredError) as refused:
        HybridStore(_config(tmp_path))
    message = str(refused.value)
    assert "graph.kuzu" in message or "vectors.kuzu" in message
    assert f"engine = {OTHER_ENGINE!r}" in message
    assert "hybridmem export --config old.toml | hybridmem import --config new.toml -" in message
    # Refused before the engine touched the files.
    for path in tmp_path.iterdir():
        if path.name in before and path.suffix == ".kuzu":
            assert path.read_bytes() == before[path.name]


def _toml(data_dir: Path, engine: str | None) -> str:
    line = f'engine = "{engine}"\n' if engine else ""
    return (
        f'data_dir = "{data_dir}"\n[graph]\nprovider = "kuzu"\n{line}'
        f'[vector]\nprovider = "kuzu"\n{line}'
    )


def test_the_named_commands_move_a_store_of_the_other_engine(tmp_path: Path) -> None:
    """What the refusal advises, run as a user would: export on the old engine piped
    into import on this one (two processes), then every memory is here."""
    _write_with_other_engine(tmp_path / "old")
    (tmp_path / "old.toml").write_text(_toml(tmp_path / "old", OTHER_ENGINE))
    this = None if ENGINE == DEFAULT_ENGINE else ENGINE
    (tmp_path / "new.toml").write_text(_toml(tmp_path / "new", this))
    cli = Path(sys.executable).with_name("hybridmem")
    subprocess.run(
        f"{cli} export --config old.toml | {cli} import --config new.toml -",
        shell=True,
        cwd=tmp_path,
        check=True,
        timeout=300,
    )
    with HybridStore(_config(tmp_path / "new")) as moved:
        assert [m.text for m in moved.get_all(user_id="u")] == ["kept"]
        assert moved.graph.stats()["memory_nodes"] == 1
    assert (tmp_path / "new" / "graph.kuzu").read_bytes()[:4] == MAGIC[ENGINE]


def _fill(store: HybridStore, batches: int) -> None:
    """Committed rows the graph file has not checkpointed yet (a side table)."""
    db = store.graph._db  # type: ignore[attr-defined]
    db.rows("CREATE NODE TABLE Filler(id STRING PRIMARY KEY)")
    for batch in range(batches):
        with db.transaction():
            db.rows(
                "UNWIND range(1, $n) AS i CREATE (:Filler {id: $p + string(i)})",
                {"n": 2000, "p": f"{batch}-"},
            )


if ENGINE == "ladybug":

    def test_a_checkpoint_failing_after_commit_keeps_the_write(
        tmp_path: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        """LadybugDB commits, then checkpoints; with a 16 MB page cache and 80k
        uncheckpointed rows the checkpoint fails after the commit ("Transaction
        committed successfully, but the post-commit checkpoint failed"). The add is
        acknowledged, kept (not rolled back by the journal) and survives reopening."""
        store = HybridStore(_config(tmp_path, buffer_pool_mb=16))
        try:
            # Hold the rows uncheckpointed, then make the next commit checkpoint them all.
            store.graph._db.rows("CALL checkpoint_threshold=4000000000")  # type: ignore[attr-defined]
            _fill(store, 40)
            store.graph._db.rows("CALL checkpoint_threshold=1")  # type: ignore[attr-defined]
            with caplog.at_level(logging.WARNING, logger="hybridmem_kuzu"):
                added = store.add("kept through it", embedding=embedding("k"), user_id="u")
                touched = store.graph.touch_memory(added.id, added.created_at)
            assert "checkpoint after it failed" in caplog.text
            assert "raise buffer_pool_mb (now 16)" in caplog.text
            assert touched  # a write outside a transaction keeps its rows too
            found = store.get(added.id)
            assert found is not None and found.text == "kept through it"
        finally:
            store.close()
        with HybridStore(_config(tmp_path, buffer_pool_mb=256)) as reopened:
            found = reopened.get(added.id)
            assert found is not None and found.text == "kept through it"
            assert [e.kind for e in reopened.history(added.id)] == ["ADD"]
            db = reopened.graph._db  # type: ignore[attr-defined]
            assert db.scalar("MATCH (f:Filler) RETURN count(f)") == 40 * 2000


if ENGINE == "kuzu":

    def test_kuzu_refuses_a_write_it_could_not_checkpoint_before_writing(
        tmp_path: Path,
    ) -> None:
        """Kuzu 0.11.3 fails COMMIT when its checkpoint cannot get memory although the
        transaction committed, and a file whose checkpoint failed segfaults on
        reopen. So the adapter checkpoints itself and refuses writes once the file
        outgrows its page cache (measured), naming the limit and the move."""
        store = HybridStore(_config(tmp_path, buffer_pool_mb=16))
        try:
            _fill(store, 1)
            kept = store.add("before", embedding=embedding("b"), user_id="u")
            with pytest.raises(StoreError) as refused:
                _fill_until_refused(store)
            message = str(refused.value)
            assert "buffer_pool_mb = 16" in message
            assert "LadybugDB" in message and "hybridmem export" in message
            with pytest.raises(StoreError, match="write refused"):
                store.add("refused", embedding=embedding("r"), user_id="u")
            assert [m.text for m in store.get_all(user_id="u")] == ["before"]
        finally:
            store.close()
        with HybridStore(_config(tmp_path, buffer_pool_mb=256)) as reopened:
            found = reopened.get(kept.id)
            assert found is not None and found.text == "before"
            reopened.add("after raising the pool", embedding=embedding("a"), user_id="u")


def _fill_until_refused(store: HybridStore) -> None:
    db = store.graph._db  # type: ignore[attr-defined]
    for batch in range(1000):
        with db.transaction():
            db.rows(
                "UNWIND range(1, $n) AS i CREATE (:Filler {id: $p + string(i)})",
                {"n": 5000, "p": f"more-{batch}-"},
            )


test_the_suite_passes_on_every_engine = suite_on_other_engines(__file__)
