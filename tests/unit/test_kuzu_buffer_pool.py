"""A Kuzu buffer pool too small for the store fails with advice, not just Kuzu's text.

Kuzu 0.11.3 with the default 256 MB failed at COMMIT (a checkpoint) after about
214k memories of benchmarks/scale.py: "Unable to allocate memory! The buffer pool
is full". The error must say which setting to raise and what it is now.
"""

from __future__ import annotations

from pathlib import Path

from hybridmem.errors import StoreError
from hybridmem_kuzu._database import KuzuDatabase

KUZU_TEXT = (
    "Buffer manager exception: Unable to allocate memory! The buffer pool is full and no"
    " memory could be freed!"
)


def test_a_full_buffer_pool_names_the_setting_and_its_value(tmp_path: Path) -> None:
    db = KuzuDatabase(tmp_path / "g.kuzu", "Kuzu graph store", buffer_pool_mb=64)
    try:
        error = db._translate(RuntimeError(KUZU_TEXT))
    finally:
        db.close()
    assert isinstance(error, StoreError)
    assert "buffer pool is full" in str(error)
    assert "raise buffer_pool_mb (now 64)" in str(error)


def test_other_errors_keep_their_text_alone(tmp_path: Path) -> None:
    db = KuzuDatabase(tmp_path / "g.kuzu", "Kuzu graph store")
    try:
        error = db._translate(RuntimeError("Binder exception: Table Nope does not exist."))
    finally:
        db.close()
    assert "buffer_pool_mb" not in str(error)
