"""``/api/v1/integration``: sync status of visible records; the console for administrators."""

from __future__ import annotations

import uuid
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router
from pydantic import Field

from accord.core.api_support import QuerySchema, actor
from accord.core.errors import NotFound
from accord.core.selectors import get_visible
from accord.integration import invoices, selectors, services
from accord.integration.models import Connector, Delivery
from accord.integration.schemas import (
    AccountInvoicesOut,
    ConnectorHealthOut,
    DeliveryOut,
    DeliveryPage,
    InvoicePushIn,
    InvoicePushOut,
    SyncStatusOut,
)
from accord.territories import visibility

router = Router(tags=["integration"])


def _delivery_out(row: Delivery) -> dict[str, Any]:
    return {
        "id": row.pk,
        "connector": row.connector.name,
        "event_id": row.event_id,
        "event_type": row.event.event_type,
        "aggregate_type": row.event.aggregate_type,
        "aggregate_id": row.event.aggregate_id,
        "ordering_key": row.ordering_key,
        "seq": row.seq,
        "status": row.status,
        "attempts": row.attempts,
        "last_error": row.last_error,
        "next_attempt_at": row.next_attempt_at,
        "delivered_at": row.delivered_at,
    }


@router.get(
    "/sync-status/accounts/{account_id}",
    response=list[SyncStatusOut],
    summary="An account's sync status per connector",
)
def account_sync_status(request: HttpRequest, account_id: uuid.UUID) -> list[Any]:
    account = get_visible(
        visibility.accounts_visible_to(actor(request)), account_id, what="account"
    )
    return list(selectors.record_sync_status(account))


@router.get(
    "/sync-status/opportunities/{opportunity_id}",
    response=list[SyncStatusOut],
    summary="An opportunity's sync status per connector",
)
def opportunity_sync_status(request: HttpRequest, opportunity_id: uuid.UUID) -> list[Any]:
    opportunity = get_visible(
        visibility.opportunities_visible_to(actor(request)), opportunity_id, what="opportunity"
    )
    return list(selectors.record_sync_status(opportunity))


@router.get(
    "/connectors",
    response=list[ConnectorHealthOut],
    summary="Connectors with backlog, lag and failure rate (administrators)",
)
def connector_list(request: HttpRequest) -> list[dict[str, Any]]:
    services.check_integration_admin(actor(request))
    ids = dict(Connector.objects.values_list("name", "pk"))
    return [
        {
            "id": ids[h.name],
            "name": h.name,
            "kind": h.kind,
            "state": h.state,
            "backlog": h.backlog,
            "retrying": h.failed,
            "dead": h.dead,
            "lag_seconds": h.lag_seconds,
            "attempts": h.attempts,
            "failed_attempts": h.failed_attempts,
            "failure_rate": h.failure_rate,
        }
        for h in selectors.connector_health()
    ]


def _connector(connector_id: uuid.UUID) -> Connector:
    connector = Connector.objects.filter(pk=connector_id).first()
    if connector is None:
        raise NotFound("No such connector.")
    return connector


@router.post("/connectors/{connector_id}/pause", response=list[ConnectorHealthOut], summary="Pause")
def connector_pause(request: HttpRequest, connector_id: uuid.UUID) -> list[dict[str, Any]]:
    services.check_integration_admin(actor(request))
    services.connector_set_paused(
        actor=actor(request), connector=_connector(connector_id), paused=True
    )
    return connector_list(request)


@router.post(
    "/connectors/{connector_id}/resume", response=list[ConnectorHealthOut], summary="Resume"
)
def connector_resume(request: HttpRequest, connector_id: uuid.UUID) -> list[dict[str, Any]]:
    services.check_integration_admin(actor(request))
    services.connector_set_paused(
        actor=actor(request), connector=_connector(connector_id), paused=False
    )
    return connector_list(request)


class DeadFilters(QuerySchema):
    connector: uuid.UUID | None = None
    cursor: str | None = Field(default=None, max_length=20, pattern=r"^[0-9]+$")
    limit: int = Field(default=50, ge=1, le=200)


@router.get("/dead", response=DeliveryPage, summary="The dead-letter list (administrators)")
def dead_list(request: HttpRequest, filters: Query[DeadFilters]) -> dict[str, Any]:
    services.check_integration_admin(actor(request))
    qs = selectors.dead_deliveries().order_by("id")
    if filters.connector is not None:
        qs = qs.filter(connector_id=filters.connector)
    if filters.cursor:
        qs = qs.filter(id__gt=int(filters.cursor))
    rows = list(qs[: filters.limit + 1])
    more = len(rows) > filters.limit
    rows = rows[: filters.limit]
    return {
        "items": [_delivery_out(r) for r in rows],
        "next_cursor": str(rows[-1].pk) if more else None,
    }


@router.post(
    "/deliveries/{delivery_id}/replay",
    response=DeliveryOut,
    summary="Replay a dead or failed delivery (administrators)",
)
def delivery_replay(request: HttpRequest, delivery_id: int) -> dict[str, Any]:
    services.check_integration_admin(actor(request))
    row = Delivery.objects.filter(pk=delivery_id).first() if 0 < delivery_id < 2**63 else None
    if row is None:
        raise NotFound("No such delivery.")
    replayed = services.delivery_replay(actor=actor(request), delivery=row)
    replayed = Delivery.objects.select_related("event", "connector").get(pk=replayed.pk)
    return _delivery_out(replayed)


@router.post(
    "/invoices",
    response=InvoicePushOut,
    summary="Push invoice and payment status from the ledger (integration users, administrators)",
)
def invoice_push(request: HttpRequest, payload: InvoicePushIn) -> dict[str, Any]:
    services.check_integration_writer(actor(request))
    connector = Connector.objects.filter(name=payload.connector).first()
    if connector is None:
        raise NotFound(f"No connector called {payload.connector!r}.")
    report = invoices.invoices_upsert(
        connector=connector, rows=[i.model_dump() for i in payload.invoices]
    )
    return {
        **{o: report.count(o) for o in ("created", "updated", "unchanged", "rejected")},
        "rows": report.rows,
    }


@router.get(
    "/accounts/{account_id}/invoices",
    response=AccountInvoicesOut,
    summary="An account's invoices from the ledger: totals and the latest ones",
)
def account_invoice_list(request: HttpRequest, account_id: uuid.UUID) -> dict[str, Any]:
    account = get_visible(
        visibility.accounts_visible_to(actor(request)), account_id, what="account"
    )
    summary = invoices.account_invoice_summary(account)
    return {**summary.__dict__, "invoices": invoices.account_invoices(account, limit=50)}
