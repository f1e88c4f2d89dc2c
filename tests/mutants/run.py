"""Run the mutation matrix: one line per row, killed or survived, with its time.

    python -m tests.mutants.run                 # every row
    python -m tests.mutants.run --embedded-only # rows on the embedded pairs only
    python -m tests.mutants.run ROW [ROW ...]   # some rows
    python -m tests.mutants.run --list

First a sanity run per pair: every test the rows name must pass without any
break (a row whose tests fail anyway proves nothing). Then each row runs its
tests with ``-x -q`` under its break. Exit 1 (a test failed) is "killed"; exit 0
is "survived"; any other exit (collection error, usage error, a break that no
longer applies) is "error". A survivor or an error fails the run.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from tests.mutants.catalogue import ROWS, Row

ROOT = Path(__file__).resolve().parents[2]
SITE = Path(__file__).resolve().parent / "site"


@dataclass(frozen=True)
class Outcome:
    label: str
    verdict: str
    seconds: float
    tail: str


def _env(mutant: str | None, pair: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "HYBRIDMEM_MUTANT"}
    env["HYBRIDMEM_TEST_PAIRS"] = pair
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(SITE), str(ROOT), os.environ.get("PYTHONPATH", "")) if p
    )
    if mutant is not None:
        env["HYBRIDMEM_MUTANT"] = mutant
    return env


def _pytest(
    tests: Sequence[str], env: dict[str, str], *, stop_first: bool
) -> tuple[int, str, float]:
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    command += ["-p", "tests.mutants.plugin"]
    if stop_first:
        command.append("-x")
    started = time.monotonic()
    done = subprocess.run(
        [*command, *tests], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    return done.returncode, (done.stdout + done.stderr)[-1500:], time.monotonic() - started


def sanity(pair: str, rows: Sequence[Row]) -> Outcome:
    tests = sorted({t for row in rows for t in row.tests})
    code, tail, seconds = _pytest(tests, _env(None, pair), stop_first=False)
    verdict = "passes" if code == 0 else f"FAILS without a mutant (exit {code})"
    return Outcome(f"sanity {pair} ({len(tests)} tests)", verdict, seconds, tail)


def mutate(row: Row) -> Outcome:
    code, tail, seconds = _pytest(row.tests, _env(row.name, row.pair), stop_first=True)
    verdict = {1: "killed", 0: "SURVIVED"}.get(code, f"ERROR (exit {code})")
    return Outcome(row.name, verdict, seconds, tail)


def _print(outcome: Outcome, *, show_tail: bool) -> None:
    print(f"{outcome.label:<58} {outcome.verdict:<10} {outcome.seconds:6.1f}s", flush=True)
    if show_tail:
        print("    " + outcome.tail.strip().replace("\n", "\n    "), flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rows", nargs="*", help="row names (default: all)")
    parser.add_argument("--embedded-only", action="store_true", help="skip rows needing a server")
    parser.add_argument("--no-sanity", action="store_true", help="skip the runs without a break")
    parser.add_argument("--jobs", type=int, default=int(os.environ.get("MUTANTS_JOBS", "2")))
    parser.add_argument("--list", action="store_true", help="list the rows and exit")
    args = parser.parse_args(argv)

    unknown = [name for name in args.rows if name not in ROWS]
    if unknown:
        parser.error(f"unknown rows: {unknown}; see --list")
    rows = [ROWS[name] for name in args.rows] if args.rows else list(ROWS.values())
    if args.embedded_only:
        rows = [row for row in rows if not row.needs_server]
    if args.list:
        for row in rows:
            print(f"{row.name:<46} [{row.pair}] {row.guarantee}")
        return 0

    started = time.monotonic()
    failed = 0
    pairs = sorted({row.pair for row in rows})
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        if not args.no_sanity:
            for outcome in pool.map(lambda p: sanity(p, [r for r in rows if r.pair == p]), pairs):
                bad = outcome.verdict != "passes"
                failed += bad
                _print(outcome, show_tail=bad)
        for outcome in pool.map(mutate, rows):
            bad = outcome.verdict != "killed"
            failed += bad
            _print(outcome, show_tail=bad)
    total = time.monotonic() - started
    print(
        f"mutation matrix: {len(rows)} rows, {failed} failing, {total:.0f}s"
        + ("" if failed else " — every mutant killed")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
