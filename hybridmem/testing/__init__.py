"""The conformance suite every adapter's tests subclass (third-party adapters too).

``GraphStoreContract`` and ``VectorStoreContract`` prove one port each;
``StorePairContract`` proves a graph store and a vector store together
(erasure, a crash between the two stores, recovery), with the same fixtures.

from hybridmem.testing import GraphStoreContract

class TestMyGraphStore(GraphStoreContract):
    @pytest.fixture
    def graph_store(self):
        store = MyGraphStore(...)
        store.reset()
        yield store
        store.close()
"""

from hybridmem.testing.contracts import GraphStoreContract, VectorStoreContract
from hybridmem.testing.pairs import FaultAt, StorePairContract

__all__ = ["FaultAt", "GraphStoreContract", "StorePairContract", "VectorStoreContract"]
