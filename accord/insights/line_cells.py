"""Line-item cells: the pipeline by product line summed ahead, kept correct under writes.

The pipeline-by-product-line report reads the line items of the open opportunities of a
period, with each opportunity's stage, owner and account district: at a million line items
about a second for someone who sees everything. A :class:`~accord.insights.models.
LineItemCell` holds, for one (owner, unit, district, stage, month) place of
:mod:`accord.insights.cells` and one product line, how many opportunities have items of that
line and the items' total.

An opportunity's *contribution* is, per product line of its items, (1, the items' total).
It changes when the opportunity moves (its place changes) or its items change, and is kept
in step in the same transaction:

* an opportunity saved with a new place: its contribution leaves the old place and joins
  the new one (the places come from :mod:`accord.insights.cells`' handler, which runs first);
* its items replaced (the sales services wrap that in
  :func:`accord.core.signals.child_rows_replace`): the old contribution leaves, the new joins;
* an item saved or deleted on its own (or several in one ``QuerySet.delete``, or with their
  opportunity): its opportunity's contribution is read before and after;
* an account moved to another district, opportunities moved in bulk
  (:func:`accord.core.signals.bulk_rows_update`), a product moved to another line, a stage
  whose outcome changed: the contributions concerned are recomputed before and after.

Writes that bypass all of these (the benchmark's bulk loader) must call
:func:`line_cells_rebuild`; ``accord cells-rebuild`` does, and :func:`line_cells_check` says
whether the cells match a recomputation.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, DateField, F, Q, Sum, Value
from django.db.models.functions import TruncMonth
from django.db.models.signals import post_delete, post_save, pre_delete, pre_save
from django.utils import timezone

from accord.core.signals import (
    bulk_rows_changed,
    bulk_rows_changing,
    child_rows_replaced,
    child_rows_replacing,
)
from accord.customers.models import Account
from accord.insights import cells
from accord.insights.cells import CLOSED, UNDATED, Place, differences
from accord.insights.models import LineItemCell
from accord.sales.models import Opportunity, OpportunityLineItem, Product, Stage, StageOutcome

ZERO = Decimal("0.00")
CENT = Decimal("0.01")


@dataclass(frozen=True)
class LinePlace:
    """Where a product line's part of an opportunity counts: the opportunity's place (as
    the opportunity cells place it, without a lost reason) and the line."""

    place: Place
    line_id: uuid.UUID

    @classmethod
    def of(cls, place: Place, line_id: uuid.UUID) -> LinePlace:
        return cls(replace(place, lost_reason=""), line_id)

    @property
    def key(self) -> str:
        return f"{self.place.key}|{self.line_id}"

    def moved_to(self, district_id: uuid.UUID | None) -> LinePlace:
        return LinePlace(replace(self.place, district_id=district_id), self.line_id)

    def cell(self, n: int, amount: Decimal) -> LineItemCell:
        place = self.place
        return LineItemCell(
            key=self.key,
            owner_id=place.owner_id,
            business_unit_id=place.unit_id,
            district_id=place.district_id,
            stage_id=place.stage_id,
            month=place.month,
            product_line_id=self.line_id,
            n=n,
            amount=amount,
        )


Deltas = dict[LinePlace, tuple[int, Decimal]]


def _deltas() -> Deltas:
    return defaultdict(lambda: (0, ZERO))


def _add(deltas: Deltas, place: LinePlace, n: int, amount: Decimal) -> None:
    old_n, old_amount = deltas[place]
    deltas[place] = (old_n + n, old_amount + amount)


def _apply(deltas: Mapping[LinePlace, tuple[int, Decimal]]) -> None:
    for place, (n, amount) in deltas.items():
        if n == 0 and amount == 0:
            continue
        updated = LineItemCell.objects.filter(key=place.key).update(
            n=F("n") + n, amount=F("amount") + amount
        )
        if updated:
            continue
        try:
            with transaction.atomic():
                place.cell(n, amount).save(force_insert=True)
        except IntegrityError:  # created meanwhile by a concurrent transaction
            LineItemCell.objects.filter(key=place.key).update(
                n=F("n") + n, amount=F("amount") + amount
            )


def _lines(opportunity_id: Any) -> dict[Any, Decimal]:
    """One opportunity's items: product line → total."""
    rows = (
        OpportunityLineItem.objects.filter(opportunity_id=opportunity_id)
        .order_by()
        .values("product__product_line_id")
        .annotate(total=Sum("total"))
    )
    return {r["product__product_line_id"]: Decimal(r["total"] or 0) for r in rows}


