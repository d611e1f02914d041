"""Management reports: pipeline, win rate, deal size, sales cycle, activities, stale
opportunities, lost reasons and account requests (issue 7, ADR 0007 "Reports").

Every report is one function of ``(viewer, filters)`` that returns a :class:`Report`: the
columns, the grouped rows and the totals. Rows come from aggregate queries (``GROUP BY``
with ``Count`` / ``Sum`` / ``Min`` / ``Max`` in the database) over the viewer's
``*_visible_to`` querysets, so a rep's report holds only their own records and a
manager's their team's. Totals are added up over the grouped rows (a few dozen), never
over opportunities or activities.

Which records count (``period`` is a month or a fiscal quarter; none: all time):

* *pipeline* reports — open opportunities expected to close in the period;
* *win rate*, *deal size*, *sales cycle*, *lost reasons* — opportunities closed (won or
  lost, ``closed_at`` in the local zone) in the period;
* *activities per week* — visits, calls and meetings that took place in the period;
* *stale opportunities* — open opportunities with no activity for ``days`` days (and
  created before then), expected to close in the period if one is given;
* *account requests* — requests made in the period, by unit and status ("resolved" =
  pointed at an existing account, i.e. a duplicate caught).

Amounts are in the default currency only, as in the forecasts (no exchange rates yet).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal

from django.conf import settings
from django.db.models import (
    Count,
    DateTimeField,
    DecimalField,
    DurationField,
    ExpressionWrapper,
    F,
    Max,
    Min,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from accord.activities.models import ActivityKind
from accord.customers.models import AccountRequestStatus
from accord.insights.models import ActivityWeekCell, LineItemCell, OpportunityCell
from accord.insights.periods import Period
from accord.org.models import User
from accord.sales.models import Opportunity, OpportunityLineItem, StageOutcome
from accord.territories import visibility

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
RATE = Decimal("0.0001")
TENTH = Decimal("0.1")
DEFAULT_STALE_DAYS = 30
STALE_ROW_LIMIT = 500  # the stale list shows the longest-idle; totals count them all
SECONDS_PER_DAY = Decimal(86400)

ColumnKind = Literal["label", "text", "count", "money", "rate", "days", "date", "week"]
ExportFormat = Literal["csv", "xlsx"]


class ReportName(StrEnum):
    PIPELINE_BY_STAGE = "pipeline-by-stage"
    PIPELINE_BY_UNIT = "pipeline-by-unit"
    PIPELINE_BY_DISTRICT = "pipeline-by-district"
    PIPELINE_BY_PRODUCT_LINE = "pipeline-by-product-line"
    WIN_RATE = "win-rate"
    DEAL_SIZE = "deal-size"
    SALES_CYCLE = "sales-cycle"
    ACTIVITIES = "activities-per-week"
    STALE = "stale-opportunities"
    LOST_REASONS = "lost-reasons"
    ACCOUNT_REQUESTS = "account-requests"
    DISPUTES = "disputes-by-unit"


@dataclass(frozen=True)
class ReportFilters:
    period: Period | None = None
    unit_id: uuid.UUID | None = None
    district_id: uuid.UUID | None = None
    owner_id: uuid.UUID | None = None
    days: int = DEFAULT_STALE_DAYS  # stale opportunities only

    def as_params(self, *, stale: bool = False) -> dict[str, str]:
        """The filters as query parameters (also what the security log records)."""
        params = {
            "period": self.period.key if self.period else "all",
            "unit": str(self.unit_id or ""),
            "district": str(self.district_id or ""),
            "owner": str(self.owner_id or ""),
        }
        if stale:
            params["days"] = str(self.days)
        return {k: v for k, v in params.items() if v}


@dataclass(frozen=True)
class Column:
    key: str
    label: Any  # lazy translation
    kind: ColumnKind = "count"


@dataclass
class Report:
    name: ReportName
    title: Any
    description: Any
    filters: ReportFilters
    columns: list[Column]
    rows: list[dict[str, Any]]
    totals: dict[str, Any] | None = None
    truncated: bool = False  # more rows matched than are listed (stale opportunities)
    generated_at: dt.datetime = field(default_factory=timezone.now)

    @property
    def period(self) -> Period | None:
        return self.filters.period


# --- shared pieces ------------------------------------------------------------------------


def _local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _in_period(field_name: str, period: Period | None, *, dates: bool = False) -> Q:
    if period is None:
        return Q()
    if dates:
        return Q(**{f"{field_name}__gte": period.start, f"{field_name}__lt": period.end})
    return Q(
        **{
            f"{field_name}__gte": _local_midnight(period.start),
            f"{field_name}__lt": _local_midnight(period.end),
        }
    )


def _cents(value: Decimal | float | int | None) -> Decimal:
    """Sums come back as the database gives them (SQLite: floats, trailing zeros dropped)."""
    return Decimal(str(value or 0)).quantize(CENT)


def _ratio(part: Decimal | int, whole: Decimal | int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(RATE)


def _days(value: dt.timedelta | None) -> Decimal | None:
    if value is None:
        return None
    return (Decimal(value.total_seconds()) / SECONDS_PER_DAY).quantize(TENTH)


def _person(first: str, last: str, username: str) -> str:
    return f"{first} {last}".strip() or username


OWNER_VALUES = ("owner_id", "owner__first_name", "owner__last_name", "owner__username")
OWNER_ORDER = ("owner__first_name", "owner__last_name", "owner__username")


def _fetch(qs: Any) -> list[dict[str, Any]]:
    """The rows of a ``values()`` query as plain dicts (one query)."""
    return list(qs)


def _owner_row(row: Mapping[str, Any], prefix: str = "owner") -> dict[str, Any]:
    label = _person(
        row[f"{prefix}__first_name"], row[f"{prefix}__last_name"], row[f"{prefix}__username"]
    )
    return {"id": row[f"{prefix}_id"], "label": label, "label_th": label}


def _opportunities(viewer: User, filters: ReportFilters) -> QuerySet[Opportunity]:
    """The viewer's visible opportunities in the default currency, narrowed by unit,
    district (the account's) and owner."""
    qs = visibility.opportunities_visible_to(viewer).filter(
        currency=settings.ACCORD_DEFAULT_CURRENCY
    )
    if filters.unit_id is not None:
        qs = qs.filter(business_unit_id=filters.unit_id)
    if filters.district_id is not None:
        qs = qs.filter(account__district_id=filters.district_id)
    if filters.owner_id is not None:
        qs = qs.filter(owner_id=filters.owner_id)
    return qs.order_by()


def _open_in_period(viewer: User, filters: ReportFilters) -> QuerySet[Opportunity]:
    return _opportunities(viewer, filters).filter(
        Q(stage__outcome=StageOutcome.OPEN)
        & _in_period("expected_close_date", filters.period, dates=True)
    )


def _closed_in_period(viewer: User, filters: ReportFilters) -> QuerySet[Opportunity]:
    return _opportunities(viewer, filters).filter(
        Q(stage__outcome__in=[StageOutcome.WON, StageOutcome.LOST], closed_at__isnull=False)
        & _in_period("closed_at", filters.period)
    )


# --- pipeline -----------------------------------------------------------------------------

WEIGHTED = ExpressionWrapper(
    F("amount") * F("stage__probability") / Decimal(100),
    output_field=DecimalField(max_digits=20, decimal_places=2),
)
PIPELINE_SUMS = {
    "opportunities": Count("pk"),
    "amount_sum": Coalesce(Sum("amount"), ZERO),
    "weighted_sum": Coalesce(Sum(WEIGHTED), ZERO),
}
PIPELINE_COLUMNS = [
    Column("opportunities", _("Opportunities")),
    Column("amount", _("Amount"), "money"),
    Column("weighted", _("Weighted amount"), "money"),
]


CELL_SUMS = {
    "opportunities": Coalesce(Sum("n"), 0),
    "amount_sum": Coalesce(Sum("amount"), ZERO),
    "weighted_sum": Coalesce(Sum(WEIGHTED), ZERO),
}


@dataclass(frozen=True)
class _OpenSource:
    """Where the open pipeline of a period is read from, and the paths of its fields."""

    qs: QuerySet[Any]
    district: str
    pipeline: str
    sums: Mapping[str, Any]


def _cells_of(
    model: type[OpportunityCell] | type[LineItemCell], viewer: User, filters: ReportFilters
) -> QuerySet[Any] | None:
    """When the opportunities the viewer may see are those of some owners (everyone's, or
    their own and their reports' — ``visibility.opportunity_owners_visible_to``), the
    cells of those owners for the period (all time: every cell, undated open deals
    included) narrowed by the filters: the same opportunities, summed ahead. ``None``
    otherwise: then the report reads the opportunities the viewer may see."""
    owners = visibility.opportunity_owners_visible_to(viewer)
    if owners is None:
        return None
    qs = model.objects.filter(n__gt=0).order_by()
    if filters.period is not None:
        qs = qs.filter(month__gte=filters.period.start, month__lt=filters.period.end)
    if owners != "all":
        qs = qs.filter(owner_id__in=list(owners))
    if filters.unit_id is not None:
        qs = qs.filter(business_unit_id=filters.unit_id)
    if filters.district_id is not None:
        qs = qs.filter(district_id=filters.district_id)
    if filters.owner_id is not None:
        qs = qs.filter(owner_id=filters.owner_id)
    return qs


def _open_source(viewer: User, filters: ReportFilters) -> _OpenSource:
    """A period's open pipeline: from the opportunity cells when :func:`_cells_of` has
    them, else from the opportunities the viewer may see."""
    cells = _cells_of(OpportunityCell, viewer, filters)
    if cells is not None:
        qs = cells.filter(stage__outcome=StageOutcome.OPEN)
        return _OpenSource(qs, "district", "stage__pipeline", CELL_SUMS)
    return _OpenSource(
        _open_in_period(viewer, filters), "account__district", "pipeline", PIPELINE_SUMS
    )


def _pipeline_rows(groups: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "id": g["id"],
            "label": g["label"] or "",
            "label_th": g.get("label_th") or g["label"] or "",
            "opportunities": g["opportunities"],
            "amount": _cents(g["amount_sum"]),
            "weighted": _cents(g["weighted_sum"]),
        }
        for g in groups
    ]


