"""The conformance suite every adapter's tests subclass (third-party adapters too).

``GraphStoreContract`` and ``VectorStoreContract`` prove one port each;
``StorePairContract`` proves a graph store and a vector store together
(erasure, a crash between the two stores, recovery), with the same fixtures.

The pair kit: ``pair_registry`` (an adapter's ``Registration`` under the
``hybridmem.testing`` entry point), ``pair_fixtures`` (open a registered pair) and
the pair suites keyed on one ``pair_config`` fixture, imported from their modules
(they need the test extra): ``delete_all_suite.DeleteAllSuite``,
``crash_suite.CrashSuite``, ``finality_suite.FinalitySuite``,
``property_suite.PropertySuite``, ``expiry_suite.ExpirySuite``,
``reconcile_suite.ReconcileSuite``, ``history_suite.HistorySuite``.

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