# --- grouped ------------------------------------------------------------------------------


def _grouped(opportunities: Any) -> list[tuple[LinePlace, int, Decimal]]:
    """The contributions of ``opportunities`` (a queryset), summed by line place in the
    database: three GROUP BY queries, placed as :func:`accord.insights.cells._grouped`
    places opportunities."""
    zone = timezone.get_current_timezone()
    items = OpportunityLineItem.objects.filter(
        opportunity__in=opportunities.filter(
            currency=settings.ACCORD_DEFAULT_CURRENCY, amount__isnull=False
        ).values("pk")
    ).order_by()
    out: list[tuple[LinePlace, int, Decimal]] = []
    for condition, month in (
        (
            Q(
                opportunity__stage__outcome=StageOutcome.OPEN,
                opportunity__expected_close_date__isnull=False,
            ),
            TruncMonth("opportunity__expected_close_date"),
        ),
        (
            Q(
                opportunity__stage__outcome=StageOutcome.OPEN,
                opportunity__expected_close_date__isnull=True,
            ),
            Value(UNDATED, output_field=DateField()),
        ),
        (
            Q(opportunity__stage__outcome__in=CLOSED, opportunity__closed_at__isnull=False),
            TruncMonth("opportunity__closed_at", tzinfo=zone),
        ),
    ):
        grouped = (
            items.filter(condition)
            .annotate(m=month)
            .values(
                "opportunity__owner_id",
                "opportunity__business_unit_id",
                "opportunity__account__district_id",
                "opportunity__stage_id",
                "m",
                "product__product_line_id",
            )
            .annotate(n=Count("opportunity_id", distinct=True), total=Sum("total"))
        )
        for g in grouped:
            m = g["m"]
            if isinstance(m, dt.datetime):
                m = timezone.localtime(m, zone).date() if timezone.is_aware(m) else m.date()
            place = LinePlace(
                Place(
                    g["opportunity__owner_id"],
                    g["opportunity__business_unit_id"],
                    g["opportunity__account__district_id"],
                    g["opportunity__stage_id"],
                    m.replace(day=1),
                ),
                g["product__product_line_id"],
            )
            out.append((place, g["n"], Decimal(g["total"] or 0).quantize(CENT)))
    return out


def _move(before: Iterable[tuple[LinePlace, int, Decimal]], after: Any) -> None:
    deltas = _deltas()
    for place, n, amount in before:
        _add(deltas, place, -n, -amount)
    for place, n, amount in after:
        _add(deltas, place, n, amount)
    _apply(deltas)


# --- handlers -----------------------------------------------------------------------------


