"""Text in: add(text) and search("query") through the configured embedder."""

from __future__ import annotations

from pathlib import Path

import pytest

from hybridmem import HybridStore
from hybridmem.embedders.hashing import HashingEmbedder
from hybridmem.errors import ConfigurationError, DimensionMismatchError, ValidationError


def test_add_and_search_by_text_with_the_default_embedder(embedded: HybridStore) -> None:
    assert embedded.embedder is not None and embedded.embedder.name.startswith("wordllama")
    home = embedded.add("Alice lives in Lisbon with her partner Sam", user_id="alice")
    embedded.add("Alice prefers window seats on long flights", user_id="alice")
    embedded.add("Bob lives in Lisbon", user_id="bob")
    assert len(home.embedding) == 256
    hits = embedded.search("which city is her home", user_id="alice", limit=2)
    assert hits[0].memory.id == home.id
    assert {h.memory.user_id for h in hits} == {"alice"}
    # The same search by vector gives the same ranking.
    assert embedded.embedder is not None
    vector = embedded.embedder.embed(["which city is her home"])[0]
    assert [h.memory.id for h in embedded.search(vector, user_id="alice", limit=2)] == [
        h.memory.id for h in hits
    ]
    assert embedded.search(embedding=vector, user_id="alice", limit=1)[0].memory.id == home.id


def test_search_needs_exactly_one_query(embedded: HybridStore) -> None:
    with pytest.raises(ValidationError, match="exactly one"):
        embedded.search(user_id="alice")
    with pytest.raises(ValidationError, match="exactly one"):
        embedded.search("x", embedding=[1.0, 0.0], user_id="alice")


def test_no_embedder_configured_says_how_to_configure_one(tmp_path: Path) -> None:
    with HybridStore.embedded(tmp_path / "d") as store:
        store.embedder = None  # as when nothing is configured and wordllama is absent
        with pytest.raises(ConfigurationError, match=r"\[embedder\] provider = 'wordllama'"):
            store.add("Alice lives in Lisbon", user_id="alice")
        with pytest.raises(ConfigurationError, match="HYBRIDMEM_EMBEDDER__PROVIDER"):
            store.search("Lisbon", user_id="alice")
        # Vectors given by the caller still work.
        store.add("Alice lives in Lisbon", embedding=[1.0, 0.0], user_id="alice")
        assert store.search([1.0, 0.0], user_id="alice")[0].memory.text == "Alice lives in Lisbon"


def test_store_refuses_to_open_with_another_embedder(tmp_path: Path) -> None:
    data = tmp_path / "d"
    with HybridStore.embedded(data, embedder={"provider": "hashing", "dimension": 32}) as store:
        store.add("Alice lives in Lisbon", user_id="alice")
    with pytest.raises(ConfigurationError) as caught:
        HybridStore.embedded(data)
    message = str(caught.value)
    assert "'hashing' (32 dimensions)" in message
    assert "'wordllama:l2_supercat' (256 dimensions)" in message
    # The same embedder opens it again, and finds the memory by text.
    with HybridStore.embedded(data, embedder={"provider": "hashing", "dimension": 32}) as store:
        assert store.search("Lisbon Alice", user_id="alice")[0].memory.user_id == "alice"


def test_reset_forgets_the_embedder(tmp_path: Path) -> None:
    data = tmp_path / "d"
    with HybridStore.embedded(data, embedder={"provider": "hashing"}) as store:
        store.add("x y", user_id="alice")
        store.reset()
    with HybridStore.embedded(data) as store:
        store.add("Alice lives in Lisbon", user_id="alice")


def test_embedder_object_can_be_passed(tmp_path: Path) -> None:
    with HybridStore.embedded(tmp_path / "d", embedder={"provider": "hashing"}) as first:
        first.add("seed", embedding=[1.0] * 8, user_id="alice")
    # A store of 8-dimension vectors searched with a 64-dimension embedder.
    with (
        HybridStore({"data_dir": tmp_path / "d"}, embedder=HashingEmbedder(64)) as store,
        pytest.raises(DimensionMismatchError),
    ):
        store.search("seed", user_id="alice")


def test_demo_question_finds_its_memory_by_meaning_alone(tmp_path: Path) -> None:
    import re

    from hybridmem.demo_data import ANSWER, MEMORIES, QUESTION
    from hybridmem.embedders.hashing import _STOPWORDS

    def words(text: str) -> set[str]:
        return set(re.findall(r"[a-z0-9]+", text.lower())) - _STOPWORDS - {"she", "her"}

    # The premise: no content word in common, so only meaning can link them.
    assert not words(QUESTION) & words(ANSWER)
    with HybridStore.embedded(tmp_path / "d", embedder={"provider": "wordllama"}) as store:
        for m in MEMORIES:
            store.add(m.text, user_id=m.user_id)
        assert store.search(QUESTION, user_id="alice", limit=1)[0].memory.text == ANSWER
    with HybridStore.embedded(tmp_path / "h", embedder={"provider": "hashing"}) as store:
        for m in MEMORIES:
            store.add(m.text, user_id=m.user_id)
        # The placeholder matches words, not meaning: it misses it.
        assert store.search(QUESTION, user_id="alice", limit=1)[0].memory.text != ANSWER
