"""The Neo4j graph store that also holds the coordination state of its store.

With ``[graph] shared_journal = true`` the store's journal, history, expiry
index and claims live in the same Neo4j database, under the same label prefix
(``journal.Neo4jJournal``, ``leases``): every process on every host that opens
the configuration shares them. ``HybridStore`` finds this through the optional
``coordination`` hook (``hybridmem.ports.Coordinating``); the core never
imports the driver.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from neo4j import ManagedTransaction

from hybridmem.journal_port import JournalPort
from hybridmem.scope_locks import Claims
from hybridmem_neo4j.bolt import Bolt
from hybridmem_neo4j.graph import Neo4jGraphStore
from hybridmem_neo4j.journal import Neo4jJournal
from hybridmem_neo4j.leases import LeaseClaims, SharedState
from hybridmem_neo4j.names import Names
from hybridmem_neo4j.shared_names import SharedNames

MIN_TRANSACTION_SECONDS = 10.0
T = TypeVar("T")


class SharedNeo4jGraphStore(Neo4jGraphStore):
    """``Neo4jGraphStore`` plus the ``coordination`` hook."""

    def __init__(
        self,
        uri: str,
        user: str,
        password: str,
        database: str = "neo4j",
        *,
        lease_seconds: float,
        claim_timeout: float,
        **options: Any,
    ) -> None:
        super().__init__(uri, user, password, database, **options)
        self._bolt_args = (uri, user, password, database)
        self._bolt_options = {
            "connection_timeout": options.get("connection_timeout", 5.0),
            "retry_seconds": options.get("retry_seconds", 5.0),
        }
        self._lease_seconds = lease_seconds
        self._claim_timeout = claim_timeout
        self._joined = threading.local()

    @contextmanager
    def joined(self, tx: ManagedTransaction) -> Iterator[None]:
        """This thread's graph writes run in ``tx`` (the journal's transaction that
        finishes their operation) instead of a transaction of their own."""
        self._joined.tx = tx
        try:
            yield
        finally:
            self._joined.tx = None

    def _transaction(self, work: Callable[[ManagedTransaction], T]) -> T:
        tx: ManagedTransaction | None = getattr(self._joined, "tx", None)
        return work(tx) if tx is not None else super()._transaction(work)

    def _read_write(self, query: str, params: dict[str, Any]) -> list[list[Any]]:
        tx: ManagedTransaction | None = getattr(self._joined, "tx", None)
        if tx is None:
            return super()._read_write(query, params)
        return [list(r.values()) for r in tx.run(query, params)]

    def coordination(self, owner_id: str, local: Path) -> tuple[JournalPort, Claims] | None:
        # A connection of its own: the journal outlives the graph's driver on close.
        # A stalled process's transaction holds its locks at most this long: the
        # lease, but never less than ten seconds (a transaction waits for locks too).
        bolt = Bolt(
            *self._bolt_args,
            **self._bolt_options,
            transaction_timeout=max(self._lease_seconds, MIN_TRANSACTION_SECONDS),
        )
        try:
            state = SharedState(
                bolt,
                SharedNames(Names(self.label_prefix)),
                owner_id,
                lease_seconds=self._lease_seconds,
                claim_timeout=self._claim_timeout,
            )
        except BaseException:
            bolt.close()
            raise
        claims = LeaseClaims(state)
        return Neo4jJournal(state, local, claims=claims, graph=self), claims
