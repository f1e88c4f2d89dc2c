"""Each searched scope's rows, held in memory beside the Kuzu file.

Why: on Kuzu 0.11 a query costs 0.5-2 ms before it reads a row, walking a scope
node's members costs ~4 us each (40 ms for 10k), and ranking them inside the
query ~5 us more; even reading ten hits back by primary key costs 3-9 ms. So no
sequence of queries serves a search in the few milliseconds an agent's turn
allows. A search ranks a scope it has read before with one matrix
product over the scope's float32 vectors, and returns the rows kept with them;
filters run on those rows with the evaluator the query's filter function uses.

What keeps it equal to the file:
- Only this process writes the file (Kuzu opens it read-write for one process),
  and every write to it goes through KuzuVectorStore, which tells this cache
  before it releases the database lock; a write that fails empties the cache,
  and a process that dies takes the cache with it.
- It keeps exactly what Kuzu returns: the float32 vector (Kuzu's FLOAT array)
  and the row's stored text fields, so a hit is the record a query would give.
- A record's scope never changes after it is written (updates keep it), so the
  scopes it can be cached under follow from its scope keys.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from hybridmem.models import Scope, ScopeField
from hybridmem_kuzu._scope import scope_key, scope_keys

Terms = tuple[tuple[ScopeField, str], ...]
#: A Vec row as the store reads it, without its embedding:
#: id, text, hash, user_id, agent_id, run_id, created_at, updated_at, metadata,
#: expires_at (last; None when the record never expires).
Fields = tuple[Any, ...]
# Per row beside its text: the list slot, the tuple, its strings' headers.
_ROW_OVERHEAD = 600


def _cosine(a: NDArray[np.float32], b: NDArray[np.float32]) -> float:
    """In float64 and within [-1, 1], as a score is reported (float32 can give 1.0000001)."""
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    norms = float(np.linalg.norm(a64) * np.linalg.norm(b64))
    return max(-1.0, min(1.0, float(a64 @ b64) / norms)) if norms > 0 else 0.0


def _row_bytes(fields: Fields) -> int:
    return _ROW_OVERHEAD + sum(len(f) for f in fields if isinstance(f, str))


class ScopeRows:
    """One scope's rows: a vector matrix with spare rows, their fields, which are live."""

    def __init__(self, dimension: int, capacity: int = 16) -> None:
        self.dimension = dimension
        self.fields: list[Fields] = []
        self.rows: dict[str, int] = {}
        capacity = max(16, capacity)
        self.matrix = np.zeros((capacity, dimension), dtype=np.float32)
        self.inverse_norms = np.zeros(capacity, dtype=np.float32)
        self.live = np.zeros(capacity, dtype=bool)
        self._text_bytes = 0
        #: Ids of the rows that expire: a search checks expiry only when there are any.
        self.expiring: set[str] = set()

    @property
    def nbytes(self) -> int:
        arrays = self.matrix.nbytes + self.inverse_norms.nbytes + self.live.nbytes
        return int(arrays) + self._text_bytes

    @property
    def mostly_dropped(self) -> bool:
        return len(self.fields) > 64 and 2 * int(self.live.sum()) < len(self.fields)

    def put(self, fields: Fields, vector: NDArray[np.float32]) -> None:
        id_ = fields[0]
        row = self.rows.get(id_)
        if row is None:
            row = len(self.fields)
            if row == len(self.matrix):
                grown = max(16, 2 * row)
                self.matrix = np.resize(self.matrix, (grown, self.dimension))
                self.inverse_norms = np.resize(self.inverse_norms, grown)
                self.live = np.concatenate([self.live, np.zeros(grown - row, dtype=bool)])
            self.fields.append(fields)
            self.rows[id_] = row
        else:
            self._text_bytes -= _row_bytes(self.fields[row])
            self.fields[row] = fields
        self._text_bytes += _row_bytes(fields)
        if fields[-1] is not None:
            self.expiring.add(id_)
        else:
            self.expiring.discard(id_)
        norm = float(np.linalg.norm(vector))
        self.matrix[row] = vector
        self.inverse_norms[row] = 1 / norm if norm > 0 else 0
        self.live[row] = True

    def drop(self, id_: str) -> None:
        row = self.rows.get(id_)
        if row is not None:
            self.live[row] = False
            self.expiring.discard(id_)

    def best(
        self,
        query: NDArray[np.float32],
        limit: int,
        keep: Callable[[Fields], bool] | None = None,
    ) -> list[tuple[Fields, list[float], float]]:
        """The ``limit`` best live rows (that ``keep`` accepts, before the limit) with
        their vectors and cosine scores, best first, ties by id as Kuzu orders them."""
        used = len(self.fields)
        norm = float(np.linalg.norm(query))
        scores = (self.matrix[:used] @ query) * self.inverse_norms[:used] / norm
        live = self.live[:used]
        if keep is not None:
            kept = [bool(live[i]) and keep(self.fields[i]) for i in range(used)]
            live = live & np.array(kept, dtype=bool).reshape(used)
        alive = int(live.sum())
        if alive == 0 or limit <= 0:
            return []
        if limit < alive:
            # Every live row scoring at least the limit-th best, so rows tied at
            # the edge are ordered by id rather than cut arbitrarily.
            masked = np.where(live, scores, -np.inf)
            kth = np.partition(masked, used - limit)[used - limit]
            candidates = np.nonzero((masked >= kth) & live)[0]
        else:
            candidates = np.nonzero(live)[0]
        order = sorted(candidates.tolist(), key=lambda i: (-float(scores[i]), self.fields[i][0]))
        return [
            (self.fields[i], self.matrix[i].tolist(), _cosine(self.matrix[i], query))
            for i in order[:limit]
        ]


