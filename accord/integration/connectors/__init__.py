"""Connector implementations, one per :class:`~accord.integration.models.ConnectorKind`.

A connector's ``deliver(connector=…, event=…)`` returns on success and raises
:class:`RetryableError` (the target may recover: 5xx, timeouts), its subclass
:class:`TargetUnavailable` (the target is down or overloaded: refused connections, 503) or
:class:`PermanentError` (retrying cannot help: most 4xx, a mapping fault).

A connector that can write many events at once also has ``deliver_batch(connector=…,
events=[…])``, which returns per event ``None`` (delivered) or the error, so that one bad
event never fails the others (the SQL ledger has one; webhooks go one at a time).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from accord.integration.models import Connector, OutboxEvent


class DeliveryError(Exception):
    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RetryableError(DeliveryError):
    pass


class TargetUnavailable(RetryableError):
    """The target could not be reached or said it is unavailable (refused or timed-out
    connections, 502/503/504, 429, a database that is down). It says nothing about the
    event, so it does not use up the event's attempts: the delivery retries, backing off up
    to the cap, until the target is back — an outage never fills the dead-letter list."""

    label = "Target unavailable"


class PermanentError(DeliveryError):
    pass


class ConnectorImpl(Protocol):
    def deliver(self, *, connector: Connector, event: OutboxEvent) -> None: ...


def connector_impl(kind: str) -> ConnectorImpl:
    from accord.integration.models import ConnectorKind

    if kind == ConnectorKind.WEBHOOK:
        from accord.integration.connectors.webhook import WebhookConnector

        return WebhookConnector()
    if kind == ConnectorKind.SQL_LEDGER:
        from accord.integration.connectors.sql_ledger import SqlLedgerConnector

        return SqlLedgerConnector()
    raise PermanentError(f"Unknown connector kind {kind!r}.")
