"""The ``hybridmem`` command line: memories, erasures with confirmation and progress, repair,
the REST and MCP servers, and the demo.

Exit codes: 0 ok, 2 bad input or config, 3 a store is unavailable, 4 another
error (including an unknown id for get), 5 aborted at the confirmation, 6 not
allowed (reserved for authentication and permission errors).

The commands live in modules named for what they act on: ``memory`` (one memory
or a search), ``maintenance`` (a whole store or scope), ``portability`` (export,
import, migrate), ``serve`` (REST and MCP); ``common`` holds the options, exit codes,
output and how a command reaches the store.
"""

from __future__ import annotations

import typer

from hybridmem.cli import compact, maintenance, memory, portability, serve
from hybridmem.cli.common import (
    EXIT_ABORTED,
    EXIT_AUTH,
    EXIT_ERROR,
    EXIT_OK,
    EXIT_UNAVAILABLE,
    EXIT_USAGE,
)

__all__ = [
    "EXIT_ABORTED",
    "EXIT_AUTH",
    "EXIT_ERROR",
    "EXIT_OK",
    "EXIT_UNAVAILABLE",
    "EXIT_USAGE",
    "app",
    "main",
]

app = typer.Typer(
    help="hybridmem: graph-plus-vector memory store for AI agents.", no_args_is_help=True
)
# Registration order is the order `hybridmem --help` lists them in.
app.command("add")(memory.add)
app.command("search")(memory.search)
app.command("list")(memory.list_memories)
app.command("get")(memory.get)
app.command("neighbors")(memory.neighbors)
app.command("delete")(memory.delete)
app.command("history")(memory.history)
app.command("serve")(serve.serve)
app.command("mcp")(serve.mcp)
app.command("export")(portability.export)
app.command("import")(portability.import_)
app.command("migrate")(portability.migrate)
app.command("delete-all")(maintenance.delete_all)
app.command("stats")(maintenance.stats)
app.command("reconcile")(maintenance.reconcile)
app.command("purge-expired")(maintenance.purge_expired)
app.command("recover")(maintenance.recover)
app.command("compact")(compact.compact)
app.command("demo")(maintenance.demo)


def main() -> None:
    app()
