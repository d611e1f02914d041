"""Reading forecasts: figures per category, roll-ups, quotas, attainment, trend (ADR 0007).

**Categories are cumulative**, as in Salesforce's cumulative forecast categories, so that
each figure answers "how much will we book, at this level of confidence?":

* ``closed_won`` — won opportunities *closed* (``closed_at``, local date) in the period;
* ``commit`` — closed won + open opportunities in a commit stage;
* ``best_case`` — commit + open opportunities in a best-case stage;
* ``pipeline`` — best case + open opportunities in a pipeline stage.

Open opportunities count in the period of their ``expected_close_date``; lost and omitted
ones never count. Amounts are summed in the default currency only (there are no exchange
rates yet); opportunities in another currency are left out.

Two hierarchies are rolled up, each with GROUP BY queries — never a loop over
opportunities in Python:

* **people**: a person's roll-up is their own opportunities plus those of everyone who
  reports to them (``User.manager``), recursively. Managers' adjustments apply here: a
  node's adjusted figure is its latest adjustment, else its own figure plus the adjusted
  figures of its direct reports — so an adjustment of a rep shows in every manager above.
* **organisation**: company → region (the account's district's region) → business unit
  (the opportunity's) → district (the account's) → owner. Each opportunity counts once at
  every level. Quotas roll up by where they are placed (the rep's unit and district).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from django.conf import settings
from django.db.models import Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from accord.core.errors import NotFound
from accord.insights.models import (
    ForecastAdjustment,
    ForecastSnapshot,
    OpportunityCell,
    Quota,
)
from accord.insights.periods import Period, PeriodKind
from accord.org.models import BusinessUnit, District, Region, User
from accord.sales.models import ForecastCategory, Opportunity, StageOutcome
from accord.territories import visibility

CATEGORIES = ("closed_won", "commit", "best_case", "pipeline")
ADJUSTABLE = ("commit", "best_case", "pipeline")
ZERO = Decimal("0.00")
CENT = Decimal("0.01")

Level = Literal["company", "region", "unit", "district", "user", "own"]
Dimension = Literal["region", "unit", "district", "owner"]

# Where each organisation level is read from, on an opportunity and on a quota.
OPPORTUNITY_FIELD: dict[Dimension, str] = {
    "region": "account__district__region_id",
    "unit": "business_unit_id",
    "district": "account__district_id",
    "owner": "owner_id",
}
QUOTA_FIELD: dict[Dimension, str] = {
    "region": "district__region_id",
    "unit": "business_unit_id",
    "district": "district_id",
    "owner": "user_id",
}
NEXT_DIMENSION: dict[str, Dimension] = {
    "company": "region",
    "region": "unit",
    "unit": "district",
    "district": "owner",
}
DIMENSION_LEVEL: dict[Dimension, Level] = {
    "region": "region",
    "unit": "unit",
    "district": "district",
    "owner": "user",
}


# --- figures ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    """The four cumulative figures of a node."""

    closed_won: Decimal = ZERO
    commit: Decimal = ZERO
    best_case: Decimal = ZERO
    pipeline: Decimal = ZERO

    def __add__(self, other: Figures) -> Figures:
        return Figures(*(getattr(self, c) + getattr(other, c) for c in CATEGORIES))

    @classmethod
    def from_sums(cls, row: Mapping[str, Any]) -> Figures:
        """From one aggregate row of :data:`SUMS` (per-category, not cumulative)."""
        won, open_commit, open_best_case, open_pipeline = (
            _cents(row[name]) for name in ("won", "open_commit", "open_best_case", "open_pipeline")
        )
        commit = won + open_commit
        best_case = commit + open_best_case
        return cls(won, commit, best_case, best_case + open_pipeline)

    def with_adjusted(self, adjusted: Mapping[str, Decimal]) -> Figures:
        return Figures(
            self.closed_won,
            adjusted.get("commit", self.commit),
            adjusted.get("best_case", self.best_case),
            adjusted.get("pipeline", self.pipeline),
        )

    def get(self, category: str) -> Decimal:
        value: Decimal = getattr(self, category)
        return value


def _cents(value: Decimal | None) -> Decimal:
    """Sums come back as the database gives them (SQLite drops the trailing zeros)."""
    return (value or ZERO).quantize(CENT)


def _sum(condition: Q) -> Coalesce:
    return Coalesce(Sum("amount", filter=condition), ZERO)


_OPEN = Q(stage__outcome=StageOutcome.OPEN)
SUMS = {
    "won": _sum(Q(stage__outcome=StageOutcome.WON)),
    # An open stage mislabelled "closed won" is counted as commit.
    "open_commit": _sum(
        _OPEN
        & Q(stage__forecast_category__in=[ForecastCategory.COMMIT, ForecastCategory.CLOSED_WON])
    ),
    "open_best_case": _sum(_OPEN & Q(stage__forecast_category=ForecastCategory.BEST_CASE)),
    "open_pipeline": _sum(_OPEN & Q(stage__forecast_category=ForecastCategory.PIPELINE)),
}


def _local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def opportunities_in_period(period: Period) -> QuerySet[Opportunity]:
    """The opportunities that count in ``period``: won ones closed in it, open ones
    expected to close in it (not omitted), in the default currency."""
    won = Q(
        stage__outcome=StageOutcome.WON,
        closed_at__gte=_local_midnight(period.start),
        closed_at__lt=_local_midnight(period.end),
    )
    open_ = (
        _OPEN
        & Q(expected_close_date__gte=period.start, expected_close_date__lt=period.end)
        & ~Q(stage__forecast_category=ForecastCategory.OMITTED)
    )
    return Opportunity.objects.filter(
        won | open_, currency=settings.ACCORD_DEFAULT_CURRENCY
    ).order_by()


# The same dimensions on the opportunity cells (:mod:`accord.insights.cells`).
CELL_FIELD: dict[Dimension, str] = {
    "region": "district__region_id",
    "unit": "business_unit_id",
    "district": "district_id",
    "owner": "owner_id",
}


def cells_in_period(period: Period) -> QuerySet[OpportunityCell]:
    """The opportunity cells of ``period``'s months: the same opportunities as
    :func:`opportunities_in_period`, summed ahead by owner, unit, district and stage (the
    :data:`SUMS` apply to them as they are). Cells emptied by moves and deletes stay, with
    nothing in them, and are left out."""
    return OpportunityCell.objects.filter(
        month__gte=period.start, month__lt=period.end, n__gt=0
    ).order_by()


def quota_condition(period: Period) -> Q:
    """Quotas for ``period``: set for it, or — for a quarter — set for its months (a
    person has either a quarter's quota or monthly ones; the services keep it so)."""
    condition = Q(period_kind=period.kind, period_start=period.start)
    if period.kind == PeriodKind.QUARTER:
        condition |= Q(
            period_kind=PeriodKind.MONTH, period_start__in=[m.start for m in period.months()]
        )
    return condition


# --- rows ---------------------------------------------------------------------------------


@dataclass
class AdjustmentView:
    id: uuid.UUID
    category: str
    amount: Decimal
    computed_amount: Decimal
    note: str
    adjusted_by: uuid.UUID
    adjusted_by_name: str
    created_at: dt.datetime


@dataclass
class ForecastRow:
    """One node of a roll-up: computed figures, adjusted figures, quota, attainment."""

    level: Level
    id: uuid.UUID | None
    label: str
    computed: Figures
    adjusted: Figures
    quota: Decimal | None = None
    label_th: str = ""
    region_id: uuid.UUID | None = None
    unit_id: uuid.UUID | None = None
    district_id: uuid.UUID | None = None
    adjustments: list[AdjustmentView] = field(default_factory=list)

    @property
    def is_adjusted(self) -> bool:
        return self.adjusted != self.computed

    @property
    def attainment(self) -> Decimal | None:
        """Closed won / quota, as a fraction (``None`` without a positive quota)."""
        if not self.quota:
            return None
        return (self.computed.closed_won / self.quota).quantize(Decimal("0.0001"))

    @property
    def gap(self) -> Decimal | None:
        """Quota still to close (negative when over-achieved)."""
        return None if self.quota is None else self.quota - self.computed.closed_won

    @property
    def node(self) -> str:
        if self.level in ("user", "own"):
            return f"user:{self.id}"
        return node_key(
            region_id=self.region_id, unit_id=self.unit_id, district_id=self.district_id
        )


@dataclass
class Forecast:
    period: Period
    subject: ForecastRow
    children: list[ForecastRow]
    child_level: Level | None


def node_key(
    *,
    region_id: uuid.UUID | None = None,
    unit_id: uuid.UUID | None = None,
    district_id: uuid.UUID | None = None,
) -> str:
    """The snapshot key of an organisation node (``company`` when nothing narrows it)."""
    parts = [
        f"{name}:{value}"
        for name, value in (("region", region_id), ("unit", unit_id), ("district", district_id))
        if value is not None
    ]
    return "/".join(parts) or "company"


def person_label(user: User) -> str:
    return user.get_full_name() or user.username


def person_label_th(user: User) -> str:
    return f"{user.first_name_th} {user.last_name_th}".strip() or person_label(user)


# --- the people roll-up -------------------------------------------------------------------


@dataclass
class _Person:
    user: User
    own: Figures = field(default_factory=Figures)
    quota: Decimal | None = None
    adjustments: list[ForecastAdjustment] = field(default_factory=list)


@dataclass
class PeopleRollup:
    computed: dict[uuid.UUID, Figures]
    adjusted: dict[uuid.UUID, Figures]
    quota: dict[uuid.UUID, Decimal | None]


def _latest_adjustments(adjustments: Iterable[ForecastAdjustment]) -> dict[str, Decimal]:
    latest: dict[str, ForecastAdjustment] = {}
    for adjustment in adjustments:  # oldest first: the last one wins
        latest[adjustment.category] = adjustment
    return {category: a.amount for category, a in latest.items()}


def roll_up_people(
    people: Mapping[uuid.UUID, _Person], reports: Mapping[uuid.UUID, list[uuid.UUID]]
) -> PeopleRollup:
    """Post-order over the reporting forest (people, never opportunities)."""
    out = PeopleRollup({}, {}, {})

    def visit(pk: uuid.UUID, seen: frozenset[uuid.UUID]) -> None:
        person = people[pk]
        computed = person.own
        adjusted_sum = person.own
        quota = person.quota
        for child in reports.get(pk, []):
            if child in seen or child not in people:
                continue  # a cycle in the data: count each person once
            if child not in out.computed:
                visit(child, seen | {child})
            computed = computed + out.computed[child]
            adjusted_sum = adjusted_sum + out.adjusted[child]
            child_quota = out.quota[child]
            if child_quota is not None:
                quota = (quota or ZERO) + child_quota
        out.computed[pk] = computed
        adjusted = adjusted_sum.with_adjusted(_latest_adjustments(person.adjustments))
        out.adjusted[pk] = Figures(computed.closed_won, *(adjusted.get(c) for c in ADJUSTABLE))
        out.quota[pk] = quota

    for pk in people:
        if pk not in out.computed:
            visit(pk, frozenset({pk}))
    return out


def _reporting_tree(root: User) -> tuple[dict[uuid.UUID, User], dict[uuid.UUID, list[uuid.UUID]]]:
    """Everyone under ``root`` (and ``root``), one query per level of the hierarchy."""
    people = {root.pk: root}
    reports: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    frontier = [root.pk]
    while frontier:
        found = list(
            User.objects.filter(manager_id__in=frontier)
            .exclude(pk__in=list(people))
            .order_by("first_name", "last_name", "username")
        )
        frontier = []
        for user in found:
            people[user.pk] = user
            reports[user.manager_id].append(user.pk)  # type: ignore[index]
            frontier.append(user.pk)
    return people, reports


def rollup_people_ids(subject: User) -> list[uuid.UUID]:
    """``subject`` and everyone under them: whose opportunities their roll-up counts."""
    people, _reports = _reporting_tree(subject)
    return list(people)


def _own_figures(period: Period, owner_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Figures]:
    rows = (
        cells_in_period(period)
        .filter(owner_id__in=list(owner_ids))
        .values("owner_id")
        .annotate(**SUMS)
    )
    return {row["owner_id"]: Figures.from_sums(row) for row in rows}


def _quotas_by_user(period: Period, user_ids: Iterable[uuid.UUID] | None) -> dict[Any, Decimal]:
    qs = Quota.objects.filter(quota_condition(period))
    if user_ids is not None:
        qs = qs.filter(user_id__in=list(user_ids))
    rows = qs.order_by().values("user_id").annotate(total=Sum("amount"))
    return {row["user_id"]: _cents(row["total"]) for row in rows}


def _adjustments_for(
    period: Period, subject_ids: Iterable[uuid.UUID] | None
) -> dict[uuid.UUID, list[ForecastAdjustment]]:
    qs = ForecastAdjustment.objects.filter(
        period_kind=period.kind, period_start=period.start
    ).select_related("adjusted_by")
    if subject_ids is not None:
        qs = qs.filter(subject_id__in=list(subject_ids))
    found: dict[uuid.UUID, list[ForecastAdjustment]] = defaultdict(list)
    for adjustment in qs.order_by("created_at", "id"):
        found[adjustment.subject_id].append(adjustment)
    return found


def adjustment_view(a: ForecastAdjustment) -> AdjustmentView:
    return AdjustmentView(
        id=a.pk,
        category=a.category,
        amount=a.amount,
        computed_amount=a.computed_amount,
        note=a.note,
        adjusted_by=a.adjusted_by_id,
        adjusted_by_name=person_label(a.adjusted_by),
        created_at=a.created_at,
    )


def forecast_users_visible(viewer: User) -> QuerySet[User]:
    return visibility.forecast_users_visible_to(viewer)


def forecast_subject_get(*, viewer: User, user_id: uuid.UUID | str) -> User:
    """A person whose forecast ``viewer`` may see, or 404."""
    from accord.core.selectors import get_visible

    return get_visible(forecast_users_visible(viewer), user_id, what="person")


def user_forecast(*, viewer: User, subject: User, period: Period) -> Forecast:
    """``subject``'s roll-up with a row for their own opportunities and one per direct
    report. Queries: one per level of the hierarchy below ``subject``, plus three."""
    people_users, reports = _reporting_tree(subject)
    ids = list(people_users)
    own = _own_figures(period, ids)
    quotas = _quotas_by_user(period, ids)
    adjustments = _adjustments_for(period, ids)
    people = {
        pk: _Person(user, own.get(pk, Figures()), quotas.get(pk), adjustments.get(pk, []))
        for pk, user in people_users.items()
    }
    rolled = roll_up_people(people, reports)

    def row(pk: uuid.UUID) -> ForecastRow:
        user = people_users[pk]
        return ForecastRow(
            level="user",
            id=pk,
            label=person_label(user),
            label_th=person_label_th(user),
            computed=rolled.computed[pk],
            adjusted=rolled.adjusted[pk],
            quota=rolled.quota[pk],
            adjustments=[adjustment_view(a) for a in people[pk].adjustments],
        )

    children: list[ForecastRow] = []
    if reports.get(subject.pk):
        mine = people[subject.pk]
        children.append(
            ForecastRow(
                level="own",
                id=subject.pk,
                label=person_label(subject),
                label_th=person_label_th(subject),
                computed=mine.own,
                adjusted=mine.own,
                quota=mine.quota,
            )
        )
        children.extend(row(pk) for pk in reports[subject.pk])
    return Forecast(period, row(subject.pk), children, "user" if children else None)


# --- the organisation roll-up -------------------------------------------------------------


@dataclass(frozen=True)
class OrgNode:
    region_id: uuid.UUID | None = None
    unit_id: uuid.UUID | None = None
    district_id: uuid.UUID | None = None

    @property
    def level(self) -> Level:
        if self.district_id is not None:
            return "district"
        if self.unit_id is not None:
            return "unit"
        if self.region_id is not None:
            return "region"
        return "company"

    def filters(self, fields: Mapping[Dimension, str]) -> dict[str, uuid.UUID]:
        given: dict[Dimension, uuid.UUID | None] = {
            "region": self.region_id,
            "unit": self.unit_id,
            "district": self.district_id,
        }
        return {fields[dim]: value for dim, value in given.items() if value is not None}


def _labels(dimension: Dimension, ids: Iterable[Any]) -> dict[Any, tuple[str, str]]:
    wanted = [pk for pk in ids if pk is not None]
    if not wanted:
        return {}
    if dimension == "owner":
        return {
            u.pk: (person_label(u), person_label_th(u)) for u in User.objects.filter(pk__in=wanted)
        }
    model = {"region": Region, "unit": BusinessUnit, "district": District}[dimension]
    return {
        o.pk: (o.name, o.name_th or o.name)
        for o in model.objects.filter(pk__in=wanted).only("name", "name_th")  # type: ignore[attr-defined]
    }


def _resolve_org_node(viewer: User, node: OrgNode) -> tuple[str, str]:
    """The node's label; 404 when a part does not exist or the viewer may not see it."""
    region_id = node.region_id
    label: tuple[str, str] = ("Company", "บริษัท")
    if node.district_id is not None:
        district = District.objects.filter(pk=node.district_id).first()
        if district is None or (region_id is not None and district.region_id != region_id):
            raise NotFound("No such district, or you may not see it.")
        region_id = district.region_id
        label = (district.name, district.name_th or district.name)
    if node.unit_id is not None:
        unit = BusinessUnit.objects.filter(pk=node.unit_id).first()
        if unit is None:
            raise NotFound("No such business unit, or you may not see it.")
        if node.district_id is None:
            label = (unit.name, unit.name_th or unit.name)
    if node.region_id is not None and node.unit_id is None and node.district_id is None:
        region = Region.objects.filter(pk=node.region_id).first()
        if region is None:
            raise NotFound("No such region, or you may not see it.")
        label = (region.name, region.name_th or region.name)
    if not visibility.may_view_forecast_region(viewer, region_id):
        raise NotFound("No such forecast, or you may not see it.")
    return label


def org_forecast(*, viewer: User, node: OrgNode, period: Period) -> Forecast:
    """A company / region / unit / district node with a row per next-level child. Three
    queries beyond resolving the node: figures and quotas, each one GROUP BY, and labels."""
    label, label_th = _resolve_org_node(viewer, node)
    dimension = NEXT_DIMENSION[node.level]
    group = CELL_FIELD[dimension]
    figures = {
        row[group]: Figures.from_sums(row)
        for row in cells_in_period(period)
        .filter(**node.filters(CELL_FIELD))
        .values(group)
        .annotate(**SUMS)
    }
    quota_group = QUOTA_FIELD[dimension]
    quotas = {
        row[quota_group]: _cents(row["total"])
        for row in Quota.objects.filter(quota_condition(period), **node.filters(QUOTA_FIELD))
        .order_by()
        .values(quota_group)
        .annotate(total=Sum("amount"))
    }
    keys = set(figures) | set(quotas)
    labels = _labels(dimension, keys)
    children: list[ForecastRow] = []
    for key in keys:
        computed = figures.get(key, Figures())
        child_label, child_label_th = labels.get(key, ("—", "—"))
        children.append(
            ForecastRow(
                level=DIMENSION_LEVEL[dimension],
                id=key,
                label=child_label,
                label_th=child_label_th,
                computed=computed,
                adjusted=computed,
                quota=quotas.get(key),
                region_id=key if dimension == "region" else node.region_id,
                unit_id=key if dimension == "unit" else node.unit_id,
                district_id=key if dimension == "district" else node.district_id,
            )
        )
    children.sort(key=lambda r: (r.id is None, r.label.casefold()))
    total = sum((c.computed for c in children), Figures())
    quota_values = [c.quota for c in children if c.quota is not None]
    subject = ForecastRow(
        level=node.level,
        id={
            "company": None,
            "region": node.region_id,
            "unit": node.unit_id,
            "district": node.district_id,
        }[node.level],
        label=label,
        label_th=label_th,
        computed=total,
        adjusted=total,
        quota=sum(quota_values, ZERO) if quota_values else None,
        region_id=node.region_id,
        unit_id=node.unit_id,
        district_id=node.district_id,
    )
    return Forecast(period, subject, children, DIMENSION_LEVEL[dimension])


# --- trend --------------------------------------------------------------------------------


def forecast_trend(*, node: str, period: Period) -> QuerySet[ForecastSnapshot]:
    """The weekly snapshots of ``node`` for ``period``, oldest week first."""
    return ForecastSnapshot.objects.filter(
        node=node, period_kind=period.kind, period_start=period.start
    ).order_by("week_start")


# --- quotas -------------------------------------------------------------------------------


def quotas_visible_to(viewer: User) -> QuerySet[Quota]:
    """Quotas of the people whose forecasts ``viewer`` may see."""
    qs = Quota.objects.select_related("user")
    if visibility.scope_of(viewer).sees_all:
        return qs
    return qs.filter(user__in=forecast_users_visible(viewer).values("pk"))


# --- every node at once (the weekly snapshot) ---------------------------------------------


@dataclass
class NodeFigures:
    computed: Figures
    adjusted: Figures
    quota: Decimal | None


def all_node_figures(period: Period) -> dict[str, NodeFigures]:
    """Every organisation node's and every person's roll-up for ``period``, keyed by node.

    Four queries whatever the size: the opportunity cells grouped by (owner, region, unit,
    district), quotas grouped the same way, every person's manager, and the adjustments;
    the rest adds up those aggregate rows.
    """
    dims = ("owner_id", "business_unit_id", "district_id", "district__region_id")
    org: dict[str, Figures] = defaultdict(Figures)
    own: dict[uuid.UUID, Figures] = defaultdict(Figures)
    for row in cells_in_period(period).values(*dims).annotate(**SUMS):
        figures = Figures.from_sums(row)
        own[row["owner_id"]] += figures
        for key in _org_keys(
            row["district__region_id"], row["business_unit_id"], row["district_id"]
        ):
            org[key] += figures
    org_quota: dict[str, Decimal] = defaultdict(lambda: ZERO)
    user_quota: dict[uuid.UUID, Decimal] = defaultdict(lambda: ZERO)
    quota_rows = (
        Quota.objects.filter(quota_condition(period))
        .order_by()
        .values("user_id", "business_unit_id", "district_id", "district__region_id")
        .annotate(total=Sum("amount"))
    )
    for row in quota_rows:
        user_quota[row["user_id"]] += _cents(row["total"])
        for key in _org_keys(
            row["district__region_id"], row["business_unit_id"], row["district_id"]
        ):
            org_quota[key] += _cents(row["total"])
    out = {
        key: NodeFigures(org.get(key, Figures()), org.get(key, Figures()), org_quota.get(key))
        for key in set(org) | set(org_quota)
    }
    users = list(User.objects.order_by().values_list("pk", "manager_id", "is_active"))
    adjustments = _adjustments_for(period, None)
    reports: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    people: dict[uuid.UUID, _Person] = {}
    for pk, manager_id, _active in users:
        if manager_id is not None:
            reports[manager_id].append(pk)
        people[pk] = _Person(
            User(pk=pk), own.get(pk, Figures()), user_quota.get(pk), adjustments.get(pk, [])
        )
    rolled = roll_up_people(people, reports)
    for pk, _manager_id, active in users:
        computed, quota = rolled.computed[pk], rolled.quota[pk]
        if not active or (computed == Figures() and quota is None and pk not in adjustments):
            continue
        out[f"user:{pk}"] = NodeFigures(computed, rolled.adjusted[pk], quota)
    return out


def _org_keys(
    region_id: uuid.UUID | None, unit_id: uuid.UUID | None, district_id: uuid.UUID | None
) -> list[str]:
    """The organisation nodes a group counts in: the company, its region, region and unit,
    region, unit and district, and the company-wide unit."""
    keys = ["company"]
    if unit_id is not None:
        keys.append(node_key(unit_id=unit_id))
    if region_id is not None:
        keys.append(node_key(region_id=region_id))
        if unit_id is not None:
            keys.append(node_key(region_id=region_id, unit_id=unit_id))
            if district_id is not None:
                keys.append(node_key(region_id=region_id, unit_id=unit_id, district_id=district_id))
    return keys


def current_periods(today: dt.date | None = None) -> list[Period]:
    """The periods snapshots cover: this and next month, this and next quarter."""
    from accord.insights.periods import period_containing

    today = today or timezone.localdate()
    out = []
    for kind in (PeriodKind.MONTH, PeriodKind.QUARTER):
        period = period_containing(today, kind)
        out += [period, period.next()]
    return out
