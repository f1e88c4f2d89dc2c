"""The matrix: guarantee → break → the narrowest tests that claim to cover it.

A row passes when its tests, run with ``-x`` under the break, go red (exit 1),
and pass without it. Node ids name tests without their pair parameter: the
runner narrows the pair with HYBRIDMEM_TEST_PAIRS (``pair`` below).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tests.mutants import (
    breaks,
    breaks_finality,
    breaks_processes,
    breaks_recovery,
    breaks_scoped_ids,
)

EMBEDDED = "kuzu+sqlite"
#: Rows that break the Kuzu vector store run where it holds the vectors.
KUZU_VECTORS = "kuzu+kuzu"
NEO4J = "neo4j+kuzu"
#: Rows whose tests need every store to be a server (workers as separate hosts).
SERVERS = "neo4j+weaviate"
WEAVIATE = "kuzu+weaviate"
TENANCY = "kuzu+weaviate_mt"

AUTH = "tests/server/test_auth.py"
PRINCIPAL = "tests/unit/test_principal.py"
CONTRACT_KUZU = "tests/contract/test_kuzu_stores.py"
DELETE_ALL = "tests/integration/test_delete_all.py::TestDeleteAll"
HISTORY = "tests/integration/test_history.py::TestHistory"
RECONCILE = "tests/integration/test_reconcile.py::TestReconcile"
RECOVERY = "tests/integration/test_recovery_counts.py"
ADD_MANY = "tests/integration/test_add_many.py"
ROUTES_LEAK = f"{AUTH}::test_a_bound_key_reaches_only_its_own_records_on_every_route"


@dataclass(frozen=True)
class Row:
    name: str
    guarantee: str
    apply: Callable[[], None]
    tests: tuple[str, ...]
    pair: str = EMBEDDED

    @property
    def needs_server(self) -> bool:
        return self.pair not in (EMBEDDED, KUZU_VECTORS)


def _row(
    guarantee: str, apply: Callable[[], None], *tests: str, pair: str = EMBEDDED, name: str = ""
) -> Row:
    return Row(name or apply.__name__.replace("_", "-"), guarantee, apply, tests, pair)


_ROWS = [
    # -- scope isolation in each store ------------------------------------------------
    _row(
        "scope isolation: Kuzu graph",
        breaks.kuzu_graph_scope_narrowest_part_only,
        f"{CONTRACT_KUZU}::TestKuzuGraphStore::test_scope_parts_and_together",
        f"{DELETE_ALL}::test_delete_all_erases_scope_and_keeps_everything_else",
    ),
    _row(
        "scope isolation: Kuzu vectors",
        breaks.kuzu_vector_scope_narrowest_part_only,
        f"{CONTRACT_KUZU}::TestKuzuVectorStore::test_delete_scope_in_small_batches_removes_all",
        "tests/integration/test_scope_isolation.py",
        pair=KUZU_VECTORS,
    ),
    _row(
        "scope isolation: SQLite vectors",
        breaks.sqlite_vector_scope_narrowest_part_only,
        "tests/integration/test_scope_isolation.py",
        f"{DELETE_ALL}::test_delete_all_erases_scope_and_keeps_everything_else",
    ),
    _row(
        "scope isolation: Neo4j graph",
        breaks.neo4j_scope_first_part_only,
        "tests/contract/test_neo4j_graph_store.py::TestNeo4jGraphStore::test_scope_parts_and_together",
        pair=NEO4J,
    ),
    _row(
        "Neo4j: a store touches only its own labels in a shared database (issue 15)",
        breaks.neo4j_names_unprefixed,
        "tests/integration/test_shared_neo4j.py::test_one_store_touches_only_its_own_data_in_a_shared_database",
        pair=NEO4J,
    ),
    _row(
        "scope isolation: Weaviate vectors",
        breaks.weaviate_scope_first_part_only,
        "tests/contract/test_weaviate_vector_store.py::TestWeaviateVectorStore::test_delete_scope_in_small_batches_removes_all",
        pair=WEAVIATE,
    ),
    _row(
        "exact matching on Weaviate: case",
        breaks.weaviate_scope_key_folds_case,
        "tests/contract/test_weaviate_vector_store.py::test_scope_isolation_between_lookalike_ids",
        pair=WEAVIATE,
    ),
    _row(
        "exact matching on Weaviate: surrounding white space",
        breaks.weaviate_scope_key_trims,
        "tests/contract/test_weaviate_vector_store.py::test_scope_isolation_between_lookalike_ids",
        pair=WEAVIATE,
    ),
    _row(
        "scope isolation: history erasure stays inside the scope",
        breaks.journal_erase_scope_too_wide,
        f"{HISTORY}::test_delete_all_erases_the_scope_text_and_nothing_else",
    ),
    # -- bound API keys ----------------------------------------------------------------
    _row(
        "bound key: missing parts are filled in on the query-parameter routes (gap 1)",
        breaks.narrow_query_without_fill_in,
        ROUTES_LEAK,
    ),
    _row(
        "bound key: missing parts are filled in",
        breaks.narrow_without_fill_in,
        f"{PRINCIPAL}::test_bound_parts_the_request_leaves_out_are_filled_in",
        ROUTES_LEAK,
    ),
    _row(
        "bound key: another value for a bound part is 403",
        breaks.narrow_without_conflict_check,
        f"{PRINCIPAL}::test_naming_another_value_for_a_bound_part_is_403",
        f"{AUTH}::test_a_scoped_key_is_narrowed_to_its_scope",
    ),
    *(
        _row(
            f"bound key narrowed on route {route}",
            breaks.route_forgets_narrow(route),
            ROUTES_LEAK,
            name=f"route-forgets-narrow-{route}",
        )
        for route in ("add", "get_all", "search", "relations", "delete_all")
    ),
    *(
        _row(
            f"bound key: records outside the scope look missing on route {route}",
            breaks.route_forgets_visibility(route),
            ROUTES_LEAK,
            name=f"route-forgets-visibility-{route}",
        )
        for route in ("get", "update", "delete", "history", "operation")
    ),
    _row(
        "bound key: entities only from the key's user namespace",
        breaks.entities_namespace_unchecked,
        f"{PRINCIPAL}::test_entities_are_namespaced_by_the_bound_user",
        ROUTES_LEAK,
    ),
    # -- orphans ---------------------------------------------------------------------
    _row(
        "orphan removal in delete: entities left unused go",
        breaks_recovery.kuzu_delete_keeps_orphan_entities,
        f"{DELETE_ALL}::test_delete_all_erases_scope_and_keeps_everything_else",
    ),
    _row(
        "orphan removal in delete_all: vectors without a node are swept",
        breaks_recovery.delete_all_skips_vector_sweep,
        f"{DELETE_ALL}::test_orphans_inside_scope_are_removed",
    ),
    _row(
        "reconcile finds dangling relations and orphan entities (gap 2)",
        breaks_recovery.kuzu_reconcile_finds_nothing,
        f"{RECONCILE}::test_reconcile_finds_and_fixes_dangling_relations_and_orphan_entities",
        f"{RECONCILE}::test_reconcile_finds_and_fixes_an_entity_left_bare",
    ),
    _row(
        "reconcile(fix=True) removes what it found",
        breaks_recovery.kuzu_reconcile_counts_but_keeps,
        f"{RECONCILE}::test_reconcile_finds_and_fixes_dangling_relations_and_orphan_entities",
    ),
    _row(
        "reconcile finds and fixes orphan vectors",
        breaks_recovery.reconcile_skips_orphan_vectors,
        f"{RECONCILE}::test_reconcile_reports_then_fixes",
    ),
    # -- history text erasure ----------------------------------------------------------
    _row(
        "history erasure: one id",
        breaks_recovery.journal_erase_ids_noop,
        f"{HISTORY}::test_delete_erases_the_text_of_that_memory_only",
    ),
    _row(
        "history erasure: a scope (gap 3)",
        breaks_recovery.journal_finish_ignores_erase_scope,
        f"{HISTORY}::test_delete_all_erases_text_of_memories_the_graph_had_lost",
    ),
    _row(
        "history erasure: reset",
        breaks_recovery.journal_finish_ignores_erase_everything,
        f"{HISTORY}::test_reset_erases_every_text",
    ),
    # -- crash recovery ----------------------------------------------------------------
    _row(
        "crash recovery: counts survive a crash (gap 4)",
        breaks_recovery.recovery_restarts_the_tally,
        f"{RECOVERY}::test_delete_all_counts_and_events_survive_a_crash",
    ),
    _row(
        "crash recovery: a batch erased before its checkpoint is counted, with events (gap 4)",
        breaks_recovery.delete_all_batch_not_noted,
        f"{RECOVERY}::test_delete_all_counts_and_events_survive_a_crash",
    ),
    _row(
        "crash recovery: one DELETE event per erased memory",
        breaks_recovery.checkpoint_without_events,
        f"{RECOVERY}::test_delete_all_counts_and_events_survive_a_crash",
    ),
    _row(
        "crash recovery: pending operations are finished on open and by recover()",
        breaks_recovery.recover_skips_pending,
        "tests/integration/test_crash.py::TestCrash::test_exception_at_every_step_then_recover",
    ),
    _row(
        "add rollback: an interrupted add leaves nothing",
        breaks_recovery.recover_completes_adds,
        f"{RECOVERY}::test_an_interrupted_add_is_rolled_back_by_recover",
    ),
    _row(
        "add rollback: the graph side goes too",
        breaks_recovery.rollback_keeps_graph,
        f"{RECOVERY}::test_an_interrupted_add_is_rolled_back_by_recover",
    ),
    # -- guards and idempotence --------------------------------------------------------
    _row(
        "no-filter guard: delete_all() refuses, word for word",
        breaks_recovery.no_filter_guard_off,
        "tests/unit/test_validation.py::test_delete_all_rejects_bad_input_and_changes_nothing",
    ),
    _row(
        "idempotence: deleting what is gone is a no-op",
        breaks_recovery.kuzu_vector_delete_not_idempotent,
        f"{CONTRACT_KUZU}::TestKuzuVectorStore::test_delete_by_ids_counts_and_is_idempotent",
        f"{DELETE_ALL}::test_empty_scope_and_repeat_are_safe",
        pair=KUZU_VECTORS,
    ),
    _row(
        "idempotence: writing a memory graph twice leaves one of each",
        breaks_recovery.kuzu_graph_merge_becomes_create,
        f"{CONTRACT_KUZU}::TestKuzuGraphStore::test_writing_twice_leaves_one_record",
    ),
    _row(
        "idempotence: a batch MERGEs the edges of memories already stored",
        breaks_recovery.kuzu_batch_takes_stored_memories_for_new,
        "tests/contract/test_kuzu_writes.py"
        "::test_batches_merge_entities_across_the_batch_and_with_the_store",
        "tests/contract/test_kuzu_writes.py"
        "::test_a_batch_some_of_whose_records_exist_updates_them_and_adds_the_rest",
    ),
]

_ROWS += [
    # -- add_many (issue 13) -------------------------------------------------------------
    _row(
        "batch rollback: an interrupted add_many batch leaves nothing",
        breaks_finality.batch_rollback_keeps_records,
        f"{ADD_MANY}::test_recover_rolls_back_a_batch_cut_short",
    ),
    _row(
        "batch claims: an erasure waits for a batch of its scope",
        breaks_finality.batch_claims_ignored,
        f"{ADD_MANY}::test_delete_all_waits_for_a_batch_of_its_scope",
    ),
    _row(
        "reconcile leaves a pending batch to recover()",
        breaks_finality.reconcile_ignores_pending_batches,
        f"{ADD_MANY}::test_recover_rolls_back_a_batch_cut_short",
    ),
    _row(
        "import idempotence: items stored as given are left unchanged",
        breaks_finality.add_many_rewrites_stored_ids,
        f"{ADD_MANY}::test_caller_ids_and_times_are_kept_and_an_import_run_twice_changes_nothing",
    ),
    # -- finality (issue 10) --------------------------------------------------------------
    _row(
        "claims before reads: an update racing an erasure brings nothing back",
        breaks_finality.update_reads_before_its_claim,
        "tests/integration/test_finality.py::TestFinality::test_updates_racing_delete_all_bring_nothing_back",
    ),
    _row(
        "claims before reads: record claims wait for an erasure of their scope",
        breaks_finality.scope_claims_ignored,
        "tests/unit/test_scope_claims.py",
        "tests/integration/test_finality.py::TestFinality::test_updates_racing_delete_all_bring_nothing_back",
    ),
    _row(
        "unknown query parameters are refused, never ignored",
        breaks_finality.unknown_query_parameters_ignored,
        "tests/server/test_refusals.py::test_every_route_refuses_unknown_query_parameters",
        "tests/server/test_refusals.py::test_misspelt_dry_run_and_scope_are_refused_not_ignored",
    ),
]

_ROWS += [
    # -- filters and graph reads (issue 11), MCP arguments (issue 10), entity races ----
    _row(
        "filters are evaluated in the store",
        breaks_finality.kuzu_filters_ignored,
        "tests/integration/test_filters_graph_reads.py::test_filters_and_paging_through_the_store",
        pair=KUZU_VECTORS,
    ),
    _row(
        "graph reads never leave the caller's namespace",
        breaks_finality.kuzu_entity_lookup_any_namespace,
        "tests/integration/test_filters_graph_reads.py"
        "::test_get_all_by_entity_stays_in_the_namespace",
        "tests/integration/test_filters_graph_reads.py::test_neighbors_by_depth",
    ),
    _row(
        "unknown MCP tool arguments are refused, never ignored",
        breaks_finality.mcp_unknown_arguments_ignored,
        "tests/server/test_mcp_refusals.py::test_every_tool_refuses_misspelt_and_loosely_typed_arguments",
    ),
]

_CACHE = "tests/contract/test_kuzu_search_cache.py"
_SEES_WRITES = f"{CONTRACT_KUZU}::TestKuzuVectorStore::test_search_sees_every_write_at_once"
_ROWS += [
    # -- the Kuzu search cache (issue 11) ------------------------------------------------
    _row(
        "erasure is final: a cached search never returns a deleted memory",
        breaks_finality.kuzu_search_cache_keeps_deleted_rows,
        _SEES_WRITES,
        _CACHE,
        f"{DELETE_ALL}::test_delete_all_erases_scope_and_keeps_everything_else",
        pair=KUZU_VECTORS,
    ),
    _row(
        "a cached search sees every write at once",
        breaks_finality.kuzu_search_cache_misses_writes,
        _SEES_WRITES,
        _CACHE,
        pair=KUZU_VECTORS,
    ),
]

ROWS: dict[str, Row] = {row.name: row for row in _ROWS}
assert len(ROWS) == len(_ROWS), "two rows share a name"

_EXPIRY = "tests/integration/test_expiry.py::TestExpiry"
_ROWS += [
    # -- expiry ---------------------------------------------------------------------------
    _row(
        "expired memories are invisible to every read at once (Kuzu vectors)",
        breaks_finality.kuzu_reads_show_expired,
        f"{_EXPIRY}::test_expired_memories_vanish_from_every_read_before_any_purge",
        f"{_EXPIRY}::test_a_memory_disappears_the_moment_its_ttl_runs_out",
        name="reads-show-expired",
        pair=KUZU_VECTORS,
    ),
    _row(
        "purge_expired erases only what is still expired under its claim",
        breaks_finality.purge_trusts_the_index,
        f"{_EXPIRY}::test_a_row_read_before_the_memory_was_renewed_does_not_erase_it",
        name="purge-trusts-the-index",
    ),
    _row(
        "purge_expired claims each batch before it reads the stores",
        breaks_finality.purge_skips_claims,
        f"{_EXPIRY}::test_purge_waits_for_a_write_in_flight_on_a_memory_it_would_erase",
        name="purge-skips-claims",
    ),
]
_TENANCY = "tests/contract/test_weaviate_tenancy.py"
_ROWS += [
    # -- Weaviate multi-tenancy -----------------------------------------------------------
    _row(
        "a user's erasure on the tenant layout leaves no directory entry naming the user",
        breaks_finality.weaviate_tenant_drop_keeps_directory,
        f"{_TENANCY}::test_drop_scope_drops_the_users_tenant_and_directory_entries_only",
        pair=WEAVIATE,
        name="weaviate-tenant-drop-keeps-directory",
    ),
    _row(
        "a record moved to another user leaves no copy behind in the old user's tenant",
        breaks_finality.weaviate_tenant_move_keeps_old_copy,
        f"{_TENANCY}::test_a_record_written_again_under_another_user_moves",
        pair=WEAVIATE,
        name="weaviate-tenant-move-keeps-old-copy",
    ),
    _row(
        "a tenant is dropped only for an erasure of the whole user",
        breaks_finality.weaviate_tenant_drop_widens_scope,
        f"{DELETE_ALL}::test_delete_all_erases_scope_and_keeps_everything_else",
        pair=TENANCY,
        name="weaviate-tenant-drop-widens-scope",
    ),
]
_IDS = "tests/integration/test_id_isolation.py"
_IDS_API = "tests/server/test_id_isolation_api.py"
_ROWS += [
    # -- ids belong to their scope; the scope is checked under the claim (issue 25) -------
    _row(
        "a chosen id is a name within its scope: no scope takes another's id",
        breaks_scoped_ids.chosen_ids_shared_across_scopes,
        f"{_IDS}::test_no_scope_can_take_another_scopes_chosen_id",
        f"{_IDS_API}::test_writing_another_scopes_id_answers_as_a_fresh_one",
        name="chosen-ids-shared-across-scopes",
    ),
    _row(
        "update by id checks the caller's scope under the claim",
        breaks_scoped_ids.update_ignores_the_callers_scope,
        f"{_IDS}::test_the_scope_is_checked_under_the_claim",
        f"{_IDS_API}::test_another_scopes_id_and_an_unknown_id_get_one_answer",
        name="update-ignores-the-callers-scope",
    ),
    _row(
        "delete by id checks the caller's scope under the claim",
        breaks_scoped_ids.delete_ignores_the_callers_scope,
        f"{_IDS}::test_the_scope_is_checked_under_the_claim",
        name="delete-ignores-the-callers-scope",
    ),
    _row(
        "get by id answers another scope's id as an unknown one",
        breaks_scoped_ids.get_ignores_the_callers_scope,
        f"{_IDS}::test_another_scopes_id_answers_as_an_unknown_one",
        f"{_IDS_API}::test_another_scopes_id_and_an_unknown_id_get_one_answer",
        name="get-ignores-the-callers-scope",
    ),
    _row(
        "one failing operation never keeps the store shut",
        breaks_scoped_ids.recover_stops_at_a_failing_operation,
        "tests/integration/test_set_aside.py",
        name="recover-stops-at-a-failing-operation",
    ),
]
_STAMPS = "tests/reliability/test_hostile_timestamps.py"
_GRAPH_SCOPE = "tests/integration/test_graph_read_scope.py"
_ROWS += [
    # -- timestamps, damaged records, imports (issue 25) ----------------------------------
    _row(
        "every accepted instant lies in the stated range",
        breaks_scoped_ids.timestamps_any_year,
        f"{_STAMPS}::test_add_many_refuses_the_issue_created_at",
        name="timestamps-any-year",
    ),
    _row(
        "a ttl has a sane minimum",
        breaks_scoped_ids.ttl_without_minimum,
        f"{_STAMPS}::test_a_ttl_shorter_than_a_second_is_refused",
        name="ttl-without-minimum",
    ),
    _row(
        "a record that cannot be read fails only the read that asked for it",
        breaks_scoped_ids.one_bad_row_fails_every_read,
        "tests/integration/test_bad_records.py::test_one_unreadable_memory_leaves_every_read_of_the_others_working",
        name="one-bad-row-fails-every-read",
        pair=KUZU_VECTORS,
    ),
    _row(
        "a refused import leaves the store as it was",
        breaks_scoped_ids.import_writes_before_checking,
        "tests/cli/test_import_atomic.py::test_a_truncated_export_stores_nothing",
        name="import-writes-before-checking",
    ),
    # -- graph reads follow the caller's scope and expiry (issue 25) ----------------------
    _row(
        "search's graph context follows the caller's scope",
        breaks_scoped_ids.graph_context_ignores_the_callers_scope,
        f"{_GRAPH_SCOPE}::test_search_graph_context_holds_only_the_callers_runs_relations",
        name="graph-context-ignores-the-callers-scope",
    ),
    _row(
        "expired memories contribute nothing to graph reads",
        breaks_scoped_ids.graph_reads_show_expired,
        f"{_GRAPH_SCOPE}::test_search_graph_context_skips_relations_of_expired_memories",
        name="graph-reads-show-expired",
    ),
    _row(
        "entity reads return every match: no silent cap",
        breaks_scoped_ids.entity_reads_capped,
        "tests/integration/test_entity_reads_uncapped.py::test_newer_memories_of_another_run_hide_nothing",
        name="entity-reads-capped",
    ),
    # -- the LangChain VectorStore (issue 26) ----------------------------------------------
    _row(
        "every id a VectorStore search returns round-trips through get_by_ids and delete",
        breaks_scoped_ids.langchain_store_reads_every_memory_of_its_scope,
        "tests/integrations/test_langchain_isolation.py::test_user_store_does_not_return_agent_level_documents",
        name="langchain-store-reads-every-memory-of-its-scope",
    ),
]
_QUEUED = "tests/shared/test_queued_erasure.py"
_ROWS += [
    # -- guarantees across processes (issue 23) --------------------------------------------
    _row(
        "a delete_all queued behind another's claim survives the death of its process",
        breaks_processes.erase_journals_after_its_claim,
        f"{_QUEUED}::test_a_queued_delete_all_of_a_killed_worker_is_run_by_another",
        pair=SERVERS,
    ),
    _row(
        "a delete_all that timed out on its claim did not start, and nothing runs it later",
        breaks_processes.claim_timeout_keeps_the_intent,
        f"{_QUEUED}::test_a_delete_all_whose_claim_never_came_is_withdrawn",
        pair=SERVERS,
    ),
    _row(
        "recover() leaves an operation whose claim a live process holds, uncounted",
        breaks_processes.recover_counts_held_claims_as_failures,
        f"{_QUEUED}::test_a_queued_delete_all_of_a_killed_worker_is_run_by_another",
        pair=SERVERS,
    ),
    _row(
        "serve takes over a dead worker's operations with no restart",
        breaks_processes.serve_never_takes_over,
        "tests/server/test_worker_takeover.py",
        pair=SERVERS,
    ),
    _row(
        "a stalled graph write transaction frees its locks after write_timeout_seconds",
        breaks_processes.graph_writes_unbounded,
        "tests/contract/test_neo4j_write_timeout.py",
        pair=NEO4J,
    ),
    _row(
        "a key bound to a scope cannot write the mem0 integration's metadata keys",
        breaks_processes.scoped_key_writes_mem0_keys,
        "tests/server/test_mem0_reserved_keys.py",
    ),
]
ROWS = {row.name: row for row in _ROWS}
assert len(ROWS) == len(_ROWS), "two rows share a name"
