"""``/api/v1/dashboards``: the role dashboards as JSON (thin handlers over
:mod:`accord.insights.dashboards`) — the same panels, key figures and chart series the
page draws."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Schema
from pydantic import Field, field_validator

from accord.core.api_support import QuerySchema, actor
from accord.insights.dashboards import (
    Dashboard,
    DashboardKind,
    dashboard_build,
    dashboards_available,
    default_dashboard,
)
from accord.insights.periods import PeriodKind, period_containing, period_parse
from accord.insights.schemas import PeriodOut

router = Router(tags=["dashboards"])


class DashboardQuery(QuerySchema):
    period: str | None = Field(
        default=None,
        max_length=12,
        description="A month (`2026-03`) or a fiscal quarter (`FY2026-Q1`); default: this quarter.",
    )
    region: uuid.UUID | None = Field(
        default=None, description="The region dashboard: which region (default: the viewer's)."
    )

    @field_validator("period")
    @classmethod
    def _period(cls, value: str | None) -> str | None:
        if value is not None:
            period_parse(value)  # ValueError → a field error
        return value


class SeriesOut(Schema):
    key: str
    label: str
    kind: str = Field(description="`money` (THB), `count` or `rate` (a fraction).")
    line: bool = Field(description="Drawn as a line over the bars (a quota).")
    values: list[Decimal | int | None]


class ChartOut(Schema):
    kind: str = Field(description="`bar`, `stacked`, `horizontal` or `line`.")
    label_heading: str
    labels: list[str]
    series: list[SeriesOut]


class TileOut(Schema):
    key: str
    label: str
    kind: str
    value: Decimal | int | None


class PanelOut(Schema):
    key: str
    title: str
    description: str
    tiles: list[TileOut]
    chart: ChartOut
    report: str | None = Field(description="The report that holds these figures in full.")


class DashboardOut(Schema):
    kind: DashboardKind
    title: str
    subject: str
    period: PeriodOut
    week_start: dt.date = Field(description="Monday of the week the activity panels cover.")
    region: uuid.UUID | None
    panels: list[PanelOut]


class DashboardList(Schema):
    available: list[DashboardKind]
    default: DashboardKind | None


def _out(dashboard: Dashboard) -> dict[str, Any]:
    return {
        "kind": dashboard.kind,
        "title": dashboard.title,
        "subject": dashboard.subject,
        "period": dashboard.period,
        "week_start": dashboard.week_start,
        "region": dashboard.region_id,
        "panels": [
            {
                "key": p.key,
                "title": p.title,
                "description": p.description,
                "tiles": [vars(t) for t in p.tiles],
                "chart": {
                    "kind": p.chart.kind,
                    "label_heading": p.chart.label_heading,
                    "labels": p.chart.labels,
                    "series": [vars(s) for s in p.chart.series],
                },
                "report": p.report.value if p.report else None,
            }
            for p in dashboard.panels
        ],
    }


@router.get("", response=DashboardList, summary="The dashboards the caller may open")
def dashboard_list(request: HttpRequest) -> Any:
    user = actor(request)
    return {"available": dashboards_available(user), "default": default_dashboard(user)}


@router.get("/{kind}", response=DashboardOut, summary="A dashboard's panels and figures")
def dashboard_get(request: HttpRequest, kind: DashboardKind, query: Query[DashboardQuery]) -> Any:
    """Figures over what the caller may see. `mine`: anyone; `team`: people with reports;
    `region`: regional managers (their region) and the all-seeing roles; `company`: the
    all-seeing roles. Another dashboard answers 404."""
    period = (
        period_parse(query.period)
        if query.period
        else period_containing(timezone.localdate(), PeriodKind.QUARTER)
    )
    return _out(
        dashboard_build(viewer=actor(request), kind=kind, period=period, region_id=query.region)
    )
