"""``hybridmem serve`` (the REST server under uvicorn) and ``hybridmem mcp`` (MCP over stdio)."""

from __future__ import annotations

import ipaddress
from typing import Annotated, NoReturn

import typer

from hybridmem.cli.common import (
    EXIT_UNAVAILABLE,
    EXIT_USAGE,
    SERVER_INSTALL_HINT,
    Backend,
    ConfigOption,
    errors,
    handled,
    load_config,
    open_backend,
    open_store,
    report,
    server_client,
)
from hybridmem.journal import Journal
from hybridmem.ownership import uses_embedded_file

_INSTALL_HINT = SERVER_INSTALL_HINT


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
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=1,
            help="Worker processes (uvicorn's). Above 1 only when every store is a server"
            " and the journal is shared ([graph] shared_journal = true on Neo4j)",
        ),
    ] = 1,
    config: ConfigOption = None,
) -> None:
    """Serve the REST API (FastAPI under uvicorn) over the configured stores.

    On a data directory with an embedded Kuzu file, the server publishes its address
    and a local key in the directory (owner.json, mode 0600; removed when it stops):
    the CLI and `hybridmem mcp` then go through it. With --workers N (server stores and
    a shared journal only) uvicorn runs N worker processes, each with its own store."""
    try:
        from hybridmem.owner_server import serve_owned
        from hybridmem.serve_workers import serve_workers
    except ImportError:
        report("invalid configuration", _INSTALL_HINT)
        raise typer.Exit(EXIT_USAGE) from None
    settings = load_config(config)
    if workers > 1 and uses_embedded_file(settings):
        _refuse_workers(workers, embedded=True)
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
        if workers > 1 and isinstance(store.journal, Journal):
            # Asked of the open store, not of the config: the adapter's default decides
            # when the config does not say.
            _refuse_workers(workers, embedded=False)
        keys = len(settings.server.api_keys)
        errors.print(
            f"hybridmem: {keys} API key(s)" if keys else "hybridmem: no API key (open access)",
            highlight=False,
        )
        interval = (
            settings.server.purge_interval_seconds if purge_interval is None else purge_interval
        )
        bound_port = settings.server.port if port is None else port
        if workers == 1:
            serve_owned(
                store,
                settings,
                host=bind,
                port=bound_port,
                log_level=log_level,
                access_log=access_log,
                purge_interval=interval,
            )
        elif not serve_workers(
            store,
            settings,
            workers=workers,
            host=bind,
            port=bound_port,
            log_level=log_level,
            access_log=access_log,
            purge_interval=interval,
        ):
            report("a worker failed to start", "its error is in the log above")
            raise typer.Exit(EXIT_UNAVAILABLE)


def _refuse_workers(workers: int, *, embedded: bool) -> NoReturn:
    if embedded:
        reason = (
            "this configuration's stores include an embedded Kuzu file, which admits one"
            " process; serve it with one worker (the CLI, `hybridmem mcp` and"
            " HybridMemClient share that one)"
        )
    else:
        reason = (
            "the journal, history, expiry index and claims are kept per process unless"
            " [graph] shared_journal = true (Neo4j), so several workers could undo each"
            " other's operations; serve with one worker, or share the journal"
        )
    report(f"refusing --workers {workers}", reason)
    raise typer.Exit(EXIT_USAGE)


def mcp(
    url: Annotated[
        str | None,
        typer.Option(
            "--url",
            help="Go through the hybridmem server at URL instead of opening the store"
            " (by default the CLI finds the server holding the data directory itself)",
        ),
    ] = None,
    api_key: Annotated[
        str | None,
        typer.Option(
            "--api-key", envvar="HYBRIDMEM_API_KEY", help="The server's API key (with --url)"
        ),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Serve the MCP memory tools over stdio (for an agent's MCP client)."""
    try:
        from hybridmem.mcp_server import build_mcp
    except ImportError:
        report("invalid configuration", _INSTALL_HINT)
        raise typer.Exit(EXIT_USAGE) from None
    if url is None and api_key is not None:
        report("invalid input", "--api-key goes with --url (the server to go through)")
        raise typer.Exit(EXIT_USAGE)
    if url is not None and config is not None:
        report("invalid input", "give --url (a server) or --config (a store), not both")
        raise typer.Exit(EXIT_USAGE)
    backend: Backend
    if url is not None:
        client = server_client(url, api_key)
        with handled():
            # A wrong address is said at start, not at the agent's first call.
            client.ready()
        backend = client
    else:
        backend = open_backend(load_config(config))
    with backend:
        build_mcp(backend).run("stdio")
