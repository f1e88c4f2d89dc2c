"""The other ``hybridmem`` commands: each prints what HybridStore returns; exit codes hold."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from typer.testing import CliRunner

from hybridmem import HybridStore
from hybridmem.cli import EXIT_ERROR, EXIT_OK, EXIT_UNAVAILABLE, EXIT_USAGE, app
from hybridmem.demo_data import ANSWER, QUESTION
from hybridmem.embedders.hashing import HashingEmbedder
from tests.cli.conftest import seed
from tests.server.live import HYBRIDMEM

runner = CliRunner()


def _json(config: Path, *args: str) -> object:
    result = runner.invoke(app, [*args, "--json", "--config", str(config)])
    assert result.exit_code == EXIT_OK, result.output
    return json.loads(result.stdout)


def test_add_search_list_get_history_delete(config: Path) -> None:
    added = _json(
        config,
        "add",
        "Alice lives in Lisbon",
        "--user-id",
        "cli-alice",
        "--agent-id",
        "travel",
        "--metadata",
        '{"source": "chat"}',
        "--entities",
        '[{"name": "Alice", "type": "person"}]',
        "--relations",
        '[{"source": "Alice", "target": "Lisbon", "type": "lives_in"}]',
    )
    assert isinstance(added, dict)
    assert (added["user_id"], added["agent_id"], added["metadata"]) == (
        "cli-alice",
        "travel",
        {"source": "chat"},
    )
    # Without --embedding the configured placeholder embedder is used, deterministically.
    assert added["embedding"] == HashingEmbedder(64).embed(["Alice lives in Lisbon"])[0]
    given = [1.0] + [0.0] * 63  # one dimension per store: the embedder's 64
    own = _json(config, "add", "Bob", "--user-id", "cli-bob", "--embedding", json.dumps(given))
    assert isinstance(own, dict) and own["embedding"] == given

    hits = _json(config, "search", "where does Alice live", "--user-id", "cli-alice")
    assert isinstance(hits, list) and hits[0]["memory"]["id"] == added["id"]
    listed = _json(config, "list", "--user-id", "cli-alice", "--limit", "5")
    assert isinstance(listed, list) and [m["id"] for m in listed] == [added["id"]]
    fetched = _json(config, "get", added["id"])
    assert isinstance(fetched, dict) and fetched["text"] == "Alice lives in Lisbon"

    deleted = _json(config, "delete", added["id"])
    assert isinstance(deleted, dict)
    assert (deleted["memories"], deleted["relations"], deleted["orphan_entities"]) == (1, 1, 2)
    history = _json(config, "history", added["id"])
    assert isinstance(history, list) and [e["kind"] for e in history] == ["ADD", "DELETE"]
    assert all(e["new_text"] is None for e in history), "erased text still in history"
    missing = runner.invoke(app, ["get", added["id"], "--config", str(config)])
    assert missing.exit_code == EXIT_ERROR and "not found" in missing.stderr


def test_stats_reconcile_recover(config: Path) -> None:
    seed(config, "maint", 2)
    stats = _json(config, "stats")
    assert isinstance(stats, dict)
    assert (stats["vectors"], stats["memory_nodes"], stats["entities"]) == (2, 2, 2)
    report = _json(config, "reconcile", "--fix")
    assert isinstance(report, dict) and report["fixed"] is True
    assert sum(report["found"].values()) == 0
    assert _json(config, "recover") == []
    human = runner.invoke(app, ["stats", "--config", str(config)])
    assert human.exit_code == EXIT_OK and "memory nodes" in human.stdout


def test_bad_input_is_exit_2_and_touches_nothing(config: Path, tmp_path: Path) -> None:
    seed(config, "bad", 1)
    for args, message in (
        (["add", "x", "--user-id", "bad", "--embedding", "[1,"], "--embedding is not valid JSON"),
        (["add", "x", "--user-id", "bad", "--metadata", "[1]"], "invalid metadata"),
        (["add", "x", "--embedding", "[1, 0]"], "At least one of user_id"),
        (["add", "x", "--user-id", "bad\x07", "--embedding", "[1, 0]"], "invalid user_id"),
        (["search", "x", "--user-id", "bad", "--limit", "0"], "invalid limit"),
        (["get", "not-a-uuid"], "invalid memory_id"),
        (["list"], "At least one of user_id"),
    ):
        result = runner.invoke(app, [*args, "--config", str(config)])
        assert result.exit_code == EXIT_USAGE, (args, result.output)
        assert message in result.stderr, (args, result.stderr)
    missing = runner.invoke(app, ["stats", "--config", str(tmp_path / "nope.toml")])
    assert missing.exit_code == EXIT_USAGE and "config file not found" in missing.stderr
    unknown = runner.invoke(app, ["delete-all", "--user", "bad", "--config", str(config)])
    assert unknown.exit_code == EXIT_USAGE
    with HybridStore.from_config(config) as store:
        assert store.stats()["vectors"] == 1


def test_a_store_held_by_another_process_is_exit_3(config: Path) -> None:
    seed(config, "held", 1)
    with HybridStore.from_config(config):
        # Kuzu lets one process open a database file: the CLI meets a real lock.
        result = subprocess.run(
            [HYBRIDMEM, "stats", "--config", str(config)],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode == EXIT_UNAVAILABLE, result.stderr
    assert "store unavailable:" in result.stderr and "Kuzu" in result.stderr


def test_serve_refuses_a_public_address_without_api_keys(config: Path) -> None:
    result = runner.invoke(app, ["serve", "--host", "0.0.0.0", "--config", str(config)])
    assert result.exit_code == EXIT_USAGE
    assert "refusing to serve on 0.0.0.0 without API keys" in result.stderr
    assert "Configure [server] api_keys" in result.stderr


def test_demo_runs_on_the_embedded_default(tmp_path: Path) -> None:
    result = runner.invoke(app, ["demo", "--data-dir", str(tmp_path / "demo")])
    assert result.exit_code == EXIT_OK, result.output
    assert "other users untouched: yes" in result.stdout
    assert "orphans after erasure (reconcile): 0" in result.stdout
    # The demo embeds with wordllama and finds a memory by meaning alone.
    assert f"{QUESTION!r} → {ANSWER!r}" in " ".join(result.stdout.split())
