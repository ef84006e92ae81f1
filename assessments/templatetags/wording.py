"""Template filters for small points of English in page copy."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def indefinite_article(word: object) -> str:
    """ "a" or "an" for the word that follows: "an engineering respondent", "a product one".

    By the first letter, which is right for every role and dimension name the product shows
    (none starts with a silent h or a "you" sound)."""
    text = str(word).strip()
    return "an" if text[:1].lower() in {"a", "e", "i", "o", "u"} else "a"
