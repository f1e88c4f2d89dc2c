"""Owners and claims as leases in Neo4j: what processes sharing one store agree on.

Each process (each ``HybridStore``) is an *owner*: a node with its id and a
deadline, renewed every third of the lease by a daemon thread. Every journaled
operation records its owner; another process takes an operation over only once
its owner's deadline has passed (``journal.Neo4jJournal.pending``). Deadlines
are the server's clock (``timestamp()``), so hosts need not agree on the time.

A *claim* (``hybridmem.scope_locks``) is first taken in process (``ScopeLocks``:
threads of one process queue fairly), then as a claim node carrying its owner,
kind, scope parts, memory ids and a deadline renewed by the same thread. A grant
is one write transaction that first takes the write lock of the single registry
node, so grants are serialised across processes; it reads the live claims
(deadline not passed), and creates the claim node only if none conflicts by
``scope_locks.conflicts`` (the one rule of both kinds of claim). Otherwise it
polls again, with backoff, up to ``claim_timeout`` seconds, then raises
``ClaimTimeoutError`` naming the conflicting claim. A claim node of a killed
process stops blocking anyone when its deadline passes.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Any

from neo4j import ManagedTransaction, Record

from hybridmem.errors import ClaimTimeoutError, HybridMemError
from hybridmem.models import Scope
from hybridmem.scope_locks import (
    Claim,
    ClaimKind,
    ScopeLocks,
    batch_claim,
    conflicts,
    records_claim,
)
from hybridmem_neo4j.bolt import Bolt
from hybridmem_neo4j.local_owners import end_leases_of_gone_owners, machine_id
from hybridmem_neo4j.shared_names import SharedNames

_log = logging.getLogger(__name__)

#: An owner whose lease ran out this long ago is forgotten when a store opens.
FORGET_OWNERS_AFTER_MS = 24 * 3600 * 1000
_FIRST_POLL_SECONDS = 0.01
_MAX_POLL_SECONDS = 0.5


def _scope_text(scope: Scope) -> str:
    return json.dumps([scope.user_id, scope.agent_id, scope.run_id])


def _scope_of(text: str) -> Scope:
    user_id, agent_id, run_id = json.loads(text)
    return Scope(user_id=user_id, agent_id=agent_id, run_id=run_id)


def describe(claim: Claim) -> str:
    scopes = ", ".join(
        " ".join(f"{k}={v}" for k, v in s.parts().items()) or "every scope"
        for s in sorted(claim.scopes, key=_scope_text)[:3]
    )
    more = "" if len(claim.scopes) <= 3 else f" and {len(claim.scopes) - 3} more"
    return f"{claim.kind} claim on {scopes}{more}"


class _Conflict(Exception):
    """Rolls a grant's transaction back: a live claim conflicts."""

    def __init__(self, held: Claim) -> None:
        super().__init__(describe(held))
        self.held = held


@dataclass(frozen=True)
class GrantTail:
    """More work for a grant's transaction, run only if the claim is granted (else
    rolled back with it): Cypher appended to the grant's statement (``cypher``,
    after ``WITH live``), the columns it adds to the statement's ``RETURN``, their
    parameters, and ``then``, called with the statement's row once no live claim
    conflicts (it may run more statements, or raise to roll everything back)."""

    cypher: str
    columns: str
    params: dict[str, Any] = field(default_factory=dict)
    then: Callable[[ManagedTransaction, Record], None] = lambda tx, row: None


