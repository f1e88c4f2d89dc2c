"""On PYTHONPATH only while the mutation matrix runs: every Python process the
tests start (``hybridmem serve``, the CLI, crash children) applies the same break
as the test process, so a guarantee enforced in a subprocess is broken there too."""

import os

if os.environ.get("HYBRIDMEM_MUTANT"):
    from tests.mutants.activate import activate

    activate()