class SearchCache:
    """Scopes' rows, least recently searched evicted first, within a byte budget."""

    def __init__(self, budget_bytes: int) -> None:
        self.budget = budget_bytes
        self._entries: OrderedDict[Terms, tuple[Scope, ScopeRows]] = OrderedDict()
        # An entry is filed under the key of its first term: a record in that
        # scope links to every key of the scope, so that key finds it.
        self._by_key: dict[str, set[Terms]] = {}

    @property
    def enabled(self) -> bool:
        return self.budget > 0

    def fits(self, rows: int, dimension: int) -> bool:
        return rows * (dimension * 4 + _ROW_OVERHEAD) <= self.budget

    def get(self, scope: Scope) -> ScopeRows | None:
        terms = scope.terms()
        kept = self._entries.get(terms)
        if kept is None or kept[1].mostly_dropped:
            return None
        self._entries.move_to_end(terms)
        return kept[1]

    def keep(self, scope: Scope, entry: ScopeRows) -> None:
        """Keeps ``entry``, evicting the least recently searched others to fit; an
        entry larger than the whole budget (long texts) is not kept."""
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
        self._by_key.setdefault(scope_key(*terms[0]), set()).add(terms)

    def _forget(self, terms: Terms) -> None:
        if self._entries.pop(terms, None) is not None:
            self._by_key[scope_key(*terms[0])].discard(terms)

    def _filed(self, keys: Iterable[str]) -> list[tuple[Scope, ScopeRows]]:
        found = {terms for key in keys for terms in self._by_key.get(key, ())}
        return [self._entries[terms] for terms in found]

    def written(self, written: Sequence[tuple[Scope, Fields, Sequence[float]]]) -> None:
        """Rows just written: (the record's scope, its fields, its embedding)."""
        if not self._entries:
            return
        for record_scope, fields, embedding in written:
            vector: NDArray[np.float32] | None = None
            for scope, entry in self._filed(scope_keys(record_scope)):
                if scope.matches(record_scope):
                    if vector is None:
                        vector = np.asarray(embedding, dtype=np.float32)
                    entry.put(fields, vector)

    def deleted(self, ids: Sequence[str], keys: Iterable[str]) -> None:
        """Rows just deleted, and every scope key they were linked to."""
        for _, entry in self._filed(keys):
            for id_ in ids:
                entry.drop(id_)

    def clear(self) -> None:
        self._entries.clear()
        self._by_key.clear()
