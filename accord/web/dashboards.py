"""The dashboards: one per role (mine, team, region, company), charts drawn by the vendored
Chart.js from the figures the page embeds as JSON, each with the same figures as a table.

Views parse the period and region and call :mod:`accord.insights.dashboards`; which
dashboards a person may open, and what their figures include, is decided there and in
:mod:`accord.territories.visibility`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language, gettext_lazy

from accord.core.errors import NotFound
from accord.insights.dashboards import (
    Dashboard,
    DashboardKind,
    Panel,
    dashboard_build,
    dashboards_available,
    default_dashboard,
    regions_for,
)
from accord.insights.periods import Period, PeriodKind, period_containing
from accord.insights.reports import ReportFilters
from accord.web.forecasts import period_from_query
from accord.web.views import _user

TAB_LABELS = {
    DashboardKind.MINE: gettext_lazy("My figures"),
    DashboardKind.TEAM: gettext_lazy("My team"),
    DashboardKind.REGION: gettext_lazy("Region"),
    DashboardKind.COMPANY: gettext_lazy("Company"),
}


def _region_id(value: str | None) -> uuid.UUID | None:
    if not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise Http404("No such region.") from exc


def _url(kind: DashboardKind, period: Period, region_id: uuid.UUID | None = None) -> str:
    params = QueryDict(mutable=True)
    params["period"] = period.key
    if region_id is not None and kind == DashboardKind.REGION:
        params["region"] = str(region_id)
    return f"{reverse('web:dashboard', args=[kind.value])}?{params.urlencode()}"


@dataclass
class PanelView:
    panel: Panel
    chart_id: str
    details_url: str | None

    @property
    def data_id(self) -> str:
        return f"{self.chart_id}-data"


def _details_url(panel: Panel, dashboard: Dashboard) -> str | None:
    """Where a panel's figures can be read in full: its report (with the same period) or
    the forecast page of the same node."""
    if panel.report is not None:
        params = QueryDict(mutable=True)
        params.update(ReportFilters(period=dashboard.period).as_params())
        return f"{reverse('web:report', args=[panel.report.value])}?{params.urlencode()}"
    if panel.forecast is not None:
        params = QueryDict(mutable=True)
        for name, value in panel.forecast.items():
            params[name] = str(value)
        params["period"] = dashboard.period.key
        return f"{reverse('web:forecasts')}?{params.urlencode()}"
    return None


def _context(request: HttpRequest, dashboard: Dashboard, bad_period: bool) -> dict[str, Any]:
    viewer = _user(request)
    thai = (get_language() or "en").startswith("th")
    period = dashboard.period
    other_kind = PeriodKind.MONTH if period.kind == PeriodKind.QUARTER else PeriodKind.QUARTER
    region_id = dashboard.region_id
    return {
        "nav": "dashboards",
        "dashboard": dashboard,
        "panels": [
            PanelView(p, f"chart-{p.key}", _details_url(p, dashboard)) for p in dashboard.panels
        ],
        "tabs": [
            (kind, str(TAB_LABELS[kind]), _url(kind, period, region_id))
            for kind in dashboards_available(viewer)
        ],
        "regions": (list(regions_for(viewer)) if dashboard.kind == DashboardKind.REGION else []),
        "period_label": period.label_th if thai else period.label,
        "previous_url": _url(dashboard.kind, period.previous(), region_id),
        "next_url": _url(dashboard.kind, period.next(), region_id),
        "other_kind_url": _url(
            dashboard.kind, period_containing(period.start, other_kind), region_id
        ),
        "other_kind": other_kind,
        "bad_period": bad_period,
        "locale": "th-TH" if thai else "en-GB",
        "table_view": request.GET.get("view") == "table",
        "table_url": _url(dashboard.kind, period, region_id) + "&view=table",
        "chart_url": _url(dashboard.kind, period, region_id),
    }


@login_required
def dashboard_home(request: HttpRequest) -> HttpResponse:
    """``/dashboards/``: the viewer's default dashboard (a rep's own, a manager's team …)."""
    kind = default_dashboard(_user(request))
    if kind is None:
        raise Http404("No dashboard.")
    query = request.GET.urlencode()
    url = reverse("web:dashboard", args=[kind.value])
    return redirect(f"{url}?{query}" if query else url)


@login_required
def dashboard(request: HttpRequest, kind: str) -> HttpResponse:
    period, understood = period_from_query(request.GET.get("period"))
    try:
        built = dashboard_build(
            viewer=_user(request),
            kind=kind,
            period=period,
            region_id=_region_id(request.GET.get("region")),
        )
    except NotFound as exc:
        raise Http404(exc.detail) from exc
    return render(request, "web/dashboards/page.html", _context(request, built, not understood))
