"""The conformance suite every adapter's tests subclass (third-party adapters too).

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

__all__ = ["GraphStoreContract", "VectorStoreContract"]
