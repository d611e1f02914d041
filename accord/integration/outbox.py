"""Writing outbox events, inside the transaction of the change they describe.

Services call :func:`outbox_emit` (or :func:`account_event_emit` /
:func:`opportunity_event_emit`, which build the payload) after saving and auditing. The
event, one :class:`~accord.integration.models.Delivery` per subscribed connector and the
sequence number all commit or roll back with the change; the delivery tasks are enqueued
only once the transaction has committed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from accord.integration.models import (
    Connector,
    Delivery,
    DeliveryStatus,
    EventType,
    OutboxEvent,
    OutboxSequence,
)

if TYPE_CHECKING:
    from accord.customers.models import Account
    from accord.sales.models import Opportunity


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def ordering_key_for(aggregate: models.Model) -> str:
    """Events of one account are delivered in order: the key is the account's id.

    An opportunity (or anything else with an ``account_id``) shares its account's key, so
    the account's events go before its won opportunity.
    """
    account_id = getattr(aggregate, "account_id", None)
    return str(account_id if account_id is not None else aggregate.pk)


def _next_seq(key: str) -> int:
    """A gap-free, per-key number; concurrent emitters for one key queue on the row lock."""
    row = OutboxSequence.objects.select_for_update().filter(key=key).first()
    if row is None:
        try:
            with transaction.atomic():
                OutboxSequence.objects.create(key=key, last_seq=0)
        except IntegrityError:
            pass  # created by a concurrent emitter; lock it below
        row = OutboxSequence.objects.select_for_update().get(key=key)
    row.last_seq += 1
    row.save(update_fields=["last_seq"])
    return row.last_seq


def outbox_emit(
    *,
    event_type: EventType | str,
    aggregate: models.Model,
    payload: dict[str, Any],
    ordering_key: str | None = None,
    only: Connector | None = None,
) -> OutboxEvent:
    """Record that ``aggregate`` changed, for every connector that takes ``event_type``
    (``only``: for that connector alone, e.g. a reconciliation's repair).

    Must run inside the write's transaction: a rolled-back change leaves no event.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("Outbox events are written inside the write's transaction.")
    key = ordering_key or ordering_key_for(aggregate)
    event = OutboxEvent.objects.create(
        event_type=str(event_type),
        aggregate_type=aggregate._meta.label_lower,
        aggregate_id=str(aggregate.pk),
        ordering_key=key,
        seq=_next_seq(key),
        payload=_jsonable(payload),
    )
    now = timezone.now()
    candidates = [only] if only is not None else Connector.objects.filter(enabled=True)
    connectors = [c for c in candidates if c.enabled and str(event_type) in c.event_types]
    Delivery.objects.bulk_create(
        Delivery(
            event=event,
            connector=c,
            ordering_key=key,
            seq=event.seq,
            status=DeliveryStatus.PENDING,
            next_attempt_at=now,
        )
        for c in connectors
    )
    if connectors:
        from accord.integration.tasks import enqueue_key_deliveries

        pairs = [(str(c.pk), key) for c in connectors if not c.paused]
        transaction.on_commit(lambda: enqueue_key_deliveries(pairs))
    return event


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def account_payload(account: Account) -> dict[str, Any]:
    return {
        "account": {
            "id": str(account.pk),
            "customer_code": account.customer_code,
            "legal_name": account.legal_name,
            "name_th": account.name_th,
            "name_en": account.name_en,
            "tax_id": account.tax_id,
            "branch_code": account.branch_code,
            "status": account.status,
            "phone": account.phone,
            "email": account.email,
            "address_line1": account.address_line1,
            "address_line2": account.address_line2,
            "subdistrict": account.subdistrict,
            "city": account.city,
            "province": account.province,
            "postal_code": account.postal_code,
            "country": account.country,
            "merged_into": str(account.merged_into_id) if account.merged_into_id else None,
        }
    }


def opportunity_payload(opportunity: Opportunity) -> dict[str, Any]:
    account = opportunity.account
    return {
        "opportunity": {
            "id": str(opportunity.pk),
            "name": opportunity.name,
            "account_id": str(account.pk),
            "customer_code": account.customer_code,
            "amount": _money(opportunity.amount),
            "currency": opportunity.currency,
            "stage": opportunity.stage.name,
            "outcome": opportunity.stage.outcome,
            "closed_at": opportunity.closed_at,
            "owner": opportunity.owner.get_username(),
            "line_items": [
                {
                    "position": li.position,
                    "product_code": li.product.code,
                    "product_name": li.product.name,
                    "quantity": str(li.quantity),
                    "unit_price": str(li.unit_price),
                    "discount_percent": str(li.discount_percent),
                    "total": str(li.total),
                }
                for li in opportunity.line_items.select_related("product").order_by("position")
            ],
        }
    }


# The account fields connectors receive: an update that changes none of them emits nothing.
ACCOUNT_SYNC_FIELDS = frozenset(
    {
        "customer_code",
        "legal_name",
        "name_th",
        "name_en",
        "tax_id",
        "branch_code",
        "status",
        "phone",
        "email",
        "address_line1",
        "address_line2",
        "subdistrict",
        "city",
        "province",
        "postal_code",
        "country",
        "merged_into",
    }
)


def account_event_emit(
    *,
    event_type: EventType,
    account: Account,
    extra: dict[str, Any] | None = None,
    only: Connector | None = None,
) -> OutboxEvent:
    """``account.approved`` / ``account.updated`` / ``account.merged`` (``extra`` carries
    e.g. the merged-away accounts' ids and codes)."""
    payload = account_payload(account)
    if extra:
        payload.update(extra)
    return outbox_emit(event_type=event_type, aggregate=account, payload=payload, only=only)


def opportunity_event_emit(
    *, event_type: EventType, opportunity: Opportunity, only: Connector | None = None
) -> OutboxEvent:
    """``opportunity.won`` / ``opportunity.reopened``, with the line items."""
    return outbox_emit(
        event_type=event_type,
        aggregate=opportunity,
        payload=opportunity_payload(opportunity),
        only=only,
    )


def account_merge_event_emit(*, survivor: Account, merged: Sequence[Account]) -> OutboxEvent:
    """``account.merged``: the survivor, and the ids and codes it replaces (id remap)."""
    return account_event_emit(
        event_type=EventType.ACCOUNT_MERGED,
        account=survivor,
        extra={
            "merged": [
                {"id": str(a.pk), "customer_code": a.customer_code}
                for a in sorted(merged, key=lambda a: a.customer_code)
            ]
        },
    )
