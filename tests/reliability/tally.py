"""Counts the reliability suite reports at the end of a run (crash points tried,
inputs fuzzed, operations under concurrency), so CI logs carry the numbers."""

from __future__ import annotations

import threading
from collections import Counter

_lock = threading.Lock()
_counts: Counter[str] = Counter()


def count(what: str, n: int = 1) -> None:
    with _lock:
        _counts[what] += n


def snapshot() -> dict[str, int]:
    with _lock:
        return dict(sorted(_counts.items()))
