"""mem0 by id across processes (issue 26): a memory one process wrote is found,
updated and deleted by its mem0 id from another, whose integration has never
listed or searched that user; after hybridmem's ``delete_all(user_id=...)``
nothing finds it, and after the documented compaction no file of the store
holds the user id or the mem0 id.

Every pair (not only the production ones): the lookup is each vector adapter's
own code. The other process is a real one (``tests.integrations.mem0_child``),
or a store object opened afresh on the same configuration; never shared memory.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hybridmem import HybridStore
from tests.conftest import open_pair, pair_params, selected_pairs
from tests.integrations.checks import assert_no_trace
from tests.integrations.mem0_child import mem0_on

ROOT = Path(__file__).resolve().parents[2]
ALICE = "alice-8c41f2e7"
BOB = "bob-3d95a0b1"


@pytest.fixture(params=pair_params(selected_pairs()))
def pair_config(request: pytest.FixtureRequest) -> Iterator[Any]:
    yield from open_pair(request, request.param)


@pytest.fixture
def config(pair_config: Any, tmp_path: Path) -> dict[str, Any]:
    opened: dict[str, Any] = pair_config(tmp_path / "data")
    return opened


def _other_process(config: dict[str, Any], history: Path, command: dict[str, Any]) -> Any:
    """``command`` run by mem0 in a process of its own, on the same store."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.integrations.mem0_child",
            json.dumps(config, default=str),
            str(history),
            json.dumps(command),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _files_holding(data_dir: Path, needles: list[str]) -> dict[str, list[str]]:
    """For each needle, the files under ``data_dir`` whose bytes contain it."""
    files = [p for p in data_dir.rglob("*") if p.is_file()]
    return {
        needle: [str(p) for p in files if needle.encode("utf-8") in p.read_bytes()]
        for needle in needles
    }


def test_written_by_one_process_found_updated_deleted_by_another(
    config: dict[str, Any], tmp_path: Path
) -> None:
    history = tmp_path / "mem0-history.db"
    kept, gone = _other_process(
        config,
        history,
        {"add": [["Alice likes tea", ALICE], ["Alice's old address", ALICE]]},
    )

    with HybridStore(config) as store:
        memory, _ = mem0_on(store, history)
        # This process never listed nor searched alice: the id alone finds her memory.
        found = memory.get(kept)
        assert found is not None
        assert (found["memory"], found["user_id"]) == ("Alice likes tea", ALICE)
        memory.update(kept, "Alice likes green tea")
        assert memory.get(kept)["memory"] == "Alice likes green tea"
        memory.delete(gone)
        assert memory.get(gone) is None
        listed = memory.get_all(filters={"user_id": ALICE})["results"]
        assert [m["memory"] for m in listed] == ["Alice likes green tea"]

    # And a third process sees what the second did, by id alone.
    assert _other_process(config, history, {"get": [kept, gone]}) == [
        "Alice likes green tea",
        None,
    ]


def test_a_fresh_store_object_finds_by_id(config: dict[str, Any], tmp_path: Path) -> None:
    history = tmp_path / "mem0-history.db"
    with HybridStore(config) as store:
        memory, _ = mem0_on(store, history)
        [added] = memory.add("Bob likes coffee", user_id=BOB, infer=False)["results"]
    with HybridStore(config) as store:
        memory, _ = mem0_on(store, history)
        assert memory.get(added["id"])["memory"] == "Bob likes coffee"
        memory.delete(added["id"])
        assert memory.get(added["id"]) is None
        assert memory.get_all(filters={"user_id": BOB})["results"] == []


def test_erased_user_is_gone_by_id_and_from_the_files(
    config: dict[str, Any], tmp_path: Path
) -> None:
    history = tmp_path / "mem0-history.db"
    alices, bobs = _other_process(
        config, history, {"add": [["Alice likes tea", ALICE], ["Bob likes coffee", BOB]]}
    )
    with HybridStore(config) as store:
        memory, _ = mem0_on(store, history)
        # Read by id first: nothing this process learnt may bring it back.
        assert memory.get(alices)["memory"] == "Alice likes tea"
        store.delete_all(user_id=ALICE)
        assert memory.get(alices) is None
        assert memory.get(bobs)["memory"] == "Bob likes coffee"
        assert_no_trace(store, left=1)

    assert _other_process(config, history, {"get": [alices, bobs]}) == [None, "Bob likes coffee"]

    with HybridStore(config) as store:
        store.compact()
    data_dir = Path(str(config["data_dir"]))
    holding = _files_holding(data_dir, [ALICE, alices, BOB, bobs])
    assert holding[ALICE] == [] and holding[alices] == [], holding
    if config["vector"]["provider"] in ("sqlite", "kuzu"):
        # The grep sees what lives: bob's memory is in the embedded vector file.
        assert holding[bobs], holding


def test_only_mem0_records_of_one_scope_answer_an_id(
    config: dict[str, Any], tmp_path: Path
) -> None:
    """A copy of the id's metadata written around mem0 never answers for it: without
    the marker it is not matched; with it, in a second scope, the id is refused
    rather than resolved to either user."""
    from hybridmem.mem0_lookup import MEM0_ID_KEY, MEM0_KEY, MEM0_MARKER_KEY, mem0_key

    history = tmp_path / "mem0-history.db"
    [alices] = _other_process(config, history, {"add": [["Alice likes tea", ALICE]]})
    key = {MEM0_ID_KEY: alices, MEM0_KEY: mem0_key(alices)}
    with HybridStore(config) as store:
        memory, _ = mem0_on(store, history)
        store.add("not mem0's", user_id=BOB, metadata=key, embedding=[0.5] * 16)
        assert memory.get(alices)["memory"] == "Alice likes tea"
        store.add(
            "a planted copy",
            user_id=BOB,
            metadata={**key, MEM0_MARKER_KEY: True},
            embedding=[0.5] * 16,
        )
        with pytest.raises(ValueError, match="more than one scope"):
            memory.get(alices)
