"""``hybridmem add | search | list | get | delete | history``: one HybridStore call each."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from hybridmem.cli_common import (
    EXIT_ERROR,
    AgentOption,
    ConfigOption,
    EmbeddingOption,
    JsonOption,
    RunOption,
    UserOption,
    console,
    counts_table,
    handled,
    memories_table,
    open_store,
    parse_json,
    print_json,
    report,
)
from hybridmem.embedder import embedder_from_config
from hybridmem.store import HybridStore


def _embedding(store: HybridStore, text: str, given: str | None) -> Any:
    parsed = parse_json("--embedding", given)
    return parsed if parsed is not None else embedder_from_config(store.config).embed(text)


def add(
    text: Annotated[str, typer.Argument(help="The memory's text")],
    user_id: UserOption = None,
    agent_id: AgentOption = None,
    run_id: RunOption = None,
    metadata: Annotated[
        str | None, typer.Option("--metadata", help='JSON object, e.g. \'{"source": "chat"}\'')
    ] = None,
    entities: Annotated[
        str | None,
        typer.Option(
            "--entities", help='JSON list, e.g. \'[{"name": "Alice", "type": "person"}]\''
        ),
    ] = None,
    relations: Annotated[
        str | None,
        typer.Option(
            "--relations",
            help="JSON list of {source, target, type}; entities named here are created",
        ),
    ] = None,
    embedding: EmbeddingOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Write a memory to both stores."""
    meta = parse_json("--metadata", metadata)
    entity_list = parse_json("--entities", entities)
    relation_list = parse_json("--relations", relations)
    with open_store(config) as store, handled():
        memory = store.add(
            text,
            embedding=_embedding(store, text, embedding),
            user_id=user_id,
            agent_id=agent_id,
            run_id=run_id,
            metadata=meta,
            entities=entity_list,
            relations=relation_list,
        )
    if as_json:
        print_json(memory)
    else:
        console.print(f"added memory {memory.id} for {memory.scope.parts()}")


def search(
    query: Annotated[str, typer.Argument(help="What to look for")],
    user_id: UserOption = None,
    agent_id: AgentOption = None,
    run_id: RunOption = None,
    limit: Annotated[int, typer.Option("--limit", "-n", help="At most this many hits")] = 10,
    embedding: EmbeddingOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """The memories of a scope closest to QUERY."""
    with open_store(config) as store, handled():
        hits = store.search(
            _embedding(store, query, embedding),
            user_id=user_id,
            agent_id=agent_id,
            run_id=run_id,
            limit=limit,
        )
    if as_json:
        print_json(hits)
    else:
        console.print(memories_table(f"search {query!r}", hits))


def list_memories(
    user_id: UserOption = None,
    agent_id: AgentOption = None,
    run_id: RunOption = None,
    limit: Annotated[int | None, typer.Option("--limit", "-n", help="At most this many")] = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Every memory of a scope."""
    with open_store(config) as store, handled():
        memories = store.get_all(user_id=user_id, agent_id=agent_id, run_id=run_id, limit=limit)
    if as_json:
        print_json(memories)
    else:
        console.print(memories_table(f"{len(memories)} memories", memories))


def get(
    memory_id: Annotated[str, typer.Argument(help="The memory's id")],
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """One memory by id (exit 4 when there is none)."""
    with open_store(config) as store, handled():
        memory = store.get(memory_id)
    if memory is None:
        report("error", f"memory {memory_id} not found")
        raise typer.Exit(EXIT_ERROR)
    if as_json:
        print_json(memory)
    else:
        console.print(memories_table(f"memory {memory.id}", [memory]))


def delete(
    memory_id: Annotated[str, typer.Argument(help="The memory's id")],
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Erase one memory from both stores (idempotent)."""
    with open_store(config) as store, handled():
        result = store.delete(memory_id)
    if as_json:
        print_json(result)
    else:
        console.print(
            f"{result['message']} ({result.memories} memory, operation {result.operation_id})"
        )


def history(
    memory_id: Annotated[str, typer.Argument(help="The memory's id")],
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """A memory's events; texts are null once it is erased."""
    with open_store(config) as store, handled():
        events = store.history(memory_id)
    if as_json:
        print_json(events)
        return
    console.print(
        counts_table(
            f"history of {memory_id}",
            {
                str(e.id): {
                    "kind": e.kind,
                    "text": e.new_text if e.new_text is not None else "—",
                    "erased by": e.erased_by or "",
                    "operation": e.operation_id,
                    "at": e.created_at.isoformat(timespec="seconds"),
                }
                for e in events
            },
        )
    )
