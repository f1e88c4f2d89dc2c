"""``hybridmem serve``'s run: uvicorn over the store, the purge loop, and, on a data
directory with an embedded Kuzu file, the owner file that lets the CLI, ``hybridmem
mcp`` and ``HybridMemClient`` users find this server (see :mod:`hybridmem.ownership`)."""

from __future__ import annotations

import secrets
import socket
from collections.abc import Callable

import uvicorn

from hybridmem.compaction_loop import CompactLoop, has_local_files
from hybridmem.config import ApiKeyConfig, HybridMemConfig
from hybridmem.ownership import Owner, local_url, publish, uses_embedded_file, withdraw
from hybridmem.purger import PurgeLoop
from hybridmem.server import create_app
from hybridmem.store import HybridStore
from hybridmem.takeover_loop import start_takeover

#: The name the local key authenticates as (in logs).
LOCAL_KEY_NAME = "hybridmem-local-owner"


class _PublishingServer(uvicorn.Server):
    """A uvicorn server that calls ``on_listening(port)`` once its sockets listen (a
    client that finds the owner file can connect at once) and ``on_stopping()`` as
    its shutdown begins: uvicorn re-raises a SIGTERM once it has shut down, which
    ends the process before any ``finally`` of its caller runs."""

    def __init__(
        self,
        config: uvicorn.Config,
        on_listening: Callable[[int], None],
        on_stopping: Callable[[], None],
    ) -> None:
        super().__init__(config)
        self._on_listening = on_listening
        self._on_stopping = on_stopping

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.should_exit or not self.servers:
            return
        port = int(self.servers[0].sockets[0].getsockname()[1])
        self._on_listening(port)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self._on_stopping()
        await super().shutdown(sockets)


def serve_owned(
    store: HybridStore,
    settings: HybridMemConfig,
    *,
    host: str,
    port: int,
    log_level: str,
    access_log: bool,
    purge_interval: float,
) -> None:
    """Serve ``store`` until uvicorn stops; the owner file lives exactly as long."""
    embedded = uses_embedded_file(settings)
    local_key = secrets.token_urlsafe(32)
    keys = list(settings.server.api_keys)
    if embedded and keys:
        # Accepted as an admin key beside the configured ones; without configured
        # keys every request is allowed anyway, and adding one would require keys.
        keys.append(ApiKeyConfig(key=local_key, name=LOCAL_KEY_NAME))  # type: ignore[arg-type]
    app = create_app(store, server=settings.server, api_keys=keys)
    published: list[Owner] = []

    def on_listening(bound_port: int) -> None:
        if embedded:
            published.append(publish(settings.data_dir, local_url(host, bound_port), local_key))

    def on_stopping() -> None:
        while published:
            withdraw(published.pop())

    server = _PublishingServer(
        uvicorn.Config(app, host=host, port=port, log_level=log_level, access_log=access_log),
        on_listening,
        on_stopping,
    )
    purger = PurgeLoop(store, purge_interval).start() if purge_interval > 0 else None
    compact_every = settings.server.compact_interval_seconds
    compactor = (
        CompactLoop(store, compact_every).start()
        if compact_every > 0 and has_local_files(store)
        else None
    )
    taker = start_takeover(store)
    try:
        server.run()
    finally:
        on_stopping()
        # Before the store closes: a purge, compaction or takeover in progress ends first.
        for task in (purger, compactor, taker):
            if task is not None:
                task.stop()
