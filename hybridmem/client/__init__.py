"""HTTP clients of the REST server (``hybridmem serve``); needs the ``server`` extra.

``HybridMemClient`` (blocking) and ``AsyncHybridMemClient`` have HybridStore's
methods with the same parameters, results and exceptions; see
``tests/unit/test_client_parity.py``.
"""

from hybridmem.client._async import AsyncHybridMemClient
from hybridmem.client._sync import HybridMemClient

__all__ = ["AsyncHybridMemClient", "HybridMemClient"]
