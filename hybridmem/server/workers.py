"""The app of one uvicorn worker of ``hybridmem serve --workers N``.

uvicorn starts each worker as a fresh process (spawn) that imports the app by
name, so the configuration the parent loaded and checked reaches the workers in
a file only this user can read (a 0600 file in a 0700 directory): the config
holds the stores' passwords and the API keys, which an environment variable would
pass on to every child process the worker starts. The environment variable
:data:`CONFIG_ENV` names the file. Each worker opens its own ``HybridStore`` from
it on startup (which recovers only the operations whose owner's lease ran out:
the shared journal decides) and closes it on shutdown.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from pydantic import SecretStr

from hybridmem.config import HybridMemConfig
from hybridmem.errors import ConfigurationError
from hybridmem.server.app import create_app

#: The path of the worker configuration file, set by the parent for its workers.
CONFIG_ENV = "HYBRIDMEM_SERVE_WORKER_CONFIG"
#: The name uvicorn imports in every worker (a factory: ``factory=True``).
APP_FACTORY = "hybridmem.server.workers:worker_app"
_FILE = "config.json"


def _plain(value: object) -> Any:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot pass {type(value).__name__} to a worker")


@contextmanager
def handed_to_workers(settings: HybridMemConfig) -> Iterator[Path]:
    """Write ``settings`` where the workers started inside this block read it; the
    file and its directory are removed when the block ends (uvicorn may restart a
    worker at any time before that, so the file lives as long as the parent)."""
    directory = Path(tempfile.mkdtemp(prefix="hybridmem-serve-"))  # mode 0700
    path = directory / _FILE
    previous = os.environ.get(CONFIG_ENV)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(settings.model_dump(), handle, default=_plain)
        os.environ[CONFIG_ENV] = str(path)
        yield path
    finally:
        if previous is None:
            os.environ.pop(CONFIG_ENV, None)
        else:
            os.environ[CONFIG_ENV] = previous
        shutil.rmtree(directory, ignore_errors=True)


def handed_config() -> HybridMemConfig:
    """The configuration the parent handed to this worker."""
    where = os.environ.get(CONFIG_ENV)
    if not where:
        raise ConfigurationError(
            f"{CONFIG_ENV} is not set: {APP_FACTORY} is started by `hybridmem serve --workers N`"
        )
    try:
        data = json.loads(Path(where).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"cannot read the worker configuration {where}: {exc}") from None
    return HybridMemConfig.load(data)


def worker_app() -> FastAPI:
    """uvicorn's app factory in each worker: the store opens on startup, closes on
    shutdown (``create_app`` given a config owns its store)."""
    return create_app(handed_config())
