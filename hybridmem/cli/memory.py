"""``hybridmem add | search | list | get | delete | history``: one HybridStore call each,
or one HybridMemClient call when a running ``hybridmem serve`` holds the data directory."""

from __future__ import annotations

from typing import Annotated

import typer

from hybridmem.cli.common import (
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
    open_backend,
    parse_json,
    print_json,
    report,
)
from hybridmem.errors import NotFoundError
from hybridmem.models import NO_OPERATION


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
    expires_at: Annotated[
        str | None,
        typer.Option("--expires-at", help="ISO 8601 time (no offset: UTC) it expires at"),
    ] = None,
    ttl: Annotated[
        float | None, typer.Option("--ttl", help="Seconds from now until it expires")
    ] = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Write a memory to both stores (expiring with --ttl or --expires-at)."""
    meta = parse_json("--metadata", metadata)
    entity_list = parse_json("--entities", entities)
    relation_list = parse_json("--relations", relations)
    vector = parse_json("--embedding", embedding)
    # Without --embedding the store (or the server holding it) embeds the text, and
    # records which embedder made the vector, so reopening with another is refused.
    with open_backend(config) as store, handled():
        memory = store.add(
            text,
            embedding=vector,
            user_id=user_id,
            agent_id=agent_id,
            run_id=run_id,
            metadata=meta,
            entities=entity_list,
            relations=relation_list,
            expires_at=expires_at,
            ttl=ttl,
        )
    if as_json:
        print_json(memory)
    else:
        until = f", expires {memory.expires_at.isoformat()}" if memory.expires_at else ""
        console.print(f"added memory {memory.id} for {memory.scope.parts()}{until}")


FiltersOption = Annotated[
    str | None,
    typer.Option(
        "--filters",
        help='JSON, e.g. \'{"topic": "travel", "priority": {"$gte": 3}}\''
        " ($eq $ne $gt $gte $lt $lte $in $nin; created_at, updated_at)",
    ),
]


def search(
    query: Annotated[str, typer.Argument(help="What to look for")],
    user_id: UserOption = None,
    agent_id: AgentOption = None,
    run_id: RunOption = None,
    limit: Annotated[int, typer.Option("--limit", "-n", help="At most this many hits")] = 10,
    embedding: EmbeddingOption = None,
    filters: FiltersOption = None,
    graph: Annotated[
        bool, typer.Option("--graph", help="Give each hit its entities and relations")
    ] = False,
    entities: Annotated[
        str | None,
        typer.Option(
            "--entities", help="JSON list of entity names to anchor on, e.g. '[\"Lisbon\"]'"
        ),
    ] = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """The memories of a scope closest to QUERY."""
    parsed_filters = parse_json("--filters", filters)
    anchors = parse_json("--entities", entities)
    vector = parse_json("--embedding", embedding)
    with open_backend(config) as store, handled():
        hits = store.search(
            query if vector is None else None,
            embedding=vector,
            user_id=user_id,
            agent_id=agent_id,
            run_id=run_id,
            limit=limit,
            filters=parsed_filters,
            graph=graph,
            entities=anchors,
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
    offset: Annotated[int, typer.Option("--offset", help="Skip this many (newest first)")] = 0,
    filters: FiltersOption = None,
    entity: Annotated[
        str | None, typer.Option("--entity", help="Only memories mentioning this entity")
    ] = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Every memory of a scope, newest first."""
    parsed_filters = parse_json("--filters", filters)
    with open_backend(config) as store, handled():
        memories = store.get_all(
            user_id=user_id,
            agent_id=agent_id,
            run_id=run_id,
            limit=limit,
            offset=offset,
            filters=parsed_filters,
            entity=entity,
        )
    if as_json:
        print_json(memories)
    else:
        console.print(memories_table(f"{len(memories)} memories", memories))


def neighbors(
    name: Annotated[str, typer.Argument(help="An entity name")],
    user_id: Annotated[str, typer.Option("--user-id", "-u", help="The entity's namespace")],
    depth: Annotated[int, typer.Option("--depth", help="Hops, 1 to 3")] = 1,
    limit: Annotated[int, typer.Option("--limit", "-n", help="At most this many relations")] = 100,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """The entities and relations within DEPTH hops of an entity."""
    with open_backend(config) as store, handled():
        found = store.neighbors(name, user_id=user_id, depth=depth, limit=limit)
    if as_json:
        print_json(found)
        return
    console.print(
        counts_table(
            f"neighbors of {name!r} ({len(found.entities)} entities)",
            {
                r.id: {"source": r.source, "type": r.type, "target": r.target}
                for r in found.relations
            },
        )
    )


def get(
    memory_id: Annotated[str, typer.Argument(help="The memory's id")],
    user_id: UserOption = None,
    agent_id: AgentOption = None,
    run_id: RunOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """One memory by id (exit 4 when there is none, or it is outside the scope given)."""
    with open_backend(config) as store, handled():
        memory = store.get(memory_id, user_id=user_id, agent_id=agent_id, run_id=run_id)
    if memory is None:
        report("error", f"memory {memory_id} not found")
        raise typer.Exit(EXIT_ERROR)
    if as_json:
        print_json(memory)
    else:
        console.print(memories_table(f"memory {memory.id}", [memory]))


def delete(
    memory_id: Annotated[str, typer.Argument(help="The memory's id")],
    user_id: UserOption = None,
    agent_id: AgentOption = None,
    run_id: RunOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Erase one memory from both stores (idempotent); with a scope, only within it."""
    with open_backend(config) as store, handled():
        result = store.delete(memory_id, user_id=user_id, agent_id=agent_id, run_id=run_id)
        if result.operation_id == NO_OPERATION and (user_id or agent_id or run_id):
            # As the server answers a scoped delete: another scope's id and an
            # unknown one are both "not found".
            raise NotFoundError(f"memory {memory_id} not found")
    if as_json:
        print_json(result)
    else:
        console.print(
            f"{result['message']} ({result.memories} memory, operation {result.operation_id})"
        )


def history(
    memory_id: Annotated[str, typer.Argument(help="The memory's id")],
    user_id: UserOption = None,
    agent_id: AgentOption = None,
    run_id: RunOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """A memory's events; texts are null once it is erased."""
    with open_backend(config) as store, handled():
        events = store.history(memory_id, user_id=user_id, agent_id=agent_id, run_id=run_id)
        if not events and (user_id or agent_id or run_id):
            raise NotFoundError(f"memory {memory_id} not found")
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
