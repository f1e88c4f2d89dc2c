"""``hybridmem`` commands over a whole store or scope: delete-all, stats, reconcile,
purge-expired, recover, and the demo."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from hybridmem.cli.common import (
    EXIT_ABORTED,
    AgentOption,
    ConfigOption,
    JsonOption,
    RunOption,
    UserOption,
    console,
    counts_table,
    errors,
    handled,
    open_backend,
    print_json,
    refuse_through_owner,
    result_table,
    run_delete_all,
)
from hybridmem.models import DeleteResult
from hybridmem.store import HybridStore


def delete_all(
    user_id: UserOption = None,
    agent_id: AgentOption = None,
    run_id: RunOption = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count, touch nothing")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation")] = False,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Erase everything a scope owns from both stores (asks first unless --yes)."""
    with open_backend(config) as store, handled():
        # The dry run validates the scope (exit 2) before anything is asked or touched.
        preview = store.delete_all(user_id=user_id, agent_id=agent_id, run_id=run_id, dry_run=True)
        scope = preview.scope.parts()
        if dry_run:
            _emit(preview, as_json)
            return
        if not yes:
            if not sys.stdin.isatty():
                errors.print("[red]refusing to delete without --yes (no terminal to confirm)[/red]")
                raise typer.Exit(EXIT_ABORTED)
            console.print(result_table(preview))
            if not typer.confirm(f"Erase {preview.memories} memories of {scope}?"):
                errors.print("aborted: nothing was deleted")
                raise typer.Exit(EXIT_ABORTED)
        result = run_delete_all(store, scope, show_progress=not as_json)
    _emit(result, as_json)


def _emit(result: DeleteResult, as_json: bool, operation: str | None = None) -> None:
    if as_json:
        print_json(result)
    else:
        console.print(result_table(result, operation))
        console.print(f"{result['message']} (operation {result.operation_id})")


def stats(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Whole-store counts."""
    with open_backend(config) as store, handled():
        counts = store.stats()
    if as_json:
        print_json(counts)
    else:
        # One row per count: the counts outgrew a terminal's width as columns.
        table = Table(title="stats")
        table.add_column("")
        table.add_column("store", justify="right")
        for name, value in counts.items():
            table.add_row(name.replace("_", " "), str(value))
        console.print(table)


def reconcile(
    fix: Annotated[bool, typer.Option("--fix", help="Remove the orphans found")] = False,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Scan both stores for orphans (and remove them with --fix)."""
    with open_backend(config) as store, handled():
        report = store.reconcile(fix=fix)
    if as_json:
        print_json(report)
    else:
        console.print(
            counts_table(
                "reconcile",
                {"found": report.found.model_dump(), "removed": report.removed.model_dump()},
            )
        )


def purge_expired(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Erase every memory whose expiry has passed (in every scope), from both stores."""
    with open_backend(config) as store, handled():
        result = store.purge_expired()
    _emit(result, as_json, "purge_expired")


def recover(
    config: ConfigOption = None,
    as_json: JsonOption = False,
    retry_set_aside: Annotated[
        bool,
        typer.Option(
            "--retry-set-aside",
            help="Make the operations recovery set aside pending again, and retry them.",
        ),
    ] = False,
) -> None:
    """Finish operations a crash left pending; report those that failed or were set aside."""
    with open_backend(config) as store, handled():
        if not isinstance(store, HybridStore):
            # The server holding the store recovered on open and recovers through
            # POST /recover; its journal's set-aside list is not served (yet).
            if retry_set_aside:
                refuse_through_owner(store, "recover --retry-set-aside")
            done, aside = store.recover(), []
        else:
            if retry_set_aside:
                store.journal.retry_set_aside()
            done = store.recover()
            aside = store.journal.set_aside()
    if as_json:
        print_json(done)
        return
    finished = [r for r in done if r.outcome in ("completed", "rolled_back")]
    console.print(f"{len(finished)} pending operation(s) finished")
    for failed in (r for r in done if r.outcome == "failed"):
        console.print(f"failed, retried on the next recover: {failed.operation_id}: {failed.error}")
    for info in aside:
        console.print(
            f"set aside after repeated failures: {info.id} ({info.kind}): {info.error};"
            " fix the cause, then run `hybridmem recover --retry-set-aside`"
        )


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
