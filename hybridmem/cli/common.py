"""Plumbing shared by the ``hybridmem`` commands: options, exit codes, errors, output."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeAlias

import typer
from pydantic import TypeAdapter
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from hybridmem.config import HybridMemConfig
from hybridmem.errors import (
    AuthenticationError,
    ConfigurationError,
    FileLockedError,
    HybridMemError,
    PermissionDeniedError,
    StoreBusyError,
    StoreUnavailableError,
)
from hybridmem.models import (
    DeleteProgress,
    DeleteResult,
    Memory,
    ProgressCallback,
    SearchHit,
)
from hybridmem.ownership import Owner, find_owner, held_by
from hybridmem.store import HybridStore

if TYPE_CHECKING:
    from hybridmem.client import HybridMemClient

#: What a command runs against: the store itself, or the server holding its data
#: directory (the same methods, parameters, results and errors).
Backend: TypeAlias = "HybridStore | HybridMemClient"

console = Console()
#: Errors go to stderr: stdout carries --json output (and the MCP protocol).
errors = Console(stderr=True, soft_wrap=True)

#: Exit codes scripts can rely on (documented in docs/mcp-and-cli.md).
EXIT_OK, EXIT_USAGE, EXIT_UNAVAILABLE, EXIT_ERROR, EXIT_ABORTED, EXIT_AUTH = 0, 2, 3, 4, 5, 6

ConfigOption = Annotated[
    Path | None, typer.Option("--config", "-c", help="TOML config file (default: environment)")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON")]
UserOption = Annotated[str | None, typer.Option("--user-id", help="Scope: user id")]
AgentOption = Annotated[str | None, typer.Option("--agent-id", help="Scope: agent id")]
RunOption = Annotated[str | None, typer.Option("--run-id", help="Scope: run id")]
EmbeddingOption = Annotated[
    str | None,
    typer.Option(
        "--embedding",
        help="The embedding as a JSON list of numbers (default: the store embeds the text"
        " with its configured embedder; wordllama, when installed, if none is)",
    ),
]


def exit_code(exc: BaseException) -> int:
    if isinstance(exc, (ConfigurationError, ValueError)):
        return EXIT_USAGE
    if isinstance(exc, StoreUnavailableError):
        return EXIT_UNAVAILABLE
    if isinstance(exc, (AuthenticationError, PermissionDeniedError)):
        return EXIT_AUTH
    return EXIT_ERROR


_LABELS = {
    EXIT_USAGE: "invalid input",
    EXIT_UNAVAILABLE: "store unavailable",
    EXIT_AUTH: "not allowed",
    EXIT_ERROR: "error",
}


def report(label: str, message: str) -> None:
    """One error line on stderr; the message is escaped, so "[server]" or an id in
    brackets prints as is instead of being taken for Rich markup."""
    errors.print(f"[red]{label}:[/red] {escape(message)}", highlight=False)


@contextmanager
def handled() -> Iterator[None]:
    """Turn hybridmem's errors into a one-line message and the documented exit code."""
    try:
        yield
    except (HybridMemError, ValueError) as exc:
        code = exit_code(exc)
        label = "configuration error" if isinstance(exc, ConfigurationError) else _LABELS[code]
        report(label, str(exc))
        raise typer.Exit(code) from None


def load_config(config: Path | None) -> HybridMemConfig:
    with handled():
        return HybridMemConfig.load(config)


def open_store(config: Path | HybridMemConfig | None) -> HybridStore:
    """The store itself; on a data directory a running ``hybridmem serve`` holds, a
    StoreBusyError (exit 3) that names the server. Commands that can go through the
    server use :func:`open_backend` instead."""
    with handled():
        return HybridStore.from_config(config)


#: A server that just opened the store publishes itself within this long.
_OWNER_WAIT_SECONDS = 5.0
#: Through the owner a command waits this long for its answer (a large delete_all).
CLIENT_TIMEOUT_SECONDS = 600.0


def owner_client(owner: Owner) -> HybridMemClient:
    """The HTTP client of the server holding a data directory, with its local key."""
    return server_client(owner.url, owner.api_key)


