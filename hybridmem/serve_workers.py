"""``hybridmem serve --workers N``: N uvicorn worker processes over one store.

Only for a configuration whose stores are all servers and whose journal, history,
expiry index and claims are shared through the graph server (``[graph]
shared_journal = true`` on Neo4j): every worker opens its own ``HybridStore``
(:mod:`hybridmem.server.workers`), and the shared journal's leases keep them from
undoing each other's operations. The parent process is uvicorn's supervisor (it
restarts a worker that dies); it keeps the store it opened to check the
configuration, and runs the one background purge on it, so N workers do not run
N purges of the same expiry index.

No owner file is published: it exists so that processes that cannot open an
embedded file find the one that holds it, and a server pair has no such file;
the CLI and ``hybridmem mcp`` open the store themselves and share the journal.
"""

from __future__ import annotations

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess

from hybridmem.config import HybridMemConfig
from hybridmem.purger import PurgeLoop
from hybridmem.server.workers import APP_FACTORY, handed_to_workers
from hybridmem.store import HybridStore
from hybridmem.takeover_loop import start_takeover

#: Seconds a worker may take to answer the supervisor's ping before it is taken
#: for hung and killed (uvicorn's default, 5, is short for a busy machine).
HEALTHCHECK_SECONDS = 30


def serve_workers(
    store: HybridStore,
    settings: HybridMemConfig,
    *,
    workers: int,
    host: str,
    port: int,
    log_level: str,
    access_log: bool,
    purge_interval: float,
) -> bool:
    """Serve with ``workers`` processes until a signal stops them; True when every
    worker started (False: one failed at startup, and the supervisor stopped)."""
    config = uvicorn.Config(
        APP_FACTORY,
        factory=True,
        workers=workers,
        host=host,
        port=port,
        log_level=log_level,
        access_log=access_log,
        timeout_worker_healthcheck=HEALTHCHECK_SECONDS,
    )
    purger = PurgeLoop(store, purge_interval).start() if purge_interval > 0 else None
    # The supervisor's store takes over a dead worker's operations (a worker that
    # dies is restarted, but its operations belong to its old owner id).
    taker = start_takeover(store)
    try:
        with handed_to_workers(settings):
            sock = config.bind_socket()
            supervisor = Multiprocess(config, sockets=[sock])
            try:
                # Returns after SIGINT/SIGTERM once every worker has shut down
                # (each closes its store in the app's lifespan).
                supervisor.run()
            finally:
                sock.close()
    finally:
        for task in (purger, taker):
            if task is not None:
                task.stop()
    return not any(p.exitcode == STARTUP_FAILURE for p in supervisor.processes)
