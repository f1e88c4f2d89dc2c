"""Every Kuzu-adapter suite runs on every engine option.

LadybugDB and Kuzu cannot share a process (both register the same native types),
so a suite runs here on the default engine, and ``suite_on_other_engines`` adds
one test per other engine that runs the same file in a child process on it and
requires every one of its tests to pass there.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from hybridmem_kuzu._engine import DEFAULT_ENGINE, ENGINES

_ENGINE_ENV = "HYBRIDMEM_TEST_KUZU_ENGINE"
#: The engine this process's suites run on.
ENGINE: str = os.environ.get(_ENGINE_ENV, DEFAULT_ENGINE)
#: The engine that is not ``ENGINE`` (files written by it, refused by it).
OTHER_ENGINE: str = next(name for name in ENGINES if name != ENGINE)
_IN_CHILD = _ENGINE_ENV in os.environ


def suite_on_other_engines(test_file: str) -> Any:
    """A test (assign it to a ``test_…`` name in the suite's module) that runs the
    module in a child process on each other engine; not defined inside that child."""
    if _IN_CHILD:
        return None

    @pytest.mark.parametrize("engine", [name for name in ENGINES if name != ENGINE])
    def test_the_suite_passes_on_every_engine(engine: str, request: pytest.FixtureRequest) -> None:
        here = [
            item
            for item in request.session.items
            if Path(str(item.path)) == Path(test_file)
            and not item.name.startswith("test_the_suite_passes_on_every_engine")
        ]
        child = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", test_file],
            env={**os.environ, _ENGINE_ENV: engine},
            capture_output=True,
            text=True,
            timeout=1200,
        )
        summary = child.stdout.strip().splitlines()[-1] if child.stdout.strip() else ""
        assert child.returncode == 0, child.stdout[-4000:] + child.stderr[-2000:]
        # Every test passed: nothing skipped, deselected or expected to fail.
        passed = re.fullmatch(r"=*\s*(\d+) passed in [\d.]+s.*", summary)
        assert passed, summary
        # A run selected by -k here collects fewer; the child always runs them all.
        assert int(passed.group(1)) >= len(here), summary

    return test_the_suite_passes_on_every_engine
