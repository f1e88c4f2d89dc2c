"""Apply the break named by ``HYBRIDMEM_MUTANT`` to this process, once."""

from __future__ import annotations

import os

ENV = "HYBRIDMEM_MUTANT"
_applied: set[str] = set()


def activate() -> str | None:
    name = os.environ.get(ENV, "").strip()
    if not name or name in _applied:
        return name or None
    from tests.mutants.catalogue import ROWS

    row = ROWS.get(name)
    if row is None:
        raise RuntimeError(f"{ENV}={name!r}: no such row in tests/mutants/catalogue.py")
    row.apply()
    _applied.add(name)
    return name
