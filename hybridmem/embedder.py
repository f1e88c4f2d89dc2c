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

import hashlib
import math
import re
from typing import Protocol

from hybridmem.config import EmbedderConfig, HybridMemConfig

DEFAULT_DIMENSION = 64

_STOPWORDS = frozenset(
    "a an the is are was in on at to of for with and or does do did where what who how".split()
)


def hashed_words(text: str, dimension: int = DEFAULT_DIMENSION) -> list[float]:
    """The placeholder vector of ``text``: its words hashed into signed buckets, L2-normalised."""
    vector = [0.0] * dimension
    for raw in re.findall(r"[a-z0-9]+", text.lower()):
        if raw in _STOPWORDS:
            continue
        # Crude stemming: "lives" and "live" should land in the same bucket.
        word = raw[:-1] if len(raw) > 3 and raw.endswith("s") else raw
        # Two signed buckets per word: with one, two words that collide with
        # opposite signs cancel out ("live" and "lisbon" did in 64 dimensions).
        digest = hashlib.blake2b(word.encode(), digest_size=16).digest()
        for offset in (0, 8):
            bucket = int.from_bytes(digest[offset : offset + 4], "little") % dimension
            vector[bucket] += 1.0 if digest[offset + 4] & 1 else -1.0
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    vector = [v / norm for v in vector]
    if not any(vector):
        vector[0] = 1.0
    return vector


class Embedder(Protocol):
    def embed(self, text: str) -> list[float]:
        """A vector for ``text``; the same text always gives the same vector."""
        ...


class HashingEmbedder:
    """Hashed word buckets, L2-normalised: a deterministic placeholder."""

    def __init__(self, dimension: int = DEFAULT_DIMENSION) -> None:
        self.dimension = dimension

    def embed(self, text: str) -> list[float]:
        return hashed_words(text, self.dimension)


def embedder_from_config(config: HybridMemConfig | EmbedderConfig) -> Embedder:
    section = config.embedder if isinstance(config, HybridMemConfig) else config
    # "hashing" is the only provider EmbedderConfig accepts.
    return HashingEmbedder(section.dimension)
