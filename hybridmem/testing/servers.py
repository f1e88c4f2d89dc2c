"""Start and stop every registered backend's native test server, for a test run.

    python -m hybridmem.testing.servers start --state DIR [--time-builds] [--require-all]
    python -m hybridmem.testing.servers stop --state DIR
    python -m hybridmem.testing.servers compose-files     # "-f FILE" per adapter

``start`` starts each launcher the registered backends name (``TestBackend.launcher``)
once, skipping one whose ``given_by`` variable is already set (a server given), and
prints ``export`` lines for the shell to eval: each server's variables, then
``HYBRIDMEM_TEST_PAIRS`` (kept if set; else the default pairs whose servers are all
available, embedded pairs first). Progress and timings go to stderr. A launcher whose
machine lacks a tool (``ServerUnavailable``) is left out with its pairs, unless
``--require-all``. ``stop`` stops what ``start`` recorded in ``DIR``, last first.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import warnings
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from hybridmem.testing.launchers import (
    ServerUnavailable,
    compose_files,
    load_launcher,
    registered_launchers,
)
from hybridmem.testing.pair_registry import PairRegistry, TestBackend, load_registry

PAIRS_VARIABLE = "HYBRIDMEM_TEST_PAIRS"
#: The launchers ``start`` started, in order, for ``stop`` (which needs no registry).
STATE_FILE = "started-launchers.json"


def start_servers(
    state_dir: Path,
    environ: Mapping[str, str],
    registry: PairRegistry | None = None,
    *,
    time_builds: bool = False,
    require_all: bool = False,
) -> dict[str, str]:
    """Start the registered launchers; the environment a run exports (with the pairs).
    On any error, the servers already started are stopped before it propagates."""
    registry = registry or load_registry()
    state_dir.mkdir(parents=True, exist_ok=True)
    exports: dict[str, str] = {}
    started: list[str] = []
    unavailable: set[str] = set()
    _write_state(state_dir, started)
    try:
        for reference, launcher in registered_launchers(registry).items():
            if environ.get(launcher.given_by):
                _note(f"{launcher.name}: {launcher.given_by} is set; not started")
                continue
            try:
                launcher.prepare(timed=time_builds)
            except ServerUnavailable as exc:
                if require_all:
                    raise
                _note(f"{launcher.name}: not started ({exc}); its pairs are left out")
                unavailable.add(reference)
                continue
            # Recorded before it starts: a start that fails half-way is still stopped.
            started.append(reference)
            _write_state(state_dir, started)
            exports.update(launcher.start(state_dir))
    except BaseException:
        stop_servers(state_dir)
        raise
    exports[PAIRS_VARIABLE] = environ.get(PAIRS_VARIABLE) or ",".join(
        available_pairs(registry, unavailable)
    )
    return exports


def available_pairs(registry: PairRegistry, unavailable: Collection[str] = ()) -> list[str]:
    """The default pairs whose backends' launchers are not ``unavailable``: fewest
    servers first (the embedded pairs), production pairs first among equals, then in
    registration order."""

    def usable(backend: TestBackend) -> bool:
        return backend.launcher not in unavailable

    def servers(backend: TestBackend) -> int:
        return int(backend.launcher is not None or backend.server_fixture is not None)

    ranked: list[tuple[int, bool, int, str]] = []
    for index, pair in enumerate(registry.pairs):
        if pair.kind != "default":
            continue
        graph, vector = registry.backends[pair.graph], registry.backends[pair.vector]
        if usable(graph) and usable(vector):
            needs = servers(graph) + servers(vector)
            ranked.append((needs, not pair.production, index, pair.id))
    return [pair_id for *_, pair_id in sorted(ranked)]


def stop_servers(state_dir: Path) -> None:
    """Stop every launcher ``start_servers`` recorded in ``state_dir``, last first;
    each is stopped even if another fails to be."""
    state_file = state_dir / STATE_FILE
    if not state_file.exists():
        return
    errors: list[BaseException] = []
    for reference in reversed(json.loads(state_file.read_text())):
        try:
            load_launcher(reference).stop(state_dir)
        except Exception as exc:
            errors.append(exc)
    state_file.unlink()
    if errors:
        raise errors[0]


def _write_state(state_dir: Path, started: list[str]) -> None:
    (state_dir / STATE_FILE).write_text(json.dumps(started))


@contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    """Everything a launcher or its tools (mvn, go) print goes to stderr, at the
    descriptor level: stdout carries only the export lines a shell evals."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def _note(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None, registry: PairRegistry | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m hybridmem.testing.servers",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("command", choices=["start", "stop", "compose-files"])
    parser.add_argument("--state", type=Path, help="directory for the servers' data and pids")
    parser.add_argument(
        "--time-builds", action="store_true", help="also time rebuilds from warm caches"
    )
    parser.add_argument(
        "--require-all", action="store_true", help="a server this machine cannot run is an error"
    )
    args = parser.parse_args(argv)
    if args.command == "compose-files":
        print(" ".join(f"-f {shlex.quote(str(path))}" for path in compose_files(registry)))
        return
    if args.state is None:
        parser.error("--state is required")
    if args.command == "stop":
        stop_servers(args.state)
        return
    # The servers outlive their Popen objects on purpose (``stop`` ends them):
    # Popen's "still running" warning when one is dropped is noise in every log.
    with _stdout_to_stderr(), warnings.catch_warnings():
        # After the launchers' imports: a library among them puts a "default" filter
        # for every warning first.
        registered_launchers(registry)
        warnings.simplefilter("ignore", ResourceWarning)
        exports = start_servers(
            args.state,
            os.environ,
            registry,
            time_builds=args.time_builds,
            require_all=args.require_all,
        )
    for name, value in exports.items():
        print(f"export {name}={shlex.quote(value)}")


if __name__ == "__main__":
    main()
