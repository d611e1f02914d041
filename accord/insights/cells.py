"""Opportunity cells: the organisation's figures summed ahead, kept correct under writes.

The company, region and business-unit figures (forecast roll-ups, district comparison,
pipeline reports for those who see everything) would otherwise read every opportunity of
the period with its account's district: ~170,000 rows a quarter at a million
opportunities, 0.7 s a query. An :class:`~accord.insights.models.OpportunityCell` holds the
count and amount of the opportunities of one (business unit, district, stage, month), so
those figures read a few hundred cells instead.

**Kept in step in the same transaction** by signal handlers, because opportunities are
written from several places (the sales services, merge and unmerge, handover, imports) and
an account's district can change under its opportunities:

* an opportunity saved: its old contribution (the values it was loaded with, remembered at
  ``post_init``) leaves its cell, its new one joins another — nothing happens when none of
  the fields that place it changed;
* an opportunity deleted: its contribution leaves;
* an account whose district changed: its opportunities' contributions move district;
* a stage whose outcome changed (won ↔ open changes which date counts): its cells are
  recomputed.

Bulk updates in the code (merge and unmerge move opportunities between accounts) wrap
``QuerySet.update`` in :func:`accord.core.signals.bulk_rows_update`, whose signals move the
rows' contributions. Writes that bypass the ORM entirely (raw SQL, ``bulk_create`` — the
benchmark's bulk loader) must call :func:`cells_rebuild`, as must a database restored from
elsewhere; ``accord cells-rebuild`` does, and ``cells_check`` says whether the cells match a
recomputation (tests compare them after random sequences of writes).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import (
    Count,
    DateField,
    DurationField,
    ExpressionWrapper,
    F,
    Max,
    Min,
    Sum,
    Value,
)
from django.db.models.functions import TruncMonth
from django.db.models.signals import post_delete, post_init, post_save, pre_save
from django.utils import timezone

from accord.core.signals import bulk_rows_changed, bulk_rows_changing
from accord.customers.models import Account
from accord.insights.models import OpportunityCell
from accord.sales.models import Opportunity, Stage, StageOutcome

ZERO = Decimal("0.00")
# The fields that place an opportunity in a cell.
PLACING = (
    "owner_id",
    "business_unit_id",
    "stage_id",
    "amount",
    "currency",
    "expected_close_date",
    "closed_at",
    "account_id",
    "created_at",
    "lost_reason",
)
CLOSED = (StageOutcome.WON, StageOutcome.LOST)
# The "month" of open deals with no expected close date: in no period, but in the all-time
# pipeline.
UNDATED = dt.date(1, 1, 1)
NO_TIME = dt.timedelta()
CYCLE = ExpressionWrapper(F("closed_at") - F("created_at"), output_field=DurationField())


@dataclass(frozen=True)
class Place:
    owner_id: uuid.UUID
    unit_id: uuid.UUID
    district_id: uuid.UUID | None
    stage_id: uuid.UUID
    month: dt.date
    lost_reason: str = ""
    # The stage's outcome (follows from the stage): a won or lost cell keeps the extremes
    # and the sales cycle.
    outcome: str = field(default=StageOutcome.OPEN, compare=False)

    @property
    def closed(self) -> bool:
        return self.outcome in CLOSED

    def cell(self, delta: Delta) -> OpportunityCell:
        closed = self.closed and delta.n > 0
        return OpportunityCell(
            key=self.key,
            owner_id=self.owner_id,
            business_unit_id=self.unit_id,
            district_id=self.district_id,
            stage_id=self.stage_id,
            month=self.month,
            lost_reason=self.lost_reason,
            n=delta.n,
            amount=delta.amount,
            cycle=delta.cycle if self.closed else NO_TIME,
            amount_min=delta.joined.amount_min if closed else None,
            amount_max=delta.joined.amount_max if closed else None,
            cycle_min=delta.joined.cycle_min if closed else None,
            cycle_max=delta.joined.cycle_max if closed else None,
        )

    @property
    def key(self) -> str:
        key = (
            f"{self.owner_id}|{self.unit_id}|{self.district_id or '-'}|{self.stage_id}|"
            f"{self.month:%Y-%m}"
        )
        return f"{key}|{self.lost_reason}" if self.lost_reason else key


@dataclass
class Extremes:
    """The smallest and largest amount and sales cycle of some closed opportunities."""

    amount_min: Decimal | None = None
    amount_max: Decimal | None = None
    cycle_min: dt.timedelta | None = None
    cycle_max: dt.timedelta | None = None

    def widen(
        self,
        amount_min: Decimal | None,
        amount_max: Decimal | None,
        cycle_min: dt.timedelta | None,
        cycle_max: dt.timedelta | None,
    ) -> None:
        self.amount_min = _least(self.amount_min, amount_min)
        self.amount_max = _greatest(self.amount_max, amount_max)
        self.cycle_min = _least(self.cycle_min, cycle_min)
        self.cycle_max = _greatest(self.cycle_max, cycle_max)

    def empty(self) -> bool:
        return self.amount_min is None and self.cycle_min is None

    def reaches(self, cell: OpportunityCell) -> bool:
        """Whether something with these extremes held one of ``cell``'s extremes."""
        return (
            (self.amount_min is not None and _le(cell.amount_min, self.amount_min))
            or (self.amount_max is not None and _le(self.amount_max, cell.amount_max))
            or (self.cycle_min is not None and _le(cell.cycle_min, self.cycle_min))
            or (self.cycle_max is not None and _le(self.cycle_max, cell.cycle_max))
        )


