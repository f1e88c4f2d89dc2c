"""``python -m hybridmem.testing.servers``: the one command that starts every
registered backend's test server for a run (scripts/test.sh evals its output)."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from hybridmem.testing.launchers import ServerUnavailable, compose_files
from hybridmem.testing.pair_registry import load_registry
from hybridmem.testing.servers import STATE_FILE, available_pairs, start_servers
from tests.unit import fake_launcher
from tests.unit.fake_launcher import REGISTRY, URL_VARIABLE

ROOT = Path(__file__).resolve().parents[2]


def _exports(output: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in output.splitlines():
        assert line.startswith("export "), line
        name, _, value = line.removeprefix("export ").partition("=")
        found[name] = shlex.split(value)[0]
    return found


def _gone(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] == "Z"


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HYBRIDMEM_TEST_")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    return env


def _command(*args: str) -> subprocess.CompletedProcess[str]:
    """The command in its own process, as scripts/test.sh runs it (its servers
    outlive it); ``start`` over the fake registry instead of the installed one."""
    code = (
        "import sys; from hybridmem.testing.servers import main;"
        " from tests.unit.fake_launcher import REGISTRY; main(sys.argv[1:], REGISTRY)"
    )
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=120,
        check=True,
    )


def test_start_runs_each_launcher_once_and_stop_leaves_no_process(tmp_path: Path) -> None:
    state = tmp_path / "servers"
    started = _command("start", "--state", str(state))
    try:
        exports = _exports(started.stdout)
        # Two backends name the web launcher: one server; the tool-less one is left out.
        assert json.loads((state / STATE_FILE).read_text()) == ["tests.unit.fake_launcher:web"]
        assert "notool: not started (no notool on PATH)" in started.stderr
        assert "fetching fakeweb" in started.stderr  # stdout holds only export lines
        assert exports[fake_launcher.PAIRS] == "emb+emb,emb+web"
        pid = int((state / "fakeweb.pid").read_text())
        with urllib.request.urlopen(exports[URL_VARIABLE], timeout=5) as response:
            assert response.read() == b"fake server\n"
    finally:
        # The real command line, as scripts/test.sh's cleanup runs it.
        subprocess.run(
            [sys.executable, "-m", "hybridmem.testing.servers", "stop", "--state", str(state)],
            env=_env(),
            check=True,
            timeout=60,
        )
    assert _gone(pid)
    assert not (state / STATE_FILE).exists()
    assert not (state / "fakeweb").exists()
    with pytest.raises(OSError):
        urllib.request.urlopen(exports[URL_VARIABLE], timeout=2)


def test_a_launcher_whose_variable_is_set_is_not_started(tmp_path: Path) -> None:
    given = "http://127.0.0.1:1/"
    exports = start_servers(tmp_path, {URL_VARIABLE: given}, REGISTRY)
    assert URL_VARIABLE not in exports  # the shell keeps its own value
    assert json.loads((tmp_path / STATE_FILE).read_text()) == []
    assert not (tmp_path / "fakeweb.pid").exists()
    # Given counts as available: its pairs run.
    assert exports["HYBRIDMEM_TEST_PAIRS"] == "emb+emb,emb+web"


def test_pairs_name_only_backends_whose_servers_are_available(tmp_path: Path) -> None:
    environ = {URL_VARIABLE: "http://127.0.0.1:1/"}
    assert available_pairs(REGISTRY, {"tests.unit.fake_launcher:notool"}) == ["emb+emb", "emb+web"]
    assert available_pairs(REGISTRY) == ["emb+emb", "emb+web", "emb+notool", "web+notool"]
    # A run's own selection is kept as it is.
    chosen = start_servers(tmp_path, {**environ, "HYBRIDMEM_TEST_PAIRS": "emb+web"}, REGISTRY)
    assert chosen["HYBRIDMEM_TEST_PAIRS"] == "emb+web"
    # CI wants every server: a machine lacking one fails the run.
    with pytest.raises(ServerUnavailable, match="no notool on PATH"):
        start_servers(tmp_path, environ, REGISTRY, require_all=True)


def test_the_installed_adapters_give_ci_its_pairs_in_its_order() -> None:
    registry = load_registry()
    assert available_pairs(registry) == [
        "kuzu+sqlite",
        "kuzu+kuzu",
        "neo4j+kuzu",
        "kuzu+weaviate",
        "neo4j+weaviate",
    ]
    # Each server adapter's compose file, shipped in its package, for pytest-docker.
    assert [path.name for path in compose_files(registry)] == ["docker-compose.yml"] * 2
    assert all(path.is_file() for path in compose_files(registry))
