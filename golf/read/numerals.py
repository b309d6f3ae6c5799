"""Numerals as people write them: the decimal places a numeral was written with, and numbers written back.

One home for both, because a claim is judged at the precision it was written with (`1.2345` claims four
decimals; `2.5e-3` claims four too: 0.0025) and every report writes numbers the same way.
"""

from __future__ import annotations

import math

MISSING = "–"   # what every report writes for a number that is not known (or not finite)


def decimal_places(text: str) -> int:
    """Decimal places of a numeral: 4 for `1.2345`, 4 for `2.5e-3` (0.0025), 0 for `12` or `1.5e3`."""
    text = text.strip().lower()
    mantissa, _, exponent = text.partition("e")
    places = len(mantissa.partition(".")[2])
    if exponent:
        try:
            places -= int(exponent)
        except ValueError:
            return places
    return max(places, 0)


def fixed(value, digits: int = 8, spec: str | None = None) -> str:
    """`value` with `digits` decimals (or a format `spec`, e.g. ","), or MISSING when it is not a finite number."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return MISSING
    return format(value, spec) if spec is not None else f"{value:.{digits}f}"


__all__ = ["MISSING", "decimal_places", "fixed"]
