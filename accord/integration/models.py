"""Integration: the transactional outbox, connectors as data, per-connector delivery state.

An :class:`OutboxEvent` is written in the transaction of the change it describes (see
``outbox.py``). For every enabled connector subscribed to its type, a :class:`Delivery`
row tracks that connector's progress with the event. Events that share an ``ordering_key``
(the account) carry a gap-free ``seq`` from :class:`OutboxSequence`, and a connector never
delivers an event while an earlier one of the same key is undelivered.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from accord.core.models import BaseModel


class EventType(models.TextChoices):
    ACCOUNT_APPROVED = "account.approved", _("Account approved")
    ACCOUNT_UPDATED = "account.updated", _("Account updated")
    ACCOUNT_MERGED = "account.merged", _("Accounts merged")
    ACCOUNT_UNMERGED = "account.unmerged", _("Account merge undone")
    CONTACT_MERGED = "contact.merged", _("Contacts merged")
    CONTACT_UNMERGED = "contact.unmerged", _("Contact merge undone")
    OPPORTUNITY_WON = "opportunity.won", _("Opportunity won")
    OPPORTUNITY_REOPENED = "opportunity.reopened", _("Won opportunity re-opened")


class ConnectorKind(models.TextChoices):
    WEBHOOK = "webhook", _("Webhook (JSON over HTTP)")
    SQL_LEDGER = "sql_ledger", _("SQL ledger database")


class Connector(BaseModel):
    """A destination: what flows there (event types), how fields map, how to reach it.

    ``settings`` by kind — webhook: ``url``, ``secret``, ``timeout_seconds``;
    sql_ledger: ``database_url`` and ``tables``. Retry policy for both:
    ``max_attempts``, ``retry_base_seconds``, ``retry_cap_seconds``.
    ``field_mapping`` maps an event type to ``{target field: source}``, where a source is a
    dotted path into the event's payload, ``{"const": value}`` or
    ``{"path": "line_items", "each": {…}}``; an event type without a mapping is sent as is.
    """

    name = models.CharField(max_length=80, unique=True)
    kind = models.CharField(max_length=16, choices=ConnectorKind.choices)
    enabled = models.BooleanField(
        default=True, help_text=_("A disabled connector gets no new deliveries.")
    )
    paused = models.BooleanField(
        default=False,
        help_text=_("A paused connector keeps collecting deliveries but sends none."),
    )
    event_types = models.JSONField(
        default=list, blank=True, help_text=_("The event types that flow to this connector.")
    )
    field_mapping = models.JSONField(default=dict, blank=True)
    settings = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from accord.integration.validation import connector_errors

        errors = connector_errors(self)
        if errors:
            raise ValidationError(errors)


class OutboxSequence(models.Model):
    """The last sequence number issued per ordering key; locked while a number is drawn."""

    key = models.CharField(max_length=64, primary_key=True)
    last_seq = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.key}={self.last_seq}"


class OutboxEvent(BaseModel):
    event_type = models.CharField(max_length=40, choices=EventType.choices)
    aggregate_type = models.CharField(max_length=60)
    aggregate_id = models.CharField(max_length=64)
    ordering_key = models.CharField(max_length=64)
    seq = models.BigIntegerField()
    payload = models.JSONField(default=dict)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["aggregate_type", "aggregate_id"], name="outbox_aggregate"),
            models.Index(fields=["created_at", "id"], name="outbox_created_keyset"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["ordering_key", "seq"], name="outbox_key_seq_unique")
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.aggregate_id} #{self.seq}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    DELIVERING = "delivering", _("Delivering")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed (will retry)")
    DEAD = "dead", _("Dead (needs attention)")


UNDELIVERED = (
    DeliveryStatus.PENDING,
    DeliveryStatus.DELIVERING,
    DeliveryStatus.FAILED,
    DeliveryStatus.DEAD,
)


class Delivery(models.Model):
    """One connector's progress with one event.

    ``ordering_key`` and ``seq`` are copied from the event so the ordering check and the
    backlog queries use one index. ``claim_token`` and ``lease_expires_at`` belong to the
    worker that is delivering: a worker killed mid-delivery leaves a lease that expires, and
    the sweep hands the delivery to another worker.
    """

    id = models.BigAutoField(primary_key=True)
    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="deliveries")
    connector = models.ForeignKey(
        Connector, on_delete=models.CASCADE, related_name="deliveries", db_index=False
    )  # indexed by delivery_connector_key_seq
    ordering_key = models.CharField(max_length=64)
    seq = models.BigIntegerField()
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    claim_token = models.CharField(max_length=32, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["connector", "ordering_key", "seq"]
        verbose_name_plural = "deliveries"
        indexes = [
            models.Index(
                fields=["connector", "ordering_key", "seq"], name="delivery_connector_key_seq"
            ),
            models.Index(
                fields=["connector", "next_attempt_at"],
                condition=~models.Q(status="delivered"),
                name="delivery_undelivered_due",
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["event", "connector"], name="delivery_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.connector_id}: {self.status}"


class AttemptOutcome(models.TextChoices):
    DELIVERED = "delivered", _("Delivered")
    RETRY = "retry", _("Failed, will retry")
    DEAD = "dead", _("Failed permanently")


class DeliveryAttempt(models.Model):
    """One try: when, how long, the outcome. Feeds failure rates and request rates."""

    id = models.BigAutoField(primary_key=True)
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    connector = models.ForeignKey(
        Connector, on_delete=models.CASCADE, related_name="+", db_index=False
    )  # indexed by attempt_connector_time
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)
    outcome = models.CharField(max_length=16, choices=AttemptOutcome.choices)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["started_at", "id"]
        indexes = [models.Index(fields=["connector", "started_at"], name="attempt_connector_time")]

    def __str__(self) -> str:
        return f"{self.delivery_id} {self.outcome}"


class InvoiceStatus(models.TextChoices):
    OPEN = "open", _("Open")
    PARTIALLY_PAID = "partially_paid", _("Partly paid")
    PAID = "paid", _("Paid")
    CANCELLED = "cancelled", _("Cancelled")


class LedgerInvoice(BaseModel):
    """An invoice of the ledger, mirrored: its number, amounts, due date and payment status.

    Written only by ``integration.invoices`` (pulled from a SQL ledger on a schedule, or
    pushed through the API); matched to the account by customer code (a merged account's
    code to its survivor) and to the won opportunity by the order reference Accord sent.
    """

    connector = models.ForeignKey(Connector, on_delete=models.PROTECT, related_name="invoices")
    invoice_number = models.CharField(_("invoice number"), max_length=40)
    customer_code = models.CharField(max_length=40)
    order_ref = models.CharField(_("order reference"), max_length=64, blank=True)
    account = models.ForeignKey(
        "customers.Account",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="invoices",
        db_index=False,
    )  # indexed by invoice_account_due
    opportunity = models.ForeignKey(
        "sales.Opportunity",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="invoices",
    )
    currency = models.CharField(max_length=3, default="THB")
    amount = models.DecimalField(max_digits=16, decimal_places=2)
    paid_amount = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    issued_on = models.DateField(null=True, blank=True)
    due_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=InvoiceStatus.choices)
    ledger_updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-issued_on", "-invoice_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["connector", "invoice_number"], name="invoice_unique_number"
            )
        ]
        indexes = [
            models.Index(fields=["account", "due_date"], name="invoice_account_due"),
            models.Index(fields=["customer_code"], name="invoice_customer_code"),
        ]

    def __str__(self) -> str:
        return self.invoice_number

    @property
    def outstanding(self) -> Decimal:
        if self.status == InvoiceStatus.CANCELLED:
            return Decimal(0)
        return max(Decimal(0), self.amount - self.paid_amount)


class InboundCursor(models.Model):
    """How far a connector's inbound stream (e.g. invoices pulled from the ledger) has got."""

    connector = models.ForeignKey(Connector, on_delete=models.CASCADE, related_name="cursors")
    stream = models.CharField(max_length=40)
    position = models.JSONField(default=dict)
    pulled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["connector", "stream"], name="inbound_cursor_unique")
        ]

    def __str__(self) -> str:
        return f"{self.connector_id}:{self.stream}"
