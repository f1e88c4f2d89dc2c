"""Moving a graph store's data from an earlier layout to its own names, journaled.

The Neo4j adapter once used the unprefixed labels ``Memory`` and ``Entity``; a
store that finds that layout refuses to open, naming ``hybridmem
migrate-neo4j-labels``, which runs ``migrate_graph_labels`` here. Ownership is
proved by the vector store: the memories whose ids it holds are this store's,
and the adapter moves those (with their entities and relations) batch by batch.
The operation is journaled like any other: its counts are checkpointed after
every batch, and a re-run after a crash resumes it (each batch is idempotent).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from hybridmem.config import HybridMemConfig
from hybridmem.errors import ConfigurationError
from hybridmem.journal import Journal
from hybridmem.models import OperationKind
from hybridmem.registry import create_store, load_plugin

KIND: OperationKind = "migrate_graph_labels"


class GraphLabelMigration(Protocol):
    """What a graph adapter offers to move its earlier layout (see module docstring)."""

    name: str
    address: str

    def needed(self) -> bool:
        """Whether the earlier layout's signature is still in the store."""
        ...

    def migrate(self, memory_ids: Sequence[str]) -> dict[str, int]:
        """Move these memories (those still in the earlier layout) with what they
        own, atomically; returns counts of what moved. Idempotent."""
        ...

    def leftovers(self) -> dict[str, int]:
        """Counts of what is still in the earlier layout (``left_memory_nodes``…)."""
        ...

    def finish(self) -> None:
        """Remove the earlier layout's signature: the store opens from then on."""
        ...

    def close(self) -> None: ...


def migrate_graph_labels(
    config: HybridMemConfig | Mapping[str, Any] | str | Path | None,
    progress: Callable[[dict[str, int]], None] | None = None,
    *,
    force: bool = False,
) -> dict[str, int]:
    """Migrate the configured graph store; returns the operation's counts
    (``already_migrated: 1`` when there was nothing to do).

    When none of the memory nodes in the earlier layout belongs to this store (no
    vector of its has their ids), they are another store's: this raises, leaving the
    layout in place so that store still refuses to open until it is migrated with
    its own configuration. ``force`` removes the signature anyway."""
    cfg = HybridMemConfig.load(config)
    plugin = load_plugin(cfg.graph.provider)
    if plugin.label_migration is None:
        raise ConfigurationError(
            f"graph provider {cfg.graph.provider!r} has no earlier label layout to migrate"
        )
    journal = Journal(cfg.data_dir / "journal.sqlite3")
    opened: list[Any] = [journal]
    try:
        graph = plugin.label_migration(cfg.graph.options(), cfg.data_dir)
        opened.append(graph)
        pending = [op for op in journal.pending() if op.kind == KIND]
        if not pending and not graph.needed():
            return {"already_migrated": 1}
        vector = create_store("vector", cfg.vector.provider, cfg.vector.options(), cfg.data_dir)
        opened.append(vector)
        op_id = pending[0].id if pending else journal.begin(KIND)
        counts: dict[str, int] = dict(pending[0].counts) if pending else {}
        for batch in vector.iter_ids(cfg.batch_size):
            for name, value in graph.migrate(batch).items():
                counts[name] = counts.get(name, 0) + value
            journal.checkpoint(op_id, counts)
            if progress is not None:
                progress(dict(counts))
        counts.update(graph.leftovers())
        if not force and counts.get("memory_nodes", 0) == 0 and counts["left_memory_nodes"]:
            message = (
                f"{graph.name} at {graph.address}: none of the"
                f" {counts['left_memory_nodes']} memory nodes under the old labels has a"
                " vector in this store's vector store, so they are another store's; run"
                " the migration with that store's configuration (or pass --force to leave"
                " them behind and open this store anyway)"
            )
            journal.fail(op_id, message)
            raise ConfigurationError(message)
        graph.finish()
        journal.finish(op_id, counts)
        return counts
    finally:
        for resource in reversed(opened):
            resource.close()
