"""``hybridmem export`` and ``hybridmem import``: a scope's memories (or all) as a JSONL
file and back, see hybridmem.portability; ``hybridmem migrate``: the same memories
straight into another adapter pair, see hybridmem.migration."""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, TextIO

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from hybridmem import migration
from hybridmem.cli.common import (
    EXIT_ERROR,
    EXIT_USAGE,
    AgentOption,
    Backend,
    ConfigOption,
    JsonOption,
    RunOption,
    UserOption,
    errors,
    handled,
    load_config,
    open_backend,
    open_store,
    print_json,
    refuse_through_owner,
    report,
)
from hybridmem.migration import MigrationProgress, MigrationReport
from hybridmem.migration_guard import check_distinct_configs
from hybridmem.models import AddManyResult, AddProgress, Scope
from hybridmem.portability import check_export, dumps, iter_export, read_export
from hybridmem.store import HybridStore
from hybridmem.validation import scope_from

OutputOption = Annotated[
    Path | None,
    typer.Option("--output", "-o", help="Write to this file (default: standard output)"),
]
NoHistoryOption = Annotated[bool, typer.Option("--no-history", help="Leave out the history events")]

#: The progress line is redrawn every this many memories: cheap, still live.
_PROGRESS_EVERY = 200


def export(
    user_id: UserOption = None,
    agent_id: AgentOption = None,
    run_id: RunOption = None,
    output: OutputOption = None,
    no_history: NoHistoryOption = False,
    config: ConfigOption = None,
) -> None:
    """Write every memory of the scope (all without one) as JSONL, with embeddings,
    entities, relations and the history whose text is still held."""
    with handled():
        scope = scope_from(user_id, agent_id, run_id, required_message=None)
    started = time.monotonic()
    with open_backend(config) as store, handled():
        if not isinstance(store, HybridStore):
            # An export reads the stores and the journal page by page; no REST
            # endpoint serves that yet.
            refuse_through_owner(store, "export")
        with _destination(output) as out:
            counts = _write(store, scope, out, include_history=not no_history)
    where = "standard output" if output is None else str(output)
    errors.print(
        f"exported {counts['memories']} memories and {counts['history']} history events"
        f" of {scope.parts() or 'the whole store'} to {where}"
        f" in {time.monotonic() - started:.1f} s",
        highlight=False,
    )


def _write(
    store: HybridStore, scope: Scope, out: TextIO, *, include_history: bool
) -> dict[str, int]:
    counts = {"memories": 0, "history": 0}
    with Progress(
        SpinnerColumn(),
        TextColumn("exporting: {task.completed} memories"),
        TimeElapsedColumn(),
        console=errors,
        transient=True,
    ) as bar:
        task = bar.add_task("export", total=None)
        for line in iter_export(store, scope, include_history=include_history):
            out.write(dumps(line))
            out.write("\n")
            if line["type"] == "memory":
                counts["memories"] += 1
                if counts["memories"] % _PROGRESS_EVERY == 0:
                    bar.update(task, completed=counts["memories"])
            elif line["type"] == "history":
                counts["history"] += 1
    return counts


@contextlib.contextmanager
def _destination(output: Path | None) -> Iterator[TextIO]:
    """Standard output, or a file written beside ``output`` and renamed into place
    only when the export finished: a failed export leaves no file behind."""
    if output is None:
        yield sys.stdout
        sys.stdout.flush()
        return
    partial = output.with_name(output.name + ".partial")
    try:
        handle = partial.open("w", encoding="utf-8")
    except OSError as exc:
        report("invalid input", f"cannot write --output {output}: {exc.strerror}")
        raise typer.Exit(EXIT_USAGE) from None
    try:
        with handle:
            yield handle
        os.replace(partial, output)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        report("error", f"writing {output} failed: {exc.strerror}")
        raise typer.Exit(EXIT_ERROR) from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


InputArgument = Annotated[
    Path, typer.Argument(help="A file written by `hybridmem export`; - for standard input")
]
BatchOption = Annotated[
    int | None,
    typer.Option("--batch-size", help="Memories per journaled batch (default: the config's)"),
]


