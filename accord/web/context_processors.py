from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accord.web.access import shows_admin


def shell(request: HttpRequest) -> dict[str, Any]:
    """The navigation of the page shell, by role; no database queries beyond the user."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    items = [
        ("home", reverse("web:home"), _("My day")),
        ("accounts", reverse("web:account_list"), _("Accounts")),
        ("contacts", reverse("web:contact_list"), _("Contacts")),
        ("leads", reverse("web:lead_list"), _("Leads")),
        ("opportunities", reverse("web:opportunity_list"), _("Opportunities")),
        ("activities", reverse("web:activity_list"), _("Activities")),
        ("board", reverse("web:board"), _("Pipeline")),
    ]
    if shows_admin(user):
        items.append(("admin", reverse("admin:index"), _("Administration")))
    return {"nav_items": items}
