"""Dashboards per role: a few panels of figures and charts built from the forecasts and
the reports (ADR 0007, "Dashboards").

A dashboard is *data*: panels holding key figures (tiles) and a chart (labels and series).
The page draws each chart with the vendored Chart.js and shows the same figures as a table;
the API returns the same structure as JSON. Nothing here is computed twice: the figures
come from :mod:`accord.insights.selectors` (forecasts, quotas, trend) and
:mod:`accord.insights.reports` (pipeline), plus one aggregate per panel for what neither
has (activities this week, the district comparison). Who sees what is decided by
:mod:`accord.territories.visibility`, as everywhere.

Kinds, and who gets which by default:

* ``mine`` — a person's own forecast against quota, their pipeline by stage, their
  activities this week, the trend of their commit (sales reps);
* ``team`` — a manager's roll-up per direct report, the team's pipeline by stage, the team's
  activities this week per person, the trend (sales managers; anyone with reports);
* ``region`` — a region's roll-up per business unit, its districts compared, its trend and
  its activities this week per district (regional managers; all-seeing roles pick a region);
* ``company`` — the company per region, pipeline per business unit, the trend and the
  activities this week per business unit (executives, administrators, CRM officers).

At a million opportunities the forecast and pipeline figures come from the opportunity
cells (:mod:`accord.insights.cells`), and the activity panels count one index range per
person whose activities the viewer may all see.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal

from django.db.models import Count, F, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from accord.activities.models import Activity, ActivityKind
from accord.core.errors import NotFound
from accord.insights import reports, selectors
from accord.insights.models import Quota
from accord.insights.periods import Period, day_label, iso_week_start
from accord.org.models import BusinessUnit, District, Region, Role, User
from accord.sales.models import ForecastCategory, StageOutcome
from accord.territories import visibility

ValueKind = Literal["money", "count", "rate"]
ChartKind = Literal["bar", "stacked", "horizontal", "line"]
ACTIVITY_KINDS = reports.ACTIVITY_KINDS
ZERO = Decimal("0.00")
CENT = Decimal("0.01")


class DashboardKind(StrEnum):
    MINE = "mine"
    TEAM = "team"
    REGION = "region"
    COMPANY = "company"


# --- the data a dashboard is made of ------------------------------------------------------


@dataclass
class Series:
    """One data set of a chart: a value per label."""

    key: str  # stable, for colours and tests: "commit", "quota", "visit", …
    label: str
    values: list[Decimal | int | None]
    kind: ValueKind = "money"
    line: bool = False  # drawn as a line over the bars (a quota)


@dataclass
class Chart:
    kind: ChartKind
    labels: list[str]
    series: list[Series]
    label_heading: str = ""  # the table's first column
    bar_keys: list[str] = field(default_factory=list)  # a colour per bar (one series)

    @property
    def empty(self) -> bool:
        return not self.labels or all(
            not value for series in self.series for value in series.values
        )

    def rows(self) -> list[tuple[str, list[tuple[Decimal | int | None, ValueKind]]]]:
        """The chart as a table: one row per label, one cell (value, kind) per series."""
        return [
            (label, [(series.values[i], series.kind) for series in self.series])
            for i, label in enumerate(self.labels)
        ]

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "labels": self.labels,
            "labelHeading": self.label_heading,
            "barKeys": self.bar_keys,
            "series": [
                {
                    "key": s.key,
                    "label": s.label,
                    "kind": s.kind,
                    "line": s.line,
                    "values": [None if v is None else float(v) for v in s.values],
                }
                for s in self.series
            ],
        }


@dataclass
class Tile:
    """A key figure shown large at the top of a panel."""

    key: str
    label: str
    value: Decimal | int | None
    kind: ValueKind = "money"


@dataclass
class Panel:
    key: str
    title: str
    description: str
    chart: Chart
    tiles: list[Tile] = field(default_factory=list)
    # Where the figures come from, for a "details" link the page builds:
    report: reports.ReportName | None = None
    forecast: dict[str, uuid.UUID] | None = None  # forecast page parameters (user / region …)


@dataclass
class Dashboard:
    kind: DashboardKind
    title: str
    subject: str  # whose figures: a person, a region, the company
    period: Period
    week_start: dt.date
    panels: list[Panel]
    region_id: uuid.UUID | None = None


# --- who may open which -------------------------------------------------------------------

ALL_SEEING_DEFAULT = frozenset({Role.EXECUTIVE, Role.ADMINISTRATOR, Role.CRM_OFFICER})


def _has_reports(user: User) -> bool:
    return User.objects.filter(manager_id=user.pk, is_active=True).exists()


def dashboards_available(user: User) -> list[DashboardKind]:
    """The dashboards ``user`` may open, most senior last. Integration users have none."""
    if not user.is_active or user.role == Role.INTEGRATION:
        return []
    kinds = [DashboardKind.MINE]
    if _has_reports(user):
        kinds.append(DashboardKind.TEAM)
    company = visibility.may_view_forecast_region(user, None)
    if company or (user.role == Role.REGIONAL_MANAGER and user.region_id is not None):
        kinds.append(DashboardKind.REGION)
    if company:
        kinds.append(DashboardKind.COMPANY)
    return kinds


def default_dashboard(user: User) -> DashboardKind | None:
    """The one a person lands on: a rep their own, a sales manager their team, a regional
    manager their region, executives and administrators the company."""
    available = dashboards_available(user)
    if not available:
        return None
    wanted = DashboardKind.MINE
    if user.is_superuser or user.role in ALL_SEEING_DEFAULT:
        wanted = DashboardKind.COMPANY
    elif user.role == Role.REGIONAL_MANAGER:
        wanted = DashboardKind.REGION
    elif user.role == Role.SALES_MANAGER:
        wanted = DashboardKind.TEAM
    return wanted if wanted in available else available[-1]


def regions_for(user: User) -> QuerySet[Region]:
    """The regions whose dashboard ``user`` may open."""
    qs = Region.objects.order_by("name")
    if visibility.may_view_forecast_region(user, None):
        return qs
    if user.role == Role.REGIONAL_MANAGER and user.region_id is not None:
        return qs.filter(pk=user.region_id)
    return qs.none()


# --- building ----------------------------------------------------------------------------


def _thai() -> bool:
    return (get_language() or "en").startswith("th")


def _label(row: selectors.ForecastRow) -> str:
    return row.label_th if _thai() and row.label_th else row.label


def week_containing(day: dt.date) -> dt.date:
    """The Monday of ``day``'s ISO week."""
    return iso_week_start(day)


