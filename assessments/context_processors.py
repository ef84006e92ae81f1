"""Values every page's header needs."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from assessments.models import Membership


def navigation(request: HttpRequest) -> dict[str, Any]:
    """`shows_branding`: report branding serves consultants, so only a facilitator of some
    organisation sees the link (queried only by pages that show the header's menu)."""
    user = getattr(request, "user", None)

    def _facilitates() -> bool:
        if user is None or not user.is_authenticated:
            return False
        return Membership.objects.filter(user=user, role=Membership.Role.FACILITATOR).exists()

    return {"shows_branding": SimpleLazyObject(_facilitates)}