def _least(a: Any, b: Any) -> Any:
    return b if a is None else a if b is None else min(a, b)


def _greatest(a: Any, b: Any) -> Any:
    return b if a is None else a if b is None else max(a, b)


def _le(a: Any, b: Any) -> bool:
    return a is None or b is None or a <= b


@dataclass
class Delta:
    """What changes in one cell: count, amount and sales-cycle sum, and the extremes of the
    closed opportunities that join it and of those that leave it."""

    n: int = 0
    amount: Decimal = ZERO
    cycle: dt.timedelta = NO_TIME
    joined: Extremes = field(default_factory=Extremes)
    left: Extremes = field(default_factory=Extremes)

    def add(
        self,
        sign: int,
        n: int,
        amount: Decimal,
        cycle: dt.timedelta | None = None,
        amount_min: Decimal | None = None,
        amount_max: Decimal | None = None,
        cycle_min: dt.timedelta | None = None,
        cycle_max: dt.timedelta | None = None,
    ) -> None:
        self.n += sign * n
        self.amount += sign * amount
        self.cycle += sign * (cycle or NO_TIME)
        (self.joined if sign > 0 else self.left).widen(amount_min, amount_max, cycle_min, cycle_max)

    def add_row(self, sign: int, row: Mapping[str, Any]) -> None:
        self.add(
            sign,
            row["n"],
            row["amount"],
            row["cycle"],
            row["amount_min"],
            row["amount_max"],
            row["cycle_min"],
            row["cycle_max"],
        )

    def add_one(self, sign: int, values: Mapping[str, Any], place: Place) -> None:
        amount = Decimal(values["amount"])
        if not place.closed:
            self.add(sign, 1, amount)
            return
        cycle = values["closed_at"] - values["created_at"]
        self.add(sign, 1, amount, cycle, amount, amount, cycle, cycle)

    def empty(self) -> bool:
        return (
            self.n == 0
            and self.amount == 0
            and self.cycle == NO_TIME
            and self.joined.empty()
            and self.left.empty()
        )


def _month(outcome: str, expected: dt.date | None, closed_at: dt.datetime | None) -> dt.date | None:
    """The first day of the local month the opportunity counts in (none: no period)."""
    if outcome in CLOSED:
        if closed_at is None:
            return None
        day = timezone.localtime(closed_at).date()
    else:
        if expected is None:
            return UNDATED
        day = expected
    return day.replace(day=1)


def _place(values: Mapping[str, Any], outcome: str, district_id: Any) -> Place | None:
    if values.get("currency") != settings.ACCORD_DEFAULT_CURRENCY or values.get("amount") is None:
        return None
    month = _month(outcome, values.get("expected_close_date"), values.get("closed_at"))
    if month is None or any(
        values.get(k) is None for k in ("owner_id", "business_unit_id", "stage_id")
    ):
        return None
    return Place(
        values["owner_id"],
        values["business_unit_id"],
        district_id,
        values["stage_id"],
        month,
        (values.get("lost_reason") or "") if outcome == StageOutcome.LOST else "",
        outcome,
    )


