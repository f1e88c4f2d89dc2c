"""``hybridmem delete-all``: dry run, confirmation, --yes, progress, counts and exit codes."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import time
from pathlib import Path

from typer.testing import CliRunner

from hybridmem.cli import EXIT_ABORTED, EXIT_OK, EXIT_USAGE, app
from hybridmem.validation import NO_FILTER_MESSAGE
from tests.cli.conftest import count, seed
from tests.server.live import HYBRIDMEM

runner = CliRunner()
COUNTS = ("memories", "vectors", "memory_nodes", "relations", "orphan_entities")


def test_dry_run_prints_per_store_counts_and_touches_nothing(config: Path) -> None:
    seed(config, "dry", 3)
    result = runner.invoke(
        app, ["delete-all", "--user-id", "dry", "--dry-run", "--json", "--config", str(config)]
    )
    assert result.exit_code == EXIT_OK, result.output
    printed = json.loads(result.stdout)
    assert printed["dry_run"] is True
    assert {k: printed[k] for k in COUNTS} == {
        "memories": 3,
        "vectors": 3,
        "memory_nodes": 3,
        "relations": 0,
        "orphan_entities": 3,
    }
    assert count(config, "dry") == 3


def test_yes_erases_the_scope_only_and_prints_the_counts(config: Path) -> None:
    seed(config, "gone", 4, agent_id="a1")
    seed(config, "kept", 2, agent_id="a1")
    result = runner.invoke(
        app, ["delete-all", "--user-id", "gone", "--yes", "--json", "--config", str(config)]
    )
    assert result.exit_code == EXIT_OK, result.output
    printed = json.loads(result.stdout)
    assert printed["message"] == "Memories deleted successfully!"
    assert (printed["memories"], printed["vectors"], printed["orphan_entities"]) == (4, 4, 4)
    assert (count(config, "gone"), count(config, "kept")) == (0, 2)

    again = runner.invoke(
        app, ["delete-all", "--user-id", "gone", "--yes", "--json", "--config", str(config)]
    )
    assert again.exit_code == EXIT_OK and json.loads(again.stdout)["memories"] == 0


def test_without_yes_and_without_a_terminal_nothing_is_deleted(config: Path) -> None:
    seed(config, "piped", 2)
    result = runner.invoke(app, ["delete-all", "--user-id", "piped", "--config", str(config)])
    assert result.exit_code == EXIT_ABORTED
    assert "refusing to delete without --yes" in result.stderr
    assert count(config, "piped") == 2


def test_no_filter_or_a_bad_id_is_exit_2_with_the_message(config: Path) -> None:
    seed(config, "safe", 1)
    result = runner.invoke(app, ["delete-all", "--yes", "--config", str(config)])
    assert result.exit_code == EXIT_USAGE
    assert NO_FILTER_MESSAGE in result.stderr
    bad = runner.invoke(app, ["delete-all", "--user-id", " ", "--yes", "--config", str(config)])
    assert bad.exit_code == EXIT_USAGE
    assert "invalid user_id: must not be empty or only white space" in bad.stderr
    assert count(config, "safe") == 1


def _in_terminal(args: list[str], answer: str, timeout: float = 120) -> tuple[int, str]:
    """Run the real command on a pseudo-terminal and answer its confirmation prompt."""
    main, child = pty.openpty()
    process = subprocess.Popen(
        args, stdin=child, stdout=child, stderr=child, env={**os.environ, "COLUMNS": "120"}
    )
    os.close(child)
    output, answered = b"", False
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if not answered and b"[y/N]" in output:
                os.write(main, answer.encode() + b"\n")
                answered = True
            ready, _, _ = select.select([main], [], [], 0.5)
            if not ready:
                if process.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(main, 4096)
            except OSError:  # EIO: the command closed its terminal
                break
            if not chunk:
                break
            output += chunk
        return process.wait(timeout), output.decode(errors="replace")
    finally:
        os.close(main)
        if process.poll() is None:
            process.kill()


def test_a_declined_prompt_deletes_nothing_and_an_accepted_one_shows_progress(
    config: Path,
) -> None:
    seed(config, "asked", 3)
    command = [HYBRIDMEM, "delete-all", "--user-id", "asked", "--config", str(config)]

    code, screen = _in_terminal(command, "n")
    assert code == EXIT_ABORTED, screen
    assert "Erase 3 memories of {'user_id': 'asked'}?" in screen
    assert "aborted: nothing was deleted" in screen
    assert count(config, "asked") == 3

    code, screen = _in_terminal(command, "y")
    assert code == EXIT_OK, screen
    assert "done" in screen and "3/3" in screen, "no progress bar"
    assert "Memories deleted successfully!" in screen
    assert count(config, "asked") == 0
