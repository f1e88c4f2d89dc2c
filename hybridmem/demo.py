"""``hybridmem demo``: the main job on the embedded default, start to finish."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from hybridmem.cli_common import counts_table, result_table, run_delete_all
from hybridmem.demo_data import MEMORIES
from hybridmem.embedder import hashed_words
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
    console.rule("hybridmem demo — embedded default (Kuzu graph + Kuzu vectors)")
    console.print(f"data directory: {data_dir}")
    with HybridStore.embedded(data_dir) as store:
        store.reset()
        for memory in MEMORIES:
            store.add(
                memory.text,
                embedding=hashed_words(memory.text),
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

        hits = store.search(hashed_words("where does Alice live"), user_id="alice", limit=1)
        console.print(f"search (alice) 'where does Alice live' → {hits[0].memory.text!r}")

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
