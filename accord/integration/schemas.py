from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Literal

from ninja import Schema
from pydantic import Field

from accord.core.api_support import InputSchema


class SyncStatusOut(Schema):
    connector: str
    status: str
    attempts: int
    last_error: str
    event_type: str
    next_attempt_at: dt.datetime | None
    delivered_at: dt.datetime | None


class ConnectorHealthOut(Schema):
    id: uuid.UUID
    name: str
    kind: str
    state: str
    backlog: int
    retrying: int
    dead: int
    lag_seconds: float
    attempts: int
    failed_attempts: int
    failure_rate: float


class DeliveryOut(Schema):
    id: int
    connector: str
    event_id: uuid.UUID
    event_type: str
    aggregate_type: str
    aggregate_id: str
    ordering_key: str
    seq: int
    status: str
    attempts: int
    last_error: str
    next_attempt_at: dt.datetime
    delivered_at: dt.datetime | None


class DeliveryPage(Schema):
    items: list[DeliveryOut]
    next_cursor: str | None


class InvoiceIn(InputSchema):
    """An invoice as the ledger knows it. Amounts are decimals (strings or numbers)."""

    invoice_number: str = Field(min_length=1, max_length=40)
    customer_code: str = Field(min_length=1, max_length=40)
    order_ref: str = Field(default="", max_length=64, description="The opportunity id sent.")
    currency: str = Field(default="THB", pattern=r"^[A-Za-z]{3}$")
    amount: Decimal = Field(ge=0, max_digits=16, decimal_places=2)
    paid_amount: Decimal = Field(default=Decimal(0), ge=0, max_digits=16, decimal_places=2)
    issued_on: dt.date | None = None
    due_date: dt.date | None = None
    status: Literal["open", "partially_paid", "paid", "cancelled"]
    ledger_updated_at: dt.datetime | None = None


class InvoicePushIn(InputSchema):
    connector: str = Field(description="The name of the ledger's connector.")
    invoices: list[InvoiceIn] = Field(min_length=1, max_length=1000)


class InvoiceRowOut(Schema):
    row: int
    invoice_number: str
    outcome: str
    errors: dict[str, list[str]]
    account: uuid.UUID | None


class InvoicePushOut(Schema):
    created: int
    updated: int
    unchanged: int
    rejected: int
    rows: list[InvoiceRowOut]


class InvoiceOut(Schema):
    invoice_number: str
    order_ref: str
    opportunity: uuid.UUID | None = Field(alias="opportunity_id")
    currency: str
    amount: Decimal
    paid_amount: Decimal
    outstanding: Decimal
    issued_on: dt.date | None
    due_date: dt.date | None
    status: str


class AccountInvoicesOut(Schema):
    count: int
    invoiced: Decimal
    paid: Decimal
    outstanding: Decimal
    overdue: Decimal
    invoices: list[InvoiceOut]
