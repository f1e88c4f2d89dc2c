"""``hybridmem migrate``: copies a scope into another store and exits 0 when verified,
non-zero when not; refuses the same store and unknown options (exit 2)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from hybridmem import HybridStore
from hybridmem.cli import EXIT_ERROR, EXIT_OK, EXIT_USAGE, app
from tests.cli.conftest import count, seed
from tests.server.live import write_config

runner = CliRunner()


def _migrate(source: Path, destination: Path, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["migrate", "--from", str(source), "--to", str(destination), *args])
    return result.exit_code, result.stdout, result.stderr


def test_a_scope_is_copied_verified_and_a_rerun_copies_nothing(
    config: Path, tmp_path: Path
) -> None:
    alice = seed(config, "alice", 3)
    seed(config, "bob", 2)
    other = write_config(tmp_path / "other.toml", tmp_path / "other-data")
    code, _, stderr = _migrate(config, other, "--user-id", "alice")
    assert code == EXIT_OK, stderr
    assert "3 memories copied now, 0 already there" in stderr
    assert "verified: 3 memories equal on both sides" in stderr
    with HybridStore.from_config(other) as store:
        assert sorted(m.id for m in store.get_all(user_id="alice")) == sorted(alice)
    assert count(other, "bob") == 0
    code, stdout, stderr = _migrate(config, other, "--user-id", "alice", "--json")
    assert code == EXIT_OK, stderr
    body = json.loads(stdout)
    assert (body["copied"], body["already_present"], body["verified"]) == (0, 3, True)


def test_a_destination_that_differs_exits_non_zero(config: Path, tmp_path: Path) -> None:
    alice = seed(config, "alice", 2)
    other = write_config(tmp_path / "other.toml", tmp_path / "other-data")
    assert _migrate(config, other, "--user-id", "alice")[0] == EXIT_OK
    with HybridStore.from_config(other) as store:
        store.add("only here", embedding=[1.0, 9.0], user_id="alice")
    code, _, stderr = _migrate(config, other, "--user-id", "alice")
    assert code == EXIT_ERROR
    assert "verification failed" in stderr and "destination 3 / 3" in stderr
    with HybridStore.from_config(other) as store:
        store.update(alice[0], text="tampered")
    code, stdout, _ = _migrate(config, other, "--user-id", "alice", "--verify-only", "--json")
    assert code == EXIT_ERROR
    assert json.loads(stdout)["mismatched_ids"] == [alice[0]]


def test_the_same_store_and_unknown_options_are_refused(config: Path, tmp_path: Path) -> None:
    seed(config, "alice", 1)
    code, _, stderr = _migrate(config, config)
    assert code == EXIT_USAGE
    assert "same data_dir" in stderr
    other = write_config(tmp_path / "other.toml", tmp_path / "other-data")
    for wrong in ("--usr-id", "--batchsize", "--config"):
        result = runner.invoke(
            app, ["migrate", "--from", str(config), "--to", str(other), wrong, "x"]
        )
        assert result.exit_code == EXIT_USAGE, result.output
        assert "No such option" in result.output
    missing = runner.invoke(app, ["migrate", "--from", str(config)])
    assert missing.exit_code == EXIT_USAGE
    assert count(other, "alice") == 0
