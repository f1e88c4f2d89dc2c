"""The table of benchmarks/single_ops.py: p50 and p90 of each timed operation per
store, and hybridmem's ratios against mem0 on the same server."""

from __future__ import annotations

import statistics

MEM0 = "mem0 (weaviate)"
# The timed operations: adds with entities and relations (hybridmem only), adds
# without any, and the deletes of each.
ADD, ADD_PLAIN, DELETE, DELETE_PLAIN = "add", "add_plain", "delete", "delete_plain"
SEARCH = "search"
OPERATIONS = (ADD, ADD_PLAIN, DELETE, DELETE_PLAIN, SEARCH)


def p50(values: list[float]) -> float | None:
    return statistics.median(values) * 1000 if values else None


def p90(values: list[float]) -> float | None:
    if len(values) < 2:
        return p50(values)
    return statistics.quantiles(values, n=10, method="inclusive")[8] * 1000


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _ratio(numerator: float | None, denominator: float | None) -> str:
    if numerator is None or denominator is None:
        return "-"
    return f"{numerator / denominator:.2f}x"


def report(
    times: dict[str, dict[str, list[float]]],
    preload: int,
    search_scope: int,
    samples: int,
    size: int,
) -> None:
    head = (
        f"{'store':<28}{'add p50':>9}{'add p90':>9}{'add p50 no graph':>18}"
        f"{'delete p50':>12}{'delete p90':>12}{'delete p50 no graph':>21}"
        f"{'search p50':>12}{'search p90':>12}"
    )
    print(
        f"\none add() / one delete(id) / one search, ms: {preload:,} memories preloaded"
        f" and a searched scope of {search_scope:,}, {samples} samples each in rounds of"
        f" {size} (same run, same Weaviate server)"
    )
    print(head)
    print("-" * len(head))
    for name, ops in times.items():
        if name == MEM0:
            # mem0's memories have no graph: its deletes are in the delete columns.
            deletes, plain = ops[DELETE_PLAIN], []
        else:
            deletes, plain = ops[DELETE], ops[DELETE_PLAIN]
        print(
            f"{name:<28}{_ms(p50(ops[ADD])):>9}{_ms(p90(ops[ADD])):>9}"
            f"{_ms(p50(ops[ADD_PLAIN])):>18}{_ms(p50(deletes)):>12}{_ms(p90(deletes)):>12}"
            f"{_ms(p50(plain)):>21}{_ms(p50(ops[SEARCH])):>12}{_ms(p90(ops[SEARCH])):>12}"
        )
    print(
        "add / delete: with 2 entities and 1 relation (hybridmem only; mem0's add(infer=False)"
        " writes no graph); no graph: a memory without entities or relations"
    )
    mem0 = times[MEM0]
    for name, hm in times.items():
        if name == MEM0:
            continue
        print(f"\n{name} / mem0 (p50 ratios; aim <= 1.0):")
        print(
            f"  add (2 entities, 1 rel.): {_ratio(p50(hm[ADD]), p50(mem0[ADD_PLAIN]))}"
            f" ({_ms(p50(hm[ADD]))} ms; aim <= 10 ms)"
        )
        print(f"  delete(id):               {_ratio(p50(hm[DELETE]), p50(mem0[DELETE_PLAIN]))}")
        print(
            f"  delete(id) without graph: {_ratio(p50(hm[DELETE_PLAIN]), p50(mem0[DELETE_PLAIN]))}"
        )
        print(f"  search:                   {_ratio(p50(hm[SEARCH]), p50(mem0[SEARCH]))}")
        print(
            f"  add without graph:        {_ratio(p50(hm[ADD_PLAIN]), p50(mem0[ADD_PLAIN]))}"
            " (mem0 inserts each memory through a weaviate-client batch and waits for its flush)"
        )