def _pipeline_totals(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "opportunities": sum(r["opportunities"] for r in rows),
        "amount": sum((r["amount"] for r in rows), ZERO),
        "weighted": sum((r["weighted"] for r in rows), ZERO),
    }


def pipeline_by_stage(viewer: User, filters: ReportFilters) -> Report:
    src = _open_source(viewer, filters)
    groups = (
        src.qs.values("stage_id", "stage__name", "stage__name_th", "stage__position")
        .annotate(
            unit=F(f"{src.pipeline}__business_unit__name"),
            pipeline_name=F(f"{src.pipeline}__name"),
            probability=F("stage__probability"),
            **src.sums,
        )
        .order_by("unit", "pipeline_name", "stage__position")
    )
    rows = []
    for g in _fetch(groups):
        rows.append(
            {
                "id": g["stage_id"],
                "label": g["stage__name"],
                "label_th": g["stage__name_th"] or g["stage__name"],
                "unit": g["unit"],
                "probability": g["probability"],
                "opportunities": g["opportunities"],
                "amount": _cents(g["amount_sum"]),
                "weighted": _cents(g["weighted_sum"]),
            }
        )
    return Report(
        ReportName.PIPELINE_BY_STAGE,
        _("Pipeline by stage"),
        _("Open opportunities expected to close in the period, by pipeline stage."),
        filters,
        [
            Column("label", _("Stage"), "label"),
            Column("unit", _("Business unit"), "text"),
            Column("probability", _("Probability (%)")),
            *PIPELINE_COLUMNS,
        ],
        rows,
        _pipeline_totals(rows),
    )