def import_(
    source: InputArgument,
    batch_size: BatchOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Add the memories of an export, keeping their ids and times. The whole file is
    checked before anything is written: a file refused for any line (a truncated one
    included) leaves the store as it was. Running it again adds nothing twice:
    memories already stored as exported are left as they are."""
    started = time.monotonic()
    with _source(source) as lines:
        with handled():
            check_export(lines)
        lines.seek(0)
        # Through a running serve when it holds the store: add_many over HTTP.
        with open_backend(config) as store, handled():
            result = _load(store, read_export(lines), batch_size, show_progress=not as_json)
    if as_json:
        print_json(result)
        return
    errors.print(
        f"imported {result.added} memories ({result.unchanged} already stored as exported)"
        f" from {source} in {time.monotonic() - started:.1f} s",
        highlight=False,
    )


def _load(
    store: Backend,
    items: Iterator[dict[str, object]],
    batch_size: int | None,
    *,
    show_progress: bool,
) -> AddManyResult:
    if not show_progress:
        return store.add_many(items, batch_size=batch_size)
    with Progress(
        SpinnerColumn(),
        TextColumn("importing: {task.completed} memories"),
        TimeElapsedColumn(),
        console=errors,
        transient=True,
    ) as bar:
        task = bar.add_task("import", total=None)

        def on_progress(event: AddProgress) -> None:
            bar.update(task, completed=event.done)

        return store.add_many(items, batch_size=batch_size, progress=on_progress)


@contextlib.contextmanager
def _source(source: Path) -> Iterator[TextIO]:
    """The export to read twice (checked whole, then written): the file itself, or
    standard input copied to a temporary file, so memory stays bounded either way."""
    if str(source) == "-":
        with tempfile.TemporaryFile("w+", encoding="utf-8") as copy:
            shutil.copyfileobj(sys.stdin, copy)
            copy.seek(0)
            yield copy
        return
    try:
        handle = source.open(encoding="utf-8")
    except OSError as exc:
        report("invalid input", f"cannot read {source}: {exc.strerror}")
        raise typer.Exit(EXIT_USAGE) from None
    with handle:
        yield handle


FromOption = Annotated[
    Path, typer.Option("--from", help="TOML config of the store to copy from (read only)")
]
ToOption = Annotated[Path, typer.Option("--to", help="TOML config of the store to copy into")]
VerifyOnlyOption = Annotated[
    bool, typer.Option("--verify-only", help="Copy nothing; compare the scope on both sides")
]


def migrate(
    source_config: FromOption,
    destination_config: ToOption,
    user_id: UserOption = None,
    agent_id: AgentOption = None,
    run_id: RunOption = None,
    batch_size: BatchOption = None,
    verify_only: VerifyOnlyOption = False,
    as_json: JsonOption = False,
) -> None:
    """Copy every memory of the scope (all without one) from one store to another, keeping
    ids, times, entities and relations, then verify both sides by counts and per-memory
    hashes (exit 4 when they differ). History is not copied: the destination's starts
    with one ADD per memory. Interrupted, run it again: it resumes."""
    with handled():
        scope = scope_from(user_id, agent_id, run_id, required_message=None)
    source_cfg, destination_cfg = load_config(source_config), load_config(destination_config)
    with handled():
        check_distinct_configs(source_cfg, destination_cfg)
    with (
        open_store(source_cfg) as source,
        open_store(destination_cfg) as destination,
        handled(),
        _migration_bar(show=not as_json, verify_only=verify_only) as on_progress,
    ):
        run = migration.verify if verify_only else migration.migrate
        report_ = run(source, destination, scope, batch_size=batch_size, progress=on_progress)
    if as_json:
        print_json(report_)
    else:
        _summary(report_, verify_only=verify_only)
    if not report_.verified:
        raise typer.Exit(EXIT_ERROR)


@contextlib.contextmanager
def _migration_bar(
    *, show: bool, verify_only: bool
) -> Iterator[Callable[[MigrationProgress], None] | None]:
    if not show:
        yield None
        return
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=errors,
        transient=True,
    ) as bar:
        task = bar.add_task("verifying" if verify_only else "copying", total=None)

        def on_progress(event: MigrationProgress) -> None:
            bar.update(task, description=event.phase, completed=event.done, total=event.total)

        yield on_progress


def _summary(result: MigrationReport, *, verify_only: bool) -> None:
    what = result.scope or "the whole store"
    if not verify_only:
        errors.print(
            f"migrated {what}: {result.copied} memories copied now, {result.already_present}"
            f" already there, in {result.batches} batches, {result.copy_seconds:.1f} s",
            highlight=False,
        )
    counts = (
        f"source {result.source_vectors} vectors / {result.source_memory_nodes} memory nodes,"
        f" destination {result.destination_vectors} / {result.destination_memory_nodes}"
    )
    if result.verified:
        errors.print(
            f"verified: {result.checked} memories equal on both sides; {counts}"
            f" ({result.verify_seconds:.1f} s)",
            highlight=False,
        )
        return
    listed = ", ".join(result.mismatched_ids)
    report(
        "verification failed",
        f"{result.mismatched} of {result.checked} memories missing or different in the"
        f" destination{f' (first: {listed})' if listed else ''}; {counts}",
    )