def _week_bounds(monday: dt.date) -> tuple[dt.datetime, dt.datetime]:
    zone = timezone.get_current_timezone()
    start = dt.datetime.combine(monday, dt.time.min, tzinfo=zone)
    return start, start + dt.timedelta(days=7)


def _category_labels() -> dict[str, str]:
    return {
        key: str(ForecastCategory(key).label)
        for key in ("closed_won", "commit", "best_case", "pipeline")
    }


def _forecast_tiles(row: selectors.ForecastRow) -> list[Tile]:
    labels = _category_labels()
    tiles = [
        Tile("closed_won", labels["closed_won"], row.computed.closed_won),
        Tile("commit", labels["commit"], row.adjusted.commit),
        Tile("quota", _("Quota"), row.quota),
        Tile("attainment", _("Attainment"), row.attainment, "rate"),
        Tile("gap", _("Gap to quota"), row.gap),
    ]
    return tiles


def _quota_panel(forecast: selectors.Forecast, *, title: str) -> Panel:
    """One person's or node's four figures against its quota, as horizontal bars."""
    row = forecast.subject
    labels = _category_labels()
    keys = ("closed_won", "commit", "best_case", "pipeline")
    chart = Chart(
        "horizontal",
        [*(labels[k] for k in keys), _("Quota")],
        [
            Series(
                "amount",
                _("Amount"),
                [*(row.adjusted.get(k) for k in keys), row.quota],
            )
        ],
        label_heading=_("Figure"),
        bar_keys=[*keys, "quota"],
    )
    return Panel(
        "quota",
        title,
        _("Closed won, commit, best case and pipeline (cumulative) against the quota."),
        chart,
        _forecast_tiles(row),
    )


