"""HybridMemStore as LangGraph apps use it: a compiled graph whose nodes reach the store
through get_store(), and LangMem's memory tools. Offline: a fake chat model."""

from __future__ import annotations

from typing import Any, TypedDict

from langchain_core.embeddings import DeterministicFakeEmbedding
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import HumanMessage, SystemMessage
from langchain_core.runnables import RunnableConfig
from langgraph.config import get_store
from langgraph.graph import END, START, StateGraph
from langmem import create_manage_memory_tool, create_search_memory_tool

from hybridmem import HybridStore
from langgraph_hybridmem import HybridMemStore
from tests.integrations.checks import assert_no_trace
from tests.integrations.langgraph_checks import items_only

EMBEDDINGS = DeterministicFakeEmbedding(size=16)


class State(TypedDict, total=False):
    message: str
    recalled: list[str]
    answer: str
    prompt: list[str]


def _namespace(config: RunnableConfig) -> tuple[str, ...]:
    return ("memories", config["configurable"]["user_id"])


def remember(state: State, config: RunnableConfig) -> dict[str, Any]:
    store = get_store()
    count = len(store.search(_namespace(config), limit=100))
    store.put(_namespace(config), f"m{count}", {"text": state["message"]})
    return {}


def recall(state: State, config: RunnableConfig) -> dict[str, Any]:
    hits = get_store().search(_namespace(config), query=state["message"], limit=3)
    return {"recalled": [h.value["text"] for h in hits]}


def build(model: FakeListChatModel) -> StateGraph[State]:
    def respond(state: State) -> dict[str, Any]:
        prompt = [SystemMessage("Known: " + "; ".join(state["recalled"]))]
        reply = model.invoke([*prompt, HumanMessage(state["message"])])
        return {"answer": reply.content, "prompt": [str(m.content) for m in prompt]}

    graph = StateGraph(State)
    graph.add_node("remember", remember)
    graph.add_node("recall", recall)
    graph.add_node("respond", respond)
    graph.add_edge(START, "remember")
    graph.add_edge("remember", "recall")
    graph.add_edge("recall", "respond")
    graph.add_edge("respond", END)
    return graph


def test_compiled_graph_nodes_use_the_store(store: HybridStore) -> None:
    lg = HybridMemStore(store, index={"dims": 16, "embed": EMBEDDINGS, "fields": ["text"]})
    model = FakeListChatModel(responses=["Noted.", "You like green tea."])
    app = build(model).compile(store=lg)
    alice: RunnableConfig = {"configurable": {"user_id": "alice"}}
    bob: RunnableConfig = {"configurable": {"user_id": "bob"}}
    app.invoke({"message": "I like green tea"}, alice)
    app.invoke({"message": "I like black coffee"}, bob)
    out = app.invoke({"message": "What do I like?"}, alice)
    assert out["answer"] == "Noted."  # the fake model cycles its responses
    assert set(out["recalled"]) == {"I like green tea", "What do I like?"}
    assert "black coffee" not in out["prompt"][0]
    assert sorted(m.text for m in items_only(store.get_all(user_id="alice"))) == [
        "I like green tea",
        "What do I like?",
    ]
    # Erasing alice through the store LangGraph was given leaves bob's memory alone.
    lg.delete_namespace(("memories", "alice"))
    assert app.invoke({"message": "anything?"}, alice)["recalled"] == ["anything?"]
    lg.delete_namespace(("memories", "alice"))
    assert_no_trace(store, left=2)  # bob's memory and his namespace's marker


def test_langmem_tools_manage_and_search(store: HybridStore) -> None:
    lg = HybridMemStore(store, index={"dims": 16, "embed": EMBEDDINGS})
    namespace = ("memories", "{langgraph_user_id}")
    manage = create_manage_memory_tool(namespace=namespace, store=lg)
    search = create_search_memory_tool(namespace=namespace, store=lg)
    alice: RunnableConfig = {"configurable": {"langgraph_user_id": "alice"}}
    created = manage.invoke({"content": "Alice prefers window seats", "action": "create"}, alice)
    assert "created memory" in str(created)
    manage.invoke({"content": "Alice is vegetarian", "action": "create"}, alice)
    [memory] = store.get_all(user_id="alice", filters={"content": "Alice is vegetarian"})
    assert memory.user_id == "alice"
    found = search.invoke({"query": "Alice is vegetarian"}, alice)
    assert "Alice is vegetarian" in str(found) and "window seats" in str(found)
    key = memory.metadata["_lg_key"]
    manage.invoke({"id": key, "content": "Alice eats fish now", "action": "update"}, alice)
    assert [
        m.text for m in store.get_all(user_id="alice", filters={"content": "Alice eats fish now"})
    ]
    manage.invoke({"id": key, "action": "delete"}, alice)
    assert len(items_only(store.get_all(user_id="alice"))) == 1
    bob: RunnableConfig = {"configurable": {"langgraph_user_id": "bob"}}
    assert "window seats" not in str(search.invoke({"query": "seats"}, bob))
    lg.delete_namespace(("memories", "alice"))
    assert_no_trace(store)
