"""float32, the number type both vector stores keep: its bounds, and the slow
path of check_embedding (hybridmem.validation) that names a bad element."""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence

from hybridmem.errors import ValidationError

#: Both vector stores keep float32: a larger component would be stored as
#: infinity, and a vector whose squared norm underflows float32 has no direction
#: (cosine divides by its norm).
FLOAT32_MAX = 3.4028234663852886e38
FLOAT32_MIN_NORMAL = 1.1754943508222875e-38

#: The largest squared norm (sum of squared components) an embedding may have:
#: both stores compute cosine in float32, and a vector whose squared norm
#: overflows it scores wrong ([3e38] * 8 scored 1.0 against a true 0.47). So the
#: norm is at most sqrt(FLOAT32_MAX), about 1.8e19; real embeddings are near 1.
MAX_SQUARED_NORM = FLOAT32_MAX


def float_squared_norm(value: Sequence[object]) -> float:
    """The squared norm of a sequence of floats only; NaN for anything else."""
    if set(map(type, value)) != {float}:
        return math.nan
    try:
        return math.fsum(map(operator.mul, value, value))  # type: ignore[arg-type]
    except (OverflowError, ValueError):
        return math.nan


def embedding_numbers(value: Sequence[object]) -> list[float]:
    """Each element as a float, or a ValidationError naming the first that is not
    a finite number within float32."""
    out: list[float] = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, (int, float)):
            raise ValidationError("invalid embedding: every element must be a number")
        try:
            number = float(item)
        except OverflowError:  # an int too large for any float, so far beyond float32
            raise ValidationError(
                f"invalid embedding: an integer element of {int(item).bit_length()} bits is"
                f" beyond float32 (|x| <= {FLOAT32_MAX:.4g})"
            ) from None
        if not math.isfinite(number):
            raise ValidationError("invalid embedding: every element must be finite")
        if abs(number) > FLOAT32_MAX:
            raise ValidationError(
                f"invalid embedding: element {number!r} is beyond float32"
                f" (|x| <= {FLOAT32_MAX:.4g})"
            )
        out.append(number)
    return out
