"""The integration console: health per connector, dead letters with replay, pause/resume."""

from __future__ import annotations

import pytest
from django.test import Client

from accord.integration.models import Connector, ConnectorKind, Delivery, DeliveryStatus
from tests.conftest import make_account

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _connector() -> Connector:
    return Connector.objects.create(
        name="ledger-hook",
        kind=ConnectorKind.WEBHOOK,
        event_types=["account.approved"],
        settings={"url": "http://127.0.0.1:9/", "secret": "s"},
    )


def test_admin_sees_health_and_replays_a_dead_letter(org):
    connector = _connector()
    make_account(org)
    delivery = Delivery.objects.get(connector=connector)
    Delivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.DEAD, attempts=5, last_error="HTTP 400: bad payload"
    )
    client = _client(org.admin)
    html = client.get("/integration/").content.decode()
    assert "ledger-hook" in html and "HTTP 400: bad payload" in html
    response = client.post(f"/integration/deliveries/{delivery.pk}/replay/")
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 0)
    assert "Nothing is stuck." in client.get("/integration/").content.decode()


def test_pause_and_resume(org):
    connector = _connector()
    client = _client(org.admin)
    client.post(f"/integration/connectors/{connector.pk}/pause/", {"paused": "1"})
    connector.refresh_from_db()
    assert connector.paused
    assert "Resume" in client.get("/integration/").content.decode()
    client.post(f"/integration/connectors/{connector.pk}/pause/", {"paused": "0"})
    connector.refresh_from_db()
    assert not connector.paused


def test_only_administrators_open_the_console(org):
    connector = _connector()
    for user in (org.rep, org.steward, org.manager, org.executive):
        client = _client(user)
        assert client.get("/integration/").status_code == 404
        assert (
            client.post(
                f"/integration/connectors/{connector.pk}/pause/", {"paused": "1"}
            ).status_code
            == 404
        )
    connector.refresh_from_db()
    assert not connector.paused
