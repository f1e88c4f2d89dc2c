"""The store's facts about itself (its embedder) in the shared coordination state.

One node under the store's label prefix, so every process on every host that
opens the configuration checks its embedder against the same record. A process
remembers the record it wrote or matched, so an add of text does not pay a round
trip to record the embedder again; ``forget_embedder`` (reset) forgets it.
"""

from __future__ import annotations

import threading

from hybridmem.store_meta import refuse_other_embedder
from hybridmem_neo4j.bolt import Bolt
from hybridmem_neo4j.shared_names import SharedNames


class SharedStoreMeta:
    """``hybridmem.store_meta.StoreMetaPort`` on the shared state of one store."""

    def __init__(self, bolt: Bolt, names: SharedNames) -> None:
        self._bolt = bolt
        self._label = names.meta
        self._known: tuple[str, int] | None = None
        self._lock = threading.Lock()

    def embedder(self) -> tuple[str, int] | None:
        query = (
            f"MATCH (m:{self._label} {{name: 'store'}}) WHERE m.embedder_name IS NOT NULL"
            " RETURN m.embedder_name, m.embedder_dimension"
        )
        rows = self._bolt.read(lambda tx: tx.run(query).values())
        return (str(rows[0][0]), int(rows[0][1])) if rows else None

    def check_embedder(self, name: str, dimension: int) -> None:
        refuse_other_embedder(self.embedder(), name, dimension)

    def record_embedder(self, name: str, dimension: int) -> None:
        with self._lock:
            if self._known == (name, dimension):
                return
        # MERGE on the unique name: two processes recording at once make one node,
        # and the first embedder recorded stays.
        query = (
            f"MERGE (m:{self._label} {{name: 'store'}})"
            " SET m.embedder_name = coalesce(m.embedder_name, $name),"
            " m.embedder_dimension = coalesce(m.embedder_dimension, $dimension)"
            " RETURN m.embedder_name, m.embedder_dimension"
        )
        row = self._bolt.write(
            lambda tx: tx.run(query, name=name, dimension=dimension).single(strict=True)
        )
        recorded = (str(row[0]), int(row[1]))
        refuse_other_embedder(recorded, name, dimension)
        with self._lock:
            self._known = recorded

    def forget_embedder(self) -> None:
        with self._lock:
            self._known = None
        query = (
            f"MATCH (m:{self._label} {{name: 'store'}})"
            " REMOVE m.embedder_name, m.embedder_dimension"
        )
        self._bolt.write(lambda tx: tx.run(query).consume())

    def close(self) -> None:
        """Nothing of its own: the journal closes the connection."""
