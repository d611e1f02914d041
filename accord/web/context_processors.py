from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext_lazy as _

from accord.org.models import Role
from accord.territories.visibility import may_review_account_requests, may_steward
from accord.web.access import shows_admin
from accord.web.forecasts import shows_forecasts

# Who manages people (and so hands their work over when they leave).
TEAM_ROLES = frozenset({Role.SALES_MANAGER, Role.REGIONAL_MANAGER, Role.ADMINISTRATOR})


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
    if user.role != Role.INTEGRATION:
        items.append(("dashboards", reverse("web:dashboards"), _("Dashboards")))
    if shows_forecasts(user):
        items.append(("forecasts", reverse("web:forecasts"), _("Forecasts")))
    items.append(("reports", reverse("web:reports"), _("Reports")))
    items.append(
        (
            "requests",
            reverse(
                "web:request_queue" if may_review_account_requests(user) else "web:request_list"
            ),
            _("Account requests"),
        )
    )
    items.append(("disputes", reverse("web:dispute_list"), _("Disputes")))
    items.append(("exceptions", reverse("web:selling_exception_list"), _("Selling exceptions")))
    if user.is_superuser or user.role in TEAM_ROLES:
        items.append(("team", reverse("web:team"), _("My team")))
    if may_steward(user):
        items.append(("duplicates", reverse("web:duplicate_queue"), _("Duplicates")))
    if user.is_superuser or user.role == Role.ADMINISTRATOR:
        items.append(("assignment", reverse("web:assignment_rules"), _("Assignment rules")))
        items.append(("integration", reverse("web:integration_console"), _("Integration")))
    if shows_admin(user):
        items.append(("admin", reverse("admin:index"), _("Administration")))
    return {"nav_items": items}


def notifications(request: HttpRequest) -> dict[str, Any]:
    """The unread count for the header's bell, counted only when a page shows it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from accord.org.notifications import unread_count

    return {"unread_notifications": SimpleLazyObject(lambda: unread_count(user))}