Deltas = dict[Place, Delta]


def _deltas() -> Deltas:
    return defaultdict(Delta)


def _apply(deltas: Mapping[Place, Delta]) -> None:
    """Add each delta to its cell, creating the cell when it is new. Open cells are added
    to in place; a closed cell is read and written back, its extremes recomputed from the
    opportunities when one that held them left (call once the opportunities are written)."""
    for place, delta in deltas.items():
        if delta.empty():
            continue
        if place.closed:
            _apply_closed(place, delta)
            continue
        updated = OpportunityCell.objects.filter(key=place.key).update(
            n=F("n") + delta.n, amount=F("amount") + delta.amount
        )
        if updated:
            continue
        try:
            with transaction.atomic():
                place.cell(delta).save(force_insert=True)
        except IntegrityError:  # created meanwhile by a concurrent transaction
            OpportunityCell.objects.filter(key=place.key).update(
                n=F("n") + delta.n, amount=F("amount") + delta.amount
            )


def _apply_closed(place: Place, delta: Delta) -> None:
    with transaction.atomic():  # the row lock needs a transaction (a save may have none)
        _apply_closed_locked(place, delta)


def _apply_closed_locked(place: Place, delta: Delta) -> None:
    for _attempt in range(2):
        cell = OpportunityCell.objects.select_for_update().filter(key=place.key).first()
        if cell is None:
            try:
                with transaction.atomic():
                    place.cell(delta).save(force_insert=True)
                return
            except IntegrityError:  # created meanwhile by a concurrent transaction
                continue
        cell.n += delta.n
        cell.amount += delta.amount
        cell.cycle += delta.cycle
        if cell.n <= 0:
            cell.amount_min = cell.amount_max = cell.cycle_min = cell.cycle_max = None
        elif not delta.left.empty() and delta.left.reaches(cell):
            extremes = _extremes_of(place)
            cell.amount_min, cell.amount_max = extremes.amount_min, extremes.amount_max
            cell.cycle_min, cell.cycle_max = extremes.cycle_min, extremes.cycle_max
        else:
            extremes = Extremes(cell.amount_min, cell.amount_max, cell.cycle_min, cell.cycle_max)
            joined = delta.joined
            extremes.widen(joined.amount_min, joined.amount_max, joined.cycle_min, joined.cycle_max)
            cell.amount_min, cell.amount_max = extremes.amount_min, extremes.amount_max
            cell.cycle_min, cell.cycle_max = extremes.cycle_min, extremes.cycle_max
        cell.save(
            update_fields=[
                "n",
                "amount",
                "cycle",
                "amount_min",
                "amount_max",
                "cycle_min",
                "cycle_max",
            ]
        )
        return
    raise IntegrityError(f"opportunity cell {place.key} could not be written")


def _local_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _extremes_of(place: Place) -> Extremes:
    """The extremes of a closed cell, from its opportunities."""
    nxt = (place.month + dt.timedelta(days=32)).replace(day=1)
    qs = Opportunity.objects.filter(
        owner_id=place.owner_id,
        business_unit_id=place.unit_id,
        stage_id=place.stage_id,
        currency=settings.ACCORD_DEFAULT_CURRENCY,
        closed_at__gte=_local_start(place.month),
        closed_at__lt=_local_start(nxt),
    )
    if place.district_id is None:
        qs = qs.filter(account__district_id__isnull=True)
    else:
        qs = qs.filter(account__district_id=place.district_id)
    if place.outcome == StageOutcome.LOST:
        qs = qs.filter(lost_reason=place.lost_reason)
    found = qs.aggregate(
        amount_min=Min("amount"),
        amount_max=Max("amount"),
        cycle_min=Min(CYCLE),
        cycle_max=Max(CYCLE),
    )
    return Extremes(**found)


def _loaded(instance: Opportunity) -> dict[str, Any] | None:
    """The placing values an opportunity was loaded with (``None`` when any was deferred:
    then the database is asked before the save)."""
    values = {name: instance.__dict__.get(name, _MISSING) for name in PLACING}
    return None if _MISSING in values.values() else values


