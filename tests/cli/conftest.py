"""CLI fixtures: a config file over an embedded store in the test's own directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from hybridmem import HybridStore
from tests.server.live import write_config


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_config(tmp_path / "hybridmem.toml", tmp_path / "data")


def seed(config: Path, user: str, count: int, **scope: str) -> list[str]:
    """``count`` memories of ``user``, each mentioning an entity of its own; their ids."""
    with HybridStore.from_config(config) as store:
        return [
            store.add(
                f"{user} fact {i}",
                embedding=[1.0, float(i)],
                user_id=user,
                entities=[{"name": f"{user}-E{i}", "type": "t"}],
                **scope,
            ).id
            for i in range(count)
        ]


def count(config: Path, user: str) -> int:
    with HybridStore.from_config(config) as store:
        return len(store.get_all(user_id=user))
