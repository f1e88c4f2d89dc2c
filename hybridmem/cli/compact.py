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
    load_config,
    open_store,
    print_json,
    refuse_if_served,
)
from hybridmem.compaction import CompactionProgress, CompactionReport

_PHASES = {
    "graph": "copying the graph",
    "vector": "copying the vectors",
    "swapping": "swapping the files in",
    "journal": "scrubbing the journal",
    "done": "done",
}


def compact(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Rewrite the store's files with only live data: erased texts, names and ids
    leave the disk's files. Waits for running operations; later ones wait for it."""
    settings = load_config(config)
    # `hybridmem serve` compacts on its own schedule ([server] compact_interval_seconds).
    refuse_if_served(settings, "compact")
    with open_store(settings) as store, handled():
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
    console.print(f"compacted {len(report.files)} file(s) (operation {report.operation_id})")


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
