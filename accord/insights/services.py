"""Writes: managers' forecast adjustments, quotas, weekly snapshots (ADR 0007)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accord.audit.models import AuditAction
from accord.audit.services import audit_record_change, audited_delete, snapshot
from accord.core.errors import Conflict, PermissionDenied, ValidationFailed
from accord.core.services import resolve, save_or_conflict, validate
from accord.insights import selectors
from accord.insights.models import (
    AdjustableCategory,
    ForecastAdjustment,
    ForecastSnapshot,
    Quota,
)
from accord.insights.periods import Period, PeriodKind, iso_week_start
from accord.org.models import District, User
from accord.territories import visibility

NOTE_MAX = 500
MAX_AMOUNT = Decimal("99999999999999.99")


def _check_amount(amount: Any, *, field: str = "amount") -> Decimal:
    try:
        value = Decimal(str(amount))
    except (ArithmeticError, ValueError) as exc:
        raise ValidationFailed(errors={field: ["Enter an amount."]}) from exc
    if not value.is_finite() or value < 0:
        raise ValidationFailed(errors={field: ["The amount cannot be negative."]})
    if value > MAX_AMOUNT:
        raise ValidationFailed(errors={field: ["The amount is too large."]})
    return value.quantize(Decimal("0.01"))


# --- adjustments --------------------------------------------------------------------------


@transaction.atomic
def forecast_adjust(
    *,
    actor: User,
    subject: User,
    period: Period,
    category: str,
    amount: Any,
    note: str,
) -> ForecastAdjustment:
    """Set ``subject``'s roll-up figure for ``category`` in ``period`` (their managers up the
    chain, or a manager their own). The computed figure is stored beside it."""
    if not visibility.may_adjust_forecast(actor, subject):
        raise PermissionDenied(
            "Only this person's managers may adjust their forecast.", code="not_a_manager"
        )
    errors: dict[str, list[str]] = {}
    if category not in AdjustableCategory.values:
        errors["category"] = ["Choose commit, best case or pipeline."]
    note = " ".join((note or "").split())
    if not note:
        errors["note"] = ["Say why the figure is adjusted."]
    elif len(note) > NOTE_MAX:
        errors["note"] = [f"At most {NOTE_MAX} characters."]
    try:
        value = _check_amount(amount)
    except ValidationFailed as exc:
        errors.update(exc.errors)
    if errors:
        raise ValidationFailed(errors=errors)
    computed = selectors.user_forecast(viewer=actor, subject=subject, period=period)
    adjustment = ForecastAdjustment(
        subject=subject,
        period_kind=period.kind,
        period_start=period.start,
        category=category,
        amount=value,
        computed_amount=computed.subject.computed.get(category),
        note=note,
        adjusted_by=actor,
    )
    validate(adjustment)
    save_or_conflict(adjustment, force_insert=True)
    audit_record_change(
        action=AuditAction.CREATE,
        instance=adjustment,
        after=snapshot(adjustment),
        extra={"period": [None, period.key]},
    )
    return adjustment


# --- quotas -------------------------------------------------------------------------------


def _placement(user: User, district: Any) -> District | None:
    if district not in (None, ""):
        found = resolve(District.objects.all(), district, field="district", label="district")
        return found
    covered = list(user.districts.all()[:2])
    return covered[0] if len(covered) == 1 else None


def check_quota_overlap(user: User, period: Period, *, exclude: uuid.UUID | None = None) -> None:
    """A person has a quarter's quota or monthly quotas in that quarter, not both."""
    if period.kind == PeriodKind.MONTH:
        from accord.insights.periods import period_containing

        others = Quota.objects.filter(
            user=user,
            period_kind=PeriodKind.QUARTER,
            period_start=period_containing(period.start, PeriodKind.QUARTER).start,
        )
    else:
        others = Quota.objects.filter(
            user=user,
            period_kind=PeriodKind.MONTH,
            period_start__in=[m.start for m in period.months()],
        )
    if exclude is not None:
        others = others.exclude(pk=exclude)
    if others.exists():
        raise Conflict(
            "This person already has a quota for an overlapping period "
            "(a quarter's quota or monthly ones, not both).",
            code="quota_overlaps",
        )


