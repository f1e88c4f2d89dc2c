"""``hybridmem migrate-neo4j-labels``: move data an earlier hybridmem wrote under the
unprefixed Neo4j labels to the store's own (see hybridmem/label_migration.py)."""

from __future__ import annotations

from typing import Annotated

import typer

from hybridmem.cli.common import (
    ConfigOption,
    JsonOption,
    console,
    handled,
    load_config,
    print_json,
    refuse_if_served,
)
from hybridmem.label_migration import migrate_graph_labels


def migrate_neo4j_labels(
    config: ConfigOption = None,
    as_json: JsonOption = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Finish even when none of the old memory nodes is this store's"
            " (they stay under the old labels, untouched)",
        ),
    ] = False,
) -> None:
    """Move a Neo4j graph written with the old labels (Memory, Entity) under this
    store's label prefix. Journaled, in batches; run it again to resume."""
    cfg = load_config(config)
    # It rewrites the graph the server's store is using: not while one serves it.
    refuse_if_served(cfg, "migrate-neo4j-labels")
    with handled():
        counts = migrate_graph_labels(cfg, force=force)
    if as_json:
        print_json(counts)
    elif counts.get("already_migrated"):
        console.print("nothing to migrate: no data in the old label layout")
    else:
        console.print(
            f"migrated {counts.get('memory_nodes', 0)} memory nodes,"
            f" {counts.get('entities', 0)} entities and {counts.get('relations', 0)} relations;"
            f" left under the old labels (not this store's): {counts.get('left_memory_nodes', 0)}"
            f" memory nodes, {counts.get('left_relations', 0)} relations"
        )
