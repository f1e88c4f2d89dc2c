"""Owners on this machine whose process is gone: their lease need not run out.

An owner node records its machine (the kernel's boot id and the pid namespace,
so two containers with one hostname are two machines) and its pid. A process
that opens the store, or recovers, ends the leases (and claims) of owners of its
own machine whose process no longer exists: a store restarted after a crash
recovers at once instead of after ``lease_seconds``. A process that still
exists, stalled or not, keeps its lease; a pid reused by another process only
makes the takeover wait for the lease, as on another host.
"""

from __future__ import annotations

import os
from pathlib import Path

from neo4j import ManagedTransaction

from hybridmem_neo4j.bolt import Bolt
from hybridmem_neo4j.shared_names import SharedNames


def machine_id() -> str | None:
    """This machine and pid namespace; None where the kernel does not say (not Linux)."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        return None
    return f"{boot}/{namespace}"


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # another user's process: it exists
    try:
        # A killed child its parent has not reaped yet is a zombie: gone too.
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def end_leases_of_gone_owners(bolt: Bolt, names: SharedNames, me: str, machine: str) -> None:
    """One read; a write only when an owner of this machine is gone."""
    find = (
        f"MATCH (w:{names.owner}) WHERE w.machine = $machine AND w.id <> $me"
        " AND w.deadline > timestamp() RETURN w.id, w.pid"
    )
    live = bolt.read(lambda tx: tx.run(find, machine=machine, me=me).values())
    gone = [str(owner) for owner, pid in live if pid is not None and _gone(int(pid))]
    if not gone:
        return
    end = (
        f"UNWIND $gone AS g MATCH (w:{names.owner} {{id: g}}) SET w.deadline = 0"
        f" WITH w MATCH (c:{names.claim} {{owner: w.id}}) SET c.deadline = 0"
    )

    def work(tx: ManagedTransaction) -> None:
        tx.run(end, gone=gone).consume()

    bolt.write(work)
