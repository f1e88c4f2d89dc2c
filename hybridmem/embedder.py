"""The built-in placeholder embedder for callers that have only text (CLI, MCP tools).

It is *not* a language model: it hashes words into buckets, so two texts are
close only when they share words ("Alice lives in Lisbon" finds "where does
Alice live", but "car" never finds "automobile"). It is deterministic, needs no
download and keeps the CLI and the MCP tools usable out of the box. Real
deployments pass embeddings from their own model (``--embedding`` on the CLI,
the ``embedding`` argument of the MCP tools, ``embedding=`` in the API) or plug
any object with an ``embed(text) -> list[float]`` method.

Vectors must keep one dimension per store: switching between this embedder and
a real model on the same data is a dimension mismatch, reported as such.
"""

from __future__ import annotations

from typing import Protocol

from hybridmem.config import EmbedderConfig, HybridMemConfig
from hybridmem.demo_data import toy_embedding


class Embedder(Protocol):
    def embed(self, text: str) -> list[float]:
        """A vector for ``text``; the same text always gives the same vector."""
        ...


class HashingEmbedder:
    """Hashed word buckets, L2-normalised: a deterministic placeholder."""

    def __init__(self, dimension: int = 64) -> None:
        self.dimension = dimension

    def embed(self, text: str) -> list[float]:
        return toy_embedding(text, self.dimension)


def embedder_from_config(config: HybridMemConfig | EmbedderConfig) -> Embedder:
    section = config.embedder if isinstance(config, HybridMemConfig) else config
    # "hashing" is the only provider EmbedderConfig accepts.
    return HashingEmbedder(section.dimension)
