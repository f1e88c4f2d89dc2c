"""``hybridmem compact``: rewrite the embedded files with only live data, so that
erased values leave them (see docs/erasure-design.md, "Erasure to the byte")."""

from __future__ import annotations

from collections.abc import Callable

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from hybridmem.cli.common import (
    ConfigOption,
    JsonOption,
    console,
    handled,
    open_backend,
    print_json,
)
from hybridmem.models import CompactionProgress, CompactionReport

_PHASES = {
    "graph": "copying the graph",
    "vector": "copying the vectors",
    "swapping": "swapping the files in",
    "journal": "scrubbing the journal",
    "done": "done",
}


def compact(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Rewrite the store's files with only live data: erased texts, names and ids
    leave the disk's files. Waits for running operations; later ones wait for it.
    Through a running ``hybridmem serve`` that holds the data directory, the server
    compacts (POST /compact) and the bar shows only the end."""
    with open_backend(config) as store, handled():
        if as_json:
            report = store.compact()
        else:
            report = _with_progress(store.compact)
    if as_json:
        print_json(report)
        return
    table = Table(title="compact")
    table.add_column("")
    table.add_column("store", justify="right")
    for name in ("memory_nodes", "vectors", "entities", "relations", "scope_ids_scrubbed"):
        table.add_row(name.replace("_", " "), str(getattr(report, name)))
    table.add_row("bytes before", f"{report.bytes_before:,}")
    table.add_row("bytes after", f"{report.bytes_after:,}")
    table.add_row("seconds", f"{report.elapsed_seconds:.2f}")
    console.print(table)
    if report.files:
        done = f"compacted {len(report.files)} file(s)"
    else:
        # Neo4j and Weaviate keep their own storage; hybridmem rewrites none of it.
        done = "no embedded file to rewrite"
    if not report.journal_scrubbed:
        done += "; the journal (in Neo4j) is left as it is"
    console.print(f"{done} (operation {report.operation_id})")


def _with_progress(run: Callable[..., CompactionReport]) -> CompactionReport:
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as bar:
        task = bar.add_task("compacting", total=None)

        def on_progress(event: CompactionProgress) -> None:
            bar.update(
                task,
                completed=event.done,
                total=event.total,
                description=_PHASES.get(event.phase, event.phase),
            )

        return run(progress=on_progress)
