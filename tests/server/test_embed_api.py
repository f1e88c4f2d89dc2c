"""``embed(texts)``: the store's embedder, in process and over HTTP alike (issue 23:
framework integrations rank with it through a client)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hybridmem import HybridStore
from hybridmem.client import AsyncHybridMemClient, HybridMemClient
from hybridmem.errors import ValidationError
from tests.server.live import LiveServer, start_server, write_config


@pytest.fixture(scope="module")
def embed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server of its own: the session's open server holds whatever dimension the
    tests before this one wrote, and the add here must take the embedder's."""
    home = tmp_path_factory.mktemp("embed-server")
    server = start_server(write_config(home / "hybridmem.toml", home / "data"))
    yield server
    server.stop()


async def test_embed_gives_the_vectors_add_and_search_use(
    embed_server: LiveServer, tmp_path: Path
) -> None:
    with HybridMemClient(embed_server.url) as client:
        [vector, other] = client.embed(["Alice likes tea", "Bob rides trams"])
        added = client.add("Alice likes tea", user_id="embed-user")
        assert vector == pytest.approx(added.embedding, abs=1e-6)
        [hit] = client.search(vector, user_id="embed-user", limit=1)
        assert hit.memory.id == added.id and hit.score == pytest.approx(1.0, abs=1e-5)
        assert other != vector
    async with AsyncHybridMemClient(embed_server.url) as awaited:
        assert await awaited.embed(["Alice likes tea"]) == [vector]
    # The served config's embedder, in process: the same vectors.
    with HybridStore({"data_dir": str(tmp_path), "embedder": {"provider": "hashing"}}) as store:
        assert store.embed(["Alice likes tea"])[0] == pytest.approx(vector, abs=1e-6)


@pytest.mark.parametrize(
    ("texts", "message"),
    [
        ([], "1 to 1000"),
        ("Alice", "must be a list of strings"),
        (["ok", 7], r"texts\[1\]"),
        (["a\x00b"], "NUL"),
        (["x"] * 1001, "1 to 1000"),
    ],
)
def test_embed_refuses_what_add_refuses(
    open_server: LiveServer, tmp_path: Path, texts: object, message: str
) -> None:
    with HybridStore({"data_dir": str(tmp_path), "embedder": {"provider": "hashing"}}) as store:
        with pytest.raises(ValidationError, match=message):
            store.embed(texts)  # type: ignore[arg-type]
    with HybridMemClient(open_server.url) as client, pytest.raises(ValidationError, match=message):
        client.embed(texts)  # type: ignore[arg-type]
