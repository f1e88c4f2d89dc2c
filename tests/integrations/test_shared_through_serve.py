"""Many app processes, one store (issue 23): the LangGraph store and the LangChain
VectorStore over clients of one live ``hybridmem serve``. Another process writes;
this one reads what it wrote, and its erasures reach that process too."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from typing import Any

from langchain_core.embeddings import DeterministicFakeEmbedding

from hybridmem.client import HybridMemClient
from langchain_hybridmem import HybridMemVectorStore
from langgraph_hybridmem import HybridMemStore
from tests.server.live import LiveServer

INDEX: Any = {"dims": 16, "embed": DeterministicFakeEmbedding(size=16), "fields": ["text"]}

_WRITER = """
import sys
from langchain_core.documents import Document
from langchain_core.embeddings import DeterministicFakeEmbedding
from hybridmem.client import HybridMemClient
from langchain_hybridmem import HybridMemVectorStore
from langgraph_hybridmem import HybridMemStore

embeddings = DeterministicFakeEmbedding(size=16)
with HybridMemClient(sys.argv[1]) as client:
    lg = HybridMemStore(client, index={"dims": 16, "embed": embeddings, "fields": ["text"]})
    lg.put(("memories", "alice"), "tea", {"text": "Alice likes tea"})
    lg.put(("memories", "alice", "planner"), "trip", {"text": "Lisbon in May"})
    lg.put(("docs",), "manual", {"text": "how to brew"})
    vs = HybridMemVectorStore(client, embeddings, user_id="bob")
    vs.add_documents([Document("Bob rides trams", id="d1"), Document("Bob reads", id="d2")])
print("written")
"""


_READER = """
import json, sys
from langchain_core.embeddings import DeterministicFakeEmbedding
from hybridmem.client import HybridMemClient
from langchain_hybridmem import HybridMemVectorStore
from langgraph_hybridmem import HybridMemStore

embeddings = DeterministicFakeEmbedding(size=16)
with HybridMemClient(sys.argv[1]) as client:
    lg = HybridMemStore(client, index={"dims": 16, "embed": embeddings, "fields": ["text"]})
    vs = HybridMemVectorStore(client, embeddings, user_id="bob")
    print(json.dumps({
        "namespaces": lg.list_namespaces(),
        "tea": lg.get(("memories", "alice"), "tea"),
        "bob": [d.id for d in vs.get_by_ids(["d1", "d2"])],
    }))
"""


def _read_in_another_process(url: str) -> Any:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_READER), url],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _write_in_another_process(url: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_WRITER), url],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "written"


def test_one_process_puts_another_reads_and_erases(served: LiveServer) -> None:
    with HybridMemClient(served.url) as client:
        client.reset()
        _write_in_another_process(served.url)

        lg = HybridMemStore(client, index=INDEX)
        item = lg.get(("memories", "alice"), "tea")
        assert item is not None and item.value == {"text": "Alice likes tea"}
        assert lg.list_namespaces() == [
            ("docs",),
            ("memories", "alice"),
            ("memories", "alice", "planner"),
        ]
        [best, *_] = lg.search(("memories",), query="Alice likes tea")
        assert (best.namespace, best.key) == (("memories", "alice"), "tea")
        vs = HybridMemVectorStore(client, INDEX["embed"], user_id="bob")
        [hit] = vs.similarity_search("Bob rides trams", k=1)
        assert (hit.id, hit.page_content) == ("d1", "Bob rides trams")

        # This process's erasures are the other process's too: one store.
        lg.delete_namespace(("memories", "alice"))
        vs.delete(["d1"])
        seen = _read_in_another_process(served.url)
        assert seen == {"namespaces": [["docs"]], "tea": None, "bob": ["d2"]}
        assert client.get_all(user_id="alice", limit=None) == []
