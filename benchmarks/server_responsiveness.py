"""How long a small request waits while a long delete_all runs on the same server,
against the same request on the idle server, in the same run.

    python benchmarks/server_responsiveness.py              # 300 memories, batch_size 1
    python benchmarks/server_responsiveness.py --memories 1000 --max-ratio 20

Endpoints run in FastAPI's thread pool, so an erasure must not hold other
requests up. The idle probes are the floor; the result is the ratio of the
slowest probe during the erasure to the slowest idle probe, and the run fails
(exit 1) when it is above ``--max-ratio``. Ratios, not absolute seconds: the
machine's speed cancels out.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from hybridmem.client import AsyncHybridMemClient
from tests.server.live import LiveServer, start_server, write_config

E1 = [1.0, 0.0, 0.0]


async def _probe(client: AsyncHybridMemClient) -> float:
    started = time.monotonic()
    assert await client.get_all(user_id="someone-else") == []
    return time.monotonic() - started


async def _measure(server: LiveServer, memories: int) -> tuple[list[float], list[float]]:
    async with AsyncHybridMemClient(server.url) as client:
        await asyncio.gather(
            *(client.add(f"m{i}", embedding=E1, user_id="slow") for i in range(memories))
        )
        idle = [await _probe(client) for _ in range(30)]
        erase = asyncio.create_task(client.delete_all(user_id="slow"))
        busy: list[float] = []
        while not erase.done():
            busy.append(await _probe(client))
            await asyncio.sleep(0.01)
        assert (await erase).memories == memories
    return idle, busy


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--memories", type=int, default=300)
    parser.add_argument("--max-ratio", type=float, default=25.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        config = write_config(Path(home) / "hybridmem.toml", Path(home) / "data")
        # One memory per batch: every batch is a journal checkpoint, so the erasure is long.
        config.write_text("batch_size = 1\n" + config.read_text())
        server = start_server(config)
        try:
            idle, busy = asyncio.run(_measure(server, args.memories))
        finally:
            server.stop()
    if len(busy) < 3:
        print(f"the erasure was too quick to probe ({len(busy)} probes); raise --memories")
        return 1
    ratio = max(busy) / max(idle)
    print(
        f"idle probes: {len(idle)}, median {statistics.median(idle) * 1000:.1f} ms,"
        f" max {max(idle) * 1000:.1f} ms\n"
        f"probes during delete_all: {len(busy)}, median {statistics.median(busy) * 1000:.1f} ms,"
        f" max {max(busy) * 1000:.1f} ms\n"
        f"slowest busy / slowest idle: {ratio:.1f}x (limit {args.max_ratio:g}x)"
    )
    return 0 if ratio <= args.max_ratio else 1


if __name__ == "__main__":
    sys.exit(main())
