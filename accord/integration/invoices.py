"""Inbound: invoice and payment status from the ledger, onto accounts and opportunities.

Two ways in, one write path (:func:`invoices_upsert`):

* **pull** — :func:`invoices_pull` reads a SQL ledger's invoice table through the
  connector's ``field_mapping["invoices.pull"]`` (table, columns, status values, the
  column that orders changes), from where the last pull stopped (keyset on that column and
  the invoice number); ``accord worker`` pulls every ``ACCORD_LEDGER_PULL_SECONDS``, and
  ``accord ledger-pull`` on demand;
* **push** — ``POST /api/v1/integration/invoices`` with the same fields, for ledgers that
  call out.

Each invoice is matched to its account by customer code (a merged account's code finds its
survivor) and to the won opportunity by the order reference Accord sent (the opportunity's
id). A row that does not validate is reported with its field errors and changes nothing;
the others are created or updated (audited, source "integration").
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import Case, DecimalField, ExpressionWrapper, F, Q, Sum, When
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from accord.audit.models import AuditAction
from accord.audit.services import audit_record_change, snapshot
from accord.core.context import Source, acting_as
from accord.core.errors import ValidationFailed
from accord.customers.models import Account
from accord.integration.connectors import PermanentError
from accord.integration.models import (
    Connector,
    ConnectorKind,
    InboundCursor,
    InvoiceStatus,
    LedgerInvoice,
)
from accord.sales.models import Opportunity

PULL_MAPPING = "invoices.pull"
PULL_BATCH = 1000
INVOICE_FIELDS = (
    "invoice_number",
    "customer_code",
    "order_ref",
    "currency",
    "amount",
    "paid_amount",
    "issued_on",
    "due_date",
    "status",
    "ledger_updated_at",
)


@dataclass
class InvoiceRow:
    row: int
    invoice_number: str
    outcome: str  # created / updated / unchanged / rejected
    errors: dict[str, list[str]] = field(default_factory=dict)
    account: str | None = None


@dataclass
class InvoiceImport:
    rows: list[InvoiceRow] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(1 for r in self.rows if r.outcome == outcome)


def _decimal(value: Any, name: str, errors: dict[str, list[str]]) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        errors[name] = ["Not a number."]
        return None
    if number < 0 or number.adjusted() >= 14:
        errors[name] = ["Out of range."]
        return None
    return number


def _date(value: Any, name: str, errors: dict[str, list[str]]) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    parsed = parse_date(str(value)[:10]) if isinstance(value, str) else None
    if parsed is None:
        errors[name] = ["Not a date (YYYY-MM-DD)."]
    return parsed


def _moment(value: Any) -> dt.datetime | None:
    moment: dt.datetime | None = None
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, str) and value:
        moment = parse_datetime(value.replace(" ", "T", 1))
    if moment is None:
        return None
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment, dt.UTC)


def _clean(row: Mapping[str, Any], status_map: Mapping[str, str]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    number = str(row.get("invoice_number") or "").strip()
    if not number or len(number) > 40:
        errors["invoice_number"] = ["An invoice number of 1 to 40 characters is required."]
    code = str(row.get("customer_code") or "").strip().upper()
    if not code or len(code) > 40:
        errors["customer_code"] = ["The customer code is required."]
    raw_status = str(row.get("status") or "").strip()
    status = status_map.get(raw_status, raw_status.lower())
    if status not in InvoiceStatus.values:
        errors["status"] = [f"Unknown status {raw_status!r}."]
    amount = _decimal(row.get("amount"), "amount", errors)
    if amount is None and "amount" not in errors:
        errors["amount"] = ["The amount is required."]
    paid = _decimal(row.get("paid_amount"), "paid_amount", errors) or Decimal("0.00")
    currency = str(row.get("currency") or "THB").strip().upper()
    if len(currency) != 3 or not currency.isalpha():
        errors["currency"] = ["A three-letter currency code."]
    clean = {
        "invoice_number": number,
        "customer_code": code,
        "order_ref": str(row.get("order_ref") or "").strip()[:64],
        "currency": currency,
        "amount": amount,
        "paid_amount": paid,
        "issued_on": _date(row.get("issued_on"), "issued_on", errors),
        "due_date": _date(row.get("due_date"), "due_date", errors),
        "status": status,
        "ledger_updated_at": _moment(row.get("ledger_updated_at")),
    }
    if errors:
        raise ValidationFailed(errors=errors)
    return clean


def _match(clean: Mapping[str, Any]) -> tuple[Account | None, Opportunity | None]:
    opportunity = None
    try:
        ref = uuid.UUID(clean["order_ref"]) if clean["order_ref"] else None
    except ValueError:
        ref = None
    if ref is not None:
        opportunity = Opportunity.objects.filter(pk=ref).select_related("account").first()
    account = Account.objects.filter(customer_code=clean["customer_code"]).first()
    while account is not None and account.merged_into_id is not None:
        account = account.merged_into  # a merged-away code stands for its survivor
    if account is None and opportunity is not None:
        account = opportunity.account
    return account, opportunity


def invoices_upsert(
    *,
    connector: Connector,
    rows: Iterable[Mapping[str, Any]],
    status_map: Mapping[str, str] | None = None,
) -> InvoiceImport:
    """Create or update the connector's invoices from ``rows``; a report per row."""
    report = InvoiceImport()
    with acting_as(None, Source.INTEGRATION):
        for number, row in enumerate(rows, start=1):
            report.rows.append(_upsert_one(connector, number, row, status_map or {}))
    return report