def server_client(url: str, api_key: str | None) -> HybridMemClient:
    try:
        from hybridmem.client import HybridMemClient
    except ImportError:
        report("invalid configuration", SERVER_INSTALL_HINT)
        raise typer.Exit(EXIT_USAGE) from None
    return HybridMemClient(url, api_key=api_key, timeout=CLIENT_TIMEOUT_SECONDS)


SERVER_INSTALL_HINT = "the server extra is not installed: pip install 'hybridmem[server]'"


def open_backend(config: Path | HybridMemConfig | None) -> Backend:
    """The store, or, when a live ``hybridmem serve`` holds its data directory (an
    embedded Kuzu file admits one process), that server through HybridMemClient."""
    settings = config if isinstance(config, HybridMemConfig) else load_config(config)
    with handled():
        owner = held_by(settings)
        if owner is not None:
            return owner_client(owner)
        try:
            return HybridStore.from_config(settings)
        except StoreBusyError as exc:
            return owner_client(exc.owner)
        except FileLockedError:
            # A server that has opened the file but not yet published itself.
            owner = _await_owner(settings.data_dir)
            if owner is None:
                raise
            return owner_client(owner)


def _await_owner(data_dir: Path) -> Owner | None:
    deadline = time.monotonic() + _OWNER_WAIT_SECONDS
    while time.monotonic() < deadline:
        owner = find_owner(data_dir)
        if owner is not None:
            return owner
        time.sleep(0.2)
    return None


def refuse_through_owner(client: HybridMemClient, command: str) -> NoReturn:
    """Exit 3 naming the server that holds the store, for a command it does not serve."""
    report(
        "store unavailable",
        f"{command} needs the store itself, which hybridmem serve at {client.base_url}"
        " holds: stop that server first",
    )
    raise typer.Exit(EXIT_UNAVAILABLE)


def parse_json(option: str, text: str | None) -> Any:
    """A JSON option's value; bad JSON is bad input (exit 2), naming the option."""
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError as exc:
        report("invalid input", f"{option} is not valid JSON ({exc})")
        raise typer.Exit(EXIT_USAGE) from None


def print_json(value: Any) -> None:
    # Plain print: Rich would wrap long lines and add markup to JSON.
    print(TypeAdapter(type(value)).dump_json(value).decode())


def counts_table(title: str, rows: dict[str, dict[str, Any]]) -> Table:
    table = Table(title=title)
    columns = list(next(iter(rows.values())).keys()) if rows else []
    table.add_column("")
    for column in columns:
        table.add_column(column.replace("_", " "), justify="right")
    for name, values in rows.items():
        table.add_row(name, *(str(values[c]) for c in columns))
    return table


def result_table(result: DeleteResult, operation: str | None = None) -> Table:
    title = "would delete (dry run)" if result.dry_run else "deleted"
    return counts_table(
        f"{operation or f'delete_all {result.scope.parts()}'} — {title}",
        {
            "count": {
                k: result[k]
                for k in ("memories", "vectors", "memory_nodes", "relations", "orphan_entities")
            }
        },
    )


def memories_table(title: str, rows: list[Memory] | list[SearchHit]) -> Table:
    table = Table(title=title)
    for column in ("id", "text", "scope", "score"):
        table.add_column(column, overflow="fold")
    for row in rows:
        memory, score = (
            (row.memory, f"{row.score:.3f}") if isinstance(row, SearchHit) else (row, "")
        )
        table.add_row(memory.id, memory.text, str(memory.scope.parts()), score)
    return table


def run_delete_all(store: Backend, scope: dict[str, str], *, show_progress: bool) -> DeleteResult:
    """delete_all with a Rich progress bar driven by the progress callback."""

    def erase(progress: ProgressCallback | None) -> DeleteResult:
        return store.delete_all(
            user_id=scope.get("user_id"),
            agent_id=scope.get("agent_id"),
            run_id=scope.get("run_id"),
            progress=progress,
        )

    if not show_progress:
        return erase(None)
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as bar:
        task = bar.add_task("erasing", total=None)

        def on_progress(event: DeleteProgress) -> None:
            bar.update(task, completed=event.done, total=event.total, description=event.phase)

        return erase(on_progress)
