"""The mutation matrix: each guarantee, a break of it, and the tests that must catch it.

See catalogue.py for the rows, breaks.py for the breaks, run.py for the runner
(``scripts/mutants.sh``) and docs/reliability.md for the map.
"""
