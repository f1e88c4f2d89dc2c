"""The breaks: one small, realistic change per guarantee, applied by monkeypatching.

Each function here receives nothing and patches the code in place; it is run
once per process (the test process and every subprocess it starts: servers,
CLI, crash children) when ``HYBRIDMEM_MUTANT`` names it. A break wraps or
replaces one function by name, so it stays valid while the code around it
changes; if the function it targets is renamed, applying it fails loudly
(the row errors, which fails the run).
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any


def _replace(owner: Any, name: str, make: Callable[[Any], Any]) -> None:
    original = getattr(owner, name)  # AttributeError: the target moved; the row must follow it
    setattr(owner, name, make(original))


def _called_from(function_name: str) -> bool:
    """True when the caller of the patched function's caller is ``function_name``
    (used to break one REST route only)."""
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_code.co_name == function_name and "server" in frame.f_code.co_filename:
            return True
        frame = frame.f_back  # type: ignore[assignment]
    return False


# -- scope isolation in each store --------------------------------------------------------


def kuzu_graph_scope_narrowest_part_only() -> None:
    """Kuzu graph lookups keep only the narrowest scope part (agent A of every user)."""
    import hybridmem_kuzu.graph as graph
    from hybridmem.models import Scope

    def make(original: Any) -> Any:
        def scope_match(scope: Scope, *args: Any) -> Any:
            part, value = scope.narrowest()
            return original(Scope(**{part: value}), *args)

        return scope_match

    _replace(graph, "scope_match", make)


def kuzu_vector_scope_narrowest_part_only() -> None:
    """Kuzu vector lookups keep only the narrowest scope part."""
    import hybridmem_kuzu.vector as vector
    from hybridmem.models import Scope

    def make(original: Any) -> Any:
        def scope_match(scope: Scope, *args: Any) -> Any:
            part, value = scope.narrowest()
            return original(Scope(**{part: value}), *args)

        return scope_match

    _replace(vector, "scope_match", make)


def sqlite_vector_scope_narrowest_part_only() -> None:
    """SQLite vector lookups keep only the narrowest scope part (its digest)."""
    import hybridmem_sqlite.vector as vector
    from hybridmem_sqlite._rows import KEY_COLUMN, scope_key

    def make(original: Any) -> Any:
        def where(self: Any, scope: Any) -> tuple[str, list[Any]]:
            original(self, scope)  # keeps the refusal of an empty scope
            part, value = scope.narrowest()
            return f"{KEY_COLUMN[part]} = ?", [scope_key(self._digests, part, value)]

        return where

    _replace(vector.SQLiteVectorStore, "_where", make)


def neo4j_scope_first_part_only() -> None:
    """Neo4j WHERE clauses test the first scope part only."""
    import hybridmem_neo4j.graph as graph
    from hybridmem.models import Scope

    def make(original: Any) -> Any:
        def where(scope: Scope, var: str) -> str:
            parts = scope.parts()
            first = next(iter(parts))
            return str(original(Scope(**{first: parts[first]}), var))

        return where

    _replace(graph, "_where", make)


def neo4j_names_unprefixed() -> None:
    """Neo4j labels and types lose the store's prefix (plain ``Memory``, ``Entity``):
    the store matches another application's nodes and another store's."""
    import hybridmem_neo4j.names as names

    names.Names._quoted = lambda self, suffix: f"`{suffix}`"  # type: ignore[method-assign]


def weaviate_scope_first_part_only() -> None:
    """Weaviate filters on the first scope part only."""
    import hybridmem_weaviate.schema as vector
    from hybridmem.models import Scope

    def make(original: Any) -> Any:
        def scope_filter(scope: Scope) -> Any:
            parts = scope.parts()
            first = next(iter(parts))
            return original(Scope(**{first: parts[first]}))

        return scope_filter

    _replace(vector, "scope_filter", make)


def weaviate_scope_key_folds_case() -> None:
    """Weaviate matches ids case-insensitively (what word tokenization does)."""
    import hybridmem_weaviate.schema as vector

    _replace(vector, "scope_key", lambda original: lambda value: original(value.lower()))


def weaviate_scope_key_trims() -> None:
    """Weaviate matches ids with surrounding white space trimmed (FIELD tokenization)."""
    import hybridmem_weaviate.schema as vector

    _replace(vector, "scope_key", lambda original: lambda value: original(value.strip()))


def journal_erase_scope_too_wide() -> None:
    """History erasure by scope keys on the first part only (the user): other agents'
    and runs' history loses its text too."""
    import hybridmem.journal as journal
    from hybridmem.models import Scope

    def make(original: Any) -> Any:
        def finish(self: Any, op_id: str, counts: Any = None, **kwargs: Any) -> None:
            scope = kwargs.get("erase_scope")
            if scope is not None and len(scope.parts()) > 1:
                first, value = next(iter(scope.parts().items()))
                kwargs["erase_scope"] = Scope(**{first: value})
            original(self, op_id, counts, **kwargs)

        return finish

    _replace(journal.Journal, "finish", make)


