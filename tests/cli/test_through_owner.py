"""The CLI on a data directory a running ``hybridmem serve`` holds (issue 23, part 2).

A Kuzu file admits one read-write process. On each pair with an embedded file, the
same commands run once straight on a store and once on a data directory that a real
``hybridmem serve`` subprocess holds: the CLI goes through the server, and every
output and exit code is the same. The server here has API keys configured, so the
CLI's way in is the local key the server publishes.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hybridmem import HybridStore
from hybridmem.cli import EXIT_UNAVAILABLE, EXIT_USAGE, app
from hybridmem.errors import ConfigurationError, StoreUnavailableError
from tests.cli.owned import (
    API_KEYS,
    embedded_pair,
    normalized,
    reset_server_stores,
    serving,
    write_pair_config,
)
from tests.conftest import PairConfig
from tests.server.live import HYBRIDMEM

__all__ = ["embedded_pair"]

runner = CliRunner()

ENTITIES = '[{"name": "Alice", "type": "person"}, {"name": "Lisbon", "type": "city"}]'
RELATIONS = '[{"source": "Alice", "target": "Lisbon", "type": "lives_in"}]'
OWN_VECTOR = json.dumps([1.0] + [0.0] * 63)


def _scenario(config: Path) -> str:
    """Every memory command once, with its refusals: the transcript of outputs and
    exit codes, as a user sees them."""
    transcript: list[str] = []

    def run(*args: str) -> str:
        result = runner.invoke(app, [*args, "--config", str(config)])
        transcript.append(
            f"$ {' '.join(args)}\nexit {result.exit_code}\n"
            f"stdout: {result.stdout}\nstderr: {result.stderr}"
        )
        return result.stdout

    added = json.loads(
        run(
            "add",
            "Alice lives in Lisbon",
            "--user-id",
            "own-alice",
            "--entities",
            ENTITIES,
            "--relations",
            RELATIONS,
            "--json",
        )
    )
    run(
        "add",
        "Alice likes trams",
        "--user-id",
        "own-alice",
        "--run-id",
        "r2",
        "--metadata",
        '{"topic": "transit"}',
    )
    run("add", "Bob's note", "--user-id", "own-bob", "--embedding", OWN_VECTOR, "--json")
    run("add", "no scope")
    run("add", "bad metadata", "--user-id", "own-alice", "--metadata", "[1]")
    run("add", "bad json", "--user-id", "own-alice", "--metadata", "{")
    run("search", "where does Alice live", "--user-id", "own-alice", "--json")
    run("search", "trams", "--user-id", "own-alice", "--filters", '{"topic": "transit"}', "--json")
    run(
        "search", "Alice", "--user-id", "own-alice", "--graph", "--entities", '["Lisbon"]', "--json"
    )
    run("search", "anything", "--user-id", "own-bob", "--embedding", OWN_VECTOR, "--json")
    run("search", "no scope", "--json")
    run("list", "--user-id", "own-alice", "--json")
    run("list", "--user-id", "own-alice", "--entity", "Lisbon", "--json")
    run("list", "--user-id", "own-alice", "--filters", '{"topic": {"$bad": 1}}')
    run("get", added["id"], "--json")
    run("get", "00000000-0000-4000-8000-000000000000")
    run("history", added["id"], "--json")
    run("neighbors", "Alice", "--user-id", "own-alice", "--json")
    run("neighbors", "Alice", "--user-id", "own-alice", "--depth", "9")
    run("stats", "--json")
    run("stats")
    run("reconcile", "--json")
    run("delete-all", "--user-id", "own-bob", "--dry-run", "--json")
    run("delete-all", "--yes", "--json")
    run("delete", added["id"], "--json")
    run("delete", added["id"])
    run("add", "Bob forgets this", "--user-id", "own-bob", "--ttl", "1")
    time.sleep(1.5)
    run("purge-expired", "--json")
    run("delete-all", "--user-id", "own-bob", "--yes", "--json")
    run("recover", "--json")
    run("list", "--user-id", "own-alice", "--json")
    run("stats", "--json")
    return normalized("\n".join(transcript))


def test_cli_through_a_running_serve_answers_as_the_store_does(
    embedded_pair: PairConfig, tmp_path: Path
) -> None:
    direct = _scenario(
        write_pair_config(tmp_path / "direct.toml", embedded_pair(tmp_path / "direct"))
    )
    reset_server_stores(embedded_pair, tmp_path / "scratch")
    config = write_pair_config(
        tmp_path / "served.toml", embedded_pair(tmp_path / "served"), api_keys=API_KEYS
    )
    with serving(config) as server:
        through = _scenario(config)
        assert server.process.poll() is None, server.log_tail()
    assert "exit 3" not in through
    assert through == direct


def test_owner_file_is_private_names_the_server_and_goes_on_shutdown(
    embedded_pair: PairConfig, tmp_path: Path
) -> None:
    from hybridmem.ownership import OWNER_FILE

    data = tmp_path / "data"
    config = write_pair_config(tmp_path / "c.toml", embedded_pair(data), api_keys=API_KEYS)
    with serving(config) as server:
        owner_file = data / OWNER_FILE
        published = json.loads(owner_file.read_text())
        assert stat.S_IMODE(owner_file.stat().st_mode) == 0o600
        assert published["url"] == server.url
        assert published["pid"] == server.process.pid
        # The local key is an admin key of this server, beside the configured ones.
        from hybridmem.client import HybridMemClient

        with HybridMemClient(server.url, api_key=published["api_key"]) as client:
            assert client.stats()["vectors"] == 0
        server.stop()
        assert not owner_file.exists()


def test_store_on_a_held_directory_says_how_to_reach_the_owner(
    embedded_pair: PairConfig, tmp_path: Path
) -> None:
    store_config = embedded_pair(tmp_path / "data")
    config = write_pair_config(tmp_path / "c.toml", store_config)
    with serving(config) as server:
        with pytest.raises(StoreUnavailableError) as raised:
            HybridStore(store_config)
        message = str(raised.value)
        assert server.url in message and "HybridMemClient" in message
        assert "Could not set lock" not in message
        from hybridmem.errors import StoreBusyError

        assert isinstance(raised.value, StoreBusyError)
        assert raised.value.owner.url == server.url
        if store_config["graph"]["provider"] == "kuzu" == store_config["vector"]["provider"]:
            with pytest.raises(StoreBusyError):
                HybridStore.embedded(tmp_path / "data")


def test_a_stale_owner_file_is_ignored_and_replaced(tmp_path: Path) -> None:
    """A server killed without its shutdown leaves its file: the CLI opens the store
    itself, and the next serve takes the directory over."""
    config = write_pair_config(
        tmp_path / "c.toml",
        {
            "data_dir": str(tmp_path / "data"),
            "graph": {"provider": "kuzu"},
            "vector": {"provider": "kuzu"},
        },
    )
    with serving(config) as server:
        server.process.kill()
        server.process.wait()
    assert (tmp_path / "data" / "owner.json").exists()
    result = runner.invoke(
        app, ["add", "after the crash", "--user-id", "own-alice", "--config", str(config)]
    )
    assert result.exit_code == 0, result.output
    with serving(config) as server:
        published = json.loads((tmp_path / "data" / "owner.json").read_text())
        assert published["pid"] == server.process.pid
        listed = runner.invoke(
            app, ["list", "--user-id", "own-alice", "--json", "--config", str(config)]
        )
        assert [m["text"] for m in json.loads(listed.stdout)] == ["after the crash"]


def test_an_owner_file_others_can_read_is_not_trusted(tmp_path: Path) -> None:
    """Its address and key would otherwise receive this user's memories."""
    config = write_pair_config(
        tmp_path / "c.toml",
        {
            "data_dir": str(tmp_path / "data"),
            "graph": {"provider": "kuzu"},
            "vector": {"provider": "kuzu"},
        },
    )
    with serving(config):
        owner_file = tmp_path / "data" / "owner.json"
        os.chmod(owner_file, 0o644)
        result = runner.invoke(app, ["stats", "--config", str(config)])
        # Not through the server: the store itself, which the server holds.
        assert result.exit_code == EXIT_UNAVAILABLE
        assert "one read-write process" in result.stderr


