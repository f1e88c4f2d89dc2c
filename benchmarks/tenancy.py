"""Weaviate with and without ``multi_tenancy``: when to choose which.

    python benchmarks/tenancy.py                          # 50k memories, 200 users
    python benchmarks/tenancy.py --memories 100000 --users 500

Two stores on the same Weaviate server (HYBRIDMEM_TEST_WEAVIATE_*) with the
embedded Kuzu graph, loaded with the same memories: a 1k and a 10k user, and
``--users`` background users sharing the rest. For each layout, in one run:
``add_many`` rate, single ``add()`` / ``get(id)`` / ``delete(id)`` p50, search
p50 in one user's scope and in an agent's scope (which spans every user, so on
the tenant layout every tenant), and ``delete_all`` of the 1k and the 10k user.
The filter-delete layout is the floor: the table gives tenant / filter ratios.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from delete_scope import pair_config
from scale import BATCH, _vector, items

from hybridmem import HybridStore

SCOPES = {"t1k": 1000, "t10k": 10_000}
SAMPLES = 100


def owners(total: int, users: int) -> list[str]:
    out = [user for user, size in SCOPES.items() for _ in range(size)]
    out.extend(f"bg-{i % users}" for i in range(total - len(out)))
    order = sorted(range(len(out)), key=lambda i: (i * 7919) % len(out))
    return [out[i] for i in order]


def p50_ms(action: Callable[[int], Any], count: int = SAMPLES) -> float:
    times = []
    for i in range(count):
        started = time.perf_counter()
        action(i)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def measure(layout: str, total: int, users: int, root: Path) -> dict[str, Any]:
    config = pair_config("kuzu+weaviate", root / layout)
    config["vector"] = {
        **config["vector"],
        "collection": f"BenchTenancy{layout.capitalize()}",
        "multi_tenancy": layout == "tenant",
    }
    row: dict[str, Any] = {"layout": layout}
    with HybridStore(config) as store:
        store.reset()
        started = time.perf_counter()
        ids = store.add_many(items(owners(total, users)), batch_size=BATCH).ids
        row["add_many_per_s"] = total / (time.perf_counter() - started)
        print(f"[{layout}] loaded {total:,} in {time.perf_counter() - started:.0f}s", flush=True)
        singles: list[str] = []

        def add(i: int) -> None:
            singles.append(
                store.add(f"single {i}", embedding=_vector(total + i), user_id=f"bg-{i % users}").id
            )

        row["add_ms"] = p50_ms(add)
        row["get_ms"] = p50_ms(lambda i: store.get(ids[i * 97]))
        row["search_user_ms"] = p50_ms(
            lambda i: store.search(embedding=_vector(i * 31), user_id="t1k", limit=10)
        )
        row["search_agent_ms"] = p50_ms(
            lambda i: store.search(embedding=_vector(i * 31), agent_id="agent-1", limit=10), 20
        )
        row["delete_ms"] = p50_ms(lambda i: store.delete(singles[i]))
        for user in SCOPES:
            started = time.perf_counter()
            result = store.delete_all(user_id=user)
            row[f"delete_all_{user}_s"] = time.perf_counter() - started
            assert result.memories == SCOPES[user], result
        store.reset()
        store.vector.drop()  # type: ignore[attr-defined]
    return row


COLUMNS = (
    ("add_many_per_s", "add_many/s", ",.0f"),
    ("add_ms", "add p50 ms", ".1f"),
    ("get_ms", "get p50 ms", ".1f"),
    ("delete_ms", "delete p50 ms", ".1f"),
    ("search_user_ms", "search user ms", ".1f"),
    ("search_agent_ms", "search agent ms", ".1f"),
    ("delete_all_t1k_s", "delete_all 1k s", ".2f"),
    ("delete_all_t10k_s", "delete_all 10k s", ".2f"),
)


def report(rows: list[dict[str, Any]]) -> None:
    head = f"{'layout':<10}" + "".join(f"{title:>18}" for _, title, _ in COLUMNS)
    print(f"\n{head}\n{'-' * len(head)}")
    for r in rows:
        print(f"{r['layout']:<10}" + "".join(f"{r[k]:>18{spec}}" for k, _, spec in COLUMNS))
    filtered, tenant = rows
    print(
        f"{'tenant/filter':<10}"
        + "".join(f"{tenant[k] / filtered[k]:>17.2f}x" for k, _, _ in COLUMNS)
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--memories", type=int, default=50_000)
    parser.add_argument("--users", type=int, default=200, help="background users (tenants)")
    args = parser.parse_args()
    if args.memories < sum(SCOPES.values()) + args.users:
        raise SystemExit(f"--memories must be at least {sum(SCOPES.values()) + args.users}")
    with tempfile.TemporaryDirectory(prefix="hybridmem-tenancy-") as tmp:
        rows = [
            measure(layout, args.memories, args.users, Path(tmp)) for layout in ("filter", "tenant")
        ]
    report(rows)


if __name__ == "__main__":
    main()
