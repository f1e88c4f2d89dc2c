"""Who holds a data directory whose stores include an embedded Kuzu file.

A Kuzu (or LadybugDB) file admits one read-write process. ``hybridmem serve``
on such a directory publishes its address and a local admin credential in
``<data_dir>/owner.json`` (mode 0600: readable by its user only), and removes
the file on a clean shutdown. The CLI and ``hybridmem mcp`` call :func:`held_by`
and go through that server; ``HybridStore`` calls :func:`refuse_if_held` and
raises :class:`StoreBusyError`, which says how to reach the owner.

A file whose owner is gone (its pid dead, or its address not answering) is
stale: it is ignored here and replaced by the next ``hybridmem serve``.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hybridmem.config import HybridMemConfig
from hybridmem.errors import StoreBusyError

OWNER_FILE = "owner.json"
#: Providers whose store is a file in the data directory, opened by one process.
EMBEDDED_PROVIDERS = frozenset({"kuzu"})
#: How long the liveness probe of a published address may take.
PROBE_SECONDS = 2.0


@dataclass(frozen=True)
class Owner:
    """The process serving a data directory: where to reach it and its local key."""

    url: str
    api_key: str
    pid: int
    host: str
    #: The published file (its api_key is what ``HybridMemClient`` needs).
    path: Path


def uses_embedded_file(config: HybridMemConfig) -> bool:
    return (
        config.graph.provider in EMBEDDED_PROVIDERS or config.vector.provider in EMBEDDED_PROVIDERS
    )


def owner_path(data_dir: Path) -> Path:
    return data_dir / OWNER_FILE


def held_by(config: HybridMemConfig) -> Owner | None:
    """The live server holding ``config``'s data directory, if its stores include an
    embedded file and one publishes itself there; None otherwise."""
    if not uses_embedded_file(config):
        return None
    return find_owner(config.data_dir)


def refuse_if_held(config: HybridMemConfig) -> None:
    """Raise StoreBusyError when a live ``hybridmem serve`` holds the data directory."""
    owner = held_by(config)
    if owner is not None:
        raise StoreBusyError(config.data_dir, owner)


def find_owner(data_dir: Path) -> Owner | None:
    """The published owner of ``data_dir`` when it is alive; None for no file, a
    stale one, or one this user did not write alone (its address and key would
    otherwise be trusted with this user's memories)."""
    path = owner_path(data_dir)
    try:
        info = path.stat()
        if info.st_uid != os.getuid() or info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            return None
        owner = _parse(json.loads(path.read_text(encoding="utf-8")), path)
    except (OSError, ValueError):
        return None
    if owner is None:
        return None
    if owner.host == socket.gethostname() and not _pid_alive(owner.pid):
        return None
    return owner if _answers(owner.url) else None


def _parse(data: Any, path: Path) -> Owner | None:
    if not isinstance(data, dict):
        return None
    url, key, pid, host = (data.get(k) for k in ("url", "api_key", "pid", "host"))
    if not (isinstance(url, str) and isinstance(key, str) and isinstance(host, str)):
        return None
    if isinstance(pid, bool) or not isinstance(pid, int):
        return None
    return Owner(url=url, api_key=key, pid=pid, host=host, path=path)


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        # Alive, under another user: its address decides.
        return True
    return True


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=PROBE_SECONDS) as response:
            return int(response.status) == 200
    except (OSError, urllib.error.URLError, ValueError):
        return False


def publish(data_dir: Path, url: str, api_key: str) -> Owner:
    """Write the owner file for this process (replacing a stale one), mode 0600 from
    its creation: the key is never readable by another user, even briefly."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = owner_path(data_dir)
    owner = Owner(url=url, api_key=api_key, pid=os.getpid(), host=socket.gethostname(), path=path)
    body = json.dumps(
        {"url": owner.url, "api_key": owner.api_key, "pid": owner.pid, "host": owner.host}
    )
    partial = path.with_name(f".{OWNER_FILE}.{owner.pid}.partial")
    partial.unlink(missing_ok=True)
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(body)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return owner


def withdraw(owner: Owner) -> None:
    """Remove the owner file if it is still this owner's (a later serve may have
    replaced a file it took for stale)."""
    try:
        current = _parse(json.loads(owner.path.read_text(encoding="utf-8")), owner.path)
    except (OSError, ValueError):
        return
    if current is not None and (current.pid, current.api_key) == (owner.pid, owner.api_key):
        owner.path.unlink(missing_ok=True)


def local_url(host: str, port: int) -> str:
    """The address a local client reaches a server bound to ``host``:``port`` at."""
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