class SharedState:
    """The connection, names and owner lease of one process on one store."""

    def __init__(
        self,
        bolt: Bolt,
        names: SharedNames,
        owner_id: str,
        *,
        lease_seconds: float,
        claim_timeout: float,
    ) -> None:
        self.bolt = bolt
        self.names = names
        self.owner_id = owner_id
        self.lease_ms = int(lease_seconds * 1000)
        self.claim_timeout = claim_timeout
        self._held: set[str] = set()
        self._held_lock = threading.Lock()
        self._stop = threading.Event()
        self.machine = machine_id()
        self._ensure_schema()
        self._register()
        self.end_leases_of_gone_owners()
        self._renewer = threading.Thread(
            target=self._renew_loop,
            args=(lease_seconds / 3,),
            name=f"hybridmem-lease-{owner_id[:8]}",
            daemon=True,
        )
        self._renewer.start()
        self._released: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self._releaser = threading.Thread(
            target=self._release_loop, name=f"hybridmem-release-{owner_id[:8]}", daemon=True
        )
        self._releaser.start()

    def _ensure_schema(self) -> None:
        n = self.names
        # One read on the usual open (everything exists); a schema statement per
        # missing constraint or index only the first time (each its own transaction,
        # as Neo4j wants schema changes).
        existing = set(
            self.bolt.read(lambda tx: tx.run("SHOW INDEXES YIELD name RETURN name").value())
        )
        for statement in n.schema():
            if statement.split()[2].strip("`") in existing:
                continue

            def run(tx: ManagedTransaction, query: str = statement) -> None:
                tx.run(query).consume()

            self.bolt.write(run)
        # The two single nodes, made once; MERGE by the unique name is race-free.
        singles = " ".join(f"MERGE (:{label} {{name: 'seq'}})" for label in (n.counter, n.registry))
        self.bolt.write(lambda tx: tx.run(singles).consume())

    def _register(self) -> None:
        n = self.names
        query = (
            f"CREATE (w:{n.owner} {{id: $id, host: $host, pid: $pid, machine: $machine,"
            " started_at: timestamp(), deadline: timestamp() + $lease})"
            f" WITH w MATCH (old:{n.owner}) WHERE old.deadline < timestamp() - $forget"
            " DELETE old"
        )
        params = {
            "id": self.owner_id,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "machine": self.machine,
            "lease": self.lease_ms,
            "forget": FORGET_OWNERS_AFTER_MS,
        }
        self.bolt.write(lambda tx: tx.run(query, params).consume())

    def end_leases_of_gone_owners(self) -> None:
        """End the leases and claims of owners on this machine whose process is gone."""
        if self.machine is not None:
            end_leases_of_gone_owners(self.bolt, self.names, self.owner_id, self.machine)

    def renew(self) -> None:
        """Push this owner's deadline, and its claims', one lease ahead."""
        with self._held_lock:
            claims = list(self._held)
        n = self.names
        query = (
            # MERGE: an owner forgotten while this process stalled comes back.
            f"MERGE (w:{n.owner} {{id: $id}}) SET w.deadline = timestamp() + $lease"
            f" WITH w UNWIND $claims AS c MATCH (x:{n.claim} {{id: c}})"
            " SET x.deadline = timestamp() + $lease"
        )
        self.bolt.write(
            lambda tx: tx.run(query, id=self.owner_id, lease=self.lease_ms, claims=claims).consume()
        )

    def _renew_loop(self, every: float) -> None:
        while not self._stop.wait(every):
            try:
                self.renew()
            except HybridMemError:
                # The server is away: the next round tries again; if the lease runs
                # out meanwhile, other processes may take this one's operations over.
                _log.warning("renewing the lease of owner %s failed", self.owner_id, exc_info=True)

    # -- claims --------------------------------------------------------------------

    def try_grant(self, wanted: Claim, tail: GrantTail | None = None) -> str | Claim:
        """One attempt: the new claim node's id, or a live claim that conflicts.
        With ``tail``, its work is done in the same transaction (one round trip
        for a claim and, say, the journal row of the operation it is for)."""
        n = self.names
        claim_id = str(uuid.uuid4())
        # One statement, one round trip: take the registry's write lock (held to
        # commit: one grant at a time), drop claims of killed processes whose
        # deadline passed, read the live ones of other owners and create this one.
        # A conflict found afterwards rolls the whole transaction back. This owner's
        # own claims are skipped: its in-process claims admitted this one, so any
        # of them that conflicts is released and only not yet deleted.
        query = (
            f"MATCH (r:{n.registry} {{name: 'seq'}}) SET r.grants = coalesce(r.grants, 0) + 1"
            f" WITH r CALL (r) {{ MATCH (d:{n.claim}) WHERE d.deadline <= timestamp() DELETE d }}"
            f" OPTIONAL MATCH (c:{n.claim}) WHERE c.deadline > timestamp() AND c.owner <> $owner"
            " WITH collect(c {.kind, .scopes, .memory_ids}) AS live"
            f" CREATE (:{n.claim} {{id: $id, owner: $owner, kind: $kind, scopes: $scopes,"
            " memory_ids: $ids, deadline: timestamp() + $lease})"
        )
        query += (
            " RETURN live"
            if tail is None
            else f" WITH live {tail.cypher} RETURN live, {tail.columns}"
        )
        params = {
            "id": claim_id,
            "owner": self.owner_id,
            "kind": wanted.kind,
            "scopes": sorted(_scope_text(s) for s in wanted.scopes),
            "ids": sorted(wanted.memory_ids),
            "lease": self.lease_ms,
        }
        if tail is not None:
            clash = params.keys() & tail.params.keys()
            assert not clash, f"a grant's tail may not rename its parameters: {clash}"
            params.update(tail.params)

        def work(tx: ManagedTransaction) -> None:
            record = tx.run(query, params).single(strict=True)
            for row in record["live"]:
                held = Claim(
                    row["kind"],
                    frozenset(_scope_of(s) for s in row["scopes"]),
                    0,
                    frozenset(row["memory_ids"]),
                )
                if conflicts(wanted, held):
                    raise _Conflict(held)
            if tail is not None:
                tail.then(tx, record)

        try:
            self.bolt.write(work)
        except _Conflict as conflict:
            return conflict.held
        with self._held_lock:
            self._held.add(claim_id)
        return claim_id

    def acquire(self, wanted: Claim, tail: GrantTail | None = None) -> str:
        deadline = time.monotonic() + self.claim_timeout
        pause = _FIRST_POLL_SECONDS
        while True:
            granted = self.try_grant(wanted, tail)
            if isinstance(granted, str):
                return granted
            left = deadline - time.monotonic()
            if left <= 0:
                raise ClaimTimeoutError(
                    f"waited {self.claim_timeout:g} s for a {wanted.kind} claim: another"
                    f" process holds a conflicting {describe(granted)}; retry later, or raise"
                    " [graph] claim_timeout_seconds"
                )
            time.sleep(min(pause, left))
            pause = min(pause * 2, _MAX_POLL_SECONDS)

    def release(self, claim_id: str) -> None:
        """Stop renewing the claim; the releaser thread deletes its node soon after
        (off the operation's path: the next claim of this process does not wait for
        it, and another process's waits at most one more poll). A claim already
        deleted by a transaction of its operation (``released``) is left alone."""
        with self._held_lock:
            if claim_id not in self._held:
                return
            self._held.discard(claim_id)
        self._released.put(claim_id)

    def released(self, claim_id: str) -> None:
        """The claim's node was deleted by a committed transaction (the journal's
        finish of its operation): stop renewing it; nothing is left to delete."""
        with self._held_lock:
            self._held.discard(claim_id)

    def _release_loop(self) -> None:
        query = f"UNWIND $ids AS i MATCH (c:{self.names.claim} {{id: i}}) DELETE c"
        stopping = False
        while not stopping:
            ids: list[str] = []
            item = self._released.get()
            while True:
                if item is None:
                    stopping = True
                else:
                    ids.append(item)
                if self._released.empty():
                    break
                item = self._released.get()
            if not ids:
                continue

            def delete(tx: ManagedTransaction, batch: list[str] = ids) -> None:
                tx.run(query, ids=batch).consume()

            try:
                self.bolt.write(delete)
            except HybridMemError:
                # Not renewed any more: it stops blocking others when its deadline passes.
                _log.warning("releasing claims %s failed", ids, exc_info=True)

    def close(self) -> None:
        """Stop renewing; drop this owner's claims and lease (its pending operations,
        if any, are then anyone's to recover), and disconnect."""
        self._stop.set()
        self._renewer.join(timeout=5)
        self._released.put(None)
        self._releaser.join(timeout=5)
        n = self.names
        try:
            self.bolt.write(
                lambda tx: tx.run(
                    f"MATCH (c:{n.claim} {{owner: $id}}) DELETE c"
                    f" WITH count(*) AS done MATCH (w:{n.owner} {{id: $id}}) DELETE w",
                    id=self.owner_id,
                ).consume()
            )
        except HybridMemError:
            _log.warning("releasing the lease of owner %s failed", self.owner_id, exc_info=True)
        finally:
            self.bolt.close()


