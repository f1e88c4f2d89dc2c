"""Framework integrations run on the embedded pair and on the server pair (neo4j+weaviate).

The mixed pairs add nothing an integration could get wrong: it translates, and
the core's own tests cover every pair.
"""

from __future__ import annotations

import os

from tests.conftest import narrowed_to_production_pairs

# mem0 reads this when imported: no telemetry from tests.
os.environ["MEM0_TELEMETRY"] = "False"

pair_config = narrowed_to_production_pairs()
