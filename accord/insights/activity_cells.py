"""Activity cells: activities counted ahead per person, district, kind, week and month.

The activities-per-week report read every visit, call and meeting of the period — ~400,000
rows a quarter company-wide at five million activities, ~1 s; all time, ten. An
:class:`~accord.insights.models.ActivityWeekCell` holds how many activities one person did
of one kind in one ISO week (and month, so a period of whole months counts exactly its own
days) on accounts of one district.

Kept in step in the same transaction exactly as the opportunity cells are
(:mod:`accord.insights.cells`): an activity's save moves its count from the cell of the
values it was loaded with to the cell of its new values; a delete removes it; an account
whose district changes moves its activities' counts; merge and unmerge move activities
between accounts inside :func:`accord.core.signals.bulk_rows_update`. Writes that bypass the
ORM (the benchmark's bulk loader) call :func:`activity_cells_rebuild`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, F
from django.db.models.functions import TruncDate
from django.db.models.signals import post_delete, post_init, post_save, pre_save
from django.utils import timezone

from accord.activities.models import Activity
from accord.core.signals import bulk_rows_changed, bulk_rows_changing
from accord.customers.models import Account
from accord.insights.cells import account_moved_from, differences
from accord.insights.models import ActivityWeekCell
from accord.insights.periods import iso_week_start

PLACING = ("performed_by_id", "account_id", "kind", "occurred_at")
_MISSING = object()


@dataclass(frozen=True)
class Slot:
    person_id: uuid.UUID
    district_id: uuid.UUID | None
    kind: str
    day: dt.date  # the local date; the cell is its week and month

    @property
    def week(self) -> dt.date:
        return iso_week_start(self.day)

    @property
    def month(self) -> dt.date:
        return self.day.replace(day=1)

    @property
    def key(self) -> str:
        return (
            f"{self.person_id}|{self.district_id or '-'}|{self.kind}|{self.week:%Y-%m-%d}|"
            f"{self.month:%Y-%m}"
        )

    def cell(self, n: int) -> ActivityWeekCell:
        return ActivityWeekCell(
            key=self.key,
            performed_by_id=self.person_id,
            district_id=self.district_id,
            kind=self.kind,
            week=self.week,
            month=self.month,
            n=n,
        )


def _slot(values: Mapping[str, Any], district_id: Any) -> Slot | None:
    if values.get("performed_by_id") is None or values.get("occurred_at") is None:
        return None
    day = timezone.localtime(values["occurred_at"]).date()
    return Slot(values["performed_by_id"], district_id, values["kind"], day)


def _apply(deltas: Mapping[str, tuple[Slot, int]]) -> None:
    for key, (slot, n) in deltas.items():
        if n == 0:
            continue
        if ActivityWeekCell.objects.filter(key=key).update(n=F("n") + n):
            continue
        try:
            with transaction.atomic():
                slot.cell(n).save(force_insert=True)
        except IntegrityError:  # created meanwhile by a concurrent transaction
            ActivityWeekCell.objects.filter(key=key).update(n=F("n") + n)


def _add(deltas: dict[str, tuple[Slot, int]], slot: Slot | None, n: int) -> None:
    if slot is None:
        return
    count = deltas.get(slot.key, (slot, 0))[1]
    deltas[slot.key] = (slot, count + n)


def _districts(account_ids: Iterable[Any]) -> dict[Any, Any]:
    ids = {pk for pk in account_ids if pk is not None}
    if not ids:
        return {}
    return dict(Account.objects.filter(pk__in=ids).values_list("pk", "district_id"))


def _loaded(instance: Activity) -> dict[str, Any] | None:
    values = {name: instance.__dict__.get(name, _MISSING) for name in PLACING}
    return None if _MISSING in values.values() else values


def _remember(sender: type, instance: Activity, **kwargs: Any) -> None:
    instance._act_cells_loaded = _loaded(instance)  # type: ignore[attr-defined]


def _before_save(sender: type, instance: Activity, raw: bool = False, **kwargs: Any) -> None:
    if raw or instance._state.adding:
        instance._act_cells_old = None  # type: ignore[attr-defined]
        return
    old = getattr(instance, "_act_cells_loaded", None)
    if old is None:
        old = Activity.objects.filter(pk=instance.pk).values(*PLACING).first()
    instance._act_cells_old = old  # type: ignore[attr-defined]


def _after_save(sender: type, instance: Activity, raw: bool = False, **kwargs: Any) -> None:
    if raw:
        return
    new = {name: getattr(instance, name) for name in PLACING}
    old = getattr(instance, "_act_cells_old", None)
    instance._act_cells_loaded = new  # type: ignore[attr-defined]
    if old is not None and all(old[k] == new[k] for k in PLACING):
        return
    district = _districts([new["account_id"], (old or {}).get("account_id")])
    deltas: dict[str, tuple[Slot, int]] = {}
    if old is not None:
        _add(deltas, _slot(old, district.get(old["account_id"])), -1)
    _add(deltas, _slot(new, district.get(new["account_id"])), 1)
    _apply(deltas)


def _after_delete(sender: type, instance: Activity, **kwargs: Any) -> None:
    values = {name: getattr(instance, name) for name in PLACING}
    district = _districts([values["account_id"]])
    deltas: dict[str, tuple[Slot, int]] = {}
    _add(deltas, _slot(values, district.get(values["account_id"])), -1)
    _apply(deltas)


def _grouped(qs: Any) -> list[tuple[Slot, int]]:
    """Activities counted by person, district, kind and local day, in the database."""
    zone = timezone.get_current_timezone()
    rows = (
        qs.order_by()
        .annotate(day=TruncDate("occurred_at", tzinfo=zone))
        .values("performed_by_id", "account__district_id", "kind", "day")
        .annotate(n=Count("kind"))
    )
    return [
        (Slot(r["performed_by_id"], r["account__district_id"], r["kind"], r["day"]), r["n"])
        for r in rows
    ]


def _account_moved(sender: type, instance: Account, raw: bool = False, **kwargs: Any) -> None:
    # The opportunity cells' handlers remember the account's district before the save.
    moved, old = account_moved_from(instance)
    if raw or not moved:
        return
    deltas: dict[str, tuple[Slot, int]] = {}
    for slot, n in _grouped(Activity.objects.filter(account_id=instance.pk)):
        _add(deltas, Slot(slot.person_id, old, slot.kind, slot.day), -n)
        _add(deltas, slot, n)  # grouped after the save: the new district
    _apply(deltas)


def _bulk_changing(sender: type, pks: list[Any], state: dict[str, Any], **kwargs: Any) -> None:
    state["activity_cells"] = _grouped(Activity.objects.filter(pk__in=pks))


def _bulk_changed(sender: type, pks: list[Any], state: dict[str, Any], **kwargs: Any) -> None:
    deltas: dict[str, tuple[Slot, int]] = {}
    for slot, n in state.get("activity_cells", []):
        _add(deltas, slot, -n)
    for slot, n in _grouped(Activity.objects.filter(pk__in=pks)):
        _add(deltas, slot, n)
    _apply(deltas)


def activity_cells_computed() -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for slot, n in _grouped(Activity.objects.all()):
        out[slot.key] += n
    return dict(out)


@transaction.atomic
def activity_cells_rebuild() -> int:
    """Recompute every activity cell from the activities. Returns the cells written."""
    ActivityWeekCell.objects.all().delete()
    cells: dict[str, ActivityWeekCell] = {}
    for slot, n in _grouped(Activity.objects.all()):
        cell = cells.get(slot.key)
        if cell is None:
            cells[slot.key] = slot.cell(n)
        else:
            cell.n += n
    ActivityWeekCell.objects.bulk_create(cells.values(), batch_size=5000)
    return len(cells)


def activity_cells_check() -> list[str]:
    stored = {k: n for k, n in ActivityWeekCell.objects.values_list("key", "n") if n}
    return differences(stored, activity_cells_computed())


def connect() -> None:
    post_init.connect(_remember, sender=Activity, dispatch_uid="act-cells-init")
    pre_save.connect(_before_save, sender=Activity, dispatch_uid="act-cells-pre")
    post_save.connect(_after_save, sender=Activity, dispatch_uid="act-cells-post")
    post_delete.connect(_after_delete, sender=Activity, dispatch_uid="act-cells-del")
    post_save.connect(_account_moved, sender=Account, dispatch_uid="act-cells-acc-post")
    bulk_rows_changing.connect(_bulk_changing, sender=Activity, dispatch_uid="act-cells-bulk-pre")
    bulk_rows_changed.connect(_bulk_changed, sender=Activity, dispatch_uid="act-cells-bulk-post")
