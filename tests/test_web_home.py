"""My day: today's and overdue open activities, my open opportunities by stage, recent
changes on my records."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from unittest import mock

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accord.activities.services import activity_create
from accord.core.context import Source, acting_as
from accord.sales.models import Lead, Stage
from accord.sales.services import lead_create, lead_update, opportunity_create
from tests.conftest import make_account

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _task(org, user, account, subject: str, due: dt.date, done: bool = False) -> None:
    activity_create(
        actor=user,
        data={
            "account": account.pk,
            "kind": "task",
            "subject": subject,
            "due_date": due,
            "is_done": done,
        },
    )


def test_my_day_lists_due_and_overdue_work_and_my_pipeline(org):
    # given
    account = make_account(org, legal_name="Day Co., Ltd.")
    today = timezone.localdate()
    _task(org, org.rep, account, "Send the quotation", today)
    _task(org, org.rep, account, "Chase the PO", today - dt.timedelta(days=3))
    _task(org, org.rep, account, "Already done", today, done=True)
    _task(org, org.rep, account, "Next week", today + dt.timedelta(days=7))
    _task(org, org.other_rep, account, "Someone else's", today)
    proposal = Stage.objects.get(pipeline=org.pipeline, name="Proposal")
    for amount in ("100000", "250000.50"):
        opportunity_create(
            actor=org.rep,
            data={"account": account.pk, "name": f"Deal {amount}", "stage": proposal.pk,
                  "amount": Decimal(amount)},
        )  # fmt: skip
    # when
    response = signed_in(org.rep).get("/")
    # then
    assert [a.subject for a in response.context["due_today"]] == ["Send the quotation"]
    assert [a.subject for a in response.context["overdue"]] == ["Chase the PO"]
    assert [(r["stage__name"], r["count"], r["total"]) for r in response.context["pipeline"]] == [
        ("Proposal", 2, Decimal("350000.50"))
    ]
    html = response.content.decode()
    assert "฿350,000.50" in html
    work = html.split('id="due"')[1].split('id="recent-changes"')[0]
    assert "Chase the PO" in work and "Send the quotation" in work
    assert "Next week" not in work and "Already done" not in work and "Someone else" not in work


def test_my_day_query_count_does_not_grow_with_rows(org):
    account = make_account(org, legal_name="Count Co., Ltd.")
    today = timezone.localdate()
    _task(org, org.rep, account, "Task 0", today)
    client = signed_in(org.rep)
    client.get("/")

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/").status_code == 200
        return len(ctx.captured_queries)

    few = count()
    for n in range(1, 6):
        _task(org, org.rep, account, f"Task {n}", today - dt.timedelta(days=n % 2))
    assert count() == few


def _lead(owner, name: str) -> Lead:
    return lead_create(actor=owner, data={"company_name": name, "owner": owner.pk})


def test_recent_changes_on_my_records_newest_first_last_seven_days(org):
    # given: the rep's records, changed by the rep and by their manager
    account = make_account(org, legal_name="Change Co., Ltd.")
    eight_days_ago = timezone.now() - dt.timedelta(days=8)
    with mock.patch("django.utils.timezone.now", return_value=eight_days_ago):
        old = _lead(org.rep, "Old lead")  # created and last changed eight days ago
    lead = _lead(org.rep, "Fresh lead")
    opp = opportunity_create(actor=org.rep, data={"account": account.pk, "name": "Copier deal"})
    with acting_as(org.manager, Source.WEB):
        lead_update(actor=org.manager, lead=lead, data={"status": "working"})
    _lead(org.other_rep, "Colleague's lead")  # not the rep's
    # when
    response = signed_in(org.rep).get("/")
    # then
    changes = response.context["recent_changes"]
    assert [(c.event.action, c.event.record_label) for c in changes] == [
        ("update", "Fresh lead"),
        ("create", "Copier deal"),
        ("create", "Fresh lead"),
    ]
    assert changes[0].event.actor_name == "manager"
    assert changes[0].fields == ["status"]
    assert changes[0].url == f"/leads/{lead.pk}/edit/"
    assert changes[1].url == f"/opportunities/{opp.pk}/edit/"
    html = response.content.decode().split('id="recent-changes"')[1]
    assert "Fresh lead" in html and "Old lead" not in html and "Colleague" not in html
    assert str(old.pk) not in {c.event.record_id for c in changes}


def test_recent_changes_are_limited(org, monkeypatch):
    monkeypatch.setattr("accord.web.views.RECENT_CHANGES_LIMIT", 2)
    for n in range(4):
        _lead(org.rep, f"Lead {n}")
    changes = signed_in(org.rep).get("/").context["recent_changes"]
    assert [c.event.record_label for c in changes] == ["Lead 3", "Lead 2"]


def test_my_day_with_recent_changes_takes_the_same_queries_whatever_the_rows(org):
    # given: one change of each kind of record
    account = make_account(org, legal_name="Count Co., Ltd.")
    today = timezone.localdate()
    _task(org, org.rep, account, "Task 0", today)
    _lead(org.rep, "Lead 0")
    opportunity_create(actor=org.rep, data={"account": account.pk, "name": "Deal 0"})
    client = signed_in(org.rep)
    client.get("/")

    def count() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as ctx:
            response = client.get("/")
        return len(ctx.captured_queries), len(response.context["recent_changes"])

    few, shown = count()
    assert shown == 3
    # when: many more changes on many more records
    for n in range(1, 6):
        _task(org, org.rep, account, f"Task {n}", today)
        lead = _lead(org.rep, f"Lead {n}")
        lead_update(actor=org.rep, lead=lead, data={"status": "working"})
        opportunity_create(actor=org.rep, data={"account": account.pk, "name": f"Deal {n}"})
    # then
    many, shown = count()
    assert shown == 15
    assert many == few
