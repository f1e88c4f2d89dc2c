"""Validation at the boundary: every public entry point checks its ids here first."""

from __future__ import annotations

import math
import unicodedata
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from hybridmem.errors import InvalidScopeError, MissingScopeError, ValidationError
from hybridmem.models import Scope

MAX_ID_LENGTH = 256

#: Both vector stores keep float32: a larger component would be stored as
#: infinity, and a vector whose squared norm underflows float32 has no direction
#: (cosine divides by its norm).
FLOAT32_MAX = 3.4028234663852886e38
FLOAT32_MIN_NORMAL = 1.1754943508222875e-38

#: Word for word the message of the well-known memory API, so backends that
#: match on it keep working.
NO_FILTER_MESSAGE = (
    "At least one filter is required to delete all memories. "
    "If you want to delete all memories, use the `reset()` method."
)

SCOPE_PARAMETERS = ("user_id", "agent_id", "run_id")

# Surrogates cannot be encoded as UTF-8, so no store could hold them; line and
# paragraph separators break log lines and CSV exports the same way \n does.
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})


def check_id(parameter: str, value: object) -> str:
    """Return ``value`` if it is a valid scope id, else raise naming ``parameter``."""
    if not isinstance(value, str):
        raise InvalidScopeError(parameter, f"must be a string, not {type(value).__name__}")
    if not value.strip():
        raise InvalidScopeError(parameter, "must not be empty or only white space")
    if len(value) > MAX_ID_LENGTH:
        raise InvalidScopeError(
            parameter, f"must be at most {MAX_ID_LENGTH} characters, got {len(value)}"
        )
    for position, char in enumerate(value):
        if unicodedata.category(char) in _FORBIDDEN_CATEGORIES:
            raise InvalidScopeError(
                parameter, f"contains control character {char!r} at position {position}"
            )
    return value


def scope_from(
    user_id: object = None,
    agent_id: object = None,
    run_id: object = None,
    *,
    required_message: str | None = "At least one of user_id, agent_id or run_id is required.",
) -> Scope:
    """Build a validated scope; ``None`` parts are absent.

    With ``required_message`` set, an empty scope raises MissingScopeError with it.
    Each given part is checked before emptiness, so a bad id is reported as such.
    """
    parts: dict[str, str] = {}
    for name, value in (("user_id", user_id), ("agent_id", agent_id), ("run_id", run_id)):
        if value is not None:
            parts[name] = check_id(name, value)
    scope = Scope(**parts)
    if required_message is not None and scope.is_empty():
        raise MissingScopeError(required_message)
    return scope


def check_memory_id(value: object) -> str:
    """Memory ids are UUID strings; anything else is rejected before a store sees it."""
    if not isinstance(value, str):
        raise ValidationError(f"invalid memory_id: must be a string, not {type(value).__name__}")
    try:
        parsed = uuid.UUID(value)
    except ValueError:
        raise ValidationError(f"invalid memory_id: {value[:80]!r} is not a UUID") from None
    return str(parsed)


def check_text(value: object, parameter: str = "text") -> str:
    if not isinstance(value, str):
        raise ValidationError(f"invalid {parameter}: must be a string, not {type(value).__name__}")
    if "\x00" in value:
        raise ValidationError(f"invalid {parameter}: contains a NUL character")
    return value


def check_embedding(value: object) -> list[float]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        # numpy arrays are not Sequences; accept anything with tolist().
        tolist = getattr(value, "tolist", None)
        if tolist is None:
            raise ValidationError("invalid embedding: must be a sequence of numbers")
        value = tolist()
        if not isinstance(value, list):
            raise ValidationError("invalid embedding: must be a sequence of numbers")
    if len(value) == 0:
        raise ValidationError("invalid embedding: must not be empty")
    out: list[float] = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, (int, float)):
            raise ValidationError("invalid embedding: every element must be a number")
        number = float(item)
        if not math.isfinite(number):
            raise ValidationError("invalid embedding: every element must be finite")
        if abs(number) > FLOAT32_MAX:
            raise ValidationError(
                f"invalid embedding: element {number!r} is beyond float32"
                f" (|x| <= {FLOAT32_MAX:.4g})"
            )
        out.append(number)
    if math.fsum(x * x for x in out) < FLOAT32_MIN_NORMAL:
        raise ValidationError("invalid embedding: must not be all zeros (or too close to zero)")
    return out


def check_metadata(value: object) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValidationError("invalid metadata: must be a JSON object (a dict)")
    import json

    try:
        # Round-trip so what is stored is exactly what a reader gets back.
        loaded: dict[str, Any] = json.loads(json.dumps(dict(value), allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"invalid metadata: not JSON-serialisable ({exc})") from None
    return loaded


def check_name(parameter: str, value: object) -> str:
    """Entity names and types, relation types: non-empty strings without control chars."""
    if not isinstance(value, str):
        raise ValidationError(f"invalid {parameter}: must be a string, not {type(value).__name__}")
    if not value.strip():
        raise ValidationError(f"invalid {parameter}: must not be empty")
    if len(value) > 1024:
        raise ValidationError(f"invalid {parameter}: must be at most 1024 characters")
    for char in value:
        if unicodedata.category(char) in _FORBIDDEN_CATEGORIES:
            raise ValidationError(f"invalid {parameter}: contains control character {char!r}")
    return value


def check_limit(value: object, parameter: str = "limit") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationError(f"invalid {parameter}: must be a positive integer")
    return value
