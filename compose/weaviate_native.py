"""Moved: run ``python -m hybridmem_weaviate.native_server`` (same arguments).

Kept so that ``python compose/weaviate_native.py ...`` and code that loads this
file by path (older benchmarks and scripts) still work.
"""

from hybridmem_weaviate.native_server import *  # noqa: F403
from hybridmem_weaviate.native_server import main

if __name__ == "__main__":
    main()
