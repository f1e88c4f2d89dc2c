"""The breaks of the guarantees that span processes: a queued erasure outlives the
process that accepted it, ``serve`` takes over a dead process's operations, a
stalled transaction cannot hold its locks for good. Applied like ``breaks`` (by
name; see its docstring)."""

from __future__ import annotations

from typing import Any

from tests.mutants.breaks import _replace


def erase_journals_after_its_claim() -> None:
    """delete_all is journaled only once it holds its claim, as before: a queued
    erasure lives in its process's memory and dies with it."""
    from hybridmem.operations import erase
    from hybridmem.plan import DeletionTally

    def make(original: Any) -> Any:
        def run(ctx: Any, scope: Any, progress: Any) -> Any:
            with ctx.locks.erase(scope):
                op_id = ctx.journal.begin("delete_all", scope=scope)
                with ctx.running(op_id):
                    return erase.erase_scope(ctx, op_id, scope, DeletionTally(), progress)

        return run

    _replace(erase, "run", make)


def claim_timeout_keeps_the_intent() -> None:
    """A delete_all that timed out on its claim leaves its record pending: someone
    runs it later, behind the back of a caller told it did not start."""
    from hybridmem_neo4j.journal import Neo4jJournal

    _replace(Neo4jJournal, "withdraw", lambda original: lambda self, op_id: False)


def recover_counts_held_claims_as_failures() -> None:
    """recover() treats a claim another live process holds as the operation's failure
    (three of those, and it is set aside)."""
    from hybridmem.operations import recovery

    _replace(recovery, "ClaimTimeoutError", lambda original: type("NeverRaised", (Exception,), {}))


def serve_never_takes_over() -> None:
    """serve's takeover pass does nothing: a dead worker's operations wait for a restart."""
    from hybridmem.takeover_loop import TakeoverLoop

    _replace(TakeoverLoop, "run_once", lambda original: lambda self: 0)


def graph_writes_unbounded() -> None:
    """The graph's write transactions carry no server-side timeout: a stalled process
    holds its locks for as long as it stalls."""
    from hybridmem_neo4j._graph_session import Neo4jSession

    def make(original: Any) -> Any:
        def transaction(self: Any, work: Any) -> Any:
            def run() -> Any:
                with self._driver.session(database=self._database) as session:
                    return session.execute_write(work)

            return self._call(run)

        return transaction

    _replace(Neo4jSession, "_transaction", make)


def scoped_key_writes_mem0_keys() -> None:
    """A key bound to a scope may write the mem0 integration's reserved metadata keys
    (and so make another user's mem0 id ambiguous)."""
    from hybridmem.server.auth import Principal

    _replace(Principal, "check_metadata", lambda original: lambda self, metadata: None)
