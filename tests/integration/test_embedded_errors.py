"""The embedded default's failure modes give clear errors naming the store and its file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hybridmem import ConfigurationError, HybridStore


def test_a_store_locked_by_another_process_names_the_store_and_file(tmp_path: Path) -> None:
    with HybridStore.embedded(tmp_path) as store:
        store.add("x", embedding=[1.0, 2.0], user_id="u")
        child = subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys; from hybridmem import HybridStore, StoreUnavailableError\n"
                "try:\n    HybridStore.embedded(sys.argv[1])\n"
                "except StoreUnavailableError as e:\n    print(e); sys.exit(3)\n",
                str(tmp_path),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert child.returncode == 3, child.stderr[-1000:]
    assert "Kuzu graph store" in child.stdout and str(tmp_path / "graph.kuzu") in child.stdout


def test_unknown_provider_lists_installed_ones(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as caught:
        HybridStore({"data_dir": str(tmp_path), "graph": {"provider": "nebula"}})
    message = str(caught.value)
    assert "unknown provider 'nebula'" in message
    assert "kuzu" in message and "install hybridmem-nebula" in message


def test_bad_adapter_option_names_the_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"graph\.paht"):
        HybridStore({"data_dir": str(tmp_path), "graph": {"provider": "kuzu", "paht": "x"}})


def test_config_from_toml_and_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "hybridmem.toml"
    config.write_text(
        f'data_dir = "{tmp_path / "from-file"}"\nbatch_size = 50\n'
        '[graph]\nprovider = "kuzu"\n[vector]\nprovider = "kuzu"\n'
    )
    monkeypatch.setenv("HYBRIDMEM_BATCH_SIZE", "70")
    with HybridStore.from_config(config) as store:
        assert store.config.batch_size == 70  # environment over file
        assert store.config.data_dir == tmp_path / "from-file"
        assert (tmp_path / "from-file" / "graph.kuzu").exists()
    monkeypatch.setenv("HYBRIDMEM_GRAPH__PROVIDER", "nosuch")
    with pytest.raises(ConfigurationError, match="unknown provider 'nosuch'"):
        HybridStore.from_config(config)


def test_erased_text_leaves_no_bytes_in_the_journal(tmp_path: Path) -> None:
    secret = "alice-secret-zqxj-4711"
    with HybridStore.embedded(tmp_path) as store:
        for i in range(20):
            store.add(f"bob {i}", embedding=[1.0, float(i)], user_id="bob")
        memory = store.add(secret, embedding=[1.0, 0.5], user_id="alice")
        store.update(memory.id, text=secret + " v2")
        store.delete_all(user_id="alice")
        assert all(e.old_text is None and e.new_text is None for e in store.history(memory.id))
    for path in tmp_path.glob("journal.sqlite3*"):
        assert secret.encode() not in path.read_bytes(), path
