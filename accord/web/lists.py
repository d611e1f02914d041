"""Lists of contacts, leads, opportunities and activities: search, filters, scopes ("mine /
my team / all I may see"), sort, keyset pages and CSV export of the current list.

Each list calls its selector — the one the API calls with the same filters — so visibility,
scopes and pagination are the API's. A list loads the related rows it shows with one query
per relation, and each filter's choices with one query, whatever the page size.
"""

from __future__ import annotations

import csv
import datetime as dt
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from django.contrib.auth.decorators import login_required
from django.db.models import prefetch_related_objects
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accord.activities.models import ActivityKind
from accord.activities.selectors import activity_list
from accord.audit.models import SecurityEventKind
from accord.audit.security import security_event
from accord.core.api_support import MAX_YEAR, MIN_YEAR
from accord.core.errors import ValidationFailed
from accord.core.pagination import MAX_LIMIT, Page
from accord.customers.selectors import contact_list
from accord.org.models import BusinessUnit, User
from accord.org.selectors import districts
from accord.sales.models import LeadSource, LeadStatus, Stage, StageOutcome
from accord.sales.selectors import lead_list, opportunity_list
from accord.territories import visibility
from accord.web.views import _user

LIST_PAGE_SIZE = 50

Choices = list[tuple[str, Any]]
ANY = _("Any")


@dataclass(frozen=True)
class Filter:
    """One control of a list's filter bar. ``choices`` is a list, or a function of the user
    (one query) for choices that come from the database; a ``date`` filter has none.
    ``any_label`` is the empty choice ("Any"); ``None`` for controls that always have a
    value (scope, sort), whose first choice is the default."""

    name: str
    label: Any
    choices: Choices | Callable[[User], Choices] = field(default_factory=list)
    kind: Literal["select", "date"] = "select"
    any_label: Any = ANY


@dataclass(frozen=True)
class BoundFilter:
    name: str
    label: Any
    kind: str
    choices: Choices
    any_label: Any
    value: str


@dataclass(frozen=True)
class ListSpec:
    key: str
    title: Any
    rows_template: str
    filters: list[Filter]
    fetch: Callable[..., Page[Any]]
    related: tuple[str, ...]
    to_selector: Callable[[User, dict[str, str]], dict[str, Any]]
    csv_columns: list[tuple[str, Callable[[Any], Any]]]
    new_url: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def export_url(self) -> str:
        return reverse(f"web:{self.key}_export")


# --- filter controls shared by the lists ----------------------------------------------------

SCOPES: Choices = [("all", _("All I may see")), ("mine", _("Mine")), ("team", _("My team"))]
SCOPE = Filter("scope", _("Whose"), SCOPES, any_label=None)


def _owner_choices(user: User) -> Choices:
    people = visibility.owners_visible_to(user).order_by("first_name", "last_name", "username")
    return [(str(p.pk), str(p)) for p in people]


def _district_choices(user: User) -> Choices:
    return [(str(d.pk), d.name) for d in districts()]


def _unit_choices(user: User) -> Choices:
    units = BusinessUnit.objects.filter(is_active=True).order_by("name")
    return [(str(u.pk), u.name) for u in units]


def _stage_choices(user: User) -> Choices:
    stages = Stage.objects.select_related("pipeline__business_unit").order_by(
        "pipeline__business_unit__name", "pipeline__name", "position"
    )
    return [(str(s.pk), f"{s.pipeline.business_unit.name} — {s.name}") for s in stages]


OWNER = Filter("owner", _("Owner"), _owner_choices)
DISTRICT = Filter("district", _("District"), _district_choices)
UNIT = Filter("unit", _("Business unit"), _unit_choices)


def _date_range(prefix: str, label_from: Any, label_to: Any) -> list[Filter]:
    return [
        Filter(f"{prefix}_from", label_from, kind="date"),
        Filter(f"{prefix}_to", label_to, kind="date"),
    ]


# --- parsing what the filter bar sends (anything unexpected is ignored) ----------------------


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


