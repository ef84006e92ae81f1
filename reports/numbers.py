"""Numbers as the report prints them, and arithmetic on the printed values, so that every
difference a reader can work out from two printed numbers is the one printed beside them."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from scoring.scores import level_text, shown_level

__all__ = ["difference", "gap_text", "level_difference", "level_text", "num", "shown"]


def num(value: float, places: int, *, sign: bool = False) -> str:
    """A number rounded half up from its decimal form, exactly as the templates' floatformat
    rounds, so a table and the sentence above it never disagree (2.15 is 2.2 in both).
    With `sign`, a rise carries its "+" (+0.7); no change is plain 0.0, never -0.0."""
    quantum = Decimal(1).scaleb(-places)
    rounded = Decimal(repr(float(value))).quantize(quantum, rounding=ROUND_HALF_UP)
    if rounded == 0:
        rounded = abs(rounded)
    text = f"{rounded:f}"
    return ("+" + text) if sign and rounded > 0 else text


def shown(value: float, places: int) -> Decimal:
    """The value as a reader sees it printed with `places` decimals."""
    return Decimal(num(value, places))


def difference(later: float, earlier: float, places: int, *, sign: bool = True) -> str:
    """later - earlier computed from the two numbers as printed, so the printed difference is
    the one a reader gets by subtracting (1.3 -> 2.0 is +0.7, never +0.8)."""
    return num(float(shown(later, places) - shown(earlier, places)), places, sign=sign)


def gap_text(exact_level: float | None, target: int) -> str:
    """The gap to target from the level as printed (level 2.2, target 3: gap 0.8); levels
    print rounded down (scoring.scores.shown_level), so 2.96 is 2.9 with a gap of 0.1."""
    if exact_level is None:
        return "-"
    return num(float(max(Decimal(0), Decimal(target) - shown_level(exact_level))), 1)


def level_difference(later: float, earlier: float) -> str:
    """later - earlier from the two levels as printed (2.0 against 1.3 is +0.7)."""
    change = shown_level(later) - shown_level(earlier)
    return num(float(change), 1, sign=True)
