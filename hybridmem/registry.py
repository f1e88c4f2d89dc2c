"""Adapters are found through the ``hybridmem.adapters`` entry-point group, lazily.

The core never imports a backend library: a plugin's module is imported only
when a configuration names its provider.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from hybridmem.errors import ConfigurationError
from hybridmem.ports import GraphStore, VectorStore

ENTRY_POINT_GROUP = "hybridmem.adapters"

Role = Literal["graph", "vector"]

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class AdapterPlugin:
    """What an adapter distribution exposes as its entry point object.

    Factories take the provider's options (the config section without
    ``provider``) and the data directory (for embedded stores), validate the
    options themselves and raise ConfigurationError naming any bad key.
    """

    provider: str
    graph: Callable[[Mapping[str, Any], Path], GraphStore] | None = None
    vector: Callable[[Mapping[str, Any], Path], VectorStore] | None = None


def parse_options(model: type[M], options: Mapping[str, Any], role: str, provider: str) -> M:
    """An adapter's options validated by its pydantic ``model``; a bad value or an
    unknown key raises ConfigurationError naming the key as the config file spells
    it (``graph.uri``), so users see our error, never pydantic's."""
    try:
        return model(**dict(options))
    except PydanticValidationError as exc:
        problems = "; ".join(
            f"{role}.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigurationError(f"invalid {provider} options: {problems}") from None


def named_entry_points(group: str, kind: str) -> dict[str, EntryPoint]:
    """The group's entry points by name; two packages claiming one name is an error."""
    found: dict[str, EntryPoint] = {}
    for ep in entry_points(group=group):
        if ep.name in found and found[ep.name].value != ep.value:
            raise ConfigurationError(
                f"two installed {kind} claim provider {ep.name!r}: "
                f"{found[ep.name].value} and {ep.value}; uninstall one"
            )
        found[ep.name] = ep
    return found


def _entry_points() -> dict[str, EntryPoint]:
    return named_entry_points(ENTRY_POINT_GROUP, "adapters")


def load_plugin(provider: str) -> AdapterPlugin:
    eps = _entry_points()
    ep = eps.get(provider)
    if ep is None:
        installed = ", ".join(sorted(eps)) or "none"
        raise ConfigurationError(
            f"unknown provider {provider!r}; installed: {installed}; install hybridmem-{provider}"
        )
    try:
        plugin = ep.load()
    except ImportError as exc:
        raise ConfigurationError(
            f"provider {provider!r} is registered but cannot be imported ({exc}); "
            f"reinstall hybridmem-{provider}"
        ) from exc
    if not isinstance(plugin, AdapterPlugin):
        raise ConfigurationError(f"entry point {provider!r} is not a hybridmem AdapterPlugin")
    return plugin


def create_store(role: Role, provider: str, options: Mapping[str, Any], data_dir: Path) -> Any:
    plugin = load_plugin(provider)
    factory = plugin.graph if role == "graph" else plugin.vector
    if factory is None:
        roles = [r for r in ("graph", "vector") if getattr(plugin, r) is not None]
        raise ConfigurationError(
            f"provider {provider!r} offers no {role} store (it offers: {', '.join(roles)})"
        )
    return factory(options, data_dir)