def pipeline_by_unit(viewer: User, filters: ReportFilters) -> Report:
    src = _open_source(viewer, filters)
    groups = (
        src.qs.values("business_unit_id")
        .annotate(
            id=F("business_unit_id"),
            label=F("business_unit__name"),
            label_th=F("business_unit__name_th"),
            **src.sums,
        )
        .order_by("label")
    )
    rows = _pipeline_rows(groups)
    return Report(
        ReportName.PIPELINE_BY_UNIT,
        _("Pipeline by business unit"),
        _("Open opportunities expected to close in the period, by business unit."),
        filters,
        [Column("label", _("Business unit"), "label"), *PIPELINE_COLUMNS],
        rows,
        _pipeline_totals(rows),
    )


def pipeline_by_district(viewer: User, filters: ReportFilters) -> Report:
    src = _open_source(viewer, filters)
    groups = (
        src.qs.values(f"{src.district}_id")
        .annotate(
            id=F(f"{src.district}_id"),
            label=F(f"{src.district}__name"),
            label_th=F(f"{src.district}__name_th"),
            **src.sums,
        )
        .order_by(F("label").asc(nulls_last=True))
    )
    rows = _pipeline_rows(groups)
    for row in rows:
        if row["id"] is None:
            row["label"] = row["label_th"] = str(_("No district"))
    return Report(
        ReportName.PIPELINE_BY_DISTRICT,
        _("Pipeline by district"),
        _("Open opportunities expected to close in the period, by the account's district."),
        filters,
        [Column("label", _("District"), "label"), *PIPELINE_COLUMNS],
        rows,
        _pipeline_totals(rows),
    )


def pipeline_by_product_line(viewer: User, filters: ReportFilters) -> Report:
    """Line items of the open opportunities, by their product's line. An opportunity with
    items in two lines counts in both; the total of opportunities counts it once."""
    cells = _cells_of(LineItemCell, viewer, filters)
    if cells is not None:
        groups = (
            cells.filter(stage__outcome=StageOutcome.OPEN)
            .values("product_line_id")
            .annotate(
                id=F("product_line_id"),
                label=F("product_line__name"),
                label_th=F("product_line__name_th"),
                **CELL_SUMS,
            )
            .order_by("label")
        )
    else:
        weighted = ExpressionWrapper(
            F("total") * F("opportunity__stage__probability") / Decimal(100),
            output_field=DecimalField(max_digits=20, decimal_places=2),
        )
        items = OpportunityLineItem.objects.filter(
            opportunity__in=_open_in_period(viewer, filters).values("pk")
        ).order_by()
        groups = (
            items.values("product__product_line_id")
            .annotate(
                id=F("product__product_line_id"),
                label=F("product__product_line__name"),
                label_th=F("product__product_line__name_th"),
                opportunities=Count("opportunity_id", distinct=True),
                amount_sum=Coalesce(Sum("total"), ZERO),
                weighted_sum=Coalesce(Sum(weighted), ZERO),
            )
            .order_by("label")
        )
    rows = _pipeline_rows(groups)
    totals = _pipeline_totals(rows)
    totals["opportunities"] = None  # an opportunity may sell several lines
    return Report(
        ReportName.PIPELINE_BY_PRODUCT_LINE,
        _("Pipeline by product line"),
        _(
            "Line items of open opportunities expected to close in the period, by product "
            "line (an opportunity selling two lines counts under both)."
        ),
        filters,
        [Column("label", _("Product line"), "label"), *PIPELINE_COLUMNS],
        rows,
        totals,
    )


# --- closed business ----------------------------------------------------------------------

WON = Q(stage__outcome=StageOutcome.WON)
LOST = Q(stage__outcome=StageOutcome.LOST)
OWNER_COLUMN = Column("label", _("Owner"), "label")


def _by_owner(qs: QuerySet[Any], **aggregates: Any) -> Iterable[dict[str, Any]]:
    return qs.values(*OWNER_VALUES).annotate(**aggregates).order_by(*OWNER_ORDER)


