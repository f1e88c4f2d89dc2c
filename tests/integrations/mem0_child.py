"""mem0 on hybridmem in a process of its own (tests/integrations/test_mem0_processes.py).

``python -m tests.integrations.mem0_child CONFIG HISTORY COMMAND`` opens the store
of CONFIG (a JSON hybridmem configuration), builds mem0 on it as the README's
recipe does, runs COMMAND and prints its answer as one JSON line:

* ``{"add": [[text, user_id], ...]}``: the mem0 ids of the memories added;
* ``{"get": [mem0_id, ...]}``: each memory's text, or null.

Offline: ``infer=False`` and a local embedder, so no model is asked anything.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

os.environ["MEM0_TELEMETRY"] = "False"

from langchain_core.embeddings import DeterministicFakeEmbedding
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from mem0 import Memory

from hybridmem import HybridStore
from hybridmem.api import MemoryStore
from langchain_hybridmem import HybridMemMem0VectorStore

EMBEDDINGS = DeterministicFakeEmbedding(size=16)


def mem0_on(store: MemoryStore, history: Path) -> tuple[Memory, HybridMemMem0VectorStore]:
    vectorstore = HybridMemMem0VectorStore(store, EMBEDDINGS)
    memory = Memory.from_config(
        {
            "vector_store": {"provider": "langchain", "config": {"client": vectorstore}},
            "embedder": {"provider": "langchain", "config": {"model": EMBEDDINGS}},
            # infer=False never asks the model; mem0 still wants one configured.
            "llm": {"provider": "langchain", "config": {"model": FakeListChatModel(responses=[])}},
            "history_db_path": str(history),
        }
    )
    return memory, vectorstore


def run(memory: Memory, command: dict[str, Any]) -> Any:
    if "add" in command:
        return [
            memory.add(text, user_id=user_id, infer=False)["results"][0]["id"]
            for text, user_id in command["add"]
        ]
    found = [memory.get(mem0_id) for mem0_id in command["get"]]
    return [None if item is None else item["memory"] for item in found]


def main() -> None:
    config, history, command = json.loads(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    with HybridStore(config) as store:
        memory, _ = mem0_on(store, history)
        answer = run(memory, json.loads(command))
    print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