@transaction.atomic
def quota_create(
    *,
    actor: User,
    user: User,
    period: Period,
    amount: Any,
    district: Any = None,
    note: str = "",
) -> Quota:
    """Give ``user`` a quota for ``period`` (administrators, or the user's managers).
    It is placed in the user's unit and district (the given one, else their only one)."""
    if not visibility.may_set_quota(actor, user):
        raise PermissionDenied(
            "Only administrators and this person's managers set their quota.",
            code="not_a_manager",
        )
    value = _check_amount(amount)
    if Quota.objects.filter(user=user, period_kind=period.kind, period_start=period.start).exists():
        raise Conflict("This person already has a quota for this period.", code="quota_exists")
    check_quota_overlap(user, period)
    quota = Quota(
        user=user,
        period_kind=period.kind,
        period_start=period.start,
        amount=value,
        currency=settings.ACCORD_DEFAULT_CURRENCY,
        business_unit_id=user.business_unit_id,
        district=_placement(user, district),
        note=(note or "").strip()[:255],
    )
    validate(quota)
    save_or_conflict(quota, force_insert=True)
    audit_record_change(action=AuditAction.CREATE, instance=quota, after=snapshot(quota))
    return quota


@transaction.atomic
def quota_update(*, actor: User, quota: Quota, data: Mapping[str, Any]) -> Quota:
    """Change a quota's amount, district or note."""
    quota = Quota.objects.select_for_update().select_related("user").get(pk=quota.pk)
    if not visibility.may_set_quota(actor, quota.user):
        raise PermissionDenied(
            "Only administrators and this person's managers set their quota.",
            code="not_a_manager",
        )
    before = snapshot(quota)
    if "amount" in data:
        quota.amount = _check_amount(data["amount"])
    if "district" in data:
        quota.district = _placement(quota.user, data["district"])
    if "note" in data:
        quota.note = (data["note"] or "").strip()[:255]
    validate(quota)
    save_or_conflict(quota, update_fields=["amount", "district", "note", "updated_at"])
    audit_record_change(
        action=AuditAction.UPDATE, instance=quota, before=before, after=snapshot(quota)
    )
    return quota


@transaction.atomic
def quota_delete(*, actor: User, quota: Quota) -> None:
    if not visibility.may_set_quota(actor, quota.user):
        raise PermissionDenied(
            "Only administrators and this person's managers set their quota.",
            code="not_a_manager",
        )
    audited_delete(quota, what="quota")


# --- weekly snapshots ---------------------------------------------------------------------

SNAPSHOT_FIELDS = [
    "closed_won",
    "commit",
    "best_case",
    "pipeline",
    "adjusted_commit",
    "adjusted_best_case",
    "adjusted_pipeline",
    "quota",
    "updated_at",
]


@transaction.atomic
def forecast_snapshot_take(*, today: dt.date | None = None) -> int:
    """Store every node's figures for this and next month and quarter, keyed by ISO week.

    Idempotent per week: running it again in the same week replaces that week's rows with
    the current figures (no second row). Returns the number of rows written.
    """
    today = today or timezone.localdate()
    week = iso_week_start(today)
    now = timezone.now()
    rows: list[ForecastSnapshot] = []
    for period in selectors.current_periods(today):
        nodes = selectors.all_node_figures(period)
        # A node seen in an earlier week that has nothing now gets zeros, not a gap.
        seen_before = (
            ForecastSnapshot.objects.filter(
                period_kind=period.kind, period_start=period.start, week_start__lt=week
            )
            .order_by()
            .values_list("node", flat=True)
            .distinct()
        )
        for node in set(seen_before) - set(nodes):
            nodes[node] = selectors.NodeFigures(selectors.Figures(), selectors.Figures(), None)
        for node, figures in nodes.items():
            adjusted = figures.adjusted
            computed = figures.computed
            rows.append(
                ForecastSnapshot(
                    week_start=week,
                    node=node,
                    period_kind=period.kind,
                    period_start=period.start,
                    closed_won=computed.closed_won,
                    commit=computed.commit,
                    best_case=computed.best_case,
                    pipeline=computed.pipeline,
                    adjusted_commit=adjusted.commit if adjusted.commit != computed.commit else None,
                    adjusted_best_case=(
                        adjusted.best_case if adjusted.best_case != computed.best_case else None
                    ),
                    adjusted_pipeline=(
                        adjusted.pipeline if adjusted.pipeline != computed.pipeline else None
                    ),
                    quota=figures.quota,
                    created_at=now,
                    updated_at=now,
                )
            )
    ForecastSnapshot.objects.bulk_create(
        rows,
        batch_size=500,
        update_conflicts=True,
        unique_fields=["node", "period_kind", "period_start", "week_start"],
        update_fields=SNAPSHOT_FIELDS,
    )
    return len(rows)
