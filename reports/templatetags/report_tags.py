from __future__ import annotations

from typing import Any

from django import template

from scoring.scores import level_text

register = template.Library()


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    """mapping[key] in templates; keys may be ints or strings (JSON turns int keys to str)."""
    if mapping is None:
        return None
    try:
        return mapping[key]
    except (KeyError, TypeError, IndexError):
        try:
            return mapping[str(key)]
        except (KeyError, TypeError):
            return None


@register.filter
def level(exact_level: Any) -> str:
    """A level as every page and the PDF print it (scoring.scores.level_text): 2.8, never a
    badge saying 2 beside a table saying 2.8; "not assessed" without one."""
    if exact_level is None or exact_level == "":
        return "not assessed"
    return level_text(float(exact_level))


@register.filter
def percent(share: Any) -> str:
    """A share from 0 to 1 as a whole percentage ("10%"); below 1% reads "under 1%"."""
    try:
        value = float(share)
    except (TypeError, ValueError):
        return ""
    if 0 < value < 0.005:
        return "under 1%"
    return f"{round(value * 100)}%"
