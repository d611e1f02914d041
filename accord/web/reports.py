"""The report pages: an index, one page per report with its filter form (htmx), the table
and CSV / XLSX downloads.

Views parse the filters and call :mod:`accord.insights.reports`; what each viewer sees is
decided there through :mod:`accord.territories.visibility` (a rep: their own figures).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from accord.insights.periods import Period, PeriodKind, period_containing, period_parse
from accord.insights.reports import (
    DEFAULT_STALE_DAYS,
    REPORTS,
    Column,
    Report,
    ReportFilters,
    ReportName,
    ReportSpec,
    report_build,
    report_export,
)
from accord.org.models import BusinessUnit, User
from accord.org.selectors import districts
from accord.territories import visibility
from accord.web.templatetags.accord_ui import day, money
from accord.web.views import _user

ALL = "all"
TENTH = Decimal("0.1")
QUARTERS_BACK = 4
MONTHS_BACK = 12


def _thai() -> bool:
    return (get_language() or "en").startswith("th")


def _period_label(period: Period) -> str:
    return period.label_th if _thai() else period.label


def period_choices(today: Any, current: str | None = None) -> list[tuple[str, str]]:
    """This and the next quarter, the last four quarters, the last twelve months and "all
    time" (and the chosen period, if it is another valid one)."""
    quarter = period_containing(today, PeriodKind.QUARTER).next()
    quarters = []
    for _i in range(QUARTERS_BACK + 2):
        quarters.append(quarter)
        quarter = quarter.previous()
    month = period_containing(today, PeriodKind.MONTH)
    months = []
    for _i in range(MONTHS_BACK):
        months.append(month)
        month = month.previous()
    choices = [(p.key, _period_label(p)) for p in (*quarters, *months)]
    if current and current != ALL and current not in {key for key, _label in choices}:
        try:
            period = period_parse(current)
        except ValueError:
            pass
        else:
            choices.insert(0, (period.key, _period_label(period)))
    return [*choices, (ALL, _("All time"))]


class ReportFilterForm(forms.Form):
    period = forms.ChoiceField(label=gettext_lazy("Period"), required=False)
    unit = forms.ChoiceField(label=gettext_lazy("Business unit"), required=False)
    district = forms.ChoiceField(label=gettext_lazy("District"), required=False)
    owner = forms.ChoiceField(label=gettext_lazy("Person"), required=False)
    days = forms.IntegerField(
        label=gettext_lazy("Days without activity"),
        min_value=1,
        max_value=3650,
        required=False,
    )

    def __init__(self, data: QueryDict, *, viewer: User, spec: ReportSpec) -> None:
        default_period = (
            period_containing(timezone.localdate(), PeriodKind.QUARTER).key
            if spec.period_default
            else ALL
        )
        data = data.copy()  # the defaults show in the form as chosen values
        data.setdefault("period", default_period)
        if spec.name == ReportName.STALE:
            data.setdefault("days", str(DEFAULT_STALE_DAYS))
        super().__init__(data, auto_id="report-%s")
        self.spec = spec
        self._set_choices(
            "period", period_choices(timezone.localdate(), data.get("period") or default_period)
        )
        anyone = [("", _("Any"))]
        units = BusinessUnit.objects.filter(is_active=True).order_by("name")
        self._set_choices(
            "unit",
            anyone + [(str(u.pk), (u.name_th or u.name) if _thai() else u.name) for u in units],
        )
        self._set_choices(
            "district",
            anyone
            + [(str(d.pk), (d.name_th or d.name) if _thai() else d.name) for d in districts()],
        )
        people = visibility.owners_visible_to(viewer).order_by(
            "first_name", "last_name", "username"
        )
        self._set_choices("owner", anyone + [(str(p.pk), str(p)) for p in people])
        if spec.name != ReportName.STALE:
            del self.fields["days"]
        self.default_period = default_period

    def _set_choices(self, name: str, choices: list[tuple[str, str]]) -> None:
        field = self.fields[name]
        assert isinstance(field, forms.ChoiceField)
        field.choices = choices

    def filters(self) -> ReportFilters:
        """The filters (the defaults where a value is missing or invalid)."""
        self.is_valid()  # invalid fields drop out of cleaned_data and show their error
        data = self.cleaned_data
        key = data.get("period") or self.default_period
        return ReportFilters(
            period=None if key == ALL else period_parse(key),
            unit_id=_uuid(data.get("unit")),
            district_id=_uuid(data.get("district")),
            owner_id=_uuid(data.get("owner")),
            days=data.get("days") or DEFAULT_STALE_DAYS,
        )


def _uuid(value: str | None) -> uuid.UUID | None:
    return uuid.UUID(value) if value else None


