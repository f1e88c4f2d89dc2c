"""What ``migrate`` refuses before it copies anything: a destination that is the source
(or shares one of its stores), and a destination whose vectors cannot take the source's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hybridmem.config import HybridMemConfig, StoreConfig
from hybridmem.errors import ConfigurationError, DimensionMismatchError, ValidationError
from hybridmem.ports import GraphStore, VectorStore
from hybridmem.store import HybridStore

#: Adapter options that choose *which* data a server holds for a store (a Neo4j
#: database and label prefix, a Weaviate collection): two stores on one server
#: are different stores when one of these differs. Connection and tuning options
#: (timeouts, credentials, page sizes) do not make another store.
_SELECTING_OPTIONS = ("database", "label_prefix", "collection")


def check_distinct_configs(source: HybridMemConfig, destination: HybridMemConfig) -> None:
    """Refuse two configs with one data directory before either store is opened: the
    journal (and the embedded files) live there, and opening them twice fails with
    a file-lock error that does not say why."""
    if _resolved(source.data_dir) == _resolved(destination.data_dir):
        raise ValidationError(
            f"source and destination have the same data_dir ({source.data_dir}):"
            " they would share one journal; migrate copies between two different stores"
            " (HYBRIDMEM_* environment variables, when set, override both files)"
        )


def check_distinct(source: HybridStore, destination: HybridStore) -> None:
    """Refuse a destination that shares the journal, the graph store or the vector
    store with the source: copying into it would read what it writes."""
    shared = []
    if _resolved(source.journal.path) == _resolved(destination.journal.path):
        shared.append(f"the journal {source.journal.path}")
    for role, a, b, a_port, b_port in (
        ("graph", source.config.graph, destination.config.graph, source.graph, destination.graph),
        (
            "vector",
            source.config.vector,
            destination.config.vector,
            source.vector,
            destination.vector,
        ),
    ):
        if _identity(a, a_port) == _identity(b, b_port):
            shared.append(f"the {role} store ({a_port.name} at {a_port.address})")
    if shared:
        raise ValidationError(
            "source and destination are the same store: they share "
            + " and ".join(shared)
            + "; migrate copies between two different stores"
        )


def _identity(config: StoreConfig, port: GraphStore | VectorStore) -> tuple[Any, ...]:
    options = config.options()
    # The address is where the data is: a file path for the embedded stores, a
    # server URI otherwise.
    return (
        config.provider,
        str(port.address),
        tuple(str(options.get(key)) for key in _SELECTING_OPTIONS),
    )


def _resolved(path: Path) -> Path:
    return Path(path).expanduser().resolve()


def recorded_embedder(store: HybridStore) -> tuple[str, int] | None:
    """The embedder the store recorded, if any."""
    return store.meta.embedder()


def check_vectors_fit(
    source: HybridStore, destination: HybridStore, first_vector_length: int | None
) -> None:
    """Refuse a destination that holds vectors of another dimension, or recorded
    another embedder, than the source's vectors; then carry the source's embedder
    record over, so the destination embeds queries as the source did.

    ``first_vector_length`` is the length of a source vector in the scope (None when
    the scope is empty and nothing will be copied)."""
    from_source = recorded_embedder(source)
    dimension = from_source[1] if from_source is not None else first_vector_length
    if dimension is None:
        return
    from_destination = recorded_embedder(destination)
    held = from_destination[1] if from_destination is not None else _held_dimension(destination)
    if held is not None and held != dimension:
        why = (
            f"recorded embedder {from_destination[0]!r}"
            if from_destination is not None
            else "existing vectors"
        )
        raise DimensionMismatchError(
            f"the source's vectors have {dimension} dimensions but the destination"
            f" holds {held} ({why}); migrate into an empty store or one of the same dimension"
        )
    if from_source is None:
        return
    if from_destination is not None and from_destination != from_source:
        raise ConfigurationError(
            f"the source's vectors were made by embedder {from_source[0]!r} but the"
            f" destination recorded {from_destination[0]!r}; queries would be embedded"
            " by another model than the vectors"
        )
    opened = destination.embedder
    if opened is not None and (opened.name, opened.dimension) != from_source:
        raise ConfigurationError(
            f"the source's vectors were made by embedder {from_source[0]!r}"
            f" ({from_source[1]} dimensions) but the destination is opened with"
            f" {opened.name!r} ({opened.dimension} dimensions); configure the destination's"
            " [embedder] as the source's"
        )
    destination.meta.record_embedder(*from_source)


def _held_dimension(store: HybridStore) -> int | None:
    """The dimension of one vector the store holds (None when it holds none)."""
    batches = store.vector.iter_ids(1)
    try:
        ids = next(iter(batches), [])
    finally:
        close = getattr(batches, "close", None)
        if close is not None:
            close()
    found = store.vector.get(ids) if ids else []
    return len(found[0].embedding) if found else None
