"""``hybridmem compact`` on a data directory a running ``hybridmem serve`` holds: it goes
through the server (POST /compact) with the output and exit code of a direct run,
where before it refused with exit 3."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from hybridmem.cli import app
from tests.cli.owned import API_KEYS, serving, write_pair_config
from tests.integration.erasure_bytes import Erased, files_holding

runner = CliRunner()

#: What differs between two runs by nature: ids, paths, sizes, times.
VOLATILE = {"operation_id", "files", "bytes_before", "bytes_after", "elapsed_seconds"}


def _kuzu(data: Path) -> dict[str, Any]:
    return {"data_dir": str(data), "graph": {"provider": "kuzu"}, "vector": {"provider": "kuzu"}}


def _erase_then_compact(config: Path, erased: Erased) -> tuple[dict[str, Any], str]:
    """Memories added and some erased through the CLI, then ``compact`` twice: the
    JSON report, and the table a person reads."""

    def run(*args: str) -> str:
        result = runner.invoke(app, [*args, "--config", str(config)])
        assert result.exit_code == 0, (args, result.output)
        return result.stdout

    gone = erased.new("USER")
    for _ in range(2):
        run("add", erased.new("TEXT"), "--user-id", gone, "--entities", _entity(erased))
    run("add", "Alice lives in Lisbon", "--user-id", "own-alice", "--entities", _entity(None))
    run("delete-all", "--user-id", gone, "--yes")
    report = json.loads(run("compact", "--json"))
    return report, run("compact")


def _entity(erased: Erased | None) -> str:
    name = erased.new("ENT") if erased is not None else "Lisbon"
    return json.dumps([{"name": name, "type": "place"}])


def _stable(table: str) -> str:
    table = re.sub(r"operation [0-9a-f-]{36}", "operation <id>", table)
    # Column widths follow the byte counts: spaces collapsed.
    return "\n".join(
        re.sub(r" +", " ", line)
        for line in table.splitlines()
        if not re.search(r"bytes|seconds|─|━", line)
    )


def test_compact_goes_through_a_running_serve_as_a_direct_run(tmp_path: Path) -> None:
    direct_erased, served_erased = Erased(), Erased()
    direct, direct_table = _erase_then_compact(
        write_pair_config(tmp_path / "direct.toml", _kuzu(tmp_path / "direct")), direct_erased
    )
    data = tmp_path / "served"
    config = write_pair_config(tmp_path / "served.toml", _kuzu(data), api_keys=API_KEYS)
    with serving(config) as server:
        through, through_table = _erase_then_compact(config, served_erased)
        assert server.process.poll() is None, server.log_tail()
        # The server rewrote its own open files: nothing erased is left in them.
        assert files_holding(data, served_erased.values) == {}
    assert {k: v for k, v in through.items() if k not in VOLATILE} == {
        k: v for k, v in direct.items() if k not in VOLATILE
    }
    assert (through["memory_nodes"], through["vectors"], through["entities"]) == (1, 1, 1)
    assert [Path(f).name for f in through["files"]] == ["graph.kuzu", "vectors.kuzu"]
    assert through["scope_ids_scrubbed"] >= 1 and through["journal_scrubbed"]
    assert "compacted 2 file(s)" in through_table
    assert _stable(through_table) == _stable(direct_table)
