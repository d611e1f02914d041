"""The outbox: events written in the change's transaction, per-key order, tasks on commit."""

from __future__ import annotations

import pytest
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from accord.customers.services import account_update
from accord.integration.models import (
    Connector,
    ConnectorKind,
    Delivery,
    DeliveryStatus,
    EventType,
    OutboxEvent,
    OutboxSequence,
)
from accord.sales.models import Product, Stage
from accord.sales.services import opportunity_create, opportunity_update
from tests.conftest import make_account
from tests.integration_support import approval_of

ALL_EVENTS = [e.value for e in EventType]


def _connector(name: str = "hook", **fields) -> Connector:
    fields.setdefault("kind", ConnectorKind.WEBHOOK)
    fields.setdefault("event_types", ALL_EVENTS)
    fields.setdefault("settings", {"url": "http://127.0.0.1:9/", "secret": "x"})
    return Connector.objects.create(name=name, **fields)


def _stage(org, name: str) -> Stage:
    return Stage.objects.get(pipeline=org.pipeline, name=name)


def _won_opportunity(org, account, *, commit: bool = True):
    product = Product.objects.order_by("code").first()
    opp = opportunity_create(
        actor=org.rep,
        data={
            "name": "50 printers",
            "account": account.pk,
            "line_items": [{"product": product.pk, "quantity": 2, "unit_price": "1500.00"}],
        },
    )
    return opportunity_update(
        actor=org.rep, opportunity=opp, data={"stage": _stage(org, "Closed won").pk}
    )


def test_winning_an_opportunity_writes_one_event_with_its_line_items(org):
    # given
    connector = _connector()
    account = make_account(org)
    # when
    opp = _won_opportunity(org, account)
    # then: after the account's own approval, in the account's order
    event = OutboxEvent.objects.get(event_type="opportunity.won")
    assert event.aggregate_type == "sales.opportunity"
    assert event.aggregate_id == str(opp.pk)
    assert event.ordering_key == str(account.pk)
    assert event.seq == 2
    data = event.payload["opportunity"]
    assert data["amount"] == "3000.00"
    assert data["customer_code"] == account.customer_code
    assert data["outcome"] == "won"
    assert [(li["quantity"], li["unit_price"], li["total"]) for li in data["line_items"]] == [
        ("2.00", "1500.00", "3000.00")
    ]
    delivery = Delivery.objects.get(event=event)
    assert delivery.connector_id == connector.pk
    assert (delivery.status, delivery.attempts, delivery.ordering_key, delivery.seq) == (
        DeliveryStatus.PENDING,
        0,
        str(account.pk),
        2,
    )


def test_a_rolled_back_change_leaves_no_event(org):
    # given
    _connector()
    account = make_account(org)
    product = Product.objects.order_by("code").first()
    opp = opportunity_create(
        actor=org.rep,
        data={"name": "Copiers", "account": account.pk, "line_items": [{"product": product.pk}]},
    )
    # when
    with pytest.raises(RuntimeError), transaction.atomic():
        opportunity_update(
            actor=org.rep, opportunity=opp, data={"stage": _stage(org, "Closed won").pk}
        )
        raise RuntimeError("the surrounding work failed")
    # then: only the account's approval is there
    assert list(OutboxEvent.objects.values_list("event_type", flat=True)) == ["account.approved"]
    assert Delivery.objects.count() == 1
    assert OutboxSequence.objects.get(key=str(account.pk)).last_seq == 1
    opp.refresh_from_db()
    assert opp.stage.name == "Prospecting"


def test_reopening_a_won_opportunity_follows_it_in_the_accounts_order(org):
    # given
    _connector()
    account = make_account(org)
    opp = _won_opportunity(org, account)
    # when
    opportunity_update(
        actor=org.rep, opportunity=opp, data={"stage": _stage(org, "Negotiation").pk}
    )
    opportunity_update(actor=org.rep, opportunity=opp, data={"name": "50 printers (re-quoted)"})
    # then
    rows = list(OutboxEvent.objects.order_by("seq").values_list("event_type", "seq"))
    assert rows == [("account.approved", 1), ("opportunity.won", 2), ("opportunity.reopened", 3)]
    assert OutboxSequence.objects.get(key=str(account.pk)).last_seq == 3


