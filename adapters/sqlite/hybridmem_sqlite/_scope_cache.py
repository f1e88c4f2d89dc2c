"""Each searched scope's vectors, held in memory beside the SQLite file.

The first search of a scope reads its row ids, embeddings and expiries through
the scope's index; later searches are one matrix product. Only vectors are
kept (no texts): the few rows a search returns are read back by row id, a
primary-key hit, so a cached row costs ``dimension * 4`` bytes and a little
more, and filters on metadata run in SQLite (``hm_filter``) over the scope.

What keeps it equal to the file:
- Every write of this process goes through ``SQLiteVectorStore``, which tells
  this cache under its lock, before another search can run; a write that fails
  empties the cache.
- Another process may write the same file (SQLite admits several): the store
  reads ``PRAGMA data_version`` before each search and empties the cache when
  another connection has committed since the last look.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from hybridmem.models import Scope

Terms = tuple[tuple[str, str], ...]
#: Per row beside the vector: row id, inverse norm, expiry, live flag, the dict slot.
_ROW_OVERHEAD = 8 + 4 + 8 + 1 + 100


class ScopeVectors:
    """One scope's rows: vectors with spare capacity, their row ids, which are live."""

    def __init__(self, dimension: int, capacity: int = 16) -> None:
        capacity = max(16, capacity)
        self.dimension = dimension
        self.used = 0
        self.rids = np.zeros(capacity, dtype=np.int64)
        self.matrix = np.zeros((capacity, dimension), dtype=np.float32)
        self.inverse_norms = np.zeros(capacity, dtype=np.float32)
        self.expires = np.zeros(capacity, dtype=np.int64)
        self.live = np.zeros(capacity, dtype=bool)
        self.rows: dict[int, int] = {}

    @classmethod
    def of(
        cls,
        dimension: int,
        rids: NDArray[np.int64],
        matrix: NDArray[np.float32],
        expires: NDArray[np.int64],
    ) -> ScopeVectors:
        entry = cls(dimension, capacity=len(rids))
        n = len(rids)
        entry.used = n
        entry.rids[:n] = rids
        entry.matrix[:n] = matrix
        norms = np.linalg.norm(matrix, axis=1) if n else np.zeros(0, dtype=np.float32)
        with np.errstate(divide="ignore"):
            entry.inverse_norms[:n] = np.where(norms > 0, 1 / np.maximum(norms, 1e-30), 0)
        entry.expires[:n] = expires
        entry.live[:n] = True
        entry.rows = {int(rid): i for i, rid in enumerate(rids.tolist())}
        return entry

    @property
    def nbytes(self) -> int:
        return len(self.rids) * (self.dimension * 4 + _ROW_OVERHEAD)

    @property
    def mostly_dropped(self) -> bool:
        return self.used > 64 and 2 * int(self.live[: self.used].sum()) < self.used

    def put(self, rid: int, vector: NDArray[np.float32], expires: int) -> None:
        row = self.rows.get(rid)
        if row is None:
            row = self.used
            if row == len(self.rids):
                grown = 2 * row
                self.rids = np.resize(self.rids, grown)
                self.matrix = np.resize(self.matrix, (grown, self.dimension))
                self.inverse_norms = np.resize(self.inverse_norms, grown)
                self.expires = np.resize(self.expires, grown)
                self.live = np.concatenate([self.live[:row], np.zeros(grown - row, dtype=bool)])
            self.used += 1
            self.rows[rid] = row
            self.rids[row] = rid
        norm = float(np.linalg.norm(vector))
        self.matrix[row] = vector
        self.inverse_norms[row] = 1 / norm if norm > 0 else 0
        self.expires[row] = expires
        self.live[row] = True

    def drop(self, rid: int) -> None:
        row = self.rows.get(rid)
        if row is not None:
            self.live[row] = False

    def candidates(
        self,
        query: NDArray[np.float32],
        limit: int,
        alive_after: int | None = None,
        allowed: NDArray[np.int64] | None = None,
    ) -> list[tuple[int, float]]:
        """Row ids with their float32 scores: the ``limit`` best live rows (alive at
        ``alive_after`` microseconds, among ``allowed`` row ids when given), plus every
        row tied with the last, so the caller can order ties by id."""
        n = self.used
        live = self.live[:n].copy()
        if alive_after is not None:
            live &= self.expires[:n] > alive_after
        if allowed is not None:
            live &= np.isin(self.rids[:n], allowed)
        alive = int(live.sum())
        if alive == 0 or limit <= 0:
            return []
        norm = float(np.linalg.norm(query))
        scale = 1 / norm if norm > 0 else 0.0
        scores = (self.matrix[:n] @ query) * self.inverse_norms[:n] * np.float32(scale)
        if limit < alive:
            masked = np.where(live, scores, -np.inf)
            kth = np.partition(masked, n - limit)[n - limit]
            picked = np.nonzero((masked >= kth) & live)[0]
        else:
            picked = np.nonzero(live)[0]
        return [(int(self.rids[i]), float(scores[i])) for i in picked.tolist()]


