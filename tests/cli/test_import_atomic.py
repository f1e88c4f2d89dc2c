"""A refused import leaves the store as it was: ``hybridmem import`` (and
``portability.import_export``) check the whole file before writing its first batch."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hybridmem import HybridStore
from hybridmem.cli import EXIT_OK, EXIT_USAGE, app
from hybridmem.errors import ValidationError
from hybridmem.portability import import_export
from tests.cli.conftest import count, seed
from tests.server.live import write_config

runner = CliRunner()


def _export_lines(config: Path, tmp_path: Path, memories: int) -> list[str]:
    seed(config, "alice", memories)
    dump = tmp_path / "full.jsonl"
    result = runner.invoke(app, ["export", "--output", str(dump), "--config", str(config)])
    assert result.exit_code == EXIT_OK, result.output
    return dump.read_text(encoding="utf-8").splitlines()


def _target(tmp_path: Path) -> Path:
    return write_config(tmp_path / "other.toml", tmp_path / "other-data")


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _memory_lines(lines: list[str]) -> list[int]:
    return [i for i, line in enumerate(lines) if json.loads(line)["type"] == "memory"]


def test_a_truncated_export_stores_nothing(config: Path, tmp_path: Path) -> None:
    lines = _export_lines(config, tmp_path, 20)
    assert json.loads(lines[-1])["type"] == "end"
    cut = _write(tmp_path / "cut.jsonl", [line for line in lines if '"type":"end"' not in line])
    other = _target(tmp_path)
    result = runner.invoke(app, ["import", str(cut), "--batch-size", "5", "--config", str(other)])
    assert result.exit_code == EXIT_USAGE, result.output
    assert "truncated export" in result.stderr
    assert count(other, "alice") == 0
    with HybridStore.from_config(other) as store:
        assert store.stats()["vectors"] == 0 and not store.journal.pending()


def test_a_truncated_export_on_standard_input_stores_nothing(config: Path, tmp_path: Path) -> None:
    lines = _export_lines(config, tmp_path, 12)
    other = _target(tmp_path)
    result = runner.invoke(
        app,
        ["import", "-", "--batch-size", "5", "--config", str(other)],
        input="\n".join(lines[:-1]) + "\n",
    )
    assert result.exit_code == EXIT_USAGE, result.output
    assert "truncated export" in result.stderr
    assert count(other, "alice") == 0
    whole = runner.invoke(
        app, ["import", "-", "--config", str(other)], input="\n".join(lines) + "\n"
    )
    assert whole.exit_code == EXIT_OK, whole.output
    assert count(other, "alice") == 12


@pytest.mark.parametrize(
    ("field", "value", "said"),
    [
        ("created_at", "0999-06-01T00:00:00+00:00", "invalid created_at"),
        ("created_at", "0001-01-01T00:30:00+01:00", "invalid created_at"),
        ("expires_at", "9999-12-31T23:59:59-05:00", "invalid expires_at"),
        ("embedding", [1.0, 2.0, 3.0], "dimensions"),
    ],
)
def test_an_invalid_later_line_stores_nothing(
    config: Path, tmp_path: Path, field: str, value: object, said: str
) -> None:
    lines = _export_lines(config, tmp_path, 20)
    position = _memory_lines(lines)[17]
    damaged = json.loads(lines[position])
    damaged[field] = value
    if field == "created_at":
        damaged["updated_at"] = value
    lines[position] = json.dumps(damaged)
    other = _target(tmp_path)
    bad = _write(tmp_path / "bad.jsonl", lines)
    result = runner.invoke(app, ["import", str(bad), "--batch-size", "5", "--config", str(other)])
    assert result.exit_code == EXIT_USAGE, result.output
    assert f"line {position + 1}:" in result.stderr and said in result.stderr
    assert "Traceback" not in result.output
    assert count(other, "alice") == 0


def test_import_export_in_python_checks_the_file_before_writing(
    config: Path, tmp_path: Path
) -> None:
    lines = _export_lines(config, tmp_path, 8)
    cut = _write(tmp_path / "cut.jsonl", lines[:-1])
    other = _target(tmp_path)
    with HybridStore.from_config(other) as store:
        with pytest.raises(ValidationError, match="truncated export"):
            import_export(store, cut, batch_size=3)
        assert store.get_all(user_id="alice") == []
        result = import_export(store, _write(tmp_path / "whole.jsonl", lines), batch_size=3)
        assert result.added == 8 and len(store.get_all(user_id="alice")) == 8