class LeaseClaims:
    """``hybridmem.scope_locks.Claims`` held in process and as leases in Neo4j."""

    def __init__(self, state: SharedState) -> None:
        self._state = state
        #: The in-process half: threads of this process queue fairly here first.
        self.local = ScopeLocks()

    @contextmanager
    def _shared(
        self,
        local: AbstractContextManager[None],
        kind: ClaimKind,
        scopes: frozenset[Scope],
        memory_ids: frozenset[str] = frozenset(),
    ) -> Iterator[None]:
        with local:
            claim_id = self._state.acquire(Claim(kind, scopes, 0, memory_ids))
            try:
                yield
            finally:
                self._state.release(claim_id)

    def records(self, scope: Scope, memory_id: str | None = None) -> AbstractContextManager[None]:
        return self._shared(
            self.local.records(scope, memory_id), "records", *records_claim(scope, memory_id)
        )

    @contextmanager
    def records_with(self, scope: Scope, memory_id: str, tail: GrantTail) -> Iterator[str]:
        """``records(scope, memory_id)`` whose grant also does ``tail``'s work, in
        one transaction; yields the claim's id. An exception ``tail`` raises
        leaves no claim, and comes out of the ``with``."""
        with self.local.records(scope, memory_id):
            scopes, ids = records_claim(scope, memory_id)
            claim_id = self._state.acquire(Claim("records", scopes, 0, ids), tail)
            try:
                yield claim_id
            finally:
                self._state.release(claim_id)

    def batch(self, items: Iterable[tuple[Scope, str]]) -> AbstractContextManager[None]:
        pairs = list(items)
        return self._shared(self.local.batch(pairs), "records", *batch_claim(pairs))

    def erase(self, scope: Scope) -> AbstractContextManager[None]:
        return self._shared(self.local.erase(scope), "erase", frozenset((scope,)))

    def everything(self) -> AbstractContextManager[None]:
        return self._shared(self.local.everything(), "everything", frozenset((Scope(),)))
