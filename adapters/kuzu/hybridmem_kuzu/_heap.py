"""Freed heap memory is overwritten before the engine can write it to a file.

Measured on LadybugDB 0.22 (2026-12-05): the engine writes its database header
page (page 0 of ``graph.kuzu``) from a buffer whose first few dozen bytes it
sets; the rest of the 4 KB is whatever the allocator last held there. In a
process that also runs SQLite (the vector store, the journal), that was a freed
SQLite page: a whole erased memory (text, metadata, user id) landed in the
graph file at the close after a compaction. Erasure to the byte cannot hold if
the engine persists stale heap, so the adapter asks glibc to fill every freed
block (and every new one) with a constant byte (``M_PERTURB``). Python's own
small objects do not go through malloc, so the cost is on larger buffers only.
On a C library without ``mallopt`` this does nothing, and the docs say so.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import threading

log = logging.getLogger("hybridmem_kuzu")

#: glibc's ``M_PERTURB`` parameter of ``mallopt``.
_M_PERTURB = -6
#: Freed memory becomes this byte; new blocks its complement.
_PERTURB_BYTE = 0xA5

_done = threading.Event()
_lock = threading.Lock()


def scrub_freed_memory() -> bool:
    """Turn glibc's freed-memory perturbation on for this process (once); True
    when the C library took it."""
    if _done.is_set():
        return True
    with _lock:
        if _done.is_set():
            return True
        name = ctypes.util.find_library("c")
        try:
            libc = ctypes.CDLL(name)
            mallopt = libc.mallopt
        except (OSError, AttributeError, TypeError):
            log.warning("no mallopt in the C library: freed heap is not overwritten")
            return False
        mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
        mallopt.restype = ctypes.c_int
        if mallopt(_M_PERTURB, _PERTURB_BYTE) != 1:
            log.warning("mallopt(M_PERTURB) refused: freed heap is not overwritten")
            return False
        _done.set()
        return True
