"""``/api/v1/integration``: sync status follows visibility; the console is for administrators."""

from __future__ import annotations

from accord.integration.delivery import deliver_key
from accord.integration.models import Connector, ConnectorKind, Delivery
from accord.integration.testing import WebhookReceiver
from tests.conftest import make_account
from tests.integration_support import approval_of

# Distinct enough that the duplicate check lets them all in.
NAMES = [
    "Ayutthaya Rice Mills Co., Ltd.",
    "Bangkok Dental Clinic Co., Ltd.",
    "Chonburi Marine Logistics Co., Ltd.",
    "Hat Yai Rubber Products Co., Ltd.",
    "Korat Ceramics Co., Ltd.",
    "Phuket Resort Holdings Co., Ltd.",
]

SECRET = "a-long-webhook-secret-0123456789"


def _connector(name: str = "hook", url: str = "http://127.0.0.1:9/") -> Connector:
    return Connector.objects.create(
        name=name,
        kind=ConnectorKind.WEBHOOK,
        event_types=["account.approved"],
        settings={"url": url, "secret": SECRET, "max_attempts": 1},
    )


def test_a_rep_sees_the_sync_status_of_accounts_they_may_see_only(org, api_as):
    # given: port 9 (discard) refuses the connection: the target is unavailable, so the
    # delivery keeps retrying (an outage never uses up the attempts)
    connector = _connector()
    mine = make_account(org)
    theirs = make_account(org, legal_name="Southern Co., Ltd.", district=org.south)
    approval_of(mine)
    deliver_key(str(connector.pk), str(mine.pk))
    api = api_as(org.rep)
    # when
    response = api.get(f"/integration/sync-status/accounts/{mine.pk}")
    # then
    assert response.status_code == 200
    [status] = response.json()
    assert (status["connector"], status["status"], status["attempts"]) == ("hook", "failed", 1)
    assert status["last_error"].startswith("Target unavailable: Connection failed: ")
    assert api.get(f"/integration/sync-status/accounts/{theirs.pk}").status_code == 404


def test_the_console_is_for_administrators(org, api_as):
    connector = _connector()
    assert api_as(org.rep).get("/integration/connectors").status_code == 403
    assert api_as(org.steward).get("/integration/dead").status_code == 403
    response = api_as(org.admin).get("/integration/connectors")
    assert response.status_code == 200
    assert response.json() == [
        {
            "id": str(connector.pk),
            "name": "hook",
            "kind": "webhook",
            "state": "enabled",
            "backlog": 0,
            "retrying": 0,
            "dead": 0,
            "lag_seconds": 0.0,
            "attempts": 0,
            "failed_attempts": 0,
            "failure_rate": 0.0,
        }
    ]


def test_dead_letters_are_listed_page_by_page_and_replayed(org, api_as):
    # given: three dead deliveries (the receiver refuses them with 400)
    receiver = WebhookReceiver(secret=SECRET, script=[400]).start()
    try:
        connector = _connector(url=receiver.url)
        accounts = [make_account(org, legal_name=NAMES[n]) for n in range(3)]
        for account in accounts:
            approval_of(account)
            deliver_key(str(connector.pk), str(account.pk))
    finally:
        receiver.stop()
    api = api_as(org.admin)
    # when
    first = api.get("/integration/dead", limit=2).json()
    second = api.get("/integration/dead", limit=2, cursor=first["next_cursor"]).json()
    # then
    ids = [d["id"] for d in first["items"] + second["items"]]
    assert ids == sorted(Delivery.objects.values_list("id", flat=True))
    assert second["next_cursor"] is None
    assert {d["status"] for d in first["items"]} == {"dead"}
    # when
    replayed = api.post(f"/integration/deliveries/{ids[0]}/replay", {})
    # then
    assert replayed.status_code == 200
    assert (replayed.json()["status"], replayed.json()["attempts"]) == ("pending", 0)
    again = api.post(f"/integration/deliveries/{ids[0]}/replay", {})
    assert again.status_code == 422
    assert again.json()["code"] == "delivery_not_replayable"
    assert api.post("/integration/deliveries/999999/replay", {}).status_code == 404
    assert len(api.get("/integration/dead").json()["items"]) == 2


def test_pause_and_resume_through_the_api(org, api_as):
    connector = _connector()
    api = api_as(org.admin)
    paused = api.post(f"/integration/connectors/{connector.pk}/pause", {})
    assert paused.status_code == 200
    assert paused.json()[0]["state"] == "paused"
    resumed = api.post(f"/integration/connectors/{connector.pk}/resume", {})
    assert resumed.json()[0]["state"] == "enabled"
    assert (
        api_as(org.rep).post(f"/integration/connectors/{connector.pk}/pause", {}).status_code == 403
    )
