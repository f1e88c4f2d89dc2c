"""The launchers in compose/, loaded by file path: compose/ is not a package."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

COMPOSE = Path(__file__).resolve().parents[2] / "compose"


def load(name: str) -> ModuleType:
    """``compose/<name>.py``, executed afresh under the module name ``name``."""
    spec = importlib.util.spec_from_file_location(name, COMPOSE / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # Registered before it runs: dataclasses resolve string annotations through
    # sys.modules, and weaviate_cluster.py reuses the weaviate_native found there.
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