def _rollup_chart(rows: Sequence[selectors.ForecastRow], heading: str) -> Chart:
    """Closed won, commit and pipeline per row, with the quota as a line."""
    labels = _category_labels()
    return Chart(
        "bar",
        [_label(r) for r in rows],
        [
            Series("closed_won", labels["closed_won"], [r.computed.closed_won for r in rows]),
            Series("commit", labels["commit"], [r.adjusted.commit for r in rows]),
            Series("pipeline", labels["pipeline"], [r.adjusted.pipeline for r in rows]),
            Series("quota", _("Quota"), [r.quota for r in rows], line=True),
        ],
        label_heading=heading,
    )


def _trend_panel(forecast: selectors.Forecast, params: dict[str, uuid.UUID]) -> Panel:
    """Commit and closed won week by week, from the weekly snapshots."""
    snapshots = list(selectors.forecast_trend(node=forecast.subject.node, period=forecast.period))
    labels = _category_labels()
    chart = Chart(
        "line",
        [day_label(s.week_start, thai=_thai()) for s in snapshots],
        [
            Series("commit", labels["commit"], [s.commit for s in snapshots]),
            Series("closed_won", labels["closed_won"], [s.closed_won for s in snapshots]),
            Series("quota", _("Quota"), [s.quota for s in snapshots], line=True),
        ],
        label_heading=_("Week of"),
    )
    return Panel(
        "trend",
        _("How commit moved"),
        _("The forecast as it stood each week of the period (weekly snapshots)."),
        chart,
        forecast=params,
    )


def _pipeline_by_stage_panel(owner_ids: Iterable[uuid.UUID], period: Period, title: str) -> Panel:
    """The open pipeline of these owners expected to close in the period, by stage — the
    ``pipeline-by-stage`` report's figures, read from the opportunity cells."""
    groups = list(
        selectors.cells_in_period(period)
        .filter(owner_id__in=list(owner_ids), stage__outcome=StageOutcome.OPEN)
        .values("stage_id", "stage__name", "stage__name_th", "stage__position")
        .annotate(
            unit=F("stage__pipeline__business_unit__name"),
            opportunities=Sum("n"),
            amount_sum=Sum("amount"),
            weighted_sum=Sum(reports.WEIGHTED),
        )
        .order_by("unit", "stage__position")
    )
    names = [
        (g["stage__name_th"] or g["stage__name"]) if _thai() else g["stage__name"] for g in groups
    ]
    if len({g["unit"] for g in groups}) > 1:
        names = [f"{name} · {g['unit']}" for name, g in zip(names, groups, strict=True)]
    amounts = [Decimal(g["amount_sum"] or 0).quantize(CENT) for g in groups]
    weighted = [Decimal(g["weighted_sum"] or 0).quantize(CENT) for g in groups]
    chart = Chart(
        "bar",
        names,
        [
            Series("amount", _("Amount"), list(amounts)),
            Series("weighted", _("Weighted amount"), list(weighted)),
        ],
        label_heading=_("Stage"),
    )
    return Panel(
        "pipeline",
        title,
        _("Open opportunities expected to close in the period, by stage."),
        chart,
        [
            Tile(
                "opportunities",
                _("Open opportunities"),
                sum(g["opportunities"] for g in groups),
                "count",
            ),
            Tile("amount", _("Amount"), sum(amounts, ZERO)),
            Tile("weighted", _("Weighted amount"), sum(weighted, ZERO)),
        ],
        report=reports.ReportName.PIPELINE_BY_STAGE,
    )


