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
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, DateField, F, Sum, Value
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
)
CLOSED = (StageOutcome.WON, StageOutcome.LOST)
# The "month" of open deals with no expected close date: in no period, but in the all-time
# pipeline.
UNDATED = dt.date(1, 1, 1)


@dataclass(frozen=True)
class Place:
    owner_id: uuid.UUID
    unit_id: uuid.UUID
    district_id: uuid.UUID | None
    stage_id: uuid.UUID
    month: dt.date

    def cell(self, n: int, amount: Decimal) -> OpportunityCell:
        return OpportunityCell(
            key=self.key,
            owner_id=self.owner_id,
            business_unit_id=self.unit_id,
            district_id=self.district_id,
            stage_id=self.stage_id,
            month=self.month,
            n=n,
            amount=amount,
        )

    @property
    def key(self) -> str:
        return (
            f"{self.owner_id}|{self.unit_id}|{self.district_id or '-'}|{self.stage_id}|"
            f"{self.month:%Y-%m}"
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
        values["owner_id"], values["business_unit_id"], district_id, values["stage_id"], month
    )


def _apply(deltas: Mapping[Place, tuple[int, Decimal]]) -> None:
    """Add each (count, amount) to its cell, creating the cell when it is new."""
    for place, (n, amount) in deltas.items():
        if n == 0 and amount == 0:
            continue
        updated = OpportunityCell.objects.filter(key=place.key).update(
            n=F("n") + n, amount=F("amount") + amount
        )
        if updated:
            continue
        try:
            with transaction.atomic():
                place.cell(n, amount).save(force_insert=True)
        except IntegrityError:  # created meanwhile by a concurrent transaction
            OpportunityCell.objects.filter(key=place.key).update(
                n=F("n") + n, amount=F("amount") + amount
            )


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
    if old is not None and all(old[k] == new[k] for k in PLACING):
        return
    outcome, district = _lookups([old or {}, new])
    deltas: dict[Place, tuple[int, Decimal]] = defaultdict(lambda: (0, ZERO))
    for values, sign in ((old, -1), (new, 1)):
        if not values:
            continue
        place = _place(
            values, outcome.get(values["stage_id"], ""), district.get(values["account_id"])
        )
        if place is not None:
            n, amount = deltas[place]
            deltas[place] = (n + sign, amount + sign * Decimal(values["amount"]))
    _apply(deltas)


def _after_delete(sender: type, instance: Opportunity, **kwargs: Any) -> None:
    values = {name: getattr(instance, name) for name in PLACING}
    outcome, district = _lookups([values])
    place = _place(values, outcome.get(values["stage_id"], ""), district.get(values["account_id"]))
    if place is not None:
        _apply({place: (-1, -Decimal(values["amount"]))})


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
    deltas: dict[Place, tuple[int, Decimal]] = defaultdict(lambda: (0, ZERO))
    for row in _grouped(Opportunity.objects.filter(account_id=instance.pk)):
        for district_id, sign in ((old, -1), (instance.district_id, 1)):
            place = _row_place(row, district_id)
            n, amount = deltas[place]
            deltas[place] = (n + sign * row["n"], amount + sign * row["amount"])
    _apply(deltas)


def _bulk_changing(sender: type, pks: list[Any], state: dict[str, Any], **kwargs: Any) -> None:
    state["cells"] = _grouped(Opportunity.objects.filter(pk__in=pks))


def _bulk_changed(sender: type, pks: list[Any], state: dict[str, Any], **kwargs: Any) -> None:
    deltas: dict[Place, tuple[int, Decimal]] = defaultdict(lambda: (0, ZERO))
    for rows, sign in (
        (state.get("cells", []), -1),
        (_grouped(Opportunity.objects.filter(pk__in=pks)), 1),
    ):
        for row in rows:
            place = _row_place(row)
            n, amount = deltas[place]
            deltas[place] = (n + sign * row["n"], amount + sign * row["amount"])
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
    their local close month, as three GROUP BY queries."""
    zone = timezone.get_current_timezone()
    base = qs.filter(currency=settings.ACCORD_DEFAULT_CURRENCY, amount__isnull=False).order_by()
    rows: list[dict[str, Any]] = []
    for part, month in (
        (
            base.filter(stage__outcome=StageOutcome.OPEN, expected_close_date__isnull=False),
            TruncMonth("expected_close_date"),
        ),
        (
            base.filter(stage__outcome=StageOutcome.OPEN, expected_close_date__isnull=True),
            Value(UNDATED, output_field=DateField()),
        ),
        (
            base.filter(stage__outcome__in=CLOSED, closed_at__isnull=False),
            TruncMonth("closed_at", tzinfo=zone),
        ),
    ):
        grouped = (
            part.annotate(m=month)
            .values("owner_id", "business_unit_id", "account__district_id", "stage_id", "m")
            .annotate(n=Count("pk"), total=Sum("amount"))
        )
        for g in grouped:
            m = g["m"]
            if isinstance(m, dt.datetime):
                m = timezone.localtime(m, zone).date() if timezone.is_aware(m) else m.date()
            rows.append(
                {
                    "owner_id": g["owner_id"],
                    "business_unit_id": g["business_unit_id"],
                    "district_id": g["account__district_id"],
                    "stage_id": g["stage_id"],
                    "month": m.replace(day=1),
                    "n": g["n"],
                    "amount": Decimal(g["total"] or 0).quantize(Decimal("0.01")),
                }
            )
    return rows


def _row_place(row: Mapping[str, Any], district_id: Any = _MISSING) -> Place:
    return Place(
        row["owner_id"],
        row["business_unit_id"],
        row["district_id"] if district_id is _MISSING else district_id,
        row["stage_id"],
        row["month"],
    )


def cells_computed(stage_id: uuid.UUID | None = None) -> dict[str, tuple[int, Decimal]]:
    """What the cells should hold, computed from the opportunities: key → (count, amount)."""
    qs = Opportunity.objects.all()
    if stage_id is not None:
        qs = qs.filter(stage_id=stage_id)
    out: dict[str, tuple[int, Decimal]] = {}
    for row in _grouped(qs):
        key = _row_place(row).key
        n, amount = out.get(key, (0, ZERO))
        out[key] = (n + row["n"], amount + row["amount"])
    return out


@transaction.atomic
def cells_rebuild(stage_id: uuid.UUID | None = None) -> int:
    """Recompute the cells (all, or one stage's) from the opportunities. Returns the number
    of cells written."""
    qs = OpportunityCell.objects.all()
    if stage_id is not None:
        qs = qs.filter(stage_id=stage_id)
    qs.delete()
    rows: dict[str, OpportunityCell] = {}
    source = Opportunity.objects.all()
    if stage_id is not None:
        source = source.filter(stage_id=stage_id)
    for row in _grouped(source):
        place = _row_place(row)
        cell = rows.get(place.key)
        if cell is None:
            rows[place.key] = place.cell(row["n"], row["amount"])
        else:
            cell.n += row["n"]
            cell.amount += row["amount"]
    OpportunityCell.objects.bulk_create(rows.values(), batch_size=2000)
    return len(rows)


def cells_check() -> list[str]:
    """The cells that differ from a recomputation (empty when they are right)."""
    stored = {
        key: (n, Decimal(amount).quantize(Decimal("0.01")))
        for key, n, amount in OpportunityCell.objects.values_list("key", "n", "amount")
        if n or amount
    }
    computed = cells_computed()
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
