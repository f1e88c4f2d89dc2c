"""Scope lookups through primary-key-indexed scope nodes.

Kuzu has no secondary indexes: ``WHERE m.user_id = $u`` scans the whole node
table. So each memory links to one scope node per given part, keyed by the
part's kind and value; a scope lookup starts at that primary key and reads the
adjacency list, so its cost follows the scope's size, not the store's.
"""

from __future__ import annotations

from hybridmem.models import Scope, ScopeField

_PREFIX: dict[ScopeField, str] = {"user_id": "u", "agent_id": "a", "run_id": "r"}


def _equals(var: str, field: ScopeField) -> str:
    # The property and parameter name is a scope field (a fixed set); the value a parameter.
    return f"{var}.{field} = ${field}"


def scope_key(part: ScopeField, value: str) -> str:
    # \x1f cannot occur in a valid id, so "u\x1fa" never collides with another part.
    return f"{_PREFIX[part]}\x1f{value}"


def scope_keys(scope: Scope) -> list[str]:
    return [scope_key(part, value) for part, value in scope.terms()]


def scope_match(
    scope: Scope, var: str, label: str, scope_label: str, link: str
) -> tuple[str, dict[str, str]]:
    """A MATCH … WITH … WHERE clause selecting ``var:label`` nodes in ``scope``, and its
    parameters. A predicate on ``var`` goes after ``WITH {var}``, never in the MATCH's
    WHERE: there the planner may push it into a filtered scan of the whole node
    table, hash-joined to the scope's adjacency, so the read costs the store's size
    (LadybugDB ran the Python filter function on all 10,000 rows of a 10,000-row
    store to answer a 100-row scope: 100 ms). After WITH, LadybugDB reads the
    adjacency, then each member by its internal id; Kuzu 0.11.3 keeps a scan masked
    to the scope's members and evaluates the predicate on those only."""
    part, value = scope.narrowest()
    rest = [(name, v) for name, v in scope.terms() if name != part]
    clause = f"MATCH (s:{scope_label} {{key: $scope_key}})<-[:{link}]-({var}:{label})"
    if rest:
        clause += f" WITH {var} WHERE " + " AND ".join(_equals(var, name) for name, _ in rest)
    params: dict[str, str] = dict(rest)
    params["scope_key"] = scope_key(part, value)
    return clause, params


def outside_scope(scope: Scope, var: str) -> str:
    """A predicate true when ``var`` (a node or rel with scope properties) is not in scope.

    coalesce: a record lacking a part the filter gives is outside the scope,
    and a bare ``NULL = $x`` would make the whole predicate NULL instead.
    """
    inside = " AND ".join(f"coalesce({_equals(var, name)}, false)" for name, _ in scope.terms())
    return f"NOT ({inside})"


def scope_params(scope: Scope) -> dict[str, str]:
    return scope.parts()