def test_an_opportunity_created_won_emits_won(org):
    _connector()
    account = make_account(org)
    product = Product.objects.order_by("code").first()
    opportunity_create(
        actor=org.rep,
        data={
            "name": "Toner",
            "account": account.pk,
            "stage": _stage(org, "Closed won").pk,
            "line_items": [{"product": product.pk}],
        },
    )
    assert list(OutboxEvent.objects.order_by("seq").values_list("event_type", flat=True)) == [
        "account.approved",
        "opportunity.won",
    ]


def test_account_events_go_before_the_accounts_won_opportunity(org):
    # given
    _connector()
    account = make_account(org)
    # when: the customers services emit this when a steward approves the account
    approval_of(account)
    _won_opportunity(org, account)
    other = make_account(org, legal_name="Other Co., Ltd.", tax_id="")
    approval_of(other)
    # then
    rows = list(
        Delivery.objects.order_by("ordering_key", "seq").values_list(
            "ordering_key", "seq", "event__event_type"
        )
    )
    assert sorted(rows) == sorted(
        [
            (str(account.pk), 1, "account.approved"),
            (str(account.pk), 2, "opportunity.won"),
            (str(other.pk), 1, "account.approved"),
        ]
    )
    payload = OutboxEvent.objects.get(seq=1, ordering_key=str(account.pk)).payload
    assert payload["account"]["customer_code"] == account.customer_code


def test_only_enabled_connectors_subscribed_to_the_type_get_a_delivery(org):
    # given
    account = make_account(org)
    wanted = _connector("ledger-orders", event_types=["opportunity.won"])
    _connector("accounts-only", event_types=["account.approved"])
    _connector("switched-off", enabled=False)
    paused = _connector("paused", paused=True)
    # when
    _won_opportunity(org, account)
    # then
    assert set(Delivery.objects.values_list("connector__name", flat=True)) == {
        wanted.name,
        paused.name,
    }


def test_the_delivery_task_is_enqueued_only_when_the_write_commits(
    org, django_capture_on_commit_callbacks
):
    # given
    connector = _connector()
    _connector("paused", paused=True)
    account = make_account(org)
    # when
    with django_capture_on_commit_callbacks(execute=True):
        _won_opportunity(org, account)
    # then: one task for the live connector, none for the paused one
    task = DBTaskResult.objects.get()
    assert task.task_path == "accord.integration.tasks.deliver_connector_task"
    assert task.args_kwargs == {"args": [str(connector.pk)], "kwargs": {}}


def test_nothing_is_enqueued_when_the_write_does_not_commit(
    org, django_capture_on_commit_callbacks
):
    _connector()
    account = make_account(org)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _won_opportunity(org, account)
    assert len(callbacks) == 1
    assert DBTaskResult.objects.count() == 0


def test_the_sync_fields_are_exactly_the_account_payloads_fields(org):
    from accord.integration.outbox import ACCOUNT_SYNC_FIELDS, account_payload

    account = make_account(org)
    assert set(account_payload(account)["account"]) - {"id"} == ACCOUNT_SYNC_FIELDS


def test_a_merge_event_names_the_survivor_and_the_codes_it_replaces(org):
    from accord.integration.outbox import account_merge_event_emit

    survivor = make_account(org)
    loser = make_account(org, legal_name="Chiang Mai Paper Co., Ltd.")
    event = account_merge_event_emit(survivor=survivor, merged=[loser])
    assert event.event_type == "account.merged"
    assert event.ordering_key == str(survivor.pk)
    assert event.payload["merged"] == [{"id": str(loser.pk), "customer_code": loser.customer_code}]


def test_account_services_emit_approved_and_updated_for_synced_fields_only(org):
    # given
    _connector()
    account = make_account(org, legal_name="Synced Co., Ltd.")
    # when
    account_update(actor=org.steward, account=account, data={"phone": "+66 2 000 1111"})
    account_update(actor=org.steward, account=account, data={"industry": "retail"})
    # then: the industry is not sent to the ledger, so changing it makes no event
    assert list(
        OutboxEvent.objects.filter(ordering_key=str(account.pk))
        .order_by("seq")
        .values_list("seq", "event_type")
    ) == [(1, "account.approved"), (2, "account.updated")]
