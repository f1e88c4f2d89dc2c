"""``hashing``: a PLACEHOLDER embedder for tests and offline smoke runs.

It is not a language model: it hashes words into signed buckets, so two texts
are close only when they share words ("car" never finds "automobile").
Deterministic, no download.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from hybridmem.demo_data import toy_embedding
from hybridmem.registry import parse_options


class HashingOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    dimension: int = Field(default=64, ge=2, le=65536)


class HashingEmbedder:
    """Hashed word buckets, L2-normalised: a deterministic placeholder."""

    def __init__(self, dimension: int = 64) -> None:
        self.dimension = dimension
        self.name = "hashing"

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return [toy_embedding(text, self.dimension) for text in texts]


def create(options: Mapping[str, Any]) -> HashingEmbedder:
    parsed = parse_options(HashingOptions, options, "embedder", "hashing")
    return HashingEmbedder(parsed.dimension)
