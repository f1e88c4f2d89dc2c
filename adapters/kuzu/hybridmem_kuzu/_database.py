"""One Kuzu database file, its single connection, and the lock that serialises it.

Kuzu allows one read-write ``Database`` per path per process and one write
transaction at a time, so every call goes through one lock; reads share it
because a Connection is not safe to use from two threads at once.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

from hybridmem.errors import ConfigurationError, StoreError, StoreUnavailableError

#: engine option -> importable module. Both expose Kuzu's Python API.
ENGINES = {"kuzu": "kuzu", "ladybug": "ladybug"}


def load_engine(engine: str) -> ModuleType:
    module = ENGINES.get(engine)
    if module is None:
        raise ConfigurationError(
            f"unknown Kuzu engine {engine!r}; choose one of {', '.join(sorted(ENGINES))}"
        )
    try:
        return importlib.import_module(module)
    except ImportError:
        package = "kuzu" if engine == "kuzu" else "hybridmem-kuzu[ladybug]"
        raise ConfigurationError(f"engine {engine!r} is not installed; install {package}") from None


class KuzuDatabase:
    def __init__(self, path: Path, store_name: str, engine: str = "kuzu") -> None:
        self.path = path
        self.store_name = store_name
        self._lock = threading.RLock()
        self._module = load_engine(engine)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = self._module.Database(str(path))
            self._conn = self._module.Connection(self._db)
        except RuntimeError as exc:
            raise self._translate(exc) from None
        self._closed = False

    def _translate(self, exc: BaseException) -> StoreError:
        text = str(exc)
        if "lock" in text.lower():
            # Another process has the file open read-write.
            return StoreUnavailableError(self.store_name, str(self.path), text)
        return StoreError(self.store_name, str(self.path), text)

    def rows(self, query: str, params: Mapping[str, Any] | None = None) -> list[list[Any]]:
        with self._lock:
            if self._closed:
                raise StoreUnavailableError(self.store_name, str(self.path), "store is closed")
            try:
                result = self._conn.execute(query, dict(params or {}))
                return result.get_all()  # type: ignore[no-any-return,union-attr]
            except RuntimeError as exc:
                raise self._translate(exc) from None

    def scalar(self, query: str, params: Mapping[str, Any] | None = None) -> int:
        found = self.rows(query, params)
        return int(found[0][0]) if found else 0

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All statements inside commit together or not at all."""
        with self._lock:
            self.rows("BEGIN TRANSACTION")
            try:
                yield
            except BaseException:
                try:
                    self.rows("ROLLBACK")
                except StoreError:
                    pass
                raise
            self.rows("COMMIT")

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._conn.close()
            self._db.close()
