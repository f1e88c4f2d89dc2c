"""LangChain over hybridmem: a ``VectorStore`` and a graph-aware ``BaseRetriever``.

Both translate and do nothing else: validation, journaling, scope claims and
erasure stay in hybridmem's core.
"""

from langchain_hybridmem.mem0 import HybridMemMem0VectorStore
from langchain_hybridmem.retrievers import HybridMemGraphRetriever
from langchain_hybridmem.vectorstores import HybridMemVectorStore

__all__ = ["HybridMemGraphRetriever", "HybridMemMem0VectorStore", "HybridMemVectorStore"]