def _date(value: str) -> dt.date | None:
    """A day the API would accept too (years 1900 to 2999); anything else is no filter."""
    try:
        day = dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None
    return day if day is not None and MIN_YEAR <= day.year <= MAX_YEAR else None


def _one_of(value: str, allowed: Iterable[str]) -> str | None:
    return value if value in allowed else None


def _scope(params: dict[str, str]) -> str | None:
    return _one_of(params.get("scope", ""), ("mine", "team"))


def _sort(params: dict[str, str], spec_filters: list[Filter]) -> str:
    sort = next(f for f in spec_filters if f.name == "sort")
    choices = sort.choices if isinstance(sort.choices, list) else []
    allowed = [value for value, _label in choices]
    return _one_of(params.get("sort", ""), allowed) or allowed[0]


# --- the lists -----------------------------------------------------------------------------

CONTACT_SORTS: Choices = [("last_name", _("Name")), ("-created_at", _("Newest"))]
LEAD_SORTS: Choices = [
    ("-created_at", _("Newest")),
    ("created_at", _("Oldest")),
    ("company_name", _("Company")),
]
OPPORTUNITY_SORTS: Choices = [
    ("-created_at", _("Newest")),
    ("name", _("Name")),
    ("-amount", _("Largest amount")),
    ("amount", _("Smallest amount")),
]
ACTIVITY_SORTS: Choices = [
    ("-occurred_at", _("Latest first")),
    ("occurred_at", _("Earliest first")),
]

CONTACT_FILTERS = [
    SCOPE,
    DISTRICT,
    Filter("active", _("Active"), [("yes", _("Active")), ("no", _("Inactive"))]),
    Filter("sort", _("Sort by"), CONTACT_SORTS, any_label=None),
]
LEAD_FILTERS = [
    SCOPE,
    OWNER,
    UNIT,
    DISTRICT,
    Filter("status", _("Status"), list(LeadStatus.choices)),
    Filter("source", _("Source"), list(LeadSource.choices)),
    *_date_range("created", _("Created from"), _("Created until")),
    Filter("sort", _("Sort by"), LEAD_SORTS, any_label=None),
]
OPPORTUNITY_FILTERS = [
    SCOPE,
    OWNER,
    UNIT,
    DISTRICT,
    Filter("stage", _("Stage"), _stage_choices),
    Filter("outcome", _("Outcome"), list(StageOutcome.choices)),
    *_date_range("close", _("Closing from"), _("Closing until")),
    Filter("sort", _("Sort by"), OPPORTUNITY_SORTS, any_label=None),
]
ACTIVITY_FILTERS = [
    SCOPE,
    OWNER,
    UNIT,
    DISTRICT,
    Filter("kind", _("Kind"), list(ActivityKind.choices)),
    Filter("done", _("Status"), [("no", _("Open")), ("yes", _("Done"))]),
    *_date_range("date", _("Due or held from"), _("Due or held until")),
    Filter("sort", _("Sort by"), ACTIVITY_SORTS, any_label=None),
]


def _contacts_args(user: User, params: dict[str, str]) -> dict[str, Any]:
    return {
        "scope": _scope(params),
        "district": _uuid(params["district"]),
        "is_active": {"yes": True, "no": False}.get(params["active"]),
        "ordering": _sort(params, CONTACT_FILTERS),
    }


def _leads_args(user: User, params: dict[str, str]) -> dict[str, Any]:
    return {
        "scope": _scope(params),
        "owner": _uuid(params["owner"]),
        "business_unit": _uuid(params["unit"]),
        "district": _uuid(params["district"]),
        "status": _one_of(params["status"], LeadStatus.values),
        "source": _one_of(params["source"], LeadSource.values),
        "created_from": _date(params["created_from"]),
        "created_to": _date(params["created_to"]),
        "ordering": _sort(params, LEAD_FILTERS),
    }


def _opportunities_args(user: User, params: dict[str, str]) -> dict[str, Any]:
    return {
        "scope": _scope(params),
        "owner": _uuid(params["owner"]),
        "business_unit": _uuid(params["unit"]),
        "district": _uuid(params["district"]),
        "stage": _uuid(params["stage"]),
        "outcome": _one_of(params["outcome"], StageOutcome.values),
        "close_from": _date(params["close_from"]),
        "close_to": _date(params["close_to"]),
        "ordering": _sort(params, OPPORTUNITY_FILTERS),
    }


