"""The Neo4j graph store's connection: one driver, and reads, writes and
transactions with the driver's errors translated into hybridmem's.

The graph's own write transactions (an add's, a batch delete's, a touch) carry a
server-side timeout, ``write_timeout_seconds``: a process that stalls inside
one (a pause, SIGSTOP, a lost network) would otherwise hold the write locks of
the memories and entities it touched for as long as it stalls, and a process
taking its operations over would wait on them with it. The server ends such a
transaction and releases its locks; the operation stays pending in the journal.
Schema statements (an index build may take minutes) and the whole-store sweeps
(``CALL { } IN TRANSACTIONS``, bounded inner transactions) carry none.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from neo4j import Driver, ManagedTransaction, Query, RoutingControl, unit_of_work
from neo4j import exceptions as neo4j_errors

from hybridmem.errors import StoreError, StoreUnavailableError

T = TypeVar("T")

#: The default server-side timeout of a graph write transaction, in seconds.
WRITE_TIMEOUT_SECONDS = 60.0


class Neo4jSession:
    """What every Neo4j graph operation runs through."""

    name = "Neo4j graph store"
    address: str
    _database: str
    _driver: Driver
    write_timeout: float = WRITE_TIMEOUT_SECONDS

    def _call(self, action: Callable[[], T]) -> T:
        try:
            return action()
        except (neo4j_errors.ServiceUnavailable, neo4j_errors.SessionExpired, OSError) as exc:
            raise StoreUnavailableError(
                self.name, self.address, str(exc) or type(exc).__name__
            ) from None
        except neo4j_errors.AuthError as exc:
            raise StoreError(
                self.name, self.address, f"authentication failed: {exc.message}"
            ) from None
        except neo4j_errors.Neo4jError as exc:
            raise StoreError(self.name, self.address, exc.message or str(exc)) from None
        except neo4j_errors.DriverError as exc:
            raise StoreUnavailableError(self.name, self.address, str(exc)) from None

    def _read(self, query: str, params: dict[str, Any]) -> list[list[Any]]:
        records = self._call(
            lambda: (
                self._driver.execute_query(
                    query, params, database_=self._database, routing_=RoutingControl.READ
                ).records
            )
        )
        return [list(r.values()) for r in records]

    def _write(self, query: str, params: dict[str, Any]) -> Any:
        """One auto-retried write transaction with no timeout (schema statements);
        returns the result summary."""
        return self._call(
            lambda: self._driver.execute_query(query, params, database_=self._database).summary
        )

    def _in_transactions(self, query: str, params: dict[str, Any]) -> Any:
        """``CALL { … } IN TRANSACTIONS`` must run in an auto-commit transaction
        (session.run), not inside a managed one."""

        def run() -> Any:
            with self._driver.session(database=self._database) as session:
                return session.run(Query(query), params).consume()

        return self._call(run)

    def _transaction(self, work: Callable[[ManagedTransaction], T]) -> T:
        """``work`` in one write transaction, ended by the server after
        ``write_timeout`` seconds."""
        bounded = unit_of_work(timeout=self.write_timeout)(work)

        def run() -> T:
            with self._driver.session(database=self._database) as session:
                return session.execute_write(bounded)

        return self._call(run)

    def _read_write(self, query: str, params: dict[str, Any]) -> list[list[Any]]:
        """A small write that returns rows, in one bounded write transaction."""
        return self._transaction(lambda tx: [list(r.values()) for r in tx.run(query, params)])
