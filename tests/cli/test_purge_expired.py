"""``hybridmem add --ttl/--expires-at``, ``hybridmem purge-expired`` and the purge that
``hybridmem serve`` runs in the background."""

from __future__ import annotations

import json
import time
from pathlib import Path

from typer.testing import CliRunner

from hybridmem import HybridStore
from hybridmem.cli import EXIT_OK, EXIT_USAGE, app
from hybridmem.purger import PurgeLoop
from tests.cli.conftest import count

runner = CliRunner()
PAST = "2020-01-01T00:00:00+00:00"
ADD = ("add", "--embedding", "[1, 0]")


def _seed_expired(config: Path, user: str, n: int) -> list[str]:
    with HybridStore.from_config(config) as store:
        items = [
            {"text": f"{user} old {i}", "embedding": [1.0, float(i)], "user_id": user}
            for i in range(n)
        ]
        return store.add_many([{**item, "expires_at": PAST} for item in items]).ids


def test_add_with_ttl_then_purge_expired_erases_only_the_expired(config: Path) -> None:
    added = runner.invoke(
        app,
        [*ADD, "kept", "--user-id", "ann", "--ttl", "3600", "--json", "--config", str(config)],
    )
    assert added.exit_code == EXIT_OK, added.output
    assert json.loads(added.stdout)["expires_at"] is not None
    expired = _seed_expired(config, "ann", 3)
    assert count(config, "ann") == 1  # expired ones are invisible already
    result = runner.invoke(app, ["purge-expired", "--json", "--config", str(config)])
    assert result.exit_code == EXIT_OK, result.output
    report = json.loads(result.stdout)
    assert (report["memories"], report["vectors"], report["memory_nodes"]) == (3, 3, 3)
    with HybridStore.from_config(config) as store:
        assert store.vector.existing_ids(expired) == set()
        assert store.stats()["vectors"] == 1
    table = runner.invoke(app, ["purge-expired", "--config", str(config)])
    assert table.exit_code == EXIT_OK and "purge_expired" in table.output


def test_bad_expiry_on_the_command_line_is_exit_2(config: Path) -> None:
    for option in (["--ttl", "0"], ["--expires-at", PAST], ["--ttl", "5", "--expires-at", PAST]):
        result = runner.invoke(
            app,
            [*ADD, "x", "--user-id", "bo", "--config", str(config), *option],
        )
        assert result.exit_code == EXIT_USAGE, (option, result.output)
    assert count(config, "bo") == 0
    negative = runner.invoke(app, ["serve", "--purge-interval", "-1", "--config", str(config)])
    assert negative.exit_code == EXIT_USAGE


def test_the_serve_purge_loop_erases_expired_memories_and_stops_cleanly(config: Path) -> None:
    _seed_expired(config, "cy", 4)
    with HybridStore.from_config(config) as store:
        kept = store.add("kept", embedding=[0.0, 1.0], user_id="cy").id
        loop = PurgeLoop(store, 0.1).start()
        deadline = time.monotonic() + 30
        while loop.purged < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        loop.stop()
        assert loop.purged == 4 and loop.runs >= 1
        assert store.stats()["vectors"] == 1 and store.get(kept) is not None
        assert not store.journal.pending()
