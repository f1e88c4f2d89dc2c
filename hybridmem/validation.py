"""Validation at the boundary: every public entry point checks its ids here first."""

from __future__ import annotations

import json
import math
import operator
import unicodedata
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from hybridmem.errors import InvalidScopeError, MissingScopeError, ValidationError
from hybridmem.float32 import (
    FLOAT32_MAX,
    FLOAT32_MIN_NORMAL,
    MAX_SQUARED_NORM,
    embedding_numbers,
    float_squared_norm,
)
from hybridmem.models import Scope

MAX_ID_LENGTH = 256

#: Metadata is a JSON object at most this many levels deep (the object itself is
#: level 1, each object or list inside it one more) and at most this many bytes as
#: UTF-8 JSON. Deeper values break serialisers (pydantic refuses ~255 levels, so a
#: stored memory could no longer be read back over REST); larger ones belong in
#: the text or in a store of their own.
MAX_METADATA_DEPTH = 32
MAX_METADATA_BYTES = 64 * 1024
# The range most JSON readers and filter engines hold exactly; Python would store more.
METADATA_INT_MIN, METADATA_INT_MAX = -(2**63), 2**63 - 1

#: The bound on every ``limit``, for every surface (Python, REST, clients, MCP,
#: CLI): bounds one answer, and keeps huge integers away from the query engines.
MAX_LIMIT = 100_000

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