def _closed_cells(viewer: User, filters: ReportFilters) -> QuerySet[OpportunityCell] | None:
    """The won and lost opportunity cells of the period (see :func:`_cells_of`): each holds
    the count, amount, smallest and largest amount and the sales cycle's sum and extremes of
    its deals, so closed-business reports read them instead of every deal ever closed."""
    cells = _cells_of(OpportunityCell, viewer, filters)
    return None if cells is None else cells.filter(stage__outcome__in=CLOSED_OUTCOMES)


CLOSED_OUTCOMES = (StageOutcome.WON, StageOutcome.LOST)


def win_rate(viewer: User, filters: ReportFilters) -> Report:
    cells = _closed_cells(viewer, filters)
    if cells is not None:
        groups = _by_owner(
            cells,
            won=Coalesce(Sum("n", filter=WON), 0),
            lost=Coalesce(Sum("n", filter=LOST), 0),
            won_amount=Coalesce(Sum("amount", filter=WON), ZERO),
            lost_amount=Coalesce(Sum("amount", filter=LOST), ZERO),
        )
    else:
        groups = _by_owner(
            _closed_in_period(viewer, filters),
            won=Count("pk", filter=WON),
            lost=Count("pk", filter=LOST),
            won_amount=Coalesce(Sum("amount", filter=WON), ZERO),
            lost_amount=Coalesce(Sum("amount", filter=LOST), ZERO),
        )
    rows = []
    for g in groups:
        won_amount, lost_amount = _cents(g["won_amount"]), _cents(g["lost_amount"])
        rows.append(
            {
                **_owner_row(g),
                "won": g["won"],
                "lost": g["lost"],
                "win_rate": _ratio(g["won"], g["won"] + g["lost"]),
                "won_amount": won_amount,
                "lost_amount": lost_amount,
                "value_win_rate": _ratio(won_amount, won_amount + lost_amount),
            }
        )
    totals: dict[str, Any] = {
        "won": sum(r["won"] for r in rows),
        "lost": sum(r["lost"] for r in rows),
        "won_amount": sum((r["won_amount"] for r in rows), ZERO),
        "lost_amount": sum((r["lost_amount"] for r in rows), ZERO),
    }
    totals["win_rate"] = _ratio(totals["won"], totals["won"] + totals["lost"])
    totals["value_win_rate"] = _ratio(
        totals["won_amount"], totals["won_amount"] + totals["lost_amount"]
    )
    return Report(
        ReportName.WIN_RATE,
        _("Win rate"),
        _("Opportunities closed in the period: won against won plus lost, by count and by value."),
        filters,
        [
            OWNER_COLUMN,
            Column("won", _("Won")),
            Column("lost", _("Lost")),
            Column("win_rate", _("Win rate"), "rate"),
            Column("won_amount", _("Won amount"), "money"),
            Column("lost_amount", _("Lost amount"), "money"),
            Column("value_win_rate", _("Win rate by value"), "rate"),
        ],
        rows,
        totals,
    )


def deal_size(viewer: User, filters: ReportFilters) -> Report:
    cells = _closed_cells(viewer, filters)
    if cells is not None:
        groups = _by_owner(
            cells.filter(WON),
            won=Sum("n"),
            amount_sum=Coalesce(Sum("amount"), ZERO),
            largest=Max("amount_max"),
            smallest=Min("amount_min"),
        )
    else:
        groups = _by_owner(
            _closed_in_period(viewer, filters).filter(WON),
            won=Count("pk"),
            amount_sum=Coalesce(Sum("amount"), ZERO),
            largest=Max("amount"),
            smallest=Min("amount"),
        )
    rows = []
    for g in groups:
        amount = _cents(g["amount_sum"])
        rows.append(
            {
                **_owner_row(g),
                "won": g["won"],
                "amount": amount,
                "average": (amount / g["won"]).quantize(CENT),
                "smallest": _cents(g["smallest"]),
                "largest": _cents(g["largest"]),
            }
        )
    totals: dict[str, Any] | None = None
    if rows:
        won = sum(r["won"] for r in rows)
        amount = sum((r["amount"] for r in rows), ZERO)
        totals = {
            "won": won,
            "amount": amount,
            "average": (amount / won).quantize(CENT),
            "smallest": min(r["smallest"] for r in rows),
            "largest": max(r["largest"] for r in rows),
        }
    return Report(
        ReportName.DEAL_SIZE,
        _("Average deal size"),
        _("Opportunities won in the period: how many, their total and their average amount."),
        filters,
        [
            OWNER_COLUMN,
            Column("won", _("Won")),
            Column("amount", _("Won amount"), "money"),
            Column("average", _("Average deal"), "money"),
            Column("smallest", _("Smallest"), "money"),
            Column("largest", _("Largest"), "money"),
        ],
        rows,
        totals,
    )


CYCLE = ExpressionWrapper(F("closed_at") - F("created_at"), output_field=DurationField())


