"""A task ``hybridmem serve`` runs every N seconds in a thread of its own (the
purge of expired memories, the compaction).

``stop()`` wakes the thread and waits for a run in progress to end, so a
shutdown never leaves one half-done (a process that dies instead leaves it to
the journal and ``recover()``). A run that fails is counted, logged and retried
at the next interval: a dead thread would stop the task for the life of the
server.
"""

from __future__ import annotations

import logging
import threading
from typing import Self

from hybridmem.errors import HybridMemError


class PeriodicTask:
    """Calls ``run_once()`` every ``interval`` seconds once started."""

    #: What the task does, in log lines and the thread's name.
    name = "task"

    def __init__(self, interval: float, log: logging.Logger) -> None:
        if interval <= 0:
            raise ValueError(f"the {self.name} interval must be more than 0 seconds")
        self.interval = interval
        #: Runs that failed (each is retried at the next interval).
        self.failures = 0
        self._log = log
        self._stopping = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"hybridmem-{self.name}", daemon=True
        )

    def run_once(self) -> object:
        raise NotImplementedError

    def start(self) -> Self:
        self._thread.start()
        return self

    @property
    def alive(self) -> bool:
        """The loop's thread is running (a run that fails does not end it)."""
        return self._thread.is_alive()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        while not self._stopping.wait(self.interval):
            try:
                self.run_once()
            except HybridMemError as exc:
                # A store that is down: its operation stays pending, the next run resumes it.
                self.failures += 1
                self._log.warning("%s failed: %s", self.name, exc)
            except Exception:
                # Anything else (a bug, a record no reader expected): logged with its
                # traceback, and retried at the next interval.
                self.failures += 1
                self._log.exception("%s failed unexpectedly; retrying", self.name)
