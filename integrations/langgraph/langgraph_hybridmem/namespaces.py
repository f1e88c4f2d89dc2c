"""Namespace tuples → hybridmem scopes, item ids, and the metadata that keeps the namespace.

The rule (:class:`NamespaceLayout`, configurable): a namespace that starts with
``root`` (default ``"memories"``) takes its scope from the next elements, in
order ``user_id``, ``agent_id``, ``run_id`` — ``("memories", "alice")`` is
user alice, ``("memories", "alice", "planner", "run-7")`` her planner's run 7;
elements after those are kept, not mapped. Any other namespace ``(first, …)`` is
stored under ``user_id = "langgraph:" + first``.

The layout is one-to-one: no two namespaces that are not one below the other
share a scope, so a namespace erasure (``delete_all`` of its scope) never
reaches another namespace's items. LangGraph refuses labels holding a ``.``, so
``"langgraph:" + first`` never holds one after its prefix; a root-layout user id
that itself starts with ``"langgraph:"`` is written ``"langgraph:." + rest``,
which no other namespace can map to.

Nothing is lost either way: the whole namespace and the key are kept in the
memory's metadata (reserved keys starting with ``_lg_``), one filterable key per
element, so reads match a namespace exactly.

An item's memory id is ``scoped_id(scope, [namespace, key])``: an id of its
scope, so a caller writing in another scope can neither take nor forge it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Protocol, TypedDict

from hybridmem.api import MemoryStore
from hybridmem.errors import NotFoundError
from hybridmem.ids import scoped_id
from hybridmem.models import Scope
from hybridmem.validation import scope_from

#: Metadata keys the store reserves; item values may not use keys with this prefix.
RESERVED_PREFIX = "_lg_"
NAMESPACE_KEY = "_lg_namespace"
ITEM_KEY = "_lg_key"
DEPTH_KEY = "_lg_depth"
OTHER_LAYOUT_PREFIX = "langgraph:"
#: Marks a root-layout user id that starts with OTHER_LAYOUT_PREFIX ('.' is no label's).
ESCAPED_USER_PREFIX = OTHER_LAYOUT_PREFIX + "."
_PARTS = ("user_id", "agent_id", "run_id")


class ScopeArgs(TypedDict):
    user_id: str | None
    agent_id: str | None
    run_id: str | None


class _Scoped(Protocol):
    @property
    def user_id(self) -> str | None: ...
    @property
    def agent_id(self) -> str | None: ...
    @property
    def run_id(self) -> str | None: ...


def scope_args(scoped: _Scoped) -> ScopeArgs:
    """The scope keywords of hybridmem's calls for a scope (or a memory's scope)."""
    return {"user_id": scoped.user_id, "agent_id": scoped.agent_id, "run_id": scoped.run_id}


def element_key(position: int) -> str:
    """The filterable metadata key holding the namespace element at ``position``."""
    return f"_lg_ns{position}"


def _user(element: str) -> str:
    if element.startswith(OTHER_LAYOUT_PREFIX):
        return ESCAPED_USER_PREFIX + element[len(OTHER_LAYOUT_PREFIX) :]
    return element


@dataclass(frozen=True)
class NamespaceLayout:
    root: str = "memories"

    def scope_width(self, namespace: tuple[str, ...]) -> int:
        """How many leading elements decide the scope (0: none, the prefix is too short)."""
        if not namespace:
            return 0
        if namespace[0] == self.root:
            return 1 + min(len(namespace) - 1, len(_PARTS)) if len(namespace) > 1 else 0
        return 1

    def scope(self, namespace: tuple[str, ...]) -> Scope | None:
        """The scope of every namespace that starts with ``namespace``; None if it has none."""
        width = self.scope_width(namespace)
        if width == 0:
            return None
        if namespace[0] == self.root:
            elements = list(namespace[1:width])
            elements[0] = _user(elements[0])
            return scope_from(**dict(zip(_PARTS, elements, strict=False)))
        return scope_from(user_id=OTHER_LAYOUT_PREFIX + namespace[0])

    def item_scope(self, namespace: tuple[str, ...]) -> Scope:
        """The scope an item is written in (``("memories",)`` alone counts as another layout)."""
        return self.scope(namespace) or scope_from(user_id=OTHER_LAYOUT_PREFIX + namespace[0])

    def memory_id(self, namespace: tuple[str, ...], key: str) -> str:
        """The memory id of the item ``key`` in ``namespace``: an id of its scope."""
        name = json.dumps(["langgraph", list(namespace), key], ensure_ascii=False)
        return scoped_id(self.item_scope(namespace), name)


def namespace_metadata(namespace: tuple[str, ...], key: str) -> dict[str, object]:
    return {
        NAMESPACE_KEY: list(namespace),
        ITEM_KEY: key,
        DEPTH_KEY: len(namespace),
        **{element_key(i): element for i, element in enumerate(namespace)},
    }


def prefix_filters(prefix: tuple[str, ...]) -> dict[str, object]:
    """hybridmem filters matching the items whose namespace starts with ``prefix``."""
    return {element_key(i): element for i, element in enumerate(prefix)}


def erase(store: MemoryStore, memory_id: str, scope: ScopeArgs) -> None:
    """Delete one memory of ``scope``, gone already or not: for a scoped caller a
    server answers an unknown id 404 (``NotFoundError``), a HybridStore zero counts."""
    try:
        store.delete(memory_id, **scope)
    except NotFoundError:
        pass
