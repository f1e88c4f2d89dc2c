"""``hybridmem export``: valid JSONL of the scope on stdout or in a file, summary on stderr."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from hybridmem.cli import EXIT_OK, EXIT_USAGE, app
from hybridmem.portability import EXPORT_FORMAT, read_export
from tests.cli.conftest import seed

runner = CliRunner()


def test_export_a_user_to_stdout(config: Path) -> None:
    alice = seed(config, "alice", 3)
    seed(config, "bob", 2)
    result = runner.invoke(app, ["export", "--user-id", "alice", "--config", str(config)])
    assert result.exit_code == EXIT_OK, result.output
    lines = result.stdout.splitlines()
    parsed = [json.loads(line) for line in lines]
    assert parsed[0]["format"] == EXPORT_FORMAT and parsed[0]["scope"] == {"user_id": "alice"}
    memories = [line for line in parsed if line["type"] == "memory"]
    assert sorted(m["id"] for m in memories) == sorted(alice)
    assert {m["user_id"] for m in memories} == {"alice"}
    assert parsed[-1] == {"type": "end", "memories": 3, "history": 3}
    assert "bob" not in result.stdout
    assert len(list(read_export(lines))) == 3
    assert "exported 3 memories and 3 history events" in result.stderr


def test_export_everything_to_a_file_without_history(config: Path, tmp_path: Path) -> None:
    seed(config, "alice", 2)
    seed(config, "bob", 1)
    target = tmp_path / "all.jsonl"
    result = runner.invoke(
        app, ["export", "--output", str(target), "--no-history", "--config", str(config)]
    )
    assert result.exit_code == EXIT_OK, result.output
    assert result.stdout == ""
    lines = target.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["type"] for line in lines] == ["header", *["memory"] * 3, "end"]
    assert not (tmp_path / "all.jsonl.partial").exists()


def test_bad_scope_or_output_is_bad_input(config: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["export", "--user-id", "", "--config", str(config)])
    assert result.exit_code == EXIT_USAGE
    assert "user_id" in result.stderr
    missing = tmp_path / "no" / "such" / "dir" / "x.jsonl"
    result = runner.invoke(app, ["export", "--output", str(missing), "--config", str(config)])
    assert result.exit_code == EXIT_USAGE
    assert "cannot write --output" in result.stderr
