"""Which engine a database file belongs to, loading it, and its default page cache.

The adapter runs on LadybugDB (the maintained fork of Kuzu, the default) or on
Kuzu 0.11.3 (archived). Both expose Kuzu's Python API, but not each other's file
format, and not in one process: both register the same native types.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Literal

from hybridmem.errors import ConfigurationError, MigrationRequiredError

#: engine option -> importable module. Both expose Kuzu's Python API.
ENGINES = {"kuzu": "kuzu", "ladybug": "ladybug"}
Engine = Literal["kuzu", "ladybug"]
DEFAULT_ENGINE: Engine = "ladybug"
_NAMES = {"kuzu": "Kuzu", "ladybug": "LadybugDB"}
#: The first bytes of a database file, as each engine writes its header at creation.
_MAGIC = {b"KUZU": "kuzu", b"LBUG": "ladybug"}

# The page cache of one file when the config gives none: an eighth of the memory
# this process may use, so the embedded pair (a graph file and a vector file)
# takes at most a quarter, clamped. LadybugDB loaded 1M memories (scale.py's
# shape) with 1,024 MB a file, and with 256 MB stopped checkpointing at 468k, so
# 256 MB is the floor and a machine of 8 GB gets the 1 GB that reached 1M. The
# pool is reserved address space that fills as pages are read: a small store
# uses little of a large pool. The cap keeps a big host from handing one
# library tens of gigabytes.
POOL_SHARE = 8
POOL_FLOOR_MB = 256
POOL_CAP_MB = 16_384
# cgroup v2 and v1 memory limits: a container's limit, not the host's memory.
_CGROUP_LIMITS = (
    Path("/sys/fs/cgroup/memory.max"),
    Path("/sys/fs/cgroup/memory/memory.limit_in_bytes"),
)


def load_engine(engine: str) -> ModuleType:
    module = ENGINES.get(engine)
    if module is None:
        raise ConfigurationError(
            f"unknown Kuzu engine {engine!r}; choose one of {', '.join(sorted(ENGINES))}"
        )
    # Both register the same native types: loading the second one fails deep in
    # pybind11, so say plainly what is wrong instead.
    others = [name for key, name in ENGINES.items() if key != engine and name in sys.modules]
    if others and module not in sys.modules:
        raise ConfigurationError(
            f"engine {engine!r} cannot be loaded: {others[0]!r} is already loaded in this "
            "process, and the two cannot share one; use one engine per process"
        )
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ConfigurationError(
            f"engine {engine!r} is not installed; install {module} (hybridmem-kuzu depends on it)"
        ) from None


def physical_memory_mb() -> int | None:
    """The memory this process may use: the machine's, or its container's limit."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None
    for limit_file in _CGROUP_LIMITS:
        try:
            text = limit_file.read_text().strip()
        except OSError:
            continue
        if text.isdigit():
            total = min(total, int(text))
    return total // 2**20


def default_buffer_pool_mb() -> int:
    """``buffer_pool_mb`` when the config gives none (see POOL_SHARE)."""
    memory = physical_memory_mb()
    if memory is None:
        return 1024
    return max(POOL_FLOOR_MB, min(POOL_CAP_MB, memory // POOL_SHARE))


def written_by(path: Path) -> str | None:
    """The engine whose header ``path`` starts with; None for a new or empty file,
    or one neither engine wrote (the engine's own open then reports it)."""
    try:
        with path.open("rb") as handle:
            magic = handle.read(4)
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None
    return _MAGIC.get(magic)


def check_written_by(path: Path, engine: str, store_name: str) -> None:
    """Refuses a file the other engine wrote, before either engine touches it:
    neither can open the other's files, and migrating needs both processes."""
    found = written_by(path)
    if found is None or found == engine:
        return
    raise MigrationRequiredError(store_name, str(path), wrong_engine_advice(found, engine))


def wrong_engine_advice(found: str, engine: str) -> str:
    was_default = " (the default since LadybugDB replaced Kuzu)" if engine == DEFAULT_ENGINE else ""
    return (
        f"this file was written by {_NAMES[found]}, but this store's engine is"
        f" {engine!r}{was_default}, and neither engine reads the other's files. To keep"
        f" using it, set engine = {found!r} in the config's [graph] and [vector] sections"
        f" (or HYBRIDMEM_GRAPH__ENGINE={found} and HYBRIDMEM_VECTOR__ENGINE={found})."
        f" To move it to {_NAMES[engine]}: {migration_advice(found, engine)}"
    )


def migration_advice(source: str, destination: str) -> str:
    return (
        f"in old.toml (this store's config) set engine = {source!r}; write new.toml with"
        f" another data_dir and engine = {destination!r}; run `hybridmem export --config"
        " old.toml | hybridmem import --config new.toml -` and compare `hybridmem stats`"
        " of both (`hybridmem migrate` cannot: the two engines cannot share a process)"
    )
