"""``/api/v1/reports``: the management reports as JSON, CSV or XLSX (thin handlers over
:mod:`accord.insights.reports`)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Query, Router, Schema
from pydantic import Field, field_validator

from accord.core.api_support import QuerySchema, actor
from accord.insights.periods import Period, PeriodKind, period_containing, period_parse
from accord.insights.reports import (
    DEFAULT_STALE_DAYS,
    REPORTS,
    ColumnKind,
    ReportFilters,
    ReportName,
    report_build,
    report_export,
)
from accord.insights.schemas import PeriodOut

router = Router(tags=["reports"])

ALL_PERIODS = "all"


class ReportQuery(QuerySchema):
    period: str | None = Field(
        default=None,
        max_length=12,
        description=(
            "A month (`2026-03`), a fiscal quarter (`FY2026-Q1`) or `all`; default: this "
            "quarter (stale opportunities: `all`)."
        ),
    )
    unit: uuid.UUID | None = Field(default=None, description="Only this business unit.")
    district: uuid.UUID | None = Field(default=None, description="Only this district.")
    owner: uuid.UUID | None = Field(
        default=None, description="Only this person's records (owner, performer, requester)."
    )
    days: int = Field(
        default=DEFAULT_STALE_DAYS,
        ge=1,
        le=3650,
        description="Stale opportunities: days without activity.",
    )
    format: Literal["json", "csv", "xlsx"] = Field(
        default="json",
        description="`csv` or `xlsx` answer a download (recorded in the security log).",
    )

    @field_validator("period")
    @classmethod
    def _period(cls, value: str | None) -> str | None:
        if value is not None and value.strip().lower() != ALL_PERIODS:
            period_parse(value)  # ValueError → a field error
        return value


class ColumnOut(Schema):
    key: str
    label: str
    kind: ColumnKind


class ReportOut(Schema):
    name: ReportName
    title: str
    description: str
    period: PeriodOut | None = Field(description="None: all time.")
    filters: dict[str, str] = Field(description="The filters applied, as query parameters.")
    columns: list[ColumnOut]
    rows: list[dict[str, Any]] = Field(
        description="One object per row; keys are the columns' (plus `id` and `label_th`)."
    )
    totals: dict[str, Any] | None = Field(description="Totals row, same keys as the rows.")
    truncated: bool = Field(description="More rows matched than are listed.")
    generated_at: dt.datetime


class ReportInfo(Schema):
    name: ReportName
    title: str


def report_filters(query: ReportQuery, name: ReportName) -> ReportFilters:
    return ReportFilters(
        period=_period(query.period, default=REPORTS[name].period_default),
        unit_id=query.unit,
        district_id=query.district,
        owner_id=query.owner,
        days=query.days,
    )


def _period(key: str | None, *, default: bool) -> Period | None:
    if key is None:
        if not default:
            return None
        return period_containing(timezone.localdate(), PeriodKind.QUARTER)
    if key.strip().lower() == ALL_PERIODS:
        return None
    return period_parse(key)


@router.get("", response=list[ReportInfo], summary="List the reports")
def report_list(request: HttpRequest) -> Any:
    return [{"name": spec.name, "title": str(spec.title)} for spec in REPORTS.values()]


@router.get(
    "/{name}",
    response=ReportOut,
    summary="Run a report (JSON, CSV or XLSX)",
    openapi_extra={
        "responses": {
            200: {
                "description": "The report; with `format=csv` or `format=xlsx` a download.",
                "content": {
                    "text/csv": {"schema": {"type": "string"}},
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                        "schema": {"type": "string", "format": "binary"}
                    },
                },
            }
        }
    },
)
def report_get(
    request: HttpRequest, name: ReportName, query: Query[ReportQuery]
) -> HttpResponse | Any:
    """Figures over the records the caller may see (a rep: their own; a manager: their
    team's), filtered by period, unit, district and owner."""
    user = actor(request)
    report = report_build(viewer=user, name=name, filters=report_filters(query, name))
    if query.format != "json":
        return report_export(request=request, viewer=user, report=report, fmt=query.format)
    return {
        "name": report.name,
        "title": str(report.title),
        "description": str(report.description),
        "period": report.period,
        "filters": report.filters.as_params(stale=name == ReportName.STALE),
        "columns": [{"key": c.key, "label": str(c.label), "kind": c.kind} for c in report.columns],
        "rows": report.rows,
        "totals": report.totals,
        "truncated": report.truncated,
        "generated_at": report.generated_at,
    }
