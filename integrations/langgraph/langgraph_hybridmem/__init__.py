"""LangGraph's long-term memory store (``BaseStore``) over hybridmem."""

from langgraph_hybridmem.namespaces import NamespaceLayout
from langgraph_hybridmem.store import HybridMemStore

__all__ = ["HybridMemStore", "NamespaceLayout"]
