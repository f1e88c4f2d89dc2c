"""The Docker path of the server fixtures, as a pytest plugin (pytest-docker's).

A server adapter's fixture plugin lists this module in its ``pytest_plugins``; when
no address is given and ``docker_answers()``, the fixture asks for pytest-docker's
``docker_services``, which runs ``docker compose -f A -f B ... up`` over
``docker_compose_file``: here, every registered launcher's compose file (each
adapter ships its own service), so one session's containers serve every backend.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

from hybridmem.testing.launchers import compose_files


def docker_answers() -> bool:
    """A Docker engine answers ``docker info`` here."""
    if shutil.which("docker") is None:
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=20).returncode == 0
    except subprocess.TimeoutExpired:
        return False


@pytest.fixture(scope="session")
def docker_compose_file() -> list[str]:
    """Every registered adapter's compose file (pytest-docker accepts a list)."""
    return [str(path) for path in compose_files()]
