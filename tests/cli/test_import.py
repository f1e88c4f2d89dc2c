"""``hybridmem import``: an export file back into a store, idempotent, with clear errors."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from hybridmem import HybridStore
from hybridmem.cli import EXIT_OK, EXIT_USAGE, app
from tests.cli.conftest import count, seed
from tests.server.live import write_config

runner = CliRunner()


def _export(config: Path, target: Path, *args: str) -> None:
    result = runner.invoke(app, ["export", "--output", str(target), *args, "--config", str(config)])
    assert result.exit_code == EXIT_OK, result.output


def test_import_an_export_into_another_store_twice(config: Path, tmp_path: Path) -> None:
    alice = seed(config, "alice", 3)
    seed(config, "bob", 2)
    dump = tmp_path / "alice.jsonl"
    _export(config, dump, "--user-id", "alice")
    other = write_config(tmp_path / "other.toml", tmp_path / "other-data")
    result = runner.invoke(app, ["import", str(dump), "--config", str(other)])
    assert result.exit_code == EXIT_OK, result.output
    assert "imported 3 memories (0 already stored as exported)" in result.stderr
    with HybridStore.from_config(other) as store:
        assert sorted(m.id for m in store.get_all(user_id="alice")) == sorted(alice)
        assert store.get_all(user_id="bob") == []
        assert sorted(e.name for e in store.entities(user_id="alice")) == [
            "alice-E0",
            "alice-E1",
            "alice-E2",
        ]
    again = runner.invoke(app, ["import", str(dump), "--json", "--config", str(other)])
    assert again.exit_code == EXIT_OK, again.output
    body = json.loads(again.stdout)
    assert (body["added"], body["unchanged"]) == (0, 3)
    assert count(other, "alice") == 3


def test_a_file_that_is_not_an_export_is_refused_with_its_line(
    config: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"hello": 1}\n', encoding="utf-8")
    result = runner.invoke(app, ["import", str(bad), "--config", str(config)])
    assert result.exit_code == EXIT_USAGE
    assert "line 1: not a hybridmem-export file" in result.stderr
    missing = runner.invoke(app, ["import", str(tmp_path / "nope.jsonl"), "--config", str(config)])
    assert missing.exit_code == EXIT_USAGE
    assert "cannot read" in missing.stderr
    assert count(config, "alice") == 0
