"""Live servers for the REST tests: ``hybridmem serve`` subprocesses over embedded Kuzu."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.server.live import LiveServer, start_server, write_config

ADMIN_KEY = "test-admin-key-0123456789"
#: Bound to user "auth-alice".
ALICE_KEY = "test-alice-key-0123456789"
#: Bound to user "auth-alice" and agent "auth-bot".
ALICE_BOT_KEY = "test-alice-bot-key-0123456789"
#: Bound to user "auth-bob".
BOB_KEY = "test-bob-key-0123456789"

API_KEYS = [
    {"key": ADMIN_KEY, "name": "admin"},
    {"key": ALICE_KEY, "name": "alice", "user_id": "auth-alice"},
    {"key": ALICE_BOT_KEY, "name": "alice-bot", "user_id": "auth-alice", "agent_id": "auth-bot"},
    {"key": BOB_KEY, "name": "bob", "user_id": "auth-bob"},
]


@pytest.fixture(scope="session")
def open_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """No API key configured: loopback only, every request allowed."""
    home = tmp_path_factory.mktemp("open-server")
    server = start_server(write_config(home / "hybridmem.toml", home / "data"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def keyed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """An admin key and two scope-bound keys."""
    home = tmp_path_factory.mktemp("keyed-server")
    server = start_server(write_config(home / "hybridmem.toml", home / "data", api_keys=API_KEYS))
    yield server
    server.stop()


@pytest.fixture
def name(request: pytest.FixtureRequest) -> str:
    """A scope id named after the test, so tests sharing a server never share records."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", request.node.name)[:120]
