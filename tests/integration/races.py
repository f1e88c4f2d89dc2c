"""Writes racing erasures, shipped in hybridmem.testing.races (the finality suite's
scenarios), for the heavier races of tests/reliability/."""

from hybridmem.testing.races import (
    SURFACES,
    PythonSurface,
    RestSurface,
    Surface,
    deletes_race_delete_all,
    open_surface,
    resurrected,
    run_together,
    seed,
    update_races_delete,
    updates_race_delete_all,
)

__all__ = [
    "SURFACES",
    "PythonSurface",
    "RestSurface",
    "Surface",
    "deletes_race_delete_all",
    "open_surface",
    "resurrected",
    "run_together",
    "seed",
    "update_races_delete",
    "updates_race_delete_all",
]
