"""Connectors in the admin: administrators only, validated, audited without their secrets."""

from __future__ import annotations

import json

from django.test import Client

from accord.audit.models import AuditEvent
from accord.audit.verify import audit_chain_verify
from accord.integration.models import (
    Connector,
    ConnectorKind,
    Delivery,
    DeliveryStatus,
)
from tests.conftest import make_account
from tests.integration_support import approval_of

SECRET = "a-long-webhook-secret-0123456789"


def _form(**overrides):
    data = {
        "name": "ledger-hook",
        "kind": "webhook",
        "enabled": "on",
        "event_types": json.dumps(["account.approved", "opportunity.won"]),
        "field_mapping": "{}",
        "settings": json.dumps({"url": "https://ledger.example/hook", "secret": SECRET}),
    }
    data.update(overrides)
    return data


def test_only_administrators_open_the_integration_screens(org):
    steward = Client()
    steward.force_login(org.steward)
    assert steward.get("/admin/integration/connector/").status_code == 403
    admin = Client()
    admin.force_login(org.admin)
    for url in (
        "/admin/integration/connector/",
        "/admin/integration/delivery/",
        "/admin/integration/outboxevent/",
    ):
        assert admin.get(url).status_code == 200, url


def test_a_connector_added_in_the_admin_is_audited_with_its_secret_masked(org):
    client = Client()
    client.force_login(org.admin)
    response = client.post("/admin/integration/connector/add/", _form())
    assert response.status_code == 302, response.content
    connector = Connector.objects.get()
    assert connector.settings["secret"] == SECRET
    event = AuditEvent.objects.get(record_type="integration.connector", action="create")
    recorded = event.changes["settings"][1]
    assert recorded["url"] == "https://ledger.example/hook"
    assert recorded["secret"].startswith("sha256:")
    assert SECRET not in json.dumps(event.changes)
    assert audit_chain_verify().ok


def test_bad_connector_settings_are_refused_field_by_field(org):
    client = Client()
    client.force_login(org.admin)
    response = client.post(
        "/admin/integration/connector/add/",
        _form(
            event_types=json.dumps(["account.approved", "invoice.paid"]),
            settings=json.dumps({"url": "ftp://x", "secret": "short", "max_attempts": 0}),
        ),
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["event_types"] == [
        "Unknown event types: invoice.paid. Known: account.approved, account.merged, "
        "account.unmerged, account.updated, contact.merged, contact.unmerged, "
        "opportunity.reopened, opportunity.won."
    ]
    assert errors["settings"] == [
        '"url" must be an http(s) URL.',
        '"secret" must be a string of at least 16 characters.',
        '"max_attempts" must be a positive number.',
    ]
    assert Connector.objects.count() == 0


def test_replaying_a_dead_delivery_from_the_admin_is_audited(org):
    # given
    connector = Connector.objects.create(
        name="hook",
        kind=ConnectorKind.WEBHOOK,
        event_types=["account.approved"],
        settings={"url": "http://127.0.0.1:9/", "secret": SECRET},
    )
    account = make_account(org)
    approval_of(account)
    Delivery.objects.update(status=DeliveryStatus.DEAD, attempts=1, last_error="HTTP 400: no")
    delivery = Delivery.objects.get()
    client = Client()
    client.force_login(org.admin)
    # when
    response = client.post(
        "/admin/integration/delivery/",
        {"action": "replay", "_selected_action": [str(delivery.pk)]},
    )
    # then
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("pending", 0, "")
    event = AuditEvent.objects.get(record_type="integration.delivery")
    assert event.changes == {
        "attempts": [1, 0],
        "last_error": ["HTTP 400: no", ""],
        "replayed": [None, True],
        "status": ["dead", "pending"],
    }
    assert event.actor_name == "admin"
    assert connector.deliveries.count() == 1
