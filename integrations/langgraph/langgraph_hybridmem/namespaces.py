"""Namespace tuples → hybridmem scopes, and the metadata that keeps the namespace.

The rule (:class:`NamespaceLayout`, configurable): a namespace that starts with
``root`` (default ``"memories"``) takes its scope from the next elements, in
order ``user_id``, ``agent_id``, ``run_id`` — ``("memories", "alice")`` is
user alice, ``("memories", "alice", "planner", "run-7")`` her planner's run 7;
elements after those are kept, not mapped. Any other namespace ``(first, …)`` is
stored under ``user_id = "langgraph:" + first``, so a namespace erasure of it
never reaches a user of the default layout. Nothing is lost either way: the
whole namespace and the key are kept in the memory's metadata (reserved keys
starting with ``_lg_``), one filterable key per element, so reads match a
namespace exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

from hybridmem.models import Scope
from hybridmem.validation import scope_from

#: Metadata keys the store reserves; item values may not use keys with this prefix.
RESERVED_PREFIX = "_lg_"
NAMESPACE_KEY = "_lg_namespace"
ITEM_KEY = "_lg_key"
DEPTH_KEY = "_lg_depth"
OTHER_LAYOUT_PREFIX = "langgraph:"
_PARTS = ("user_id", "agent_id", "run_id")


def element_key(position: int) -> str:
    """The filterable metadata key holding the namespace element at ``position``."""
    return f"_lg_ns{position}"


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
            parts = dict(zip(_PARTS, namespace[1:width], strict=False))
            return scope_from(**parts)
        return scope_from(user_id=OTHER_LAYOUT_PREFIX + namespace[0])

    def item_scope(self, namespace: tuple[str, ...]) -> Scope:
        """The scope an item is written in (``("memories",)`` alone counts as another layout)."""
        return self.scope(namespace) or scope_from(user_id=OTHER_LAYOUT_PREFIX + namespace[0])


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
