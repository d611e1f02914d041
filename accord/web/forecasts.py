"""The forecast page: the roll-up for the viewer's level with drill-down to the next level,
quota, attainment and gap, and the managers' adjust form.

Views parse input and call :mod:`accord.insights.selectors` / ``services``; who may see or
adjust what is decided in :mod:`accord.territories.visibility`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accord.core.errors import DomainError, NotFound
from accord.insights import selectors, services
from accord.insights.models import AdjustableCategory
from accord.insights.periods import Period, PeriodKind, period_containing, period_parse
from accord.org.models import Role, User
from accord.territories import visibility
from accord.web.forms import add_domain_errors
from accord.web.views import _user

MANAGER_ROLES = frozenset(
    {Role.SALES_MANAGER, Role.REGIONAL_MANAGER, Role.EXECUTIVE, Role.ADMINISTRATOR}
)


def shows_forecasts(user: Any) -> bool:
    """Managers and executives get the navigation entry (anyone may open their own)."""
    return bool(user.is_authenticated and (user.is_superuser or user.role in MANAGER_ROLES))


class AdjustForm(forms.Form):
    category = forms.ChoiceField(label=gettext_lazy("Figure"), choices=AdjustableCategory.choices)
    amount = forms.DecimalField(
        label=gettext_lazy("Adjusted amount (THB)"),
        min_value=Decimal(0),
        max_digits=16,
        decimal_places=2,
    )
    note = forms.CharField(
        label=gettext_lazy("Note"),
        max_length=services.NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("Why the figure differs from the computed one."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "adjust-%s")
        super().__init__(*args, **kwargs)


@dataclass
class Crumb:
    label: str
    url: str | None


def _uuid(value: str | None) -> uuid.UUID | None:
    if not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise Http404("No such forecast.") from exc


def period_from_query(key: str | None) -> tuple[Period, bool]:
    """The chosen period (this quarter by default) and whether the key was understood."""
    if key:
        try:
            return period_parse(key), True
        except ValueError:
            pass
    return period_containing(timezone.localdate(), PeriodKind.QUARTER), not key


def _url(period: Period, **node: uuid.UUID | None) -> str:
    params = QueryDict(mutable=True)
    for name, value in node.items():
        if value is not None:
            params[name] = str(value)
    params["period"] = period.key
    return f"{reverse('web:forecasts')}?{params.urlencode()}"


def _thai() -> bool:
    return (get_language() or "en").startswith("th")


def _label(row: selectors.ForecastRow) -> str:
    return row.label_th if _thai() and row.label_th else row.label


def _org_crumbs(viewer: User, node: selectors.OrgNode, period: Period) -> list[Crumb]:
    crumbs: list[Crumb] = []
    if node.level == "company":
        return crumbs
    if visibility.may_view_forecast_region(viewer, None):
        crumbs.append(Crumb(_("Company"), _url(period)))
    parts: list[tuple[str, uuid.UUID | None, dict[str, uuid.UUID | None]]] = [
        ("region", node.region_id, {"region": node.region_id}),
        ("unit", node.unit_id, {"region": node.region_id, "unit": node.unit_id}),
    ]
    for dimension, pk, params in parts:
        if pk is None or node.level == dimension:
            continue
        labels = selectors._labels(dimension, [pk])  # type: ignore[arg-type]
        name = labels.get(pk, ("", ""))[1 if _thai() else 0]
        crumbs.append(Crumb(name, _url(period, **params)))
    return crumbs


def _user_crumbs(viewer: User, subject: User, period: Period) -> list[Crumb]:
    chain = visibility.manager_chain_ids(subject)
    if not chain:
        return []
    visible = {u.pk: u for u in selectors.forecast_users_visible(viewer).filter(pk__in=chain)}
    crumbs = [
        Crumb(selectors.person_label(visible[pk]), _url(period, user=pk))
        for pk in reversed(chain)
        if pk in visible
    ]
    return crumbs


@dataclass
class RowView:
    row: selectors.ForecastRow
    label: str
    url: str | None


CHILD_HEADINGS = {
    "region": gettext_lazy("By region"),
    "unit": gettext_lazy("By business unit"),
    "district": gettext_lazy("By district"),
    "user": gettext_lazy("By person"),
}


def _context(
    request: HttpRequest,
    *,
    params: Mapping[str, str],
    period: Period,
    form: AdjustForm | None = None,
) -> dict[str, Any]:
    viewer = _user(request)
    user_id = _uuid(params.get("user"))
    node = selectors.OrgNode(
        region_id=_uuid(params.get("region")),
        unit_id=_uuid(params.get("unit")),
        district_id=_uuid(params.get("district")),
    )
    if user_id is None and node == selectors.OrgNode():
        if visibility.may_view_forecast_region(viewer, None):
            pass  # the company
        elif viewer.role == Role.REGIONAL_MANAGER and viewer.region_id is not None:
            node = selectors.OrgNode(region_id=viewer.region_id)
        else:
            user_id = viewer.pk
    subject: User | None = None
    try:
        if user_id is not None:
            subject = selectors.forecast_subject_get(viewer=viewer, user_id=user_id)
            forecast = selectors.user_forecast(viewer=viewer, subject=subject, period=period)
            crumbs = _user_crumbs(viewer, subject, period)
        else:
            forecast = selectors.org_forecast(viewer=viewer, node=node, period=period)
            crumbs = _org_crumbs(viewer, node, period)
    except NotFound as exc:
        raise Http404(exc.detail) from exc
    owner_ids = [r.id for r in forecast.children if r.level == "user" and r.id is not None]
    linkable = (
        set(
            selectors.forecast_users_visible(viewer)
            .filter(pk__in=owner_ids)
            .values_list("pk", flat=True)
        )
        if owner_ids and subject is None
        else set(owner_ids)
    )
    rows = []
    for row in forecast.children:
        url: str | None = None
        if row.level == "user" and row.id in linkable:
            url = _url(period, user=row.id)
        elif row.level in ("region", "unit", "district") and row.id is not None:
            url = _url(period, region=row.region_id, unit=row.unit_id, district=row.district_id)
        rows.append(RowView(row, _label(row), url))
    may_adjust = subject is not None and visibility.may_adjust_forecast(viewer, subject)
    here = (
        {"user": subject.pk}
        if subject is not None
        else {"region": node.region_id, "unit": node.unit_id, "district": node.district_id}
    )
    other_kind = PeriodKind.MONTH if period.kind == PeriodKind.QUARTER else PeriodKind.QUARTER
    return {
        "nav": "forecasts",
        "forecast": forecast,
        "subject_label": _label(forecast.subject),
        "subject_user": subject,
        "period": period,
        "period_label": period.label_th if _thai() else period.label,
        "previous_url": _url(period.previous(), **here),
        "next_url": _url(period.next(), **here),
        "other_kind_url": _url(period_containing(period.start, other_kind), **here),
        "other_kind": other_kind,
        "crumbs": crumbs,
        "trend": list(selectors.forecast_trend(node=forecast.subject.node, period=period)),
        "child_heading": CHILD_HEADINGS.get(forecast.child_level or "", ""),
        "adjustments": [
            (AdjustableCategory(a.category).label, a)
            for a in reversed(forecast.subject.adjustments)
        ],
        "rows": rows,
        "may_adjust": may_adjust,
        "form": form if form is not None else (AdjustForm() if may_adjust else None),
        "adjust_url": (
            reverse("web:forecast_adjust", args=[subject.pk]) if subject is not None else ""
        ),
    }


@login_required
def forecasts(request: HttpRequest) -> HttpResponse:
    period, understood = period_from_query(request.GET.get("period"))
    context = _context(request, params=request.GET, period=period)
    context["bad_period"] = not understood
    partial = request.headers.get("HX-Request") == "true"
    template = "web/forecasts/body.html" if partial else "web/forecasts/page.html"
    return render(request, template, context)


@login_required
@require_POST
def forecast_adjust(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    viewer = _user(request)
    try:
        subject = selectors.forecast_subject_get(viewer=viewer, user_id=pk)
    except NotFound as exc:
        raise Http404(exc.detail) from exc
    period, understood = period_from_query(request.POST.get("period"))
    if not understood:
        raise Http404("No such period.")
    form = AdjustForm(request.POST)
    if form.is_valid():
        try:
            services.forecast_adjust(
                actor=viewer,
                subject=subject,
                period=period,
                category=form.cleaned_data["category"],
                amount=form.cleaned_data["amount"],
                note=form.cleaned_data["note"],
            )
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            messages.success(request, _("Forecast adjusted."))
            return redirect(_url(period, user=subject.pk))
    context = _context(request, params={"user": str(subject.pk)}, period=period, form=form)
    return render(request, "web/forecasts/page.html", context, status=422)