def _upsert_one(
    connector: Connector, number: int, row: Mapping[str, Any], status_map: Mapping[str, str]
) -> InvoiceRow:
    label = str(row.get("invoice_number") or "")
    try:
        clean = _clean(row, status_map)
    except ValidationFailed as error:
        return InvoiceRow(number, label, "rejected", error.errors)
    account, opportunity = _match(clean)
    with transaction.atomic():
        invoice = (
            LedgerInvoice.objects.select_for_update()
            .filter(connector=connector, invoice_number=clean["invoice_number"])
            .first()
        )
        creating = invoice is None
        if invoice is None:
            invoice = LedgerInvoice(connector=connector)
        before = None if creating else snapshot(invoice)
        for name, value in clean.items():
            setattr(invoice, name, value)
        invoice.account = account
        invoice.opportunity = opportunity
        after = snapshot(invoice)
        if not creating and before == after:
            outcome = "unchanged"
        else:
            invoice.save()
            audit_record_change(
                action=AuditAction.CREATE if creating else AuditAction.UPDATE,
                instance=invoice,
                before=before,
                after=snapshot(invoice),
            )
            outcome = "created" if creating else "updated"
    matched = str(account.pk) if account is not None else None
    return InvoiceRow(number, clean["invoice_number"], outcome, account=matched)


def invoices_pull(connector: Connector, *, limit: int = PULL_BATCH) -> InvoiceImport:
    """Read the ledger's invoices changed since the last pull (up to ``limit``) and upsert
    them; the cursor moves past what was read."""
    from accord.integration.reconcile import LedgerReader

    spec = connector.field_mapping.get(PULL_MAPPING)
    if connector.kind != ConnectorKind.SQL_LEDGER or not isinstance(spec, Mapping):
        raise PermanentError("This connector has no invoice pull mapping.")
    url = connector.settings.get("database_url")
    if not isinstance(url, str):
        raise PermanentError("The connector has no database_url.")
    columns: Mapping[str, str] = spec["columns"]
    order_col, key_col = spec["cursor"], columns["invoice_number"]
    cursor, _ = InboundCursor.objects.get_or_create(connector=connector, stream=PULL_MAPPING)
    reader = LedgerReader(url)
    try:
        d = reader.dialect
        names = list(dict.fromkeys([*columns.values(), order_col]))
        sql = f"SELECT {', '.join(d.ident(c) for c in names)} FROM {d.ident(spec['table'])}"  # noqa: S608
        params: list[Any] = []
        if cursor.position:
            sql += (
                f" WHERE ({d.ident(order_col)}, {d.ident(key_col)}) > "
                f"({d.placeholder}, {d.placeholder})"
            )
            params = [cursor.position["at"], cursor.position["key"]]
        sql += f" ORDER BY {d.ident(order_col)}, {d.ident(key_col)} LIMIT {int(limit)}"
        fetched = [dict(zip(names, r, strict=True)) for r in reader._fetch(sql, params)]
    finally:
        reader.close()
    rows = [{field: record[col] for field, col in columns.items()} for record in fetched]
    report = invoices_upsert(connector=connector, rows=rows, status_map=spec.get("status_map"))
    if fetched:
        last = fetched[-1]
        at = last[order_col]
        cursor.position = {
            "at": at.isoformat(sep=" ") if isinstance(at, dt.datetime) else str(at),
            "key": str(last[key_col]),
        }
    cursor.pulled_at = timezone.now()
    cursor.save()
    return report


def invoices_pull_all() -> int:
    """Pull every enabled SQL ledger that maps invoices; returns the invoices read."""
    read = 0
    for connector in Connector.objects.filter(kind=ConnectorKind.SQL_LEDGER, enabled=True):
        if isinstance(connector.field_mapping.get(PULL_MAPPING), Mapping):
            while True:
                report = invoices_pull(connector)
                read += len(report.rows)
                if len(report.rows) < PULL_BATCH:
                    break
    return read


# --- reads --------------------------------------------------------------------------------

_MONEY = DecimalField(max_digits=18, decimal_places=2)


@dataclass(frozen=True)
class InvoiceSummary:
    count: int
    invoiced: Decimal
    paid: Decimal
    outstanding: Decimal
    overdue: Decimal


def account_invoice_summary(account: Account, *, today: dt.date | None = None) -> InvoiceSummary:
    """Invoiced, paid, outstanding and overdue totals of an account (one query)."""
    today = today or timezone.localdate()
    live = ~Q(status=InvoiceStatus.CANCELLED)
    open_ = Q(status__in=[InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID])
    due = ExpressionWrapper(F("amount") - F("paid_amount"), output_field=_MONEY)
    totals = LedgerInvoice.objects.filter(account=account).aggregate(
        count=Sum(Case(When(live, then=1), default=0)),
        invoiced=Sum(Case(When(live, then=F("amount")), default=Decimal(0), output_field=_MONEY)),
        paid=Sum(Case(When(live, then=F("paid_amount")), default=Decimal(0), output_field=_MONEY)),
        outstanding=Sum(Case(When(open_, then=due), default=Decimal(0), output_field=_MONEY)),
        overdue=Sum(
            Case(
                When(open_ & Q(due_date__lt=today), then=due),
                default=Decimal(0),
                output_field=_MONEY,
            )
        ),
    )
    cent = Decimal("0.01")

    def money(name: str) -> Decimal:
        return Decimal(totals[name] or 0).quantize(cent)

    return InvoiceSummary(
        count=totals["count"] or 0,
        invoiced=money("invoiced"),
        paid=money("paid"),
        outstanding=money("outstanding"),
        overdue=money("overdue"),
    )


def account_invoices(account: Account, *, limit: int = 10) -> list[LedgerInvoice]:
    return list(
        LedgerInvoice.objects.filter(account=account)
        .select_related("opportunity")
        .order_by("-issued_on", "-invoice_number")[:limit]
    )
