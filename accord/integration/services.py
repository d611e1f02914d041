"""Writes on integration state that people make: replay, pause, resume (all audited)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from accord.audit.models import AuditAction
from accord.audit.services import audit_record_change, snapshot
from accord.core.errors import PermissionDenied, ValidationFailed
from accord.integration.models import Connector, Delivery, DeliveryStatus
from accord.org.models import Role, User

INTEGRATION_ADMIN_ROLES = frozenset({Role.ADMINISTRATOR})


def check_integration_admin(actor: User) -> None:
    if not (actor.is_active and (actor.is_superuser or actor.role in INTEGRATION_ADMIN_ROLES)):
        raise PermissionDenied(
            "Only administrators manage integration.", code="integration_admin_only"
        )


def check_integration_writer(actor: User) -> None:
    """Integration users (the ledger's own account) and administrators push inbound data."""
    if not (
        actor.is_active
        and (actor.is_superuser or actor.role in (Role.ADMINISTRATOR, Role.INTEGRATION))
    ):
        raise PermissionDenied(
            "Only integration users and administrators push ledger data.",
            code="integration_writer_only",
        )


def _enqueue_on_commit(connector: Connector, keys: list[str]) -> None:
    from accord.integration.tasks import enqueue_key_deliveries

    pairs = [(str(connector.pk), key) for key in keys]
    transaction.on_commit(lambda: enqueue_key_deliveries(pairs))


@transaction.atomic
def delivery_replay(*, actor: User, delivery: Delivery) -> Delivery:
    """Send a dead (or failed) delivery again now, with a fresh attempt budget."""
    check_integration_admin(actor)
    row = Delivery.objects.select_for_update().select_related("connector").get(pk=delivery.pk)
    if row.status not in (DeliveryStatus.DEAD, DeliveryStatus.FAILED):
        raise ValidationFailed(
            f"Only dead or failed deliveries can be replayed; this one is {row.status}.",
            code="delivery_not_replayable",
        )
    before = snapshot(row, fields=["status", "attempts", "last_error"])
    row.status = DeliveryStatus.PENDING
    row.attempts = 0
    row.last_error = ""
    row.next_attempt_at = timezone.now()
    row.save(update_fields=["status", "attempts", "last_error", "next_attempt_at"])
    audit_record_change(
        action=AuditAction.UPDATE,
        instance=row,
        before=before,
        after=snapshot(row, fields=["status", "attempts", "last_error"]),
        extra={"replayed": [None, True]},
    )
    if not row.connector.paused:
        _enqueue_on_commit(row.connector, [row.ordering_key])
    return row


@transaction.atomic
def connector_set_paused(*, actor: User, connector: Connector, paused: bool) -> Connector:
    """Pause (deliveries queue up) or resume (the queued keys are enqueued again)."""
    check_integration_admin(actor)
    row = Connector.objects.select_for_update().get(pk=connector.pk)
    if row.paused == paused:
        return row
    before = snapshot(row, fields=["paused"])
    row.paused = paused
    row.save(update_fields=["paused", "updated_at"])
    audit_record_change(
        action=AuditAction.UPDATE,
        instance=row,
        before=before,
        after=snapshot(row, fields=["paused"]),
    )
    if not paused:
        keys = list(
            Delivery.objects.filter(
                connector=row, status__in=[DeliveryStatus.PENDING, DeliveryStatus.FAILED]
            )
            .values_list("ordering_key", flat=True)
            .order_by()
            .distinct()
        )
        _enqueue_on_commit(row, keys)
    return row
