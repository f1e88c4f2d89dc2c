"""One text at a time over the configured embedder, for the CLI and the MCP tools.

The embedders themselves are plugins: see :mod:`hybridmem.embedders` (the
``hashing`` placeholder's function, ``hashed_words``, lives in
:mod:`hybridmem.embedders.hashing` and is re-exported here).
"""

from __future__ import annotations

from typing import Protocol

from hybridmem.config import EmbedderConfig, HybridMemConfig
from hybridmem.embedders import Embedder as TextsEmbedder
from hybridmem.embedders.hashing import DEFAULT_DIMENSION, hashed_words
from hybridmem.embedders.hashing import HashingEmbedder as _Hashing
from hybridmem.embedders.resolve import embedder_for

__all__ = [
    "DEFAULT_DIMENSION",
    "Embedder",
    "HashingEmbedder",
    "embedder_from_config",
    "hashed_words",
]


class Embedder(Protocol):
    def embed(self, text: str) -> list[float]:
        """A vector for ``text``; the same text always gives the same vector."""
        ...


class SingleText:
    """Adapts a plugin embedder (many texts per call) to one text per call."""

    def __init__(self, embedder: TextsEmbedder) -> None:
        self.inner = embedder
        self.name = embedder.name
        self.dimension = embedder.dimension

    def embed(self, text: str) -> list[float]:
        return self.inner.embed([text])[0]


class HashingEmbedder(SingleText):
    """The placeholder (hashed word buckets), one text per call."""

    def __init__(self, dimension: int = DEFAULT_DIMENSION) -> None:
        super().__init__(_Hashing(dimension))


def embedder_from_config(config: HybridMemConfig | EmbedderConfig) -> Embedder:
    """The configured embedder; ConfigurationError saying how to configure one when
    none is configured and wordllama is not installed."""
    section = config.embedder if isinstance(config, HybridMemConfig) else config
    return SingleText(embedder_for(section, required=True))