def test_serve_refuses_workers_on_an_embedded_file(tmp_path: Path) -> None:
    config = write_pair_config(
        tmp_path / "c.toml",
        {
            "data_dir": str(tmp_path / "data"),
            "graph": {"provider": "kuzu"},
            "vector": {"provider": "kuzu"},
        },
    )
    done = subprocess.run(
        [HYBRIDMEM, "serve", "--workers", "2", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == EXIT_USAGE
    assert "--workers 2" in done.stderr and "one process" in done.stderr


def test_cli_writes_record_the_embedder(tmp_path: Path) -> None:
    """Issue 25: the CLI embedded text itself, so its writes never recorded the
    embedder and a store reopened with another one was not refused."""
    store = {
        "data_dir": str(tmp_path / "data"),
        "graph": {"provider": "kuzu"},
        "vector": {"provider": "kuzu"},
    }
    config = write_pair_config(tmp_path / "c.toml", store)
    result = runner.invoke(
        app, ["add", "Alice lives in Lisbon", "--user-id", "u", "--config", str(config)]
    )
    assert result.exit_code == 0, result.output
    with pytest.raises(ConfigurationError, match="created with embedder 'hashing'"):
        HybridStore({**store, "embedder": {"provider": "hashing", "dimension": 32}})


def test_cli_writes_through_the_owner_record_the_embedder(tmp_path: Path) -> None:
    store = {
        "data_dir": str(tmp_path / "data"),
        "graph": {"provider": "kuzu"},
        "vector": {"provider": "kuzu"},
    }
    config = write_pair_config(tmp_path / "c.toml", store)
    with serving(config):
        result = runner.invoke(
            app, ["add", "Alice lives in Lisbon", "--user-id", "u", "--config", str(config)]
        )
        assert result.exit_code == 0, result.output
    with pytest.raises(ConfigurationError, match="created with embedder 'hashing'"):
        HybridStore({**store, "embedder": {"provider": "hashing", "dimension": 32}})


def test_import_goes_through_the_owner_and_export_names_it(tmp_path: Path) -> None:
    """An import is add_many, which the server serves; an export reads the stores
    themselves, so it refuses with exit 3 naming the server (it no longer fails on
    Kuzu's file lock)."""
    store = {
        "data_dir": str(tmp_path / "data"),
        "graph": {"provider": "kuzu"},
        "vector": {"provider": "kuzu"},
    }
    source = {**store, "data_dir": str(tmp_path / "source")}
    with HybridStore(source) as origin:
        origin.add("Alice lives in Lisbon", embedding=[1.0] + [0.0] * 63, user_id="own-alice")
    source_config = write_pair_config(tmp_path / "source.toml", source)
    exported = tmp_path / "alice.jsonl"
    result = runner.invoke(
        app, ["export", "--output", str(exported), "--config", str(source_config)]
    )
    assert result.exit_code == 0, result.output
    config = write_pair_config(tmp_path / "c.toml", store)
    with serving(config) as server:
        result = runner.invoke(app, ["import", str(exported), "--json", "--config", str(config)])
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["added"] == 1
        refused = runner.invoke(app, ["export", "--config", str(config)])
        assert refused.exit_code == EXIT_UNAVAILABLE
        assert server.url in refused.stderr
        listed = runner.invoke(
            app, ["list", "--user-id", "own-alice", "--json", "--config", str(config)]
        )
        assert [m["text"] for m in json.loads(listed.stdout)] == ["Alice lives in Lisbon"]
