"""The CLI's by-id commands with a scope: another scope's id answers as an unknown one."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from hybridmem import HybridStore
from hybridmem.cli import EXIT_ERROR, EXIT_OK, app
from tests.cli.conftest import seed

runner = CliRunner()
UNKNOWN = "7d3c2b1a-0f9e-4d8c-8b7a-6a5f4e3d2c1b"


def _answer(config: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, [*args, "--config", str(config)])
    return result.exit_code, result.output


def test_another_scopes_id_answers_as_an_unknown_one(config: Path) -> None:
    [alices] = seed(config, "cli-alice", 1)
    for command in ("get", "delete", "history"):
        for extra in ((), ("--json",)):
            theirs = _answer(config, command, alices, "--user-id", "cli-bob", *extra)
            unknown = _answer(config, command, UNKNOWN, "--user-id", "cli-bob", *extra)
            assert theirs[0] == unknown[0], (command, extra, theirs, unknown)
            assert theirs[1].replace(alices, "ID") == unknown[1].replace(UNKNOWN, "ID")
    assert _answer(config, "get", alices, "--user-id", "cli-bob")[0] == EXIT_ERROR
    assert _answer(config, "delete", alices, "--user-id", "cli-bob")[0] == EXIT_ERROR
    with HybridStore.from_config(config) as store:
        kept = store.get(alices)
        assert kept is not None and [e.kind for e in store.history(alices)] == ["ADD"]
    # Her own scope reaches it.
    assert _answer(config, "get", alices, "--user-id", "cli-alice")[0] == EXIT_OK
    assert _answer(config, "delete", alices, "--user-id", "cli-alice")[0] == EXIT_OK
    with HybridStore.from_config(config) as store:
        assert store.get(alices) is None
