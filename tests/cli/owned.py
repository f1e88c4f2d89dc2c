"""A data directory held by a real ``hybridmem serve`` on a pair with an embedded Kuzu file,
and what the tests compare across a direct run and a run through that server."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from hybridmem import HybridStore
from tests.conftest import PairConfig, open_pair, pair_params, selected_pairs
from tests.server.live import LiveServer, start_server
from tests.shared.state import wipe_shared_state

#: Vector providers whose store is a file of the data directory.
FILE_VECTORS = ("kuzu", "sqlite")
#: The pairs whose stores include an embedded graph or Kuzu vector file (one
#: process per file).
EMBEDDED_PAIRS = ("kuzu+sqlite", "kuzu+kuzu", "neo4j+kuzu", "kuzu+weaviate")

ADMIN_KEY = "owned-admin-key-0123456789"
ALICE_KEY = "owned-alice-key-0123456789"
API_KEYS = [
    {"key": ADMIN_KEY, "name": "admin"},
    {"key": ALICE_KEY, "name": "alice", "user_id": "own-alice"},
]


def embedded_pair_params() -> list[Any]:
    return pair_params([p for p in selected_pairs() if p in EMBEDDED_PAIRS])


def write_pair_config(
    path: Path,
    store: dict[str, Any],
    *,
    api_keys: list[dict[str, str]] | None = None,
    embedder: dict[str, Any] | None = None,
) -> Path:
    """A TOML config of ``store`` (a pair_config dict) with the 64-dimension placeholder."""
    lines = [f"data_dir = {json.dumps(store['data_dir'])}", "[embedder]"]
    lines += [f"{k} = {json.dumps(v)}" for k, v in (embedder or {"provider": "hashing"}).items()]
    for section in ("graph", "vector"):
        lines.append(f"[{section}]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in store[section].items()]
    for key in api_keys or []:
        lines.append("[[server.api_keys]]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in key.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(params=embedded_pair_params())
def embedded_pair(request: pytest.FixtureRequest) -> Iterator[PairConfig]:
    yield from open_pair(request, request.param)


def reset_server_stores(pair: PairConfig, scratch: Path) -> None:
    """Empty the pair's server stores (Neo4j, Weaviate) between the two runs; the
    Kuzu files are the data directory's own."""
    config = pair(scratch)
    if config["graph"]["provider"] == "kuzu" and config["vector"]["provider"] in FILE_VECTORS:
        return
    # The embedder the written configs name: a Neo4j graph keeps the store's
    # embedder record in the server, beside the data.
    with HybridStore({**config, "embedder": {"provider": "hashing"}}) as store:
        store.reset()
    if config["graph"]["provider"] == "neo4j":
        wipe_shared_state(config["graph"], config["graph"]["label_prefix"])


@contextmanager
def serving(config: Path) -> Iterator[LiveServer]:
    server = start_server(config)
    try:
        yield server
    finally:
        server.stop()


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?")
_DURATION = re.compile(r'("\w*seconds"): ?[0-9.e-]+')


def normalized(text: str) -> str:
    """Output with what differs between two runs by nature (random ids, clock times)
    replaced; ids are numbered by first appearance, so which id is which still counts."""
    seen: dict[str, str] = {}

    def number(match: re.Match[str]) -> str:
        return seen.setdefault(match.group(0), f"<id{len(seen)}>")

    return _DURATION.sub(r"\1: <s>", _TIME.sub("<time>", _UUID.sub(number, text)))
