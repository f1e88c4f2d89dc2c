"""What a backend's test server offers the kit: the ``Launcher`` protocol.

A server adapter ships one ``Launcher`` object and names it in its ``TestBackend``
(``launcher="mystore_hybridmem.native_server:launcher"``, module and attribute).
``python -m hybridmem.testing.servers start`` starts every registered launcher once
and prints the environment its tests read; the adapter's pytest fixture takes a
server from that environment first, then from Docker (``compose_file``), then from
the launcher's own code. The module is imported only when a launcher is needed, so
loading the pair registry stays cheap.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Protocol, runtime_checkable

from hybridmem.testing.pair_registry import PairRegistry, load_registry


class ServerUnavailable(RuntimeError):
    """This machine lacks what the server needs (a JDK, a Go toolchain): its pairs
    are left out of a run rather than failing it (unless ``--require-all``)."""


@runtime_checkable
class Launcher(Protocol):
    """One backend's native test server.

    ``name`` names its files in a state directory (``DIR/<name>`` for its data,
    ``DIR/<name>.pid``); ``given_by`` is the environment variable whose presence
    means a server is already given (its address), so none is started;
    ``compose_file`` is the adapter's own compose file (its service only), for
    machines with a Docker engine, or None.
    """

    @property
    def name(self) -> str: ...

    @property
    def given_by(self) -> str: ...

    @property
    def compose_file(self) -> Path | None: ...

    def prepare(self, *, timed: bool = False) -> None:
        """Fetch or build what ``start`` runs, cached across runs; with ``timed``,
        also report on stderr what a rebuild from warm caches costs (CI's log).
        Raises ``ServerUnavailable`` when the machine lacks a tool it needs."""
        ...

    def start(self, state_dir: Path) -> dict[str, str]:
        """Start a server under ``state_dir`` (recording its pid there), wait until
        it answers, and return the environment its tests read (the variable
        ``given_by`` among them)."""
        ...

    def stop(self, state_dir: Path) -> None:
        """Stop the server ``start`` recorded under ``state_dir`` (a no-op if none)."""
        ...


def load_launcher(reference: str) -> Launcher:
    """The launcher ``"package.module:attribute"`` names; refuses anything else."""
    module_name, _, attribute = reference.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"launcher {reference!r} is not 'package.module:attribute'")
    launcher = getattr(importlib.import_module(module_name), attribute, None)
    if not isinstance(launcher, Launcher):
        raise TypeError(f"launcher {reference!r} is not a hybridmem.testing.launchers.Launcher")
    return launcher


def registered_launchers(registry: PairRegistry | None = None) -> dict[str, Launcher]:
    """Each launcher the registered backends name, once (two backends may share one
    server, as ``weaviate`` and ``weaviate_mt`` do), by reference, in backend order."""
    registry = registry or load_registry()
    found: dict[str, Launcher] = {}
    for backend in registry.backends.values():
        if backend.launcher and backend.launcher not in found:
            found[backend.launcher] = load_launcher(backend.launcher)
    return found


def compose_files(registry: PairRegistry | None = None) -> list[Path]:
    """The registered launchers' compose files (each adapter's own service)."""
    files = (launcher.compose_file for launcher in registered_launchers(registry).values())
    return [path for path in files if path is not None]
