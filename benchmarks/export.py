"""Export speed: write_export of a whole embedded store, and of one 1k-memory scope
inside it, with the peak RSS of the process.

    python benchmarks/export.py                      # 10k memories
    python benchmarks/export.py --memories 10000 30000

The store is filled through the ports in bulk, as benchmarks/delete_scope.py
does (2 entities and 1 relation a memory, 32 dimensions, no history: the
journal's per-memory lookup still runs and finds nothing). Output goes to a
temporary file, so the time includes JSON encoding and writing.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.delete_scope import fill
from hybridmem import HybridStore, Scope
from hybridmem.portability import write_export

SCOPE = 1000


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _timed(store: HybridStore, scope: Scope, batch_size: int) -> tuple[int, float, int]:
    with tempfile.TemporaryFile("w+", encoding="utf-8") as out:
        started = time.perf_counter()
        counts = write_export(store, out, scope, batch_size=batch_size)
        elapsed = time.perf_counter() - started
        size = out.tell()
    return counts["memories"], elapsed, size


def run(total: int, batch_size: int) -> None:
    with tempfile.TemporaryDirectory(prefix="hybridmem-export-") as tmp:
        with HybridStore.embedded(Path(tmp) / "data") as store:
            started = time.perf_counter()
            fill(store, total, {"alice": SCOPE})
            print(f"{total} memories filled in {time.perf_counter() - started:.0f} s", flush=True)
            for label, scope in (
                ("whole store", Scope()),
                (f"{SCOPE} scope", Scope(user_id="alice")),
            ):
                count, elapsed, size = _timed(store, scope, batch_size)
                print(
                    f"  {label}: {count} memories in {elapsed:.1f} s = {count / elapsed:,.0f}"
                    f" memories/s, {size / max(count, 1):.0f} bytes each,"
                    f" peak RSS {_peak_mb():.0f} MB",
                    flush=True,
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--memories", type=int, nargs="+", default=[10_000])
    parser.add_argument("--batch-size", type=int, default=500)
    args = parser.parse_args()
    for total in args.memories:
        run(total, args.batch_size)


if __name__ == "__main__":
    main()