def _opportunity_saved(
    sender: type, instance: Opportunity, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    moved = getattr(instance, "_cells_moved", None)
    if raw or moved is None:
        return
    old, new, created = moved
    if created:
        return  # no items yet: they come through child_rows_replace
    if _bare(old) == _bare(new):  # a lost reason alone does not place line items
        return
    lines = _lines(instance.pk)
    deltas = _deltas()
    for place, sign in ((old, -1), (new, 1)):
        if place is None:
            continue
        for line_id, total in lines.items():
            _add(deltas, LinePlace.of(place, line_id), sign, sign * total)
    _apply(deltas)


def _bare(place: Place | None) -> Place | None:
    return None if place is None else replace(place, lost_reason="")


# Opportunities whose items are being replaced in bulk (their handlers see to the cells),
# and the contributions of opportunities read before an item of theirs is written.
_replacing: ContextVar[frozenset[Any]] = ContextVar("line_cells_replacing", default=frozenset())
Pending = dict[Any, tuple[object | None, list[tuple[LinePlace, int, Decimal]]]]
_pending: ContextVar[Pending | None] = ContextVar("line_cells_pending", default=None)


def _pending_writes() -> Pending:
    pending = _pending.get()
    if pending is None:
        pending = {}
        _pending.set(pending)
    return pending


def _item_writing(opportunity_ids: Iterable[Any], batch: object | None = None) -> list[Any]:
    """Before an item is saved or deleted: remember its opportunities' contributions. In a
    batch delete every item's ``pre_delete`` comes before the rows go (and names the same
    ``origin``), so the first one reads and the rest find it read. A reading left behind by
    a write that failed after its ``pre_*`` signal belongs to no batch here: read again."""
    pending = _pending_writes()
    ids = [i for i in opportunity_ids if i is not None and i not in _replacing.get()]
    for opportunity_id in ids:
        found = pending.get(opportunity_id)
        if found is None or batch is None or found[0] is not batch:
            pending[opportunity_id] = (
                batch,
                _grouped(Opportunity.objects.filter(pk=opportunity_id)),
            )
    return ids


def _item_written(opportunity_ids: Iterable[Any]) -> None:
    """After: move each remembered contribution to what it is now (once per batch)."""
    pending = _pending_writes()
    for opportunity_id in opportunity_ids:
        found = pending.pop(opportunity_id, None)
        if found is not None:
            _move(found[1], _grouped(Opportunity.objects.filter(pk=opportunity_id)))


def _item_saving(
    sender: type, instance: OpportunityLineItem, raw: bool = False, **kwargs: Any
) -> None:
    if raw:
        instance._line_cells_opps = []  # type: ignore[attr-defined]
        return
    ids = {instance.opportunity_id}
    if not instance._state.adding:
        ids |= set(
            OpportunityLineItem.objects.filter(pk=instance.pk).values_list(
                "opportunity_id", flat=True
            )
        )
    instance._line_cells_opps = _item_writing(ids)  # type: ignore[attr-defined]


def _item_saved(sender: type, instance: OpportunityLineItem, **kwargs: Any) -> None:
    _item_written(getattr(instance, "_line_cells_opps", []))


def _item_deleting(
    sender: type, instance: OpportunityLineItem, origin: object | None = None, **kwargs: Any
) -> None:
    # An opportunity's delete takes its items first (then the opportunity, still there
    # when they go): their handlers remove its contribution.
    instance._line_cells_opps = _item_writing(  # type: ignore[attr-defined]
        [instance.opportunity_id], batch=origin
    )


def _item_deleted(sender: type, instance: OpportunityLineItem, **kwargs: Any) -> None:
    _item_written(getattr(instance, "_line_cells_opps", []))


def _items_replacing(
    sender: type, parent_pks: list[Any], state: dict[str, Any], **kwargs: Any
) -> None:
    state["line_cells"] = _grouped(Opportunity.objects.filter(pk__in=parent_pks))
    state["line_cells_token"] = _replacing.set(_replacing.get() | set(parent_pks))


def _items_replaced(
    sender: type, parent_pks: list[Any], state: dict[str, Any], **kwargs: Any
) -> None:
    _replacing.reset(state["line_cells_token"])
    _move(state.get("line_cells", []), _grouped(Opportunity.objects.filter(pk__in=parent_pks)))


def _bulk_changing(sender: type, pks: list[Any], state: dict[str, Any], **kwargs: Any) -> None:
    state["line_cells"] = _grouped(Opportunity.objects.filter(pk__in=pks))


def _bulk_changed(sender: type, pks: list[Any], state: dict[str, Any], **kwargs: Any) -> None:
    _move(state.get("line_cells", []), _grouped(Opportunity.objects.filter(pk__in=pks)))


def _account_saved(sender: type, instance: Account, raw: bool = False, **kwargs: Any) -> None:
    moved, old = cells.account_moved_from(instance)
    if raw or not moved:
        return
    deltas = _deltas()
    for place, n, amount in _grouped(Opportunity.objects.filter(account_id=instance.pk)):
        _add(deltas, place, n, amount)
        _add(deltas, place.moved_to(old), -n, -amount)
    _apply(deltas)


def _product_saving(sender: type, instance: Product, raw: bool = False, **kwargs: Any) -> None:
    instance._line_cells_before = None  # type: ignore[attr-defined]
    if raw or instance._state.adding:
        return
    old_line = Product.objects.filter(pk=instance.pk).values_list("product_line_id", flat=True)
    if old_line.first() == instance.product_line_id:
        return
    instance._line_cells_before = _grouped(_selling(instance))  # type: ignore[attr-defined]


def _product_saved(sender: type, instance: Product, raw: bool = False, **kwargs: Any) -> None:
    before = getattr(instance, "_line_cells_before", None)
    if raw or before is None:
        return
    _move(before, _grouped(_selling(instance)))


def _selling(product: Product) -> Any:
    return Opportunity.objects.filter(
        pk__in=OpportunityLineItem.objects.filter(product_id=product.pk).values("opportunity_id")
    )


def _stage_saved(sender: type, instance: Stage, raw: bool = False, **kwargs: Any) -> None:
    old = getattr(instance, "_cells_outcome", None)  # read by the opportunity cells' handler
    if raw or old is None or (old in CLOSED) == (instance.outcome in CLOSED):
        return
    line_cells_rebuild(stage_id=instance.pk)


# --- recomputing ----------------------------------------------------------------------------


def line_cells_computed(stage_id: uuid.UUID | None = None) -> dict[str, tuple[int, Decimal]]:
    """What the cells should hold: key → (opportunities, amount)."""
    qs = Opportunity.objects.all()
    if stage_id is not None:
        qs = qs.filter(stage_id=stage_id)
    out: dict[str, tuple[int, Decimal]] = {}
    for place, n, amount in _grouped(qs):
        old_n, old_amount = out.get(place.key, (0, ZERO))
        out[place.key] = (old_n + n, old_amount + amount)
    return out


@transaction.atomic
def line_cells_rebuild(stage_id: uuid.UUID | None = None) -> int:
    """Recompute the line-item cells (all, or one stage's). Returns the number written."""
    qs = LineItemCell.objects.all()
    if stage_id is not None:
        qs = qs.filter(stage_id=stage_id)
    qs.delete()
    source = Opportunity.objects.all()
    if stage_id is not None:
        source = source.filter(stage_id=stage_id)
    rows: dict[str, LineItemCell] = {}
    for place, n, amount in _grouped(source):
        cell = rows.get(place.key)
        if cell is None:
            rows[place.key] = place.cell(n, amount)
        else:
            cell.n += n
            cell.amount += amount
    LineItemCell.objects.bulk_create(rows.values(), batch_size=2000)
    return len(rows)


def line_cells_check() -> list[str]:
    """The line-item cells that differ from a recomputation (empty when they are right)."""
    stored = {
        key: (n, Decimal(amount).quantize(CENT))
        for key, n, amount in LineItemCell.objects.values_list("key", "n", "amount")
        if n or amount
    }
    return differences(stored, line_cells_computed())


def connect() -> None:
    """Wire the handlers (the app's ``ready``, after :func:`accord.insights.cells.connect`)."""
    post_save.connect(_opportunity_saved, sender=Opportunity, dispatch_uid="line-cells-opp-post")
    pre_save.connect(_item_saving, sender=OpportunityLineItem, dispatch_uid="line-cells-item-pre")
    post_save.connect(_item_saved, sender=OpportunityLineItem, dispatch_uid="line-cells-item-post")
    pre_delete.connect(
        _item_deleting, sender=OpportunityLineItem, dispatch_uid="line-cells-item-pre-del"
    )
    post_delete.connect(
        _item_deleted, sender=OpportunityLineItem, dispatch_uid="line-cells-item-post-del"
    )
    child_rows_replacing.connect(
        _items_replacing, sender=OpportunityLineItem, dispatch_uid="line-cells-items-pre"
    )
    child_rows_replaced.connect(
        _items_replaced, sender=OpportunityLineItem, dispatch_uid="line-cells-items-post"
    )
    bulk_rows_changing.connect(
        _bulk_changing, sender=Opportunity, dispatch_uid="line-cells-bulk-pre"
    )
    bulk_rows_changed.connect(
        _bulk_changed, sender=Opportunity, dispatch_uid="line-cells-bulk-post"
    )
    post_save.connect(_account_saved, sender=Account, dispatch_uid="line-cells-acc-post")
    pre_save.connect(_product_saving, sender=Product, dispatch_uid="line-cells-product-pre")
    post_save.connect(_product_saved, sender=Product, dispatch_uid="line-cells-product-post")
    post_save.connect(_stage_saved, sender=Stage, dispatch_uid="line-cells-stage-post")