def _activity_kind_labels() -> dict[str, str]:
    return {
        ActivityKind.VISIT: _("Visits"),
        ActivityKind.CALL: _("Calls"),
        ActivityKind.MEETING: _("Meetings"),
    }


def _activities_week(
    viewer: User, monday: dt.date, performers: Iterable[uuid.UUID] | None
) -> QuerySet[Activity]:
    """Visits, calls and meetings of the week by ``performers`` (``None``: anyone's),
    narrowed by the visibility module to the people all of whose activities the viewer may
    see — so the count is one index range per person, with no per-row condition."""
    start, end = _week_bounds(monday)
    people = visibility.activity_performers_visible_to(viewer, performers)
    qs = Activity.objects.filter(
        kind__in=ACTIVITY_KINDS, occurred_at__gte=start, occurred_at__lt=end
    ).order_by()
    return qs if people is None else qs.filter(performed_by_id__in=list(people))


def _stacked_activities(
    groups: Iterable[Mapping[str, Any]],
    *,
    group: str,
    order: Sequence[Any],
    labels: Mapping[Any, str],
    heading: str,
) -> Chart:
    counts: dict[tuple[Any, str], int] = defaultdict(int)
    for g in groups:
        counts[(g[group], g["kind"])] += g["n"]
    kinds = _activity_kind_labels()
    return Chart(
        "stacked",
        [labels.get(key, "—") for key in order],
        [
            Series(str(kind), kinds[kind], [counts[(key, kind)] for key in order], "count")
            for kind in ACTIVITY_KINDS
        ],
        label_heading=heading,
    )


def _activity_tiles(chart: Chart) -> list[Tile]:
    return [Tile(s.key, s.label, sum(int(v or 0) for v in s.values), "count") for s in chart.series]


def _my_activities_panel(viewer: User, monday: dt.date) -> Panel:
    """The viewer's visits, calls and meetings this week, day by day."""
    qs = _activities_week(viewer, monday, [viewer.pk])
    zone = timezone.get_current_timezone()
    counts: dict[tuple[dt.date, str], int] = defaultdict(int)
    for occurred_at, kind in qs.order_by().values_list("occurred_at", "kind"):
        counts[(occurred_at.astimezone(zone).date(), kind)] += 1
    days = [monday + dt.timedelta(days=i) for i in range(7)]
    kinds = _activity_kind_labels()
    chart = Chart(
        "stacked",
        [day_label(d, thai=_thai(), weekday=True) for d in days],
        [
            Series(str(kind), kinds[kind], [counts[(d, kind)] for d in days], "count")
            for kind in ACTIVITY_KINDS
        ],
        label_heading=_("Day"),
    )
    return Panel(
        "activities",
        _("My activities this week"),
        _("Visits, calls and meetings from Monday to Sunday."),
        chart,
        _activity_tiles(chart),
        report=reports.ReportName.ACTIVITIES,
    )


def _team_activities_panel(viewer: User, people: Mapping[uuid.UUID, str], monday: dt.date) -> Panel:
    qs = _activities_week(viewer, monday, list(people))
    groups = qs.values("performed_by_id", "kind").annotate(n=Count("kind"))
    chart = _stacked_activities(
        groups,
        group="performed_by_id",
        order=list(people),
        labels=people,
        heading=_("Person"),
    )
    return Panel(
        "activities",
        _("Team activities this week"),
        _("Visits, calls and meetings from Monday, per person."),
        chart,
        _activity_tiles(chart),
        report=reports.ReportName.ACTIVITIES,
    )


def _place_activities_panel(
    viewer: User,
    *,
    monday: dt.date,
    performers: Iterable[uuid.UUID] | None,
    field_name: str,
    places: Mapping[Any, str],
    condition: Q,
    title: str,
    description: str,
    heading: str,
) -> Panel:
    qs = _activities_week(viewer, monday, performers).filter(condition)
    groups = qs.values("kind").annotate(place=F(field_name), n=Count("kind"))
    chart = _stacked_activities(
        groups, group="place", order=list(places), labels=places, heading=heading
    )
    return Panel(
        "activities",
        title,
        description,
        chart,
        _activity_tiles(chart),
        report=reports.ReportName.ACTIVITIES,
    )


