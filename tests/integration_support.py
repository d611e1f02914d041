"""Helpers for the integration tests."""

from __future__ import annotations

from accord.customers.models import Account
from accord.integration.models import EventType, OutboxEvent


def approval_of(account: Account) -> OutboxEvent:
    """The ``account.approved`` event the account's creation (a steward's approval) wrote."""
    return OutboxEvent.objects.get(
        ordering_key=str(account.pk), event_type=EventType.ACCOUNT_APPROVED
    )