# -- bound API keys ---------------------------------------------------------------------


def _narrow_without_fill_in() -> Callable[..., Any]:
    from hybridmem.errors import PermissionDeniedError
    from hybridmem.models import Scope
    from hybridmem.validation import scope_from

    def narrow(self: Any, request: Any, *, fill_empty: bool) -> Scope:
        requested = scope_from(
            request.user_id, request.agent_id, request.run_id, required_message=None
        )
        if self.scope is None:
            return requested
        for name, bound in self.scope.parts().items():
            given = requested.parts().get(name)
            if given is not None and given != bound:
                raise PermissionDeniedError(
                    f"this API key is bound to {name}={bound!r} and cannot reach {name}={given!r}"
                )
        return requested

    return narrow


def narrow_without_fill_in() -> None:
    """Principal.narrow keeps the 403 check but stops filling in the key's bound parts."""
    from hybridmem.server import auth

    auth.Principal.narrow = _narrow_without_fill_in()  # type: ignore[method-assign]


def narrow_query_without_fill_in() -> None:
    """The issue's gap 1: on the query-parameter routes (GET/DELETE /memories,
    /relations) Principal.narrow keeps its 403 check but no longer fills in the
    key's bound parts; request bodies (add, search) are still narrowed."""
    from hybridmem.server import auth

    no_fill = _narrow_without_fill_in()

    def make(original: Any) -> Any:
        @functools.wraps(original)
        def narrow(self: auth.Principal, request: Any, *, fill_empty: bool) -> Any:
            if type(request).__name__ == "ScopeQuery":
                return no_fill(self, request, fill_empty=fill_empty)
            return original(self, request, fill_empty=fill_empty)

        return narrow

    _replace(auth.Principal, "narrow", make)


def narrow_without_conflict_check() -> None:
    """Principal.narrow fills in bound parts but lets a request name another value."""
    from hybridmem.models import Scope
    from hybridmem.server import auth
    from hybridmem.validation import scope_from

    def narrow(self: auth.Principal, request: Any, *, fill_empty: bool) -> Scope:
        requested = scope_from(
            request.user_id, request.agent_id, request.run_id, required_message=None
        )
        if self.scope is None or (requested.is_empty() and not fill_empty):
            return requested
        return Scope(**{**self.scope.parts(), **requested.parts()})

    auth.Principal.narrow = narrow  # type: ignore[method-assign]


def route_forgets_narrow(route: str) -> Callable[[], None]:
    def apply() -> None:
        from hybridmem.server import auth
        from hybridmem.validation import scope_from

        def make(original: Any) -> Any:
            @functools.wraps(original)
            def narrow(self: auth.Principal, request: Any, *, fill_empty: bool) -> Any:
                if _called_from(route):
                    return scope_from(
                        request.user_id, request.agent_id, request.run_id, required_message=None
                    )
                return original(self, request, fill_empty=fill_empty)

            return narrow

        _replace(auth.Principal, "narrow", make)

    apply.__doc__ = f"The {route} route passes the request's scope on without narrowing it."
    return apply


def route_forgets_visibility(route: str) -> Callable[[], None]:
    if route in ("get", "update", "delete", "history"):
        return _route_forgets_callers_scope(route)

    def apply() -> None:
        from hybridmem.server import auth

        def make(original: Any) -> Any:
            @functools.wraps(original)
            def check_visible(self: auth.Principal, record: Any, what: str) -> None:
                if not _called_from(route):
                    original(self, record, what)

            return check_visible

        _replace(auth.Principal, "check_visible", make)

    apply.__doc__ = f"The {route} route shows records outside the key's scope."
    return apply


def _route_forgets_callers_scope(route: str) -> Callable[[], None]:
    """The routes by id hand the key's scope to the store, which checks it under the
    memory's claim: the break drops it on one route."""

    def apply() -> None:
        from hybridmem.models import Scope
        from hybridmem.server.routes import memories

        def make(original: Any) -> Any:
            @functools.wraps(original)
            def caller_scope(principal: Any, query: Any) -> Any:
                return Scope() if _called_from(route) else original(principal, query)

            return caller_scope

        _replace(memories, "caller_scope", make)

    apply.__doc__ = f"The {route} route shows records outside the key's scope."
    return apply


def entities_namespace_unchecked() -> None:
    """GET /entities reads the namespace the request names, or every namespace."""
    from hybridmem.server import auth

    _replace(
        auth.Principal,
        "entity_namespace",
        lambda original: lambda self, user_id: user_id,
    )