class ScopeCache:
    """Scopes' vectors, least recently searched evicted first, within a byte budget."""

    def __init__(self, budget_bytes: int) -> None:
        self.budget = budget_bytes
        self._entries: OrderedDict[Terms, tuple[Scope, ScopeVectors]] = OrderedDict()
        # Filed under the entry's first term: every record in the scope has it.
        self._by_term: dict[tuple[str, str], set[Terms]] = {}

    @property
    def enabled(self) -> bool:
        return self.budget > 0

    def fits(self, rows: int, dimension: int) -> bool:
        return rows * (dimension * 4 + _ROW_OVERHEAD) <= self.budget

    def get(self, scope: Scope) -> ScopeVectors | None:
        terms = scope.terms()
        kept = self._entries.get(terms)
        if kept is None or kept[1].mostly_dropped:
            return None
        self._entries.move_to_end(terms)
        return kept[1]

    def keep(self, scope: Scope, entry: ScopeVectors) -> None:
        terms = scope.terms()
        self._forget(terms)
        if entry.nbytes > self.budget:
            return
        total = entry.nbytes + sum(e.nbytes for _, e in self._entries.values())
        while total > self.budget:
            oldest = next(iter(self._entries))
            total -= self._entries[oldest][1].nbytes
            self._forget(oldest)
        self._entries[terms] = (scope, entry)
        self._by_term.setdefault(terms[0], set()).add(terms)

    def _forget(self, terms: Terms) -> None:
        if self._entries.pop(terms, None) is not None:
            self._by_term[terms[0]].discard(terms)

    def _filed(self, scope: Scope) -> Iterable[tuple[Scope, ScopeVectors]]:
        found = {t for term in scope.terms() for t in self._by_term.get(term, ())}
        return [self._entries[t] for t in found]

    def written(self, rows: Sequence[tuple[Scope, int, NDArray[np.float32], int]]) -> None:
        """Rows just written: (the record's scope, its row id, its vector, its expiry)."""
        if not self._entries:
            return
        for record_scope, rid, vector, expires in rows:
            for scope, entry in self._filed(record_scope):
                if scope.matches(record_scope):
                    entry.put(rid, vector, expires)

    def deleted(self, rows: Sequence[tuple[Scope, int]]) -> None:
        """Rows just deleted (or moved out of a scope): (their scope then, row id)."""
        if not self._entries:
            return
        for record_scope, rid in rows:
            for _, entry in self._filed(record_scope):
                entry.drop(rid)

    def clear(self) -> None:
        self._entries.clear()
        self._by_term.clear()


def as_int64(values: Sequence[Any]) -> NDArray[np.int64]:
    return np.asarray(values, dtype=np.int64)
