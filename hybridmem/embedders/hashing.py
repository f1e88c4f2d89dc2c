"""``hashing``: a PLACEHOLDER embedder for tests and offline smoke runs.

It is not a language model: it hashes words into signed buckets, so two texts
are close only when they share words ("car" never finds "automobile").
Deterministic, no download.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from hybridmem.registry import parse_options

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


class HashingOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    dimension: int = Field(default=64, ge=2, le=65536)


class HashingEmbedder:
    """Hashed word buckets, L2-normalised: a deterministic placeholder."""

    def __init__(self, dimension: int = 64) -> None:
        self.dimension = dimension
        self.name = "hashing"

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return [hashed_words(text, self.dimension) for text in texts]


def create(options: Mapping[str, Any]) -> HashingEmbedder:
    parsed = parse_options(HashingOptions, options, "embedder", "hashing")
    return HashingEmbedder(parsed.dimension)
