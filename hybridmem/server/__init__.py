"""The REST server (FastAPI). ``create_app`` needs the ``server`` extra.

The wire contract the HTTP client shares lives outside this package, in
``hybridmem.wire``, so the client imports nothing of the server.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hybridmem.server.app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    # Lazy: importing hybridmem.server must not import FastAPI.
    if name == "create_app":
        from hybridmem.server.app import create_app

        return create_app
    raise AttributeError(name)
