"""A Bolt connection for the shared coordination state (journal, leases): one
managed transaction per call, driver errors translated into hybridmem's.

Every transaction carries a timeout (by default the lease): a process that
stalls in the middle of one (a pause, SIGSTOP, a lost network) would otherwise
hold its locks (the counter node, a claim) and stop every other process for as
long as it stalls. The server ends such a transaction and releases its locks.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from neo4j import Driver, GraphDatabase, ManagedTransaction, unit_of_work
from neo4j import exceptions as neo4j_errors

from hybridmem.errors import StoreError, StoreUnavailableError

T = TypeVar("T")

#: The graph store's name: one server, and an outage should read the same.
#: The store a client's error names is the graph store (the journal is in it);
#: the detail says the shared journal's statement was the one that failed.
NAME = "Neo4j graph store"
PART = "shared journal"

#: A statement that scans a label (the grant reads every live claim) while another
#: transaction deletes one of its nodes (a finish releasing its claim) can fail
#: "Unable to load NODE ..." instead of skipping it; the driver does not retry it.
#: Nothing was written: the whole transaction runs again.
_DELETED_UNDER_READ = "Unable to load "
_DELETED_UNDER_READ_ATTEMPTS = 5


class Bolt:
    def __init__(
        self,
        uri: str,
        user: str,
        password: str,
        database: str,
        *,
        connection_timeout: float,
        retry_seconds: float,
        transaction_timeout: float = 60.0,
    ) -> None:
        self.address = uri
        self._database = database
        self.transaction_timeout = transaction_timeout
        self._driver: Driver = GraphDatabase.driver(
            uri,
            auth=(user, password),
            connection_timeout=connection_timeout,
            connection_acquisition_timeout=connection_timeout * 2,
            max_transaction_retry_time=retry_seconds,
            # A fresh database warns of property keys no node has yet: not news.
            notifications_min_severity="OFF",
        )

    def _call(self, action: Callable[[], T]) -> T:
        try:
            return action()
        except (neo4j_errors.ServiceUnavailable, neo4j_errors.SessionExpired, OSError) as exc:
            raise StoreUnavailableError(
                NAME, self.address, f"{PART}: {str(exc) or type(exc).__name__}"
            ) from None
        except neo4j_errors.Neo4jError as exc:
            raise StoreError(NAME, self.address, f"{PART}: {exc.message or str(exc)}") from None
        except neo4j_errors.DriverError as exc:
            raise StoreUnavailableError(NAME, self.address, f"{PART}: {exc}") from None

    def write(self, work: Callable[[ManagedTransaction], T], timeout: float | None = None) -> T:
        """``work`` in one write transaction, retried by the driver on transient errors;
        ended by the server after ``timeout`` seconds (default: ``transaction_timeout``)."""
        bounded = unit_of_work(timeout=timeout or self.transaction_timeout)(work)

        def run() -> T:
            for attempt in range(1, _DELETED_UNDER_READ_ATTEMPTS + 1):
                try:
                    with self._driver.session(database=self._database) as session:
                        return session.execute_write(bounded)
                except neo4j_errors.Neo4jError as exc:
                    raced = (exc.message or "").startswith(_DELETED_UNDER_READ)
                    if not raced or attempt == _DELETED_UNDER_READ_ATTEMPTS:
                        raise
                    time.sleep(0.01 * attempt)
            raise AssertionError("unreachable")

        return self._call(run)

    def read(self, work: Callable[[ManagedTransaction], T]) -> T:
        bounded = unit_of_work(timeout=self.transaction_timeout)(work)

        def run() -> T:
            with self._driver.session(database=self._database) as session:
                return session.execute_read(bounded)

        return self._call(run)

    def close(self) -> None:
        self._driver.close()
