"""Every command refuses unknown and misspelt options (exit 2), and touches nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer.main
from typer.testing import CliRunner

from hybridmem.cli import app
from tests.cli.conftest import count, seed

runner = CliRunner()


def _misspellings(command: Any) -> list[str]:
    """A made-up option, and for each real long option a typo of it."""
    declared = {opt for p in command.params for opt in p.opts if opt.startswith("--")}
    wrong = ["--dryrun", "--agnt-id"]
    for option in sorted(declared):
        wrong += ["--" + option[2:].replace("-", "_"), option + "s", option.upper()]
    return [w for w in dict.fromkeys(wrong) if w not in declared]


def test_every_command_refuses_unknown_options(config: Path) -> None:
    kept = seed(config, "cli-kept", 2)
    # Typer vendors its own click: the group and commands are read by duck typing.
    commands: dict[str, Any] = getattr(typer.main.get_command(app), "commands", {})
    assert {"add", "delete-all", "delete", "serve", "mcp", "demo", "reconcile"} <= set(commands)
    tried = 0
    for name, command in commands.items():
        for wrong in _misspellings(command):
            result = runner.invoke(app, [name, wrong, "x", "--config", str(config)])
            tried += 1
            assert result.exit_code == 2, (name, wrong, result.output)
            assert "No such option" in result.output, (name, wrong, result.output)
    assert tried >= 40
    assert count(config, "cli-kept") == len(kept), "a refused command changed the store"
