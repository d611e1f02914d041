"""My day: today's and overdue open activities, my open opportunities by stage."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accord.activities.services import activity_create
from accord.sales.models import Stage
from accord.sales.services import opportunity_create
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
    assert "Next week" not in html and "Already done" not in html and "Someone else" not in html


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
