"""``sentence-transformers``: a local model folder or a Hugging Face hub name.

A hub name (``sentence-transformers/all-MiniLM-L6-v2``) is downloaded on first
use and needs a network; a local path does not. The library (and torch) is
imported only when the first text is embedded.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from hybridmem.embedders import missing_library
from hybridmem.errors import ConfigurationError
from hybridmem.registry import parse_options


class SentenceTransformersOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    #: A local folder, or a hub name (needs a network the first time).
    model: str
    #: The model's output dimension, checked when the model loads.
    dimension: int = Field(ge=2, le=65536)
    device: str | None = None
    batch_size: int = Field(default=64, ge=1, le=4096)
    #: Only load files already on disk (the hub cache or a local folder).
    local_files_only: bool = False


class SentenceTransformersEmbedder:
    def __init__(self, options: SentenceTransformersOptions) -> None:
        self.options = options
        self.name = f"sentence-transformers:{options.model}"
        self.dimension = options.dimension
        self._model: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                try:
                    from sentence_transformers import SentenceTransformer
                except ImportError:
                    raise missing_library(
                        "sentence-transformers", "sentence-transformers"
                    ) from None
                model = SentenceTransformer(
                    self.options.model,
                    device=self.options.device,
                    local_files_only=self.options.local_files_only,
                )
                actual = model.get_sentence_embedding_dimension()
                if actual != self.dimension:
                    raise ConfigurationError(
                        f"embedder {self.name!r} produces {actual} dimensions;"
                        f" the config says dimension = {self.dimension}"
                    )
                self._model = model
            return self._model

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        vectors = self._load().encode(
            list(texts), batch_size=self.options.batch_size, normalize_embeddings=True
        )
        return [[float(x) for x in row] for row in vectors]


def create(options: Mapping[str, Any]) -> SentenceTransformersEmbedder:
    return SentenceTransformersEmbedder(
        parse_options(SentenceTransformersOptions, options, "embedder", "sentence-transformers")
    )
