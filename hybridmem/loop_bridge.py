"""A ``MemoryStore`` over an ``AsyncMemoryStore``: framework integrations are written
once, against the synchronous API, and take an async store too.

An ``AsyncHybridStore`` is unwrapped (its ``sync`` store is a ``MemoryStore``).
Any other awaited store (``AsyncHybridMemClient``) is bridged: its coroutines
run on the event loop that owns it, the way LangGraph's ``AsyncPostgresStore``
serves synchronous calls. An integration's async method binds the bridge to the
running loop (:meth:`LoopBridge.bind`) and runs its synchronous logic in a worker
thread; each store call made there is handed to that loop and awaited. A
synchronous call made before any async call (a script without a loop) binds the
bridge to a loop of its own, in a daemon thread. A synchronous call from the
bound loop's own thread would deadlock: it raises a clear error instead, as does
binding a store already bound to another live loop (an ``httpx.AsyncClient``
belongs to one loop).
"""

from __future__ import annotations

import asyncio
import inspect
import threading
import weakref
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar, cast

from hybridmem.api import AsyncMemoryStore, MemoryStore

T = TypeVar("T")


class LoopBridge:
    """The synchronous face of an awaited store (see the module's docstring)."""

    def __init__(self, awaited: AsyncMemoryStore) -> None:
        self.awaited = awaited
        self._loop: asyncio.AbstractEventLoop | None = None

    def bind(self) -> None:
        """Serve this store's calls on the running event loop (call from a coroutine)."""
        loop = asyncio.get_running_loop()
        if self._loop is not None and self._loop is not loop and not self._loop.is_closed():
            raise RuntimeError(
                "this async hybridmem store is used from a second event loop: an"
                " AsyncHybridMemClient belongs to the loop that first used it"
            )
        self._loop = loop

    @property
    def loop(self) -> asyncio.AbstractEventLoop | None:
        """The loop the store's calls run on (None until the first call binds one)."""
        return self._loop

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self.awaited, name)
        if not inspect.iscoroutinefunction(method):
            return cast(Callable[..., Any], method)

        def call(*args: Any, **kwargs: Any) -> Any:
            return self._run(method(*args, **kwargs))

        return call

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        loop = self._loop
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if (loop is None or loop.is_closed()) and running is None:
            loop = self._loop = _private_loop(self)
        if loop is None or loop.is_closed() or running is loop:
            coroutine.close()
            raise RuntimeError(
                "a synchronous call on an async hybridmem store: use the async methods"
                " (abatch, aput, asearch, asimilarity_search, …) from its event loop, or"
                " pass a synchronous store (HybridStore, HybridMemClient)"
            )
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result()


def _private_loop(owner: object) -> asyncio.AbstractEventLoop:
    """A loop running in a daemon thread, stopped when ``owner`` is collected."""
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, name="hybridmem-loop-bridge", daemon=True).start()
    weakref.finalize(owner, loop.call_soon_threadsafe, loop.stop)
    return loop


def synchronous(store: MemoryStore | AsyncMemoryStore) -> tuple[MemoryStore, LoopBridge | None]:
    """``store`` as a ``MemoryStore``, and the bridge async callers must bind (None
    when no bridge is needed)."""
    sync = getattr(store, "sync", None)
    if inspect.iscoroutinefunction(getattr(store, "add", None)):
        if sync is not None and not inspect.iscoroutinefunction(getattr(sync, "add", None)):
            return cast(MemoryStore, sync), None  # AsyncHybridStore: its own HybridStore
        bridge = LoopBridge(cast(AsyncMemoryStore, store))
        return cast(MemoryStore, bridge), bridge
    return cast(MemoryStore, store), None