def sales_cycle(viewer: User, filters: ReportFilters) -> Report:
    """Days from creation to the close of each opportunity won in the period."""
    cells = _closed_cells(viewer, filters)
    if cells is not None:
        groups = _by_owner(
            cells.filter(WON),
            won=Sum("n"),
            total=Sum("cycle"),
            shortest=Min("cycle_min"),
            longest=Max("cycle_max"),
        )
    else:
        groups = _by_owner(
            _closed_in_period(viewer, filters).filter(WON),
            won=Count("pk"),
            total=Sum(CYCLE),
            shortest=Min(CYCLE),
            longest=Max(CYCLE),
        )
    rows = []
    total_time = dt.timedelta()
    for g in groups:
        total_time += g["total"]
        rows.append(
            {
                **_owner_row(g),
                "won": g["won"],
                "average_days": _days(g["total"] / g["won"]),
                "shortest_days": _days(g["shortest"]),
                "longest_days": _days(g["longest"]),
                "_shortest": g["shortest"],
                "_longest": g["longest"],
            }
        )
    totals: dict[str, Any] | None = None
    if rows:
        won = sum(r["won"] for r in rows)
        totals = {
            "won": won,
            "average_days": _days(total_time / won),
            "shortest_days": _days(min(r["_shortest"] for r in rows)),
            "longest_days": _days(max(r["_longest"] for r in rows)),
        }
    for row in rows:
        del row["_shortest"], row["_longest"]
    return Report(
        ReportName.SALES_CYCLE,
        _("Sales-cycle length"),
        _("Opportunities won in the period: days from creation to close."),
        filters,
        [
            OWNER_COLUMN,
            Column("won", _("Won")),
            Column("average_days", _("Average days"), "days"),
            Column("shortest_days", _("Shortest (days)"), "days"),
            Column("longest_days", _("Longest (days)"), "days"),
        ],
        rows,
        totals,
    )


def lost_reasons(viewer: User, filters: ReportFilters) -> Report:
    cells = _closed_cells(viewer, filters)
    source: QuerySet[Any] = (_closed_in_period(viewer, filters) if cells is None else cells).filter(
        LOST
    )
    groups = (
        source.values("lost_reason")
        .annotate(
            opportunities=Count("pk") if cells is None else Sum("n"),
            amount_sum=Coalesce(Sum("amount"), ZERO),
        )
        .order_by("-opportunities", "lost_reason")
    )
    rows = [
        {
            "label": g["lost_reason"] or str(_("(no reason given)")),
            "opportunities": g["opportunities"],
            "amount": _cents(g["amount_sum"]),
        }
        for g in groups
    ]
    count = sum(r["opportunities"] for r in rows)
    for row in rows:
        row["label_th"] = row["label"]
        row["share"] = _ratio(row["opportunities"], count)
    totals = {
        "opportunities": count,
        "amount": sum((r["amount"] for r in rows), ZERO),
        "share": Decimal(1).quantize(RATE) if rows else None,
    }
    return Report(
        ReportName.LOST_REASONS,
        _("Lost reasons"),
        _("Opportunities lost in the period, by the reason given."),
        filters,
        [
            Column("label", _("Reason"), "label"),
            Column("opportunities", _("Opportunities")),
            Column("share", _("Share"), "rate"),
            Column("amount", _("Amount"), "money"),
        ],
        rows,
        totals,
    )


# --- activities ---------------------------------------------------------------------------

ACTIVITY_KINDS = (ActivityKind.VISIT, ActivityKind.CALL, ActivityKind.MEETING)


def activities_per_week(viewer: User, filters: ReportFilters) -> Report:
    """Visits, calls and meetings per person per ISO week (weeks start on Monday, in the
    local zone). Unit: the person's; district: the account's; owner: who performed them.

    The people are those whose activities the viewer sees in full (themselves and everyone
    under them; everyone for the all-seeing roles), so each person's rows are one index
    range — not the activities of others the viewer sees only through their own records,
    which would make a stranger's partial week look like their whole one."""
    people = visibility.activity_performers_visible_to(viewer, None)
    # Counted ahead per person, district, kind, week and month (activity_cells): whole
    # months select exactly the period's days, and each cell already sits in its week.
    qs = ActivityWeekCell.objects.filter(kind__in=ACTIVITY_KINDS, n__gt=0)
    if filters.period is not None:
        qs = qs.filter(month__gte=filters.period.start, month__lt=filters.period.end)
    if people is not None:
        qs = qs.filter(performed_by_id__in=list(people))
    if filters.unit_id is not None:
        qs = qs.filter(performed_by__business_unit_id=filters.unit_id)
    if filters.district_id is not None:
        qs = qs.filter(district_id=filters.district_id)
    if filters.owner_id is not None:
        qs = qs.filter(performed_by_id=filters.owner_id)
    groups = (
        qs.order_by()
        .values(
            "performed_by_id",
            "performed_by__first_name",
            "performed_by__last_name",
            "performed_by__username",
            "week",
        )
        .annotate(
            **{str(kind): Coalesce(Sum("n", filter=Q(kind=kind)), 0) for kind in ACTIVITY_KINDS},
            total=Sum("n"),
        )
        .order_by(
            "performed_by__first_name", "performed_by__last_name", "performed_by__username", "week"
        )
    )
    rows = []
    for g in _fetch(groups):
        start = g["week"]
        if isinstance(start, dt.datetime):
            start = timezone.localtime(start).date() if timezone.is_aware(start) else start.date()
        rows.append(
            {
                **_owner_row(g, "performed_by"),
                "week": start,
                **{str(kind): g[str(kind)] for kind in ACTIVITY_KINDS},
                "total": g["total"],
            }
        )
    keys = [*(str(k) for k in ACTIVITY_KINDS), "total"]
    totals = {key: sum(r[key] for r in rows) for key in keys}
    return Report(
        ReportName.ACTIVITIES,
        _("Activities per rep per week"),
        _("Visits, calls and meetings in the period, per person and week (from Monday)."),
        filters,
        [
            Column("label", _("Person"), "label"),
            Column("week", _("Week of"), "week"),
            Column("visit", _("Visits")),
            Column("call", _("Calls")),
            Column("meeting", _("Meetings")),
            Column("total", _("Total")),
        ],
        rows,
        totals,
    )


