"""``hybridmem serve`` (the REST server under uvicorn) and ``hybridmem mcp`` (MCP over stdio)."""

from __future__ import annotations

import ipaddress
from typing import Annotated

import typer

from hybridmem.cli_common import (
    EXIT_USAGE,
    ConfigOption,
    errors,
    load_config,
    open_store,
    report,
)
from hybridmem.embedder import embedder_from_config
from hybridmem.purger import PurgeLoop

_INSTALL_HINT = "the server extra is not installed: pip install 'hybridmem[server]'"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        # A host name other than localhost may resolve to anything: not loopback.
        return False


def serve(
    host: Annotated[
        str | None, typer.Option("--host", help="Address to bind (default: [server] host)")
    ] = None,
    port: Annotated[
        int | None, typer.Option("--port", "-p", help="Port (default: [server] port)")
    ] = None,
    allow_unauthenticated: Annotated[
        bool,
        typer.Option(
            "--allow-unauthenticated",
            help="Bind a non-loopback address although no API key is configured",
        ),
    ] = False,
    log_level: Annotated[str, typer.Option("--log-level", help="uvicorn log level")] = "info",
    access_log: Annotated[
        bool,
        typer.Option(
            "--access-log/--no-access-log",
            help="Log every request line. Off by default: query strings carry user ids,"
            " which an erasure cannot reach once they are in a log file.",
        ),
    ] = False,
    purge_interval: Annotated[
        float | None,
        typer.Option(
            "--purge-interval",
            min=0,
            help="Erase expired memories every SECONDS (default: [server]"
            " purge_interval_seconds, 60); 0: never",
        ),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Serve the REST API (FastAPI under uvicorn) over the configured stores."""
    try:
        import uvicorn

        from hybridmem.server import create_app
    except ImportError:
        report("invalid configuration", _INSTALL_HINT)
        raise typer.Exit(EXIT_USAGE) from None
    settings = load_config(config)
    bind = host or settings.server.host
    if (
        not settings.server.api_keys
        and not is_loopback(bind)
        and not (allow_unauthenticated or settings.server.allow_unauthenticated)
    ):
        report(
            f"refusing to serve on {bind} without API keys",
            "anyone reaching it could erase every memory. Configure [server] api_keys,"
            " bind 127.0.0.1, or pass --allow-unauthenticated.",
        )
        raise typer.Exit(EXIT_USAGE)
    with open_store(settings) as store:
        app = create_app(store, server=settings.server)
        keys = len(settings.server.api_keys)
        errors.print(
            f"hybridmem: {keys} API key(s)" if keys else "hybridmem: no API key (open access)",
            highlight=False,
        )
        interval = (
            settings.server.purge_interval_seconds if purge_interval is None else purge_interval
        )
        purger = PurgeLoop(store, interval).start() if interval > 0 else None
        try:
            uvicorn.run(
                app,
                host=bind,
                port=settings.server.port if port is None else port,
                log_level=log_level,
                access_log=access_log,
            )
        finally:
            # Before the store closes: a purge in progress ends first.
            if purger is not None:
                purger.stop()


def mcp(config: ConfigOption = None) -> None:
    """Serve the MCP memory tools over stdio (for an agent's MCP client)."""
    try:
        from hybridmem.mcp_server import build_mcp
    except ImportError:
        report("invalid configuration", _INSTALL_HINT)
        raise typer.Exit(EXIT_USAGE) from None
    settings = load_config(config)
    with open_store(settings) as store:
        build_mcp(store, embedder_from_config(settings)).run("stdio")