_MISSING = object()


def _remember_after_load(sender: type, instance: Opportunity, **kwargs: Any) -> None:
    # post_init runs before Django marks an instance from the database as not adding:
    # remember the values whenever they are all there; a new instance has no old place.
    instance._cells_loaded = _loaded(instance)  # type: ignore[attr-defined]


def _before_save(sender: type, instance: Opportunity, raw: bool = False, **kwargs: Any) -> None:
    if raw:
        return
    if instance._state.adding:
        instance._cells_old = None  # type: ignore[attr-defined]
        return
    old = getattr(instance, "_cells_loaded", None)
    if old is None:
        old = Opportunity.objects.filter(pk=instance.pk).values(*PLACING).first()
    instance._cells_old = old  # type: ignore[attr-defined]


def _lookups(values: Iterable[Mapping[str, Any]]) -> tuple[dict[Any, str], dict[Any, Any]]:
    rows = [v for v in values if v]
    stages = {v["stage_id"] for v in rows if v.get("stage_id")}
    accounts = {v["account_id"] for v in rows if v.get("account_id")}
    outcome = dict(Stage.objects.filter(pk__in=stages).values_list("pk", "outcome"))
    district = dict(Account.objects.filter(pk__in=accounts).values_list("pk", "district_id"))
    return outcome, district


