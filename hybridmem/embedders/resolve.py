"""The embedder an ``[embedder]`` config section selects (the default included)."""

from __future__ import annotations

from typing import Literal, overload

from hybridmem.config import EmbedderConfig
from hybridmem.embedders import HOW_TO_CONFIGURE, Embedder, create_embedder, default_provider
from hybridmem.errors import ConfigurationError


@overload
def embedder_for(section: EmbedderConfig, *, required: Literal[True]) -> Embedder: ...
@overload
def embedder_for(section: EmbedderConfig, *, required: bool = False) -> Embedder | None: ...
def embedder_for(section: EmbedderConfig, *, required: bool = False) -> Embedder | None:
    provider = section.provider or default_provider()
    if provider is None:
        if required:
            raise ConfigurationError(HOW_TO_CONFIGURE)
        return None
    return create_embedder(provider, section.options())