# --- stale opportunities ------------------------------------------------------------------


def stale_opportunities(viewer: User, filters: ReportFilters) -> Report:
    """Open opportunities created before the cut-off with no activity since then. The
    longest-idle are listed first (at most :data:`STALE_ROW_LIMIT`); totals count all."""
    now = timezone.now()
    cutoff = now - dt.timedelta(days=filters.days)
    qs = (
        _opportunities(viewer, filters)
        .filter(
            Q(stage__outcome=StageOutcome.OPEN, created_at__lt=cutoff)
            & _in_period("expected_close_date", filters.period, dates=True)
        )
        .annotate(
            last_activity=Max("activities__occurred_at", filter=Q(activities__occurred_at__lte=now))
        )
        .filter(Q(last_activity__lt=cutoff) | Q(last_activity__isnull=True))
    )
    totals = qs.aggregate(opportunities=Count("pk"), amount=Coalesce(Sum("amount"), ZERO))
    listed = list(
        qs.annotate(idle_since=Coalesce("last_activity", "created_at"))
        .values(
            "pk",
            "name",
            "account__legal_name",
            *OWNER_VALUES,
            "stage__name",
            "stage__name_th",
            "amount",
            "expected_close_date",
            "last_activity",
            "idle_since",
        )
        .order_by("idle_since", "pk")[: STALE_ROW_LIMIT + 1]
    )
    rows = [
        {
            "id": o["pk"],
            "label": o["name"],
            "label_th": o["name"],
            "account": o["account__legal_name"],
            "owner": _owner_row(o)["label"],
            "stage": o["stage__name"],
            "amount": _cents(o["amount"]),
            "expected_close_date": o["expected_close_date"],
            "last_activity": (
                timezone.localtime(o["last_activity"]).date() if o["last_activity"] else None
            ),
            "idle_days": (now - o["idle_since"]).days,
        }
        for o in listed[:STALE_ROW_LIMIT]
    ]
    return Report(
        ReportName.STALE,
        _("Stale opportunities"),
        _("Open opportunities with no activity in the last %(days)s days.")
        % {"days": filters.days},
        filters,
        [
            Column("label", _("Opportunity"), "label"),
            Column("account", _("Account"), "text"),
            Column("owner", _("Owner"), "text"),
            Column("stage", _("Stage"), "text"),
            Column("amount", _("Amount"), "money"),
            Column("expected_close_date", _("Expected close"), "date"),
            Column("last_activity", _("Last activity"), "date"),
            Column("idle_days", _("Days without activity")),
        ],
        rows,
        {"opportunities": totals["opportunities"], "amount": _cents(totals["amount"])},
        truncated=len(listed) > STALE_ROW_LIMIT,
    )


# --- account requests ---------------------------------------------------------------------

REQUEST_STATUSES = (
    AccountRequestStatus.PENDING,
    AccountRequestStatus.APPROVED,
    AccountRequestStatus.REJECTED,
    AccountRequestStatus.RESOLVED,
    AccountRequestStatus.WITHDRAWN,
)


def account_requests(viewer: User, filters: ReportFilters) -> Report:
    """Account requests made in the period, by business unit and status. *Resolved* means
    a steward pointed the request at an existing account: a duplicate caught."""
    qs = visibility.account_requests_visible_to(viewer).filter(
        _in_period("created_at", filters.period)
    )
    if filters.unit_id is not None:
        qs = qs.filter(business_unit_id=filters.unit_id)
    if filters.district_id is not None:
        qs = qs.filter(district_id=filters.district_id)
    if filters.owner_id is not None:
        qs = qs.filter(requester_id=filters.owner_id)
    groups = (
        qs.order_by()
        .values("business_unit_id")
        .annotate(
            label=F("business_unit__name"),
            label_th=F("business_unit__name_th"),
            requests=Count("pk"),
            **{str(s): Count("pk", filter=Q(status=s)) for s in REQUEST_STATUSES},
        )
        .order_by(F("label").asc(nulls_last=True))
    )
    rows = []
    for g in _fetch(groups):
        label = g["label"] or str(_("No business unit"))
        rows.append(
            {
                "id": g["business_unit_id"],
                "label": label,
                "label_th": g["label_th"] or label,
                "requests": g["requests"],
                **{str(s): g[str(s)] for s in REQUEST_STATUSES},
                "duplicate_share": _ratio(g["resolved"], g["requests"]),
            }
        )
    keys = ["requests", *(str(s) for s in REQUEST_STATUSES)]
    totals: dict[str, Any] = {key: sum(r[key] for r in rows) for key in keys}
    totals["duplicate_share"] = _ratio(totals["resolved"], totals["requests"])
    return Report(
        ReportName.ACCOUNT_REQUESTS,
        _("Account requests and duplicates"),
        _(
            "Account requests made in the period, by business unit and status; resolved "
            "requests were duplicates of an existing account."
        ),
        filters,
        [
            Column("label", _("Business unit"), "label"),
            Column("requests", _("Requests")),
            Column("pending", _("Pending")),
            Column("approved", _("Approved")),
            Column("rejected", _("Rejected")),
            Column("resolved", _("Resolved to an existing account")),
            Column("withdrawn", _("Withdrawn")),
            Column("duplicate_share", _("Duplicate share"), "rate"),
        ],
        rows,
        totals,
    )


