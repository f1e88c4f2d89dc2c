"""Embedders turn text into vectors: plugins in the ``hybridmem.embedders`` entry-point group.

An embedder is any object with a ``name``, a ``dimension`` and ``embed(texts)``.
The configuration's ``[embedder]`` section picks one by ``provider``; its other
keys are the plugin's options. Built in: ``wordllama`` (offline, semantic, the
default when installed), ``openai`` (any OpenAI-compatible ``/v1/embeddings``
endpoint), ``sentence-transformers`` (a local path or a hub name) and
``hashing`` (a placeholder for tests: it matches words, not meaning).

Plugins are loaded lazily, as adapters are (:mod:`hybridmem.registry`): a
provider's module, and the library it wraps, is imported only when a
configuration names it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from importlib.metadata import EntryPoint
from importlib.util import find_spec
from typing import Any, Protocol, runtime_checkable

from hybridmem.errors import ConfigurationError
from hybridmem.registry import named_entry_points

ENTRY_POINT_GROUP = "hybridmem.embedders"

#: What to install when a built-in provider's library is missing.
INSTALL_HINTS = {
    "wordllama": "pip install 'hybridmem[server]' (or: pip install wordllama)",
    "openai": "pip install 'hybridmem[server]' (or: pip install httpx)",
    "sentence-transformers": "pip install sentence-transformers",
}

HOW_TO_CONFIGURE = (
    "no embedder is configured, so text cannot be turned into a vector: pass embedding=…,"
    " or set [embedder] provider = 'wordllama' (offline; pip install wordllama),"
    " 'openai', 'sentence-transformers' or 'hashing' in the config"
    " (or HYBRIDMEM_EMBEDDER__PROVIDER=…)"
)


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into vectors of one fixed dimension.

    ``embed`` returns one vector per text, in order; the same text always gives
    the same vector. ``name`` and ``dimension`` are known without embedding
    anything: a store records them and refuses to open with another pair.
    """

    #: The provider and model, for example ``"wordllama:l2_supercat"``.
    name: str
    dimension: int

    def embed(self, texts: Sequence[str]) -> list[list[float]]: ...


#: An entry point's object: builds an embedder from the config section's options.
EmbedderFactory = Callable[[Mapping[str, Any]], Embedder]


def _entry_points() -> dict[str, EntryPoint]:
    return named_entry_points(ENTRY_POINT_GROUP, "embedders")


def installed_embedders() -> list[str]:
    return sorted(_entry_points())


def create_embedder(provider: str, options: Mapping[str, Any]) -> Embedder:
    """The embedder ``provider`` names, built from ``options``; ConfigurationError
    naming what to install when it is unknown or its library is missing."""
    eps = _entry_points()
    ep = eps.get(provider)
    if ep is None:
        installed = ", ".join(sorted(eps)) or "none"
        raise ConfigurationError(
            f"unknown embedder {provider!r}; installed: {installed};"
            f" install a package that registers it in the {ENTRY_POINT_GROUP!r} entry-point group"
        )
    try:
        factory = ep.load()
    except ImportError as exc:
        hint = INSTALL_HINTS.get(provider, f"reinstall the package providing {provider!r}")
        raise ConfigurationError(
            f"embedder {provider!r} cannot be imported ({exc}); {hint}"
        ) from exc
    embedder = factory(options)
    if not isinstance(embedder, Embedder):
        raise ConfigurationError(f"embedder {provider!r} does not implement Embedder")
    return embedder


def default_provider() -> str | None:
    """``wordllama`` when it is installed (offline and semantic), else none."""
    return "wordllama" if find_spec("wordllama") is not None else None


def missing_library(provider: str, module: str) -> ConfigurationError:
    return ConfigurationError(
        f"embedder {provider!r} needs the {module!r} package, which is not installed;"
        f" {INSTALL_HINTS.get(provider, f'pip install {module}')}"
    )
