"""API keys and the scopes they are bound to.

Semantics (also in docs/server.md):

- No key configured: every request is allowed (and ``hybridmem serve`` binds
  loopback only unless told otherwise).
- Keys configured: a request without a key, or with an unknown one, is 401.
  Keys travel as ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``.
- An *admin* key (no scope part) may do everything.
- A *scoped* key (``user_id`` and/or ``agent_id``/``run_id``) is narrowed to its
  scope: a request naming another value for a bound part is 403; bound parts the
  request leaves out are filled in. A request must still name at least one
  scope part wherever the in-process API requires one, so ``DELETE /memories``
  with no filter stays a 400 with the well-known message even for a scoped key
  (it never silently becomes "erase my whole scope"). Records addressed by id
  outside the scope answer 404, exactly like missing ones, so a scoped key cannot
  probe which ids exist. reset, reconcile, recover, stats, compact and the mem0
  lookup (``POST /mem0/lookup``) span every scope: 403 for a scoped key. So do
  the metadata keys the mem0 integration reserves (``_mem0``, ``_mem0_id``,
  ``_mem0_key``): a scoped key that writes them is 403.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from hybridmem.config import ApiKeyConfig, check_unique_keys
from hybridmem.errors import (
    AuthenticationError,
    ConfigurationError,
    NotFoundError,
    PermissionDeniedError,
)
from hybridmem.mem0_lookup import RESERVED_KEYS
from hybridmem.models import Scope
from hybridmem.validation import scope_from


class ScopeFields(Protocol):
    """A request's scope parts: request bodies and query parameters alike (not yet validated)."""

    @property
    def user_id(self) -> str | None: ...
    @property
    def agent_id(self) -> str | None: ...
    @property
    def run_id(self) -> str | None: ...


@dataclass(frozen=True)
class Principal:
    """Who is calling: a key's name and the scope it is bound to (None: unrestricted)."""

    name: str
    scope: Scope | None = None

    def require_unrestricted(self, action: str) -> None:
        if self.scope is not None:
            raise PermissionDeniedError(
                f"{action} spans every scope; this API key is bound to {self.scope.parts()}"
            )

    def check_metadata(self, metadata: Mapping[str, Any] | None) -> None:
        """403 when a scoped key writes a key the mem0 integration reserves (its
        records are found by mem0 id across every scope; see ``RESERVED_KEYS``)."""
        if self.scope is None or not metadata:
            return
        reserved = sorted(RESERVED_KEYS.intersection(metadata))
        if reserved:
            raise PermissionDeniedError(
                f"metadata keys {reserved} are reserved for the mem0 integration, which"
                " writes with an unrestricted key; this API key is bound to"
                f" {self.scope.parts()}"
            )

    def narrow(self, request: ScopeFields, *, fill_empty: bool) -> Scope:
        """The request's scope with the key's bound parts added; 403 on a conflict.

        With ``fill_empty=False`` a request naming no part is passed on as is, so
        that the store rejects it with its own message (400).
        """
        # Invalid ids are a 422 naming the parameter before any 403 about them.
        requested = scope_from(
            request.user_id, request.agent_id, request.run_id, required_message=None
        )
        if self.scope is None or (requested.is_empty() and not fill_empty):
            return requested
        parts = dict(requested.parts())
        for name, bound in self.scope.parts().items():
            given = parts.setdefault(name, bound)
            if given != bound:
                raise PermissionDeniedError(
                    f"this API key is bound to {name}={bound!r} and cannot reach {name}={given!r}"
                )
        return Scope(**parts)

    def entity_namespace(self, user_id: str | None) -> str | None:
        """Entities are namespaced by user only: a key bound below the user cannot read them."""
        if self.scope is None:
            return user_id
        if self.scope.agent_id is not None or self.scope.run_id is not None:
            raise PermissionDeniedError(
                "entities are shared by all agents and runs of a user; "
                f"this API key is bound to {self.scope.parts()}"
            )
        return self.narrow(Scope.model_construct(user_id=user_id), fill_empty=True).user_id

    def check_visible(self, record: Scope | None, what: str) -> None:
        """404 for a record outside the key's scope: the same answer as a missing one."""
        if self.scope is not None and (record is None or not self.scope.matches(record)):
            raise NotFoundError(f"{what} not found")


ANONYMOUS = Principal("anonymous")


def _digest(key: str) -> bytes:
    # Comparing fixed-length digests keeps the comparison time independent of
    # how much of a guessed key is right, and of its length.
    return hashlib.sha256(key.encode("utf-8")).digest()


class KeyRing:
    def __init__(self, keys: Sequence[ApiKeyConfig]) -> None:
        try:
            check_unique_keys(keys)
        except ValueError as exc:
            raise ConfigurationError(f"invalid configuration: server.{exc}") from None
        self._keys = [
            (
                _digest(k.key.get_secret_value()),
                Principal(
                    k.name or f"key #{index + 1}",
                    None
                    if not (k.user_id or k.agent_id or k.run_id)
                    else Scope(user_id=k.user_id, agent_id=k.agent_id, run_id=k.run_id),
                ),
            )
            for index, k in enumerate(keys)
        ]

    @property
    def enabled(self) -> bool:
        return bool(self._keys)

    def authenticate(self, presented: str | None) -> Principal:
        if not self._keys:
            return ANONYMOUS
        if not presented:
            raise AuthenticationError(
                "an API key is required (Authorization: Bearer <key> or X-API-Key)"
            )
        digest = _digest(presented)
        found: Principal | None = None
        # No early exit: every key is compared, so timing does not tell which one matched.
        for stored, principal in self._keys:
            if hmac.compare_digest(stored, digest) and found is None:
                found = principal
        if found is None:
            raise AuthenticationError("unknown API key")
        return found
