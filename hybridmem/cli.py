"""The ``hybridmem`` command line: the demo, erasures with confirmation and progress, repair."""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from hybridmem.errors import ConfigurationError, HybridMemError, StoreUnavailableError
from hybridmem.models import DeleteProgress, DeleteResult
from hybridmem.store import HybridStore

app = typer.Typer(
    help="hybridmem: graph-plus-vector memory store for AI agents.", no_args_is_help=True
)
console = Console()

#: Exit codes scripts can rely on.
EXIT_OK, EXIT_USAGE, EXIT_UNAVAILABLE, EXIT_ERROR, EXIT_ABORTED = 0, 2, 3, 4, 5

ConfigOption = Annotated[
    Path | None, typer.Option("--config", "-c", help="TOML config file (default: environment)")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON")]


def _open(config: Path | None) -> HybridStore:
    try:
        return HybridStore.from_config(config)
    except ConfigurationError as exc:
        console.print(f"[red]configuration error:[/red] {exc}")
        raise typer.Exit(EXIT_USAGE) from None
    except StoreUnavailableError as exc:
        console.print(f"[red]store unavailable:[/red] {exc}")
        raise typer.Exit(EXIT_UNAVAILABLE) from None


def _fail(exc: Exception) -> typer.Exit:
    if isinstance(exc, ValueError):
        console.print(f"[red]invalid input:[/red] {exc}")
        return typer.Exit(EXIT_USAGE)
    if isinstance(exc, StoreUnavailableError):
        console.print(f"[red]store unavailable:[/red] {exc}")
        return typer.Exit(EXIT_UNAVAILABLE)
    console.print(f"[red]error:[/red] {exc}")
    return typer.Exit(EXIT_ERROR)


def _counts_table(title: str, rows: dict[str, dict[str, Any]]) -> Table:
    table = Table(title=title)
    columns = list(next(iter(rows.values())).keys()) if rows else []
    table.add_column("")
    for column in columns:
        table.add_column(column.replace("_", " "), justify="right")
    for name, values in rows.items():
        table.add_row(name, *(str(values[c]) for c in columns))
    return table


def _result_table(result: DeleteResult) -> Table:
    title = "would delete (dry run)" if result.dry_run else "deleted"
    return _counts_table(
        f"delete_all {result.scope.parts()} — {title}",
        {
            "count": {
                k: result[k]
                for k in ("memories", "vectors", "memory_nodes", "relations", "orphan_entities")
            }
        },
    )


def run_delete_all(
    store: HybridStore, scope: dict[str, str], *, show_progress: bool
) -> DeleteResult:
    """delete_all with a Rich progress bar driven by the progress callback."""

    def erase(progress: Callable[[DeleteProgress], None] | None) -> DeleteResult:
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


@app.command("delete-all")
def delete_all(
    user_id: Annotated[str | None, typer.Option("--user-id")] = None,
    agent_id: Annotated[str | None, typer.Option("--agent-id")] = None,
    run_id: Annotated[str | None, typer.Option("--run-id")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count, touch nothing")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation")] = False,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Erase everything a scope owns from both stores."""
    scope = {
        k: v
        for k, v in (("user_id", user_id), ("agent_id", agent_id), ("run_id", run_id))
        if v is not None
    }
    with _open(config) as store:
        try:
            preview = store.delete_all(
                user_id=user_id, agent_id=agent_id, run_id=run_id, dry_run=True
            )
            if dry_run:
                _emit(preview, as_json)
                return
            if not yes:
                if not sys.stdin.isatty():
                    console.print(
                        "[red]refusing to delete without --yes (no terminal to confirm)[/red]"
                    )
                    raise typer.Exit(EXIT_ABORTED)
                console.print(_result_table(preview))
                if not typer.confirm(f"Erase {preview.memories} memories of {scope}?"):
                    raise typer.Exit(EXIT_ABORTED)
            result = run_delete_all(store, scope, show_progress=not as_json)
        except typer.Exit:
            raise
        except (HybridMemError, ValueError) as exc:
            raise _fail(exc) from None
        _emit(result, as_json)


def _emit(result: DeleteResult, as_json: bool) -> None:
    if as_json:
        print(result.model_dump_json())
    else:
        console.print(_result_table(result))
        console.print(f"{result['message']} (operation {result.operation_id})")


@app.command()
def stats(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Whole-store counts."""
    with _open(config) as store:
        counts = store.stats()
    if as_json:
        print(json.dumps(counts))
    else:
        console.print(_counts_table("stats", {"store": counts}))


@app.command()
def reconcile(
    fix: Annotated[bool, typer.Option("--fix", help="Remove the orphans found")] = False,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Scan both stores for orphans (and remove them with --fix)."""
    with _open(config) as store:
        report = store.reconcile(fix=fix)
    if as_json:
        print(report.model_dump_json())
    else:
        console.print(
            _counts_table(
                "reconcile",
                {"found": report.found.model_dump(), "removed": report.removed.model_dump()},
            )
        )


@app.command()
def recover(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Finish operations a crash left pending."""
    with _open(config) as store:
        done = store.recover()
    if as_json:
        print(json.dumps([d.model_dump() for d in done]))
    else:
        console.print(f"{len(done)} pending operation(s) finished")


@app.command()
def demo(
    data_dir: Annotated[
        Path | None,
        typer.Option("--data-dir", help="Where to put the demo stores (default: a temp dir)"),
    ] = None,
) -> None:
    """Load agent memories into the embedded default, erase one user, show what is left."""
    from hybridmem.demo import run_demo

    if data_dir is None:
        with tempfile.TemporaryDirectory(prefix="hybridmem-demo-") as tmp:
            run_demo(Path(tmp), console)
    else:
        run_demo(data_dir, console)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
