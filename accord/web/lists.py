"""Lists of contacts, opportunities and activities: search, filters, keyset pages.

Each list calls its selector (so visibility and pagination are the API's) and loads the
related rows it shows with one query per relation, whatever the page size.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import prefetch_related_objects
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from accord.activities.models import ActivityKind
from accord.activities.selectors import activity_list
from accord.core.errors import ValidationFailed
from accord.core.pagination import Page
from accord.customers.selectors import contact_list
from accord.org.models import User
from accord.sales.models import LeadStatus, StageOutcome
from accord.sales.selectors import lead_list, opportunity_list
from accord.web.views import _user

LIST_PAGE_SIZE = 50


@dataclass(frozen=True)
class Filter:
    name: str
    label: Any
    choices: list[tuple[str, Any]]


@dataclass(frozen=True)
class ListSpec:
    key: str
    title: Any
    rows_template: str
    filters: list[Filter]
    fetch: Callable[..., Page[Any]]
    related: tuple[str, ...]
    to_selector: Callable[[User, dict[str, str]], dict[str, Any]]
    extra: dict[str, Any] = field(default_factory=dict)


MINE = [("mine", _("Mine")), ("all", _("All I may see"))]


def _contacts_args(user: User, params: dict[str, str]) -> dict[str, Any]:
    active = params.get("active")
    return {"is_active": {"yes": True, "no": False}.get(active or "")}


def _opportunities_args(user: User, params: dict[str, str]) -> dict[str, Any]:
    outcome = params.get("outcome")
    return {
        "outcome": outcome if outcome in StageOutcome.values else None,
        "owner": user.pk if params.get("scope") == "mine" else None,
    }


def _leads_args(user: User, params: dict[str, str]) -> dict[str, Any]:
    status = params.get("status")
    return {
        "status": status if status in LeadStatus.values else None,
        "owner": user.pk if params.get("scope") == "mine" else None,
        "ordering": "-created_at",
    }


def _activities_args(user: User, params: dict[str, str]) -> dict[str, Any]:
    kind = params.get("kind")
    return {
        "kind": kind if kind in ActivityKind.values else None,
        "performed_by": user.pk if params.get("scope") == "mine" else None,
    }


LISTS = {
    "contacts": ListSpec(
        key="contacts",
        title=_("Contacts"),
        rows_template="web/partials/contact_rows.html",
        filters=[Filter("active", _("Active"), [("yes", _("Active")), ("no", _("Inactive"))])],
        fetch=contact_list,
        related=("account",),
        to_selector=_contacts_args,
    ),
    "leads": ListSpec(
        key="leads",
        title=_("Leads"),
        rows_template="web/partials/lead_rows.html",
        filters=[
            Filter("scope", _("Whose"), MINE),
            Filter("status", _("Status"), list(LeadStatus.choices)),
        ],
        fetch=lead_list,
        related=("owner",),
        to_selector=_leads_args,
    ),
    "opportunities": ListSpec(
        key="opportunities",
        title=_("Opportunities"),
        rows_template="web/partials/opportunity_rows.html",
        filters=[
            Filter("scope", _("Whose"), MINE),
            Filter("outcome", _("Outcome"), list(StageOutcome.choices)),
        ],
        fetch=opportunity_list,
        related=("account", "stage", "owner"),
        to_selector=_opportunities_args,
    ),
    "activities": ListSpec(
        key="activities",
        title=_("Activities"),
        rows_template="web/partials/activity_rows.html",
        filters=[
            Filter("scope", _("Whose"), MINE),
            Filter("kind", _("Kind"), list(ActivityKind.choices)),
        ],
        fetch=activity_list,
        related=("account", "performed_by"),
        to_selector=_activities_args,
    ),
}


def _list_view(request: HttpRequest, spec: ListSpec) -> HttpResponse:
    user = _user(request)
    params = {f.name: request.GET.get(f.name, "") for f in spec.filters}
    args = spec.to_selector(user, params)
    query = request.GET.get("q", "").strip()
    common = {"user": user, "search": query or None, "limit": LIST_PAGE_SIZE, **args}
    error = ""
    try:
        page = spec.fetch(cursor=request.GET.get("cursor") or None, **common)
    except ValidationFailed as exc:
        page = spec.fetch(**common)
        error = exc.detail
    prefetch_related_objects(page.items, *spec.related)
    context = {
        "nav": spec.key,
        "spec": spec,
        "page": page,
        "query": query,
        "params": params,
        "error": error,
    }
    partial = (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-Target") == "list-results"
    )
    template = "web/partials/list_results.html" if partial else "web/record_list.html"
    return render(request, template, context)


@login_required
def contacts(request: HttpRequest) -> HttpResponse:
    return _list_view(request, LISTS["contacts"])


@login_required
def leads(request: HttpRequest) -> HttpResponse:
    return _list_view(request, LISTS["leads"])


@login_required
def opportunities(request: HttpRequest) -> HttpResponse:
    return _list_view(request, LISTS["opportunities"])


@login_required
def activities(request: HttpRequest) -> HttpResponse:
    return _list_view(request, LISTS["activities"])
