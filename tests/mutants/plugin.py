"""pytest plugin (``-p tests.mutants.plugin``): applies ``HYBRIDMEM_MUTANT`` in the
test process before any test is collected. Subprocesses the tests start (servers,
CLI, crash children) get it from tests/mutants/site/sitecustomize.py, which the
runner puts on PYTHONPATH."""

from __future__ import annotations

import pytest

from tests.mutants.activate import activate


def pytest_configure(config: pytest.Config) -> None:
    name = activate()
    if name:
        config.stash[_KEY] = name


def pytest_report_header(config: pytest.Config) -> str | None:
    name = config.stash.get(_KEY, None)
    return f"mutant applied: {name}" if name else None


_KEY = pytest.StashKey[str]()