def _activities_args(user: User, params: dict[str, str]) -> dict[str, Any]:
    return {
        "scope": _scope(params),
        "performed_by": _uuid(params["owner"]),
        "business_unit": _uuid(params["unit"]),
        "district": _uuid(params["district"]),
        "kind": _one_of(params["kind"], ActivityKind.values),
        "is_done": {"yes": True, "no": False}.get(params["done"]),
        "date_from": _date(params["date_from"]),
        "date_to": _date(params["date_to"]),
        "ordering": _sort(params, ACTIVITY_FILTERS),
    }


def _local(value: dt.datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def _name(user: User | None) -> str:
    return str(user) if user is not None else ""


LISTS = {
    "contacts": ListSpec(
        key="contacts",
        title=_("Contacts"),
        rows_template="web/partials/contact_rows.html",
        filters=CONTACT_FILTERS,
        fetch=contact_list,
        related=("account__district",),
        to_selector=_contacts_args,
        csv_columns=[
            ("account_code", lambda c: c.account.customer_code),
            ("account", lambda c: c.account.legal_name),
            ("district", lambda c: c.account.district.code if c.account.district else ""),
            ("first_name", lambda c: c.first_name),
            ("last_name", lambda c: c.last_name),
            ("first_name_th", lambda c: c.first_name_th),
            ("last_name_th", lambda c: c.last_name_th),
            ("job_title", lambda c: c.job_title),
            ("email", lambda c: c.email),
            ("phone", lambda c: c.phone),
            ("mobile", lambda c: c.mobile),
            ("active", lambda c: "yes" if c.is_active else "no"),
        ],
    ),
    "leads": ListSpec(
        key="leads",
        title=_("Leads"),
        rows_template="web/partials/lead_rows.html",
        filters=LEAD_FILTERS,
        fetch=lead_list,
        related=("owner", "district", "business_unit"),
        to_selector=_leads_args,
        new_url="/leads/new/",
        csv_columns=[
            ("company_name", lambda x: x.company_name),
            ("first_name", lambda x: x.first_name),
            ("last_name", lambda x: x.last_name),
            ("email", lambda x: x.email),
            ("phone", lambda x: x.phone),
            ("source", lambda x: x.source),
            ("status", lambda x: x.status),
            ("owner", lambda x: _name(x.owner)),
            ("business_unit", lambda x: x.business_unit.code if x.business_unit else ""),
            ("district", lambda x: x.district.code if x.district else ""),
            ("created_at", lambda x: _local(x.created_at)),
        ],
    ),
    "opportunities": ListSpec(
        key="opportunities",
        title=_("Opportunities"),
        rows_template="web/partials/opportunity_rows.html",
        filters=OPPORTUNITY_FILTERS,
        fetch=opportunity_list,
        related=("account", "stage", "owner", "business_unit"),
        to_selector=_opportunities_args,
        csv_columns=[
            ("name", lambda o: o.name),
            ("account_code", lambda o: o.account.customer_code),
            ("account", lambda o: o.account.legal_name),
            ("business_unit", lambda o: o.business_unit.code),
            ("stage", lambda o: o.stage.name),
            ("outcome", lambda o: o.stage.outcome),
            ("amount", lambda o: o.amount),
            ("currency", lambda o: o.currency),
            ("expected_close_date", lambda o: o.expected_close_date or ""),
            ("owner", lambda o: _name(o.owner)),
            ("created_at", lambda o: _local(o.created_at)),
        ],
    ),
    "activities": ListSpec(
        key="activities",
        title=_("Activities"),
        rows_template="web/partials/activity_rows.html",
        filters=ACTIVITY_FILTERS,
        fetch=activity_list,
        related=("account", "lead", "performed_by"),
        to_selector=_activities_args,
        csv_columns=[
            ("kind", lambda a: a.kind),
            ("subject", lambda a: a.subject),
            ("when", lambda a: _local(a.occurred_at)),
            ("due_date", lambda a: a.due_date or ""),
            ("done", lambda a: "yes" if a.is_done else "no"),
            ("account_code", lambda a: a.account.customer_code if a.account else ""),
            ("account", lambda a: a.account.legal_name if a.account else ""),
            ("lead", lambda a: a.lead.company_name if a.lead else ""),
            ("performed_by", lambda a: _name(a.performed_by)),
            ("outcome", lambda a: a.outcome),
        ],
    ),
}


def _params(request: HttpRequest, spec: ListSpec) -> dict[str, str]:
    return {f.name: request.GET.get(f.name, "").strip() for f in spec.filters}


def _bind(spec: ListSpec, user: User, params: dict[str, str]) -> list[BoundFilter]:
    return [
        BoundFilter(
            name=f.name,
            label=f.label,
            kind=f.kind,
            choices=f.choices(user) if callable(f.choices) else f.choices,
            any_label=f.any_label,
            value=params.get(f.name, ""),
        )
        for f in spec.filters
    ]


def _list_view(request: HttpRequest, spec: ListSpec) -> HttpResponse:
    user = _user(request)
    params = _params(request, spec)
    args = spec.to_selector(user, params)
    query = request.GET.get("q", "").strip()
    common = {"user": user, "search": query or None, "limit": LIST_PAGE_SIZE, **args}
    error = ""
    try:
        page = spec.fetch(cursor=request.GET.get("cursor") or None, **common)
    except ValidationFailed as exc:  # a stale or edited cursor: start again
        page = spec.fetch(**common)
        error = exc.detail
    prefetch_related_objects(page.items, *spec.related)
    partial = (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-Target") == "list-results"
    )
    context = {
        "nav": spec.key,
        "spec": spec,
        "page": page,
        "query": query,
        "params": params,
        "error": error,
        "may_create": bool(spec.new_url) and visibility.may_create_selling_records(user),
    }
    if partial:
        return render(request, "web/partials/list_results.html", context)
    bound = _bind(spec, user, params)
    context["filters"] = bound
    # Filters set beyond the defaults (the first scope and sort): the phone shows them open.
    context["active_filters"] = len(
        [f for f in bound if f.value and (f.any_label or f.value != f.choices[0][0])]
    )
    return render(request, "web/record_list.html", context)


class _Echo:
    def write(self, value: str) -> str:
        return value


def _export(request: HttpRequest, spec: ListSpec) -> StreamingHttpResponse:
    """The current list — same search, filters, scope and visibility — as CSV, streamed a
    page at a time (one query per page and per relation shown)."""
    user = _user(request)
    args = spec.to_selector(user, _params(request, spec))
    query = request.GET.get("q", "").strip() or None
    writer = csv.writer(_Echo())

    def rows() -> Iterator[str]:
        yield "\ufeff"  # so that spreadsheet programs read Thai as UTF-8
        yield writer.writerow([name for name, _value in spec.csv_columns])
        cursor: str | None = None
        while True:
            page = spec.fetch(user=user, search=query, cursor=cursor, limit=MAX_LIMIT, **args)
            prefetch_related_objects(page.items, *spec.related)
            for item in page.items:
                yield writer.writerow([value(item) for _name, value in spec.csv_columns])
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    security_event(
        SecurityEventKind.EXPORT,
        request=request,
        actor=user,
        what=spec.key,
        filters={k: str(v) for k, v in {"search": query, **args}.items() if v not in (None, "")},
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{spec.key}-{stamp}.csv"'
    return response


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


@login_required
def contacts_export(request: HttpRequest) -> StreamingHttpResponse:
    return _export(request, LISTS["contacts"])


@login_required
def leads_export(request: HttpRequest) -> StreamingHttpResponse:
    return _export(request, LISTS["leads"])


@login_required
def opportunities_export(request: HttpRequest) -> StreamingHttpResponse:
    return _export(request, LISTS["opportunities"])


@login_required
def activities_export(request: HttpRequest) -> StreamingHttpResponse:
    return _export(request, LISTS["activities"])