def _after_save(
    sender: type, instance: Opportunity, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    if raw:
        return
    new = {name: getattr(instance, name) for name in PLACING}
    old = getattr(instance, "_cells_old", None)
    instance._cells_loaded = new  # type: ignore[attr-defined]
    instance._cells_moved = None  # type: ignore[attr-defined]
    if old is not None and all(old[k] == new[k] for k in PLACING):
        return
    outcome, district = _lookups([old or {}, new])
    deltas = _deltas()
    places: list[Place | None] = []
    for values, sign in ((old, -1), (new, 1)):
        if not values:
            places.append(None)
            continue
        place = _place(
            values, outcome.get(values["stage_id"], ""), district.get(values["account_id"])
        )
        places.append(place)
        if place is not None:
            deltas[place].add_one(sign, values, place)
    _apply(deltas)
    # The line-item cells move the same way (accord.insights.line_cells, connected after).
    instance._cells_moved = (places[0], places[1], created)  # type: ignore[attr-defined]


def _after_delete(sender: type, instance: Opportunity, **kwargs: Any) -> None:
    values = {name: getattr(instance, name) for name in PLACING}
    outcome, district = _lookups([values])
    place = _place(values, outcome.get(values["stage_id"], ""), district.get(values["account_id"]))
    if place is not None:
        delta = Delta()
        delta.add_one(-1, values, place)
        _apply({place: delta})


def _account_loaded(sender: type, instance: Account, **kwargs: Any) -> None:
    instance._cells_district = instance.__dict__.get("district_id", _MISSING)  # type: ignore[attr-defined]


def _account_before_save(sender: type, instance: Account, raw: bool = False, **kwargs: Any) -> None:
    if raw or instance._state.adding:
        instance._cells_moved_from = _MISSING  # type: ignore[attr-defined]
        return
    old = getattr(instance, "_cells_district", _MISSING)
    if old is _MISSING:
        old = Account.objects.filter(pk=instance.pk).values_list("district_id", flat=True).first()
    instance._cells_moved_from = old  # type: ignore[attr-defined]


def _account_after_save(sender: type, instance: Account, raw: bool = False, **kwargs: Any) -> None:
    old = getattr(instance, "_cells_moved_from", _MISSING)
    instance._cells_district = instance.district_id  # type: ignore[attr-defined]
    if raw or old is _MISSING or old == instance.district_id:
        return
    deltas = _deltas()
    for row in _grouped(Opportunity.objects.filter(account_id=instance.pk)):
        for district_id, sign in ((old, -1), (instance.district_id, 1)):
            deltas[_row_place(row, district_id)].add_row(sign, row)
    _apply(deltas)


def _bulk_changing(sender: type, pks: list[Any], state: dict[str, Any], **kwargs: Any) -> None:
    state["cells"] = _grouped(Opportunity.objects.filter(pk__in=pks))


def _bulk_changed(sender: type, pks: list[Any], state: dict[str, Any], **kwargs: Any) -> None:
    deltas = _deltas()
    for rows, sign in (
        (state.get("cells", []), -1),
        (_grouped(Opportunity.objects.filter(pk__in=pks)), 1),
    ):
        for row in rows:
            deltas[_row_place(row)].add_row(sign, row)
    _apply(deltas)


def account_moved_from(account: Account) -> tuple[bool, Any]:
    """Whether the save that just happened moved ``account`` to another district, and the
    district it left (read in ``post_save`` handlers: the activity cells follow too)."""
    old = getattr(account, "_cells_moved_from", _MISSING)
    if old is _MISSING or old == account.district_id:
        return False, None
    return True, old


def _stage_before_save(sender: type, instance: Stage, raw: bool = False, **kwargs: Any) -> None:
    instance._cells_outcome = (  # type: ignore[attr-defined]
        None
        if raw or instance._state.adding
        else Stage.objects.filter(pk=instance.pk).values_list("outcome", flat=True).first()
    )


def _stage_after_save(sender: type, instance: Stage, raw: bool = False, **kwargs: Any) -> None:
    old = getattr(instance, "_cells_outcome", None)
    if raw or old is None or (old in CLOSED) == (instance.outcome in CLOSED):
        return
    cells_rebuild(stage_id=instance.pk)


# --- recomputing ----------------------------------------------------------------------------


def _grouped(qs: Any) -> list[dict[str, Any]]:
    """Opportunities summed by owner, unit, district, stage and month (in the database):
    the open ones by expected close date (:data:`UNDATED` without one), the closed ones by
    their local close month (and lost reason, with their extremes and sales cycle), as three
    GROUP BY queries."""
    zone = timezone.get_current_timezone()
    base = qs.filter(currency=settings.ACCORD_DEFAULT_CURRENCY, amount__isnull=False).order_by()
    place = ("owner_id", "business_unit_id", "account__district_id", "stage_id", "m")
    sums = {"n": Count("pk"), "total": Sum("amount")}
    closed_sums = {
        **sums,
        "cycle_sum": Sum(CYCLE),
        "amount_lo": Min("amount"),
        "amount_hi": Max("amount"),
        "cycle_lo": Min(CYCLE),
        "cycle_hi": Max(CYCLE),
    }
    rows: list[dict[str, Any]] = []
    for part, month, fields, aggregates in (
        (
            base.filter(stage__outcome=StageOutcome.OPEN, expected_close_date__isnull=False),
            TruncMonth("expected_close_date"),
            place,
            sums,
        ),
        (
            base.filter(stage__outcome=StageOutcome.OPEN, expected_close_date__isnull=True),
            Value(UNDATED, output_field=DateField()),
            place,
            sums,
        ),
        (
            base.filter(stage__outcome__in=CLOSED, closed_at__isnull=False),
            TruncMonth("closed_at", tzinfo=zone),
            (*place, "stage__outcome", "lost_reason"),
            closed_sums,
        ),
    ):
        grouped = part.annotate(m=month).values(*fields).annotate(**aggregates)
        for g in grouped:
            m = g["m"]
            if isinstance(m, dt.datetime):
                m = timezone.localtime(m, zone).date() if timezone.is_aware(m) else m.date()
            outcome = g.get("stage__outcome", StageOutcome.OPEN)
            rows.append(
                {
                    "owner_id": g["owner_id"],
                    "business_unit_id": g["business_unit_id"],
                    "district_id": g["account__district_id"],
                    "stage_id": g["stage_id"],
                    "month": m.replace(day=1),
                    "outcome": outcome,
                    "lost_reason": g["lost_reason"] if outcome == StageOutcome.LOST else "",
                    "n": g["n"],
                    "amount": Decimal(g["total"] or 0).quantize(CENT),
                    "cycle": g.get("cycle_sum") or NO_TIME,
                    "amount_min": _cents_or_none(g.get("amount_lo")),
                    "amount_max": _cents_or_none(g.get("amount_hi")),
                    "cycle_min": g.get("cycle_lo"),
                    "cycle_max": g.get("cycle_hi"),
                }
            )
    return rows


CENT = Decimal("0.01")


def _cents_or_none(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value).quantize(CENT)


def _row_place(row: Mapping[str, Any], district_id: Any = _MISSING) -> Place:
    return Place(
        row["owner_id"],
        row["business_unit_id"],
        row["district_id"] if district_id is _MISSING else district_id,
        row["stage_id"],
        row["month"],
        row["lost_reason"],
        row["outcome"],
    )


CellValues = tuple[
    int,
    Decimal,
    dt.timedelta,
    Decimal | None,
    Decimal | None,
    dt.timedelta | None,
    dt.timedelta | None,
]


def _computed_cells(stage_id: uuid.UUID | None = None) -> dict[Place, Delta]:
    qs = Opportunity.objects.all()
    if stage_id is not None:
        qs = qs.filter(stage_id=stage_id)
    out: dict[Place, Delta] = _deltas()
    for row in _grouped(qs):
        out[_row_place(row)].add_row(1, row)
    return out


def _values(place: Place, delta: Delta) -> CellValues:
    cell = place.cell(delta)
    return (
        cell.n,
        Decimal(cell.amount).quantize(CENT),
        cell.cycle,
        cell.amount_min,
        cell.amount_max,
        cell.cycle_min,
        cell.cycle_max,
    )


def cells_computed(stage_id: uuid.UUID | None = None) -> dict[str, CellValues]:
    """What the cells should hold, computed from the opportunities: key → (count, amount,
    sales-cycle sum, smallest and largest amount, shortest and longest cycle)."""
    return {place.key: _values(place, delta) for place, delta in _computed_cells(stage_id).items()}


@transaction.atomic
def cells_rebuild(stage_id: uuid.UUID | None = None) -> int:
    """Recompute the cells (all, or one stage's) from the opportunities. Returns the number
    of cells written."""
    qs = OpportunityCell.objects.all()
    if stage_id is not None:
        qs = qs.filter(stage_id=stage_id)
    qs.delete()
    cells = [place.cell(delta) for place, delta in _computed_cells(stage_id).items()]
    OpportunityCell.objects.bulk_create(cells, batch_size=2000)
    return len(cells)


def cells_check() -> list[str]:
    """The cells that differ from a recomputation (empty when they are right)."""
    stored = {
        c.key: (
            c.n,
            Decimal(c.amount).quantize(CENT),
            c.cycle,
            _cents_or_none(c.amount_min),
            _cents_or_none(c.amount_max),
            c.cycle_min,
            c.cycle_max,
        )
        for c in OpportunityCell.objects.all()
        if c.n or c.amount
    }
    return differences(stored, cells_computed())


def differences(stored: Mapping[str, Any], computed: Mapping[str, Any]) -> list[str]:
    """The keys whose stored cell differs from the recomputed one, described."""
    return [
        f"{key}: stored {stored.get(key)}, computed {computed.get(key)}"
        for key in sorted(set(stored) | set(computed))
        if stored.get(key) != computed.get(key)
    ]


def connect() -> None:
    """Wire the handlers (the app's ``ready``)."""
    post_init.connect(_remember_after_load, sender=Opportunity, dispatch_uid="cells-opp-init")
    pre_save.connect(_before_save, sender=Opportunity, dispatch_uid="cells-opp-pre")
    post_save.connect(_after_save, sender=Opportunity, dispatch_uid="cells-opp-post")
    post_delete.connect(_after_delete, sender=Opportunity, dispatch_uid="cells-opp-del")
    post_init.connect(_account_loaded, sender=Account, dispatch_uid="cells-acc-init")
    pre_save.connect(_account_before_save, sender=Account, dispatch_uid="cells-acc-pre")
    post_save.connect(_account_after_save, sender=Account, dispatch_uid="cells-acc-post")
    bulk_rows_changing.connect(_bulk_changing, sender=Opportunity, dispatch_uid="cells-bulk-pre")
    bulk_rows_changed.connect(_bulk_changed, sender=Opportunity, dispatch_uid="cells-bulk-post")
    pre_save.connect(_stage_before_save, sender=Stage, dispatch_uid="cells-stage-pre")
    post_save.connect(_stage_after_save, sender=Stage, dispatch_uid="cells-stage-post")
