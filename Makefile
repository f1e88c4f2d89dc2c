# The developer loop. Each target is a thin call of a step scripts/test.sh runs;
# `make test` is the whole CI run (installs, starts every registered adapter's
# server through `python -m hybridmem.testing.servers start`, every step).
PY := .venv/bin/python

.PHONY: lint types unit pairs reliability mutants test

lint:
	.venv/bin/ruff check .

# The files are globs in pyproject.toml: a new adapters/*/ package is checked too.
types:
	.venv/bin/mypy

# No servers: the unit tests and the embedded stores' contract tests, on the
# embedded default pair.
unit:
	HYBRIDMEM_TEST_PAIRS=kuzu+sqlite $(PY) -m pytest -q -p no:cacheprovider \
		tests/unit tests/contract/test_kuzu_stores.py tests/contract/test_kuzu_writes.py \
		tests/contract/test_kuzu_search_cache.py tests/contract/test_sqlite_vector_store.py

# Every pair against real servers (scripts/test.sh starts each adapter's launcher).
pairs:
	bash scripts/test.sh tests --ignore=tests/reliability

reliability:
	bash scripts/test.sh tests/reliability

# Rows needing a server use HYBRIDMEM_TEST_NEO4J_URI / HYBRIDMEM_TEST_WEAVIATE_HOST
# (eval "$(.venv/bin/python -m hybridmem.testing.servers start --state DIR)" sets
# them); `make mutants ARGS=--embedded-only` runs the embedded-pair rows only.
mutants:
	$(PY) -m tests.mutants.run $(ARGS)

test:
	bash scripts/test.sh