def _spec(name: str) -> ReportSpec:
    try:
        return REPORTS[ReportName(name)]
    except ValueError as exc:
        raise Http404("No such report.") from exc


# --- formatting -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    text: str
    numeric: bool


def _percent(value: Decimal) -> str:
    return number_format((value * 100).quantize(TENTH, ROUND_HALF_UP), decimal_pos=1) + "%"


def format_cell(value: Any, column: Column, row: dict[str, Any]) -> Cell:
    if column.kind == "label" and _thai():
        value = row.get("label_th") or value
    if value is None:
        return Cell("—", column.kind not in ("label", "text"))
    if column.kind == "money":
        return Cell(money(value), True)
    if column.kind == "rate":
        return Cell(_percent(value), True)
    if column.kind in ("date", "week"):
        return Cell(day(value), False)
    if column.kind == "days":
        return Cell(number_format(value, decimal_pos=1), True)
    if column.kind == "count":
        return Cell(number_format(value, force_grouping=True), True)
    return Cell(str(value), False)


def _table(report: Report) -> tuple[list[list[Cell]], list[Cell] | None]:
    rows = [[format_cell(row.get(c.key), c, row) for c in report.columns] for row in report.rows]
    totals = None
    if report.totals is not None and report.rows:
        totals = [format_cell(report.totals.get(c.key), c, report.totals) for c in report.columns]
        totals[0] = Cell(_("Total"), False)
    return rows, totals


# --- views ----------------------------------------------------------------------------------


@login_required
def report_index(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "web/reports/index.html",
        {
            "nav": "reports",
            "reports": [
                (spec, reverse("web:report", args=[spec.name]), DESCRIPTIONS[spec.name])
                for spec in REPORTS.values()
            ],
        },
    )


DESCRIPTIONS: dict[ReportName, Any] = {
    ReportName.PIPELINE_BY_STAGE: gettext_lazy("Open deals of the period by pipeline stage."),
    ReportName.PIPELINE_BY_UNIT: gettext_lazy("Open deals of the period by business unit."),
    ReportName.PIPELINE_BY_DISTRICT: gettext_lazy("Open deals of the period by district."),
    ReportName.PIPELINE_BY_PRODUCT_LINE: gettext_lazy("Open deals of the period by product line."),
    ReportName.WIN_RATE: gettext_lazy("Won against lost, by count and value, per person."),
    ReportName.DEAL_SIZE: gettext_lazy("Average, smallest and largest won deal per person."),
    ReportName.SALES_CYCLE: gettext_lazy("Days from creation to a won close, per person."),
    ReportName.ACTIVITIES: gettext_lazy("Visits, calls and meetings per person and week."),
    ReportName.STALE: gettext_lazy("Open deals nobody has worked on lately."),
    ReportName.LOST_REASONS: gettext_lazy("Why deals were lost."),
    ReportName.ACCOUNT_REQUESTS: gettext_lazy(
        "Account requests by unit and status, and how many were duplicates."
    ),
    ReportName.DISPUTES: gettext_lazy(
        "Ownership disputes by unit: waiting, overdue, how they ended and their age."
    ),
}


@login_required
def report_page(request: HttpRequest, name: str) -> HttpResponse:
    spec = _spec(name)
    viewer = _user(request)
    form = ReportFilterForm(request.GET, viewer=viewer, spec=spec)
    report = report_build(viewer=viewer, name=spec.name, filters=form.filters())
    rows, totals = _table(report)
    params = QueryDict(mutable=True)
    params.update(report.filters.as_params(stale=spec.name == ReportName.STALE))
    query = params.urlencode()
    context = {
        "nav": "reports",
        "spec": spec,
        "report": report,
        "form": form,
        "rows": rows,
        "totals": totals,
        "period_label": _period_label(report.period) if report.period else _("All time"),
        "page_url": reverse("web:report", args=[spec.name]),
        "csv_url": reverse("web:report_export", args=[spec.name, "csv"]) + f"?{query}",
        "xlsx_url": reverse("web:report_export", args=[spec.name, "xlsx"]) + f"?{query}",
    }
    partial = request.headers.get("HX-Request") == "true"
    template = "web/reports/results.html" if partial else "web/reports/page.html"
    return render(request, template, context)


@login_required
def report_download(request: HttpRequest, name: str, fmt: str) -> HttpResponse:
    spec = _spec(name)
    if fmt not in ("csv", "xlsx"):
        raise Http404("No such format.")
    viewer = _user(request)
    form = ReportFilterForm(request.GET, viewer=viewer, spec=spec)
    report = report_build(viewer=viewer, name=spec.name, filters=form.filters())
    return report_export(
        request=request,
        viewer=viewer,
        report=report,
        fmt="csv" if fmt == "csv" else "xlsx",
    )
