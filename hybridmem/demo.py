"""``hybridmem demo``: the main job on the embedded default, start to finish."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from hybridmem.cli.common import counts_table, result_table, run_delete_all
from hybridmem.demo_data import MEMORIES, QUESTION
from hybridmem.store import HybridStore


def _per_user(store: HybridStore, users: list[str]) -> dict[str, dict[str, int]]:
    return {
        user: {
            "memories": len(store.get_all(user_id=user)),
            "entities": len(store.entities(user_id=user)),
            "relations": len(store.relations(user_id=user)),
        }
        for user in users
    }


def run_demo(data_dir: Path, console: Console) -> None:
    console.rule("hybridmem demo — embedded default (LadybugDB graph, SQLite vectors)")
    console.print(f"data directory: {data_dir}")
    # wordllama: a real semantic embedder that runs offline (its weights ship in the wheel).
    with HybridStore.embedded(data_dir, embedder={"provider": "wordllama"}) as store:
        store.reset()
        for memory in MEMORIES:
            store.add(
                memory.text,
                user_id=memory.user_id,
                agent_id=memory.agent_id,
                run_id=memory.run_id,
                metadata=memory.metadata,
                entities=[{"name": n, "type": t} for n, t in memory.entities],
                relations=[{"source": s, "target": t, "type": r} for s, t, r in memory.relations],
            )
        users = sorted({m.user_id for m in MEMORIES})
        console.print(counts_table("both stores, before", {"whole store": store.stats()}))
        before = _per_user(store, users)
        console.print(counts_table("per user, before", before))

        # No content word in common with the memory it finds: only meaning links them.
        hits = store.search(QUESTION, user_id="alice", limit=1, graph=True)
        console.print(f"search (alice, by meaning) {QUESTION!r} → {hits[0].memory.text!r}")
        context = ", ".join(f"{r.source} {r.type} {r.target}" for r in hits[0].relations)
        console.print(f"  graph context: {context or 'none'}")
        near = store.neighbors("Lisbon", user_id="alice")
        console.print(
            "neighbors of Lisbon (alice): "
            + ", ".join(sorted(e.name for e in near.entities if e.name != "Lisbon"))
        )

        console.rule("GDPR erasure: delete_all(user_id='alice')")
        console.print(result_table(store.delete_all(user_id="alice", dry_run=True)))
        result = run_delete_all(store, {"user_id": "alice"}, show_progress=True)
        console.print(result_table(result))
        console.print(
            f"[green]{result['message']}[/green] operation {result.operation_id}"
            f" in {result.elapsed_seconds * 1000:.1f} ms"
        )

        console.rule("after")
        console.print(counts_table("both stores, after", {"whole store": store.stats()}))
        after = _per_user(store, users)
        console.print(counts_table("per user, after", after))
        untouched = all(before[u] == after[u] for u in users if u != "alice")
        console.print(f"other users untouched: {'[green]yes' if untouched else '[red]NO'}")
        shared = sorted(e.name for e in store.entities(user_id="bob"))
        console.print(f"bob still has his own Lisbon node: {'Lisbon' in shared}")
        report = store.reconcile()
        console.print(f"orphans after erasure (reconcile): {report.found.total()}")
        if not untouched or report.found.total() or after["alice"]["memories"]:
            raise SystemExit("demo check failed")