def _district_comparison_panel(viewer: User, region_id: uuid.UUID, period: Period) -> Panel:
    """Each district of the region across business units: closed won, commit and pipeline
    against the quotas placed in it. Two GROUP BY queries (the cells, the quotas) and the
    districts."""
    figures = {
        row["district_id"]: selectors.Figures.from_sums(row)
        for row in selectors.cells_in_period(period)
        .filter(district__region_id=region_id)
        .values("district_id")
        .annotate(**selectors.SUMS)
    }
    quotas = {
        row["district_id"]: Decimal(row["total"] or 0).quantize(CENT)
        for row in Quota.objects.filter(
            selectors.quota_condition(period), district__region_id=region_id
        )
        .order_by()
        .values("district_id")
        .annotate(total=Sum("amount"))
    }
    districts = list(District.objects.filter(region_id=region_id).order_by("name"))
    rows = [
        selectors.ForecastRow(
            level="district",
            id=d.pk,
            label=d.name,
            label_th=d.name_th or d.name,
            computed=figures.get(d.pk, selectors.Figures()),
            adjusted=figures.get(d.pk, selectors.Figures()),
            quota=quotas.get(d.pk),
            region_id=region_id,
            district_id=d.pk,
        )
        for d in districts
    ]
    return Panel(
        "districts",
        _("Districts compared"),
        _("Every district of the region, all business units together."),
        _rollup_chart(rows, _("District")),
        report=reports.ReportName.PIPELINE_BY_DISTRICT,
    )


def _mine(viewer: User, period: Period, monday: dt.date) -> list[Panel]:
    forecast = selectors.user_forecast(viewer=viewer, subject=viewer, period=period)
    return [
        _quota_panel(forecast, title=_("My quota")),
        _pipeline_by_stage_panel([viewer.pk], period, _("My pipeline by stage")),
        _my_activities_panel(viewer, monday),
        _trend_panel(forecast, {"user": viewer.pk}),
    ]


def _team(viewer: User, period: Period, monday: dt.date) -> list[Panel]:
    forecast = selectors.user_forecast(viewer=viewer, subject=viewer, period=period)
    rows = forecast.children or [forecast.subject]
    rollup = Panel(
        "rollup",
        _("Team forecast"),
        _(
            "Closed won, commit and pipeline per person (a manager's own deals on their own "
            "row), against each quota."
        ),
        _rollup_chart(rows, _("Person")),
        _forecast_tiles(forecast.subject),
        forecast={"user": viewer.pk},
    )
    people = {r.id: _label(r) for r in rows if r.id is not None}
    return [
        rollup,
        _pipeline_by_stage_panel(selectors.rollup_people_ids(viewer), period, _("Team pipeline")),
        _team_activities_panel(viewer, people, monday),
        _trend_panel(forecast, {"user": viewer.pk}),
    ]


def _region(viewer: User, region: Region, period: Period, monday: dt.date) -> list[Panel]:
    forecast = selectors.org_forecast(
        viewer=viewer, node=selectors.OrgNode(region_id=region.pk), period=period
    )
    rollup = Panel(
        "rollup",
        _("Region by business unit"),
        _("Closed won, commit and pipeline of each business unit in the region."),
        _rollup_chart(forecast.children, _("Business unit")),
        _forecast_tiles(forecast.subject),
        forecast={"region": region.pk},
    )
    places = {
        d.pk: (d.name_th or d.name) if _thai() else d.name
        for d in District.objects.filter(region_id=region.pk).order_by("name")
    }
    return [
        rollup,
        _district_comparison_panel(viewer, region.pk, period),
        _place_activities_panel(
            viewer,
            monday=monday,
            # the people covering the region's districts (one index range each)
            performers=User.objects.filter(districts__region_id=region.pk)
            .values_list("pk", flat=True)
            .distinct(),
            field_name="account__district_id",
            places=places,
            condition=Q(account__district__region_id=region.pk),
            title=_("Activities this week by district"),
            description=_(
                "Visits, calls and meetings from Monday by the region's people, by the "
                "account's district."
            ),
            heading=_("District"),
        ),
        _trend_panel(forecast, {"region": region.pk}),
    ]