# --- ownership disputes -------------------------------------------------------------------


def disputes_by_unit(viewer: User, filters: ReportFilters) -> Report:
    """Ownership disputes opened in the period, by business unit: how many wait for a
    decision (and how many of those are past their deadline), how the others ended, and
    their age in days (an undecided one: so far; a closed one: until its decision or
    withdrawal)."""
    from accord.territories.disputes import UNDECIDED, disputes_visible_to
    from accord.territories.models import DisputeOutcome, DisputeStatus

    now = timezone.now()
    qs = disputes_visible_to(viewer).filter(_in_period("created_at", filters.period))
    if filters.unit_id is not None:
        qs = qs.filter(business_unit_id=filters.unit_id)
    if filters.district_id is not None:
        qs = qs.filter(account__district_id=filters.district_id)
    if filters.owner_id is not None:
        qs = qs.filter(Q(claimant_id=filters.owner_id) | Q(owner_id=filters.owner_id))
    age = ExpressionWrapper(
        Coalesce(F("decided_at"), Value(now, output_field=DateTimeField())) - F("created_at"),
        output_field=DurationField(),
    )
    decided = Q(status=DisputeStatus.DECIDED)
    groups = (
        qs.order_by()
        .values("business_unit_id")
        .annotate(
            label=F("business_unit__name"),
            label_th=F("business_unit__name_th"),
            disputes=Count("pk"),
            undecided=Count("pk", filter=Q(status__in=UNDECIDED)),
            overdue=Count("pk", filter=Q(status__in=UNDECIDED, deadline__lt=now)),
            escalated=Count("pk", filter=Q(escalated_at__isnull=False)),
            kept=Count("pk", filter=decided & Q(outcome=DisputeOutcome.KEEP)),
            transferred=Count("pk", filter=decided & Q(outcome=DisputeOutcome.TRANSFER)),
            split=Count("pk", filter=decided & Q(outcome=DisputeOutcome.SPLIT)),
            withdrawn=Count("pk", filter=Q(status=DisputeStatus.WITHDRAWN)),
            age_total=Sum(age),
            oldest_undecided=Min("created_at", filter=Q(status__in=UNDECIDED)),
        )
        .order_by("label")
    )
    counts = (
        "disputes",
        "undecided",
        "overdue",
        "escalated",
        "kept",
        "transferred",
        "split",
        "withdrawn",
    )
    rows = []
    total_age = dt.timedelta()
    oldest: dt.datetime | None = None
    for g in _fetch(groups):
        total_age += g["age_total"] or dt.timedelta()
        if g["oldest_undecided"] is not None and (oldest is None or g["oldest_undecided"] < oldest):
            oldest = g["oldest_undecided"]
        rows.append(
            {
                "id": g["business_unit_id"],
                "label": g["label"],
                "label_th": g["label_th"] or g["label"],
                **{key: g[key] for key in counts},
                "average_age_days": _days((g["age_total"] or dt.timedelta()) / g["disputes"]),
                "oldest_undecided_days": (
                    _days(now - g["oldest_undecided"]) if g["oldest_undecided"] else None
                ),
            }
        )
    totals: dict[str, Any] = {key: sum(r[key] for r in rows) for key in counts}
    totals["average_age_days"] = (
        _days(total_age / totals["disputes"]) if totals["disputes"] else None
    )
    totals["oldest_undecided_days"] = _days(now - oldest) if oldest is not None else None
    return Report(
        ReportName.DISPUTES,
        _("Ownership disputes by unit"),
        _(
            "Ownership disputes opened in the period, by business unit: waiting, overdue and "
            "escalated ones, how the others ended, and their age in days."
        ),
        filters,
        [
            Column("label", _("Business unit"), "label"),
            Column("disputes", _("Disputes")),
            Column("undecided", _("Waiting for a decision")),
            Column("overdue", _("Past the deadline")),
            Column("escalated", _("Escalated to the regional manager")),
            Column("kept", _("Owner kept")),
            Column("transferred", _("Transferred")),
            Column("split", _("Split")),
            Column("withdrawn", _("Withdrawn")),
            Column("average_age_days", _("Average age (days)"), "days"),
            Column("oldest_undecided_days", _("Oldest waiting (days)"), "days"),
        ],
        rows,
        totals,
    )


# --- the catalogue ------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportSpec:
    name: ReportName
    title: Any
    build: Callable[[User, ReportFilters], Report]
    # The stale list looks at all open opportunities unless a period is asked for.
    period_default: bool = True


