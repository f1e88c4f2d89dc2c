"""The shared journal's single operations at their fewest commits.

A single add, update or delete on the server pair paid a commit per step: the
claim, the journal's begin, the graph write, the journal's finish (each 1-5 ms
on a loaded machine). Here the claim and the begin are one transaction (the
grant's statement creates the operation too: ``BeginsClaimed``), and the graph
write, the finish and the claim's release are another (``FinishesGraphWrites``).
The crash model is unchanged: a crash before the first commit leaves nothing; a
crash after it leaves the operation pending under an expiring claim, as before;
a crash inside the second transaction (its fault point is reached there, after
the graph statement and before the commit) rolls the graph write back with it,
leaving the operation pending with the graph as it was before the write, which
``recover()`` finishes or rolls back as it always did.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, ExitStack, contextmanager
from datetime import datetime
from typing import Any, Protocol, TypeVar

from neo4j import ManagedTransaction, Record

from hybridmem.journal import HistoryEntry, now
from hybridmem.models import OperationKind, Scope
from hybridmem.operation_ids import operation_id
from hybridmem_neo4j.leases import GrantTail, LeaseClaims, SharedState
from hybridmem_neo4j.shared_names import SharedNames

T = TypeVar("T")


class JoinableGraph(Protocol):
    """A graph store whose writes can run in another connection's transaction."""

    def joined(self, tx: ManagedTransaction) -> AbstractContextManager[None]: ...


class _NoNode(Exception):
    """Rolls a claim-and-begin back: the memory has no node in the graph."""


class _NoCounter(Exception):
    """Rolls a claim-and-begin back: the counter node is gone (made again, then retried)."""


def begin_cypher(n: SharedNames, p: str = "") -> str:
    """Create the operation ``$id`` numbered from the counter node (no row if the
    counter is missing: the caller makes it and tries again). ``p`` prefixes the
    parameters' names (``operation_params(..., prefix=p)``)."""
    return (
        f"MATCH (c:{n.counter} {{name: 'seq'}}) SET c.operations ="
        " coalesce(c.operations, 0) + 1"
        f" CREATE (o:{n.operation} {{id: ${p}id, seq: c.operations, kind: ${p}kind,"
        f" state: 'pending', user_id: ${p}user_id, agent_id: ${p}agent_id,"
        f" run_id: ${p}run_id, memory_id: ${p}memory_id, payload: ${p}payload,"
        f" counts: '{{}}', attempts: 0, owner: ${p}owner, created_at: ${p}stamp,"
        f" updated_at: ${p}stamp}})"
    )


def operation_params(
    owner: str,
    op_id: str,
    kind: OperationKind,
    scope: Scope | None,
    memory_id: str | None,
    payload: dict[str, Any] | None,
    *,
    prefix: str = "",
) -> dict[str, Any]:
    parts = (scope or Scope()).parts()
    params = {
        "id": op_id,
        "kind": kind,
        "user_id": parts.get("user_id"),
        "agent_id": parts.get("agent_id"),
        "run_id": parts.get("run_id"),
        "memory_id": memory_id,
        "payload": json.dumps(payload) if payload is not None else None,
        "owner": owner,
        "stamp": now().isoformat(),
    }
    return {prefix + name: value for name, value in params.items()}


class ClaimedOperations:
    """The optional ``BeginsClaimed`` and ``FinishesGraphWrites`` of ``Neo4jJournal``."""

    _state: SharedState
    _n: SharedNames

    def _init_claimed(self, claims: LeaseClaims | None, graph: JoinableGraph | None) -> None:
        # Without the store's claims (a journal opened on its own), claims of its own.
        self._claims = claims if claims is not None else LeaseClaims(self._state)
        self._graph = graph
        #: The claim each operation begun here holds: its finish deletes it.
        self._claim_of: dict[str, str] = {}
        self._claim_lock = threading.Lock()

    # Implemented by Neo4jJournal.
    def _index(
        self, tx: ManagedTransaction, expiring: Sequence[tuple[str, Scope, datetime]]
    ) -> None:
        raise NotImplementedError

    def _finish_work(
        self,
        tx: ManagedTransaction,
        op_id: str,
        counts: dict[str, int] | None,
        events: Sequence[HistoryEntry],
        erase_ids: Sequence[str],
        claim_id: str | None,
    ) -> None:
        raise NotImplementedError

    def _claim_to_release(self, op_id: str) -> str | None:
        with self._claim_lock:
            return self._claim_of.get(op_id)

    def _claim_released(self, op_id: str, claim_id: str | None) -> None:
        """After the commit that deleted ``claim_id``: no renewal, no release."""
        if claim_id is None:
            return
        with self._claim_lock:
            self._claim_of.pop(op_id, None)
        self._state.released(claim_id)

    @contextmanager
    def begin_claimed(
        self,
        kind: OperationKind,
        *,
        scope: Scope,
        memory_id: str,
        payload: dict[str, Any] | None = None,
        expiring: Sequence[tuple[str, Scope, datetime]] = (),
        if_node: bool = False,
    ) -> Iterator[str | None]:
        n = self._n
        op_id = operation_id(kind)  # one the caller reserved, if any
        # The grant's statement has parameters of its own: these are prefixed.
        params = operation_params(
            self._state.owner_id, op_id, kind, scope, memory_id, payload, prefix="op_"
        )
        cypher = f"CALL () {{ {begin_cypher(n, 'op_')} RETURN count(o) AS begun }}"
        columns = "begun"
        if if_node:
            cypher += (
                f" CALL () {{ OPTIONAL MATCH (m:{n.names.memory} {{id: $op_memory_id}})"
                " RETURN m IS NOT NULL AS present }"
            )
            columns += ", present"

        def then(tx: ManagedTransaction, row: Record) -> None:
            if if_node and not row["present"]:
                raise _NoNode
            if row["begun"] == 0:
                raise _NoCounter
            self._index(tx, expiring)

        tail = GrantTail(cypher, columns, params, then)
        with ExitStack() as stack:
            claim_id: str | None = None
            for _ in range(2):
                try:
                    claim_id = stack.enter_context(
                        self._claims.records_with(scope, memory_id, tail)
                    )
                    break
                except _NoNode:
                    break
                except _NoCounter:
                    self._state.bolt.write(
                        lambda tx: tx.run(f"MERGE (:{n.counter} {{name: 'seq'}})").consume()
                    )
            if claim_id is None:
                yield None
                return
            with self._claim_lock:
                self._claim_of[op_id] = claim_id
            try:
                yield op_id
            finally:
                with self._claim_lock:
                    self._claim_of.pop(op_id, None)

    def joins(self, graph: object) -> bool:
        return self._graph is not None and graph is self._graph

    def finish_writing(
        self,
        op_id: str,
        write: Callable[[], T],
        *,
        reached: Callable[[], None],
        counts: Callable[[T], dict[str, int]] | None = None,
        events: Sequence[HistoryEntry] = (),
        erase_ids: Sequence[str] = (),
    ) -> T:
        graph = self._graph
        assert graph is not None, "finish_writing without a joined graph store"
        claim_id = self._claim_to_release(op_id)

        def work(tx: ManagedTransaction) -> T:
            with graph.joined(tx):
                result = write()
            reached()
            done = counts(result) if counts is not None else None
            self._finish_work(tx, op_id, done, events, erase_ids, claim_id)
            return result

        result = self._state.bolt.write(work)
        self._claim_released(op_id, claim_id)
        return result