def _company(viewer: User, period: Period, monday: dt.date) -> list[Panel]:
    forecast = selectors.org_forecast(viewer=viewer, node=selectors.OrgNode(), period=period)
    rollup = Panel(
        "rollup",
        _("Company by region"),
        _("Closed won, commit and pipeline of each region, against the quotas placed there."),
        _rollup_chart(forecast.children, _("Region")),
        _forecast_tiles(forecast.subject),
        forecast={},
    )
    units = reports.pipeline_by_unit(viewer, reports.ReportFilters(period=period))
    by_unit = Panel(
        "units",
        _("Pipeline by business unit"),
        _("Open opportunities expected to close in the period, by business unit."),
        Chart(
            "bar",
            [r["label_th"] if _thai() else r["label"] for r in units.rows],
            [
                Series("amount", _("Amount"), [r["amount"] for r in units.rows]),
                Series("weighted", _("Weighted amount"), [r["weighted"] for r in units.rows]),
            ],
            label_heading=_("Business unit"),
        ),
        report=reports.ReportName.PIPELINE_BY_UNIT,
    )
    places = {
        u.pk: (u.name_th or u.name) if _thai() else u.name
        for u in BusinessUnit.objects.order_by("name")
    }
    return [
        rollup,
        by_unit,
        _place_activities_panel(
            viewer,
            monday=monday,
            performers=None,
            field_name="performed_by__business_unit_id",
            places=places,
            condition=Q(),
            title=_("Activities this week by business unit"),
            description=_("Visits, calls and meetings from Monday, by the person's unit."),
            heading=_("Business unit"),
        ),
        _trend_panel(forecast, {}),
    ]


TITLES = {
    DashboardKind.MINE: lambda: _("My dashboard"),
    DashboardKind.TEAM: lambda: _("Team dashboard"),
    DashboardKind.REGION: lambda: _("Region dashboard"),
    DashboardKind.COMPANY: lambda: _("Company dashboard"),
}


def dashboard_build(
    *,
    viewer: User,
    kind: DashboardKind | str,
    period: Period,
    region_id: uuid.UUID | None = None,
    today: dt.date | None = None,
) -> Dashboard:
    """``viewer``'s dashboard of ``kind`` for ``period`` (activities: the week of
    ``today``). A dashboard the viewer may not open, or a region they may not see, is
    :class:`NotFound`."""
    try:
        kind = DashboardKind(kind)
    except ValueError as exc:
        raise NotFound("No such dashboard.") from exc
    if kind not in dashboards_available(viewer):
        raise NotFound("No such dashboard, or you may not open it.")
    monday = week_containing(today or timezone.localdate())
    region: Region | None = None
    subject = selectors.person_label(viewer)
    if kind == DashboardKind.REGION:
        regions = regions_for(viewer)
        if region_id is None and viewer.region_id is not None:
            region_id = viewer.region_id
        region = regions.filter(pk=region_id).first() if region_id is not None else regions.first()
        if region is None:
            raise NotFound("No such region, or you may not see it.")
        subject = (region.name_th or region.name) if _thai() else region.name
        panels = _region(viewer, region, period, monday)
    elif kind == DashboardKind.COMPANY:
        subject = _("Company")
        panels = _company(viewer, period, monday)
    elif kind == DashboardKind.TEAM:
        panels = _team(viewer, period, monday)
    else:
        panels = _mine(viewer, period, monday)
    return Dashboard(
        kind,
        TITLES[kind](),
        subject,
        period,
        monday,
        panels,
        region.pk if region is not None else None,
    )