REPORTS: dict[ReportName, ReportSpec] = {
    spec.name: spec
    for spec in (
        ReportSpec(ReportName.PIPELINE_BY_STAGE, _("Pipeline by stage"), pipeline_by_stage),
        ReportSpec(ReportName.PIPELINE_BY_UNIT, _("Pipeline by business unit"), pipeline_by_unit),
        ReportSpec(
            ReportName.PIPELINE_BY_DISTRICT, _("Pipeline by district"), pipeline_by_district
        ),
        ReportSpec(
            ReportName.PIPELINE_BY_PRODUCT_LINE,
            _("Pipeline by product line"),
            pipeline_by_product_line,
        ),
        ReportSpec(ReportName.WIN_RATE, _("Win rate"), win_rate),
        ReportSpec(ReportName.DEAL_SIZE, _("Average deal size"), deal_size),
        ReportSpec(ReportName.SALES_CYCLE, _("Sales-cycle length"), sales_cycle),
        ReportSpec(ReportName.ACTIVITIES, _("Activities per rep per week"), activities_per_week),
        ReportSpec(
            ReportName.STALE, _("Stale opportunities"), stale_opportunities, period_default=False
        ),
        ReportSpec(ReportName.LOST_REASONS, _("Lost reasons"), lost_reasons),
        ReportSpec(
            ReportName.ACCOUNT_REQUESTS, _("Account requests and duplicates"), account_requests
        ),
        ReportSpec(ReportName.DISPUTES, _("Ownership disputes by unit"), disputes_by_unit),
    )
}


def report_build(*, viewer: User, name: ReportName | str, filters: ReportFilters) -> Report:
    """Build one report for ``viewer`` (what they may see, narrowed by ``filters``)."""
    return REPORTS[ReportName(name)].build(viewer, filters)


# --- exports ------------------------------------------------------------------------------


def _thai() -> bool:
    return (get_language() or "en").startswith("th")


def _cell(row: Mapping[str, Any], column: Column) -> Any:
    if column.kind == "label" and _thai():
        return row.get("label_th") or row.get(column.key)
    return row.get(column.key)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def report_table(report: Report) -> tuple[list[str], list[list[Any]], list[Any] | None]:
    """Headings, rows and the totals row (first cell "Total"), in the active language."""
    headings = [str(c.label) for c in report.columns]
    rows = [[_cell(row, c) for c in report.columns] for row in report.rows]
    totals = None
    if report.totals is not None:
        totals = [report.totals.get(c.key) for c in report.columns]
        totals[0] = str(_("Total"))
    return headings, rows, totals


def report_csv(report: Report) -> bytes:
    """UTF-8 with a byte-order mark (spreadsheet programs then read Thai correctly); rates
    are fractions (0.25 = 25%), amounts plain decimals, dates ISO 8601."""
    headings, rows, totals = report_table(report)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headings)
    for row in rows:
        writer.writerow([_text(v) for v in row])
    if totals is not None:
        writer.writerow([_text(v) for v in totals])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


NUMBER_FORMATS: dict[str, str] = {
    "money": "#,##0.00",
    "rate": "0.0%",
    "days": "0.0",
    "date": "yyyy-mm-dd",
    "week": "yyyy-mm-dd",
}


def report_xlsx(report: Report) -> bytes:
    """One sheet of the table (numbers as numbers, amounts as ``#,##0.00``, rates as
    percentages) and one sheet of the filters it was made with."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    headings, rows, totals = report_table(report)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = _sheet_title(str(report.title))
    sheet.append(headings)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in [*rows, *([totals] if totals is not None else [])]:
        sheet.append([_xlsx_value(v) for v in row])
    for index, column in enumerate(report.columns, start=1):
        number_format = NUMBER_FORMATS.get(column.kind)
        if number_format:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = number_format
    if totals is not None:
        for cell in sheet[sheet.max_row]:
            cell.font = Font(bold=True)
    about = book.create_sheet(_sheet_title(str(_("Filters"))))
    about.append([str(_("Report")), str(report.title)])
    about.append([str(_("Period")), report.period.label if report.period else str(_("All time"))])
    for key, value in report.filters.as_params(stale=report.name == ReportName.STALE).items():
        about.append([key, value])
    about.append(
        [str(_("Generated")), timezone.localtime(report.generated_at).replace(tzinfo=None)]
    )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _sheet_title(text: str) -> str:
    for char in "[]:*?/\\":
        text = text.replace(char, " ")
    return text[:31]


def _xlsx_value(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Decimal):
        return float(value) if value != value.to_integral_value() else int(value)
    return value


CONTENT_TYPES: dict[str, str] = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def report_export(
    *, request: HttpRequest, viewer: User, report: Report, fmt: ExportFormat
) -> HttpResponse:
    """The report as a CSV or XLSX download, written to the security log."""
    from accord.audit.models import SecurityEventKind
    from accord.audit.security import security_event

    body = report_csv(report) if fmt == "csv" else report_xlsx(report)
    security_event(
        SecurityEventKind.EXPORT,
        request=request,
        actor=viewer,
        what=f"report:{report.name}",
        format=fmt,
        filters=report.filters.as_params(stale=report.name == ReportName.STALE),
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    period = f"-{report.period.key}" if report.period else ""
    response = HttpResponse(body, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{report.name}{period}-{stamp}.{fmt}"'
    return response