def _check_encodable(parameter: str, value: str, where: str = "") -> None:
    """Lone surrogates (``"\\udc00"`` is a valid JSON escape) cannot be written as UTF-8: a
    store would keep them, and every later read of the record would fail to serialise."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValidationError(
            f"invalid {parameter}: {where}contains a lone surrogate {value[exc.start]!r} at"
            f" position {exc.start} (not UTF-8 encodable)"
        ) from None


def check_text(value: object, parameter: str = "text") -> str:
    if not isinstance(value, str):
        raise ValidationError(f"invalid {parameter}: must be a string, not {type(value).__name__}")
    if "\x00" in value:
        raise ValidationError(f"invalid {parameter}: contains a NUL character")
    _check_encodable(parameter, value)
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
    # Every add and search passes here: a plain sequence of finite floats is checked
    # at C speed; anything else goes through the loop, which names the fault. A float
    # vector whose squared norm is finite and at most MAX_SQUARED_NORM has every
    # element finite and far below FLOAT32_MAX: the norm's one pass checks it.
    squared_norm = float_squared_norm(value)
    if squared_norm <= MAX_SQUARED_NORM:
        out: list[float] = list(value)
    elif (
        set(map(type, value)) == {float}
        and all(map(math.isfinite, value))
        and max(map(abs, value)) <= FLOAT32_MAX
    ):
        out = list(value)
        squared_norm = math.fsum(map(operator.mul, out, out))
    else:
        out = embedding_numbers(value)
        squared_norm = math.fsum(map(operator.mul, out, out))
    if squared_norm < FLOAT32_MIN_NORMAL:
        raise ValidationError("invalid embedding: must not be all zeros (or too close to zero)")
    if squared_norm > MAX_SQUARED_NORM:
        raise ValidationError(
            f"invalid embedding: its squared norm {squared_norm:.4g} overflows float32, in which"
            f" the stores compute cosine (the sum of squared components must be at most"
            f" {MAX_SQUARED_NORM:.4g}, so the norm at most {math.sqrt(MAX_SQUARED_NORM):.4g})"
        )
    return out


def _at(path: str) -> str:
    return path if len(path) <= 120 else path[:119] + "…"


def _check_json_value(value: object, path: str, depth: int) -> None:
    """A JSON value with string keys, encodable strings and finite numbers, not too deep.
    Recursion stops at the depth bound, so a cyclic or very deep value is refused, not a
    RecursionError."""
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, int):
        if not METADATA_INT_MIN <= value <= METADATA_INT_MAX:
            raise ValidationError(
                f"invalid metadata: the integer at {_at(path)} has {value.bit_length()} bits;"
                " integers must fit in 64 bits (-2**63 to 2**63-1)"
            )
        return
    if isinstance(value, str):
        _check_encodable("metadata", value, f"the value at {_at(path)} ")
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValidationError(
                f"invalid metadata: the value at {_at(path)} is {value!r}, not JSON"
            )
        return
    if not isinstance(value, (Mapping, list, tuple)):
        raise ValidationError(
            f"invalid metadata: the value at {_at(path)} is a {type(value).__name__}, not JSON"
        )
    if depth > MAX_METADATA_DEPTH:
        raise ValidationError(
            f"invalid metadata: nested deeper than {MAX_METADATA_DEPTH} levels (at {_at(path)})"
        )
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValidationError(
                    f"invalid metadata: keys must be strings, got {type(key).__name__}"
                    f" {key!r:.80} at {_at(path)}"
                )
            _check_encodable("metadata", key, f"a key at {_at(path)} ")
            _check_json_value(item, f"{path}[{key!r}]", depth + 1)
    else:
        for index, item in enumerate(value):
            _check_json_value(item, f"{path}[{index}]", depth + 1)


def check_metadata(value: object) -> dict[str, Any]:
    """A JSON object of bounded depth and size (``MAX_METADATA_DEPTH``, ``MAX_METADATA_BYTES``)
    whose keys are strings and whose strings are all UTF-8 encodable."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValidationError("invalid metadata: must be a JSON object (a dict)")
    _check_json_value(value, "metadata", 1)
    encoded = json.dumps(dict(value), ensure_ascii=False, allow_nan=False)
    size = len(encoded.encode("utf-8"))
    if size > MAX_METADATA_BYTES:
        raise ValidationError(
            f"invalid metadata: {size} bytes as JSON, at most {MAX_METADATA_BYTES} allowed"
        )
    # Round-trip so what is stored is exactly what a reader gets back (tuples become lists).
    loaded: dict[str, Any] = json.loads(encoded)
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
    """The one bound on limits: an integer from 1 to ``MAX_LIMIT``."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_LIMIT:
        raise ValidationError(
            f"invalid {parameter}: must be an integer from 1 to {MAX_LIMIT}, got {value!r:.40}"
        )
    return value


#: Keeps huge integers away from the stores' query engines (Kuzu's SKIP is int64).
MAX_OFFSET = 10_000_000
#: Graph reads stay bounded: hops of ``neighbors``. (Entity reads page through
#: every match: see hybridmem/reads.py, which also holds the anchored pool.)
MAX_DEPTH = 3
#: Entity names anchoring one search.
MAX_ANCHORS = 100


def check_offset(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_OFFSET:
        raise ValidationError(f"invalid offset: must be an integer from 0 to {MAX_OFFSET}")
    return value


def check_depth(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_DEPTH:
        raise ValidationError(f"invalid depth: must be an integer from 1 to {MAX_DEPTH}")
    return value


def check_names(parameter: str, names: object) -> list[str]:
    """A list of entity names (a search's anchors)."""
    if isinstance(names, (str, bytes)) or not isinstance(names, Sequence):
        raise ValidationError(f"invalid {parameter}: must be a list of entity names")
    if len(names) > MAX_ANCHORS:
        raise ValidationError(f"invalid {parameter}: at most {MAX_ANCHORS} names")
    return [check_name(f"{parameter}[{i}]", n) for i, n in enumerate(names)]


def check_namespace(scope: Scope, parameter: str) -> str:
    """Graph reads run in one user namespace: ``user_id`` is required with them."""
    if scope.user_id is None:
        raise ValidationError(f"{parameter} needs user_id: entities live in a user's namespace")
    return str(scope.user_id)


# -- add_many's items and batches -------------------------------------------------------

#: An item's keys, in the order an export writes them.
ITEM_KEYS = (
    "memory_id",
    "text",
    "embedding",
    "user_id",
    "agent_id",
    "run_id",
    "metadata",
    "entities",
    "relations",
    "created_at",
    "updated_at",
    "expires_at",
)
ITEM_FIELDS = frozenset(ITEM_KEYS)
#: A batch is one journaled operation and one write per store: bounded so that a
#: batch's records fit comfortably in memory and in one store transaction.
MAX_BATCH_SIZE = 10_000


def check_batch_size(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_BATCH_SIZE:
        raise ValidationError(f"invalid batch_size: must be an integer from 1 to {MAX_BATCH_SIZE}")
    return value


#: Texts per ``embed()`` call: one embedder call, bounded like a batch's texts.
MAX_EMBED_TEXTS = 1_000


def check_texts(value: object) -> list[str]:
    """``embed()``'s texts: a list of 1 to MAX_EMBED_TEXTS strings, each as ``add``'s text."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise ValidationError("invalid texts: must be a list of strings")
    if not 1 <= len(value) <= MAX_EMBED_TEXTS:
        raise ValidationError(f"invalid texts: must hold 1 to {MAX_EMBED_TEXTS} strings")
    return [check_text(text, f"texts[{i}]") for i, text in enumerate(value)]


# -- instants: created_at, updated_at, expires_at ---------------------------------------

#: Every instant a store keeps (created_at, updated_at, expires_at) lies in this
#: range once in UTC. From the Unix epoch, which every store's date type holds
#: and sorts right, to the last day of year 9999: that day leaves any UTC offset
#: room to be shown without overflowing Python's datetime (year 9999 is its last),
#: and every store writes the year with four digits.
EARLIEST_INSTANT = datetime(1970, 1, 1, tzinfo=UTC)
LATEST_INSTANT = datetime(9999, 12, 31, tzinfo=UTC)

#: The furthest a memory's expiry may lie ahead of its write: bounds ``ttl`` and
#: ``expires_at``.
MAX_TTL = timedelta(days=36_525)
#: The shortest ``ttl``: a memory born expired (ttl=1e-7) would be a write no read
#: can ever see, so it is refused rather than stored.
MIN_TTL = timedelta(seconds=1)


def read_instant(parameter: str, value: object, *, naive_is_utc: bool = False) -> datetime:
    """The one reader of instants at the boundary: a datetime, or ISO 8601 text, with
    a UTC offset (or naive, read as UTC, where ``naive_is_utc``), returned in UTC and
    inside ``EARLIEST_INSTANT`` .. ``LATEST_INSTANT``. Anything else, an offset whose
    conversion to UTC leaves datetime's range included, is a ValidationError naming
    ``parameter``."""
    if isinstance(value, str):
        text = value
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            raise ValidationError(
                f"invalid {parameter}: {text[:80]!r} is not ISO 8601"
                " (e.g. 2024-05-01T12:00:00+00:00)"
            ) from None
    if not isinstance(value, datetime):
        raise ValidationError(
            f"invalid {parameter}: must be ISO 8601 text or a datetime, not {type(value).__name__}"
        )
    if value.utcoffset() is None:
        if not naive_is_utc:
            raise ValidationError(f"invalid {parameter}: needs a UTC offset (e.g. +00:00)")
        value = value.replace(tzinfo=UTC)
    try:
        stamp = value.astimezone(UTC)
    except OverflowError:
        stamp = None
    if stamp is None or not EARLIEST_INSTANT <= stamp <= LATEST_INSTANT:
        raise ValidationError(
            f"invalid {parameter}: {value.isoformat()} is outside the accepted range"
            f" {EARLIEST_INSTANT.isoformat()} .. {LATEST_INSTANT.isoformat()} (in UTC)"
        )
    return stamp


def check_timestamp(parameter: str, value: object) -> datetime:
    """A created_at / updated_at: an aware datetime or ISO 8601 text with an offset,
    in the accepted range; returned in UTC."""
    return read_instant(parameter, value)


def _ttl_seconds(ttl: object) -> float:
    if isinstance(ttl, timedelta):
        return ttl.total_seconds()
    if isinstance(ttl, bool) or not isinstance(ttl, (int, float)):
        raise ValidationError(
            f"invalid ttl: must be a number of seconds or a timedelta, not {type(ttl).__name__}"
        )
    try:
        return float(ttl)
    except OverflowError:  # an int beyond any float: far beyond MAX_TTL
        return math.inf


def check_expiry(
    expires_at: object = None,
    ttl: object = None,
    *,
    at: datetime,
    allow_past: bool = False,
) -> datetime | None:
    """The expiry of a memory written at ``at``: ``expires_at`` (a datetime or ISO
    8601 text; naive is UTC) or ``ttl`` (seconds, or a timedelta, from ``MIN_TTL``
    to ``MAX_TTL``), at most one, at most ``MAX_TTL`` ahead. ``add()`` refuses an
    ``expires_at`` not after ``at`` (already expired); add_many's items pass
    ``allow_past`` (never before ``EARLIEST_INSTANT``). None: never expires."""
    if expires_at is not None and ttl is not None:
        raise ValidationError("give at most one of expires_at and ttl")
    if ttl is not None:
        seconds = _ttl_seconds(ttl)
        low, high = MIN_TTL.total_seconds(), MAX_TTL.total_seconds()
        if not math.isfinite(seconds) or not low <= seconds <= high:
            raise ValidationError(
                f"invalid ttl: must be from {low:.0f} second to {high:.0f} seconds (100 years),"
                f" got {ttl!r:.40}"
            )
        return at + timedelta(seconds=seconds)
    if expires_at is None:
        return None
    stamp = read_instant("expires_at", expires_at, naive_is_utc=True)
    if stamp > at + MAX_TTL:
        raise ValidationError("invalid expires_at: more than 100 years ahead")
    if not allow_past and stamp <= at:
        raise ValidationError(
            f"invalid expires_at: {stamp.isoformat()} is not in the future (already expired)"
        )
    return stamp


def check_item(index: int, item: object) -> dict[str, Any]:
    if not isinstance(item, Mapping):
        raise ValidationError(f"items[{index}]: must be a dict with at least 'text'")
    unknown = sorted(str(key) for key in item if key not in ITEM_FIELDS)
    if unknown:
        raise ValidationError(
            f"items[{index}]: unknown field {unknown[0]!r};"
            f" allowed: {', '.join(sorted(ITEM_FIELDS))}"
        )
    try:
        created = item.get("created_at")
        updated = item.get("updated_at")
        times = None
        if created is not None or updated is not None:
            first = (
                check_timestamp("created_at", created) if created is not None else datetime.now(UTC)
            )
            last = check_timestamp("updated_at", updated) if updated is not None else first
            if last < first:
                raise ValidationError("invalid updated_at: earlier than created_at")
            times = (first, last)
        embedding = item.get("embedding")
        memory_id = item.get("memory_id")
        expires_at = check_expiry(item.get("expires_at"), at=datetime.now(UTC), allow_past=True)
        return {
            "scope": scope_from(item.get("user_id"), item.get("agent_id"), item.get("run_id")),
            "text": check_text(item.get("text")),
            "metadata": check_metadata(item.get("metadata")),
            "embedding": check_embedding(embedding) if embedding is not None else None,
            "memory_id": check_memory_id(memory_id) if memory_id is not None else None,
            "entities": item.get("entities") or (),
            "relations": item.get("relations") or (),
            "times": times,
            "expires_at": expires_at,
        }
    except ValidationError as exc:
        raise ValidationError(f"items[{index}]: {exc}") from None
