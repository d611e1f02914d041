"""Leads, opportunities (stage rules, line items) and activities through the HTTP API."""

from __future__ import annotations

from decimal import Decimal

import pytest

from accord.activities.models import Activity
from accord.audit.models import AuditEvent
from accord.dataquality.models import RequiredFieldRule
from accord.sales.models import Lead, Opportunity, Product, Stage
from tests.conftest import make_account

pytestmark = pytest.mark.django_db


def _stage(org, name: str) -> Stage:
    return Stage.objects.get(pipeline=org.pipeline, name=name)


def _proposal_needs_amount_and_close_date(org) -> None:
    for field in ("amount", "expected_close_date"):
        RequiredFieldRule.objects.create(
            record_type="opportunity", field=field, stage=_stage(org, "Proposal")
        )
    RequiredFieldRule.objects.create(
        record_type="opportunity",
        field="lost_reason",
        stage=_stage(org, "Closed lost"),
        applies_to_later_stages=False,
    )


def _new_opportunity(org, api, **extra):
    account = make_account(org, legal_name="Buyer Co., Ltd.")
    response = api.post(
        "/opportunities", {"name": "50 printers", "account": str(account.pk), **extra}
    )
    assert response.status_code == 201, response.content
    return response.json()


def test_lead_create_defaults_owner_and_unit(org, api_as):
    api = api_as(org.rep)
    response = api.post("/leads", {"company_name": "Prospect Co., Ltd.", "source": "web_form"})
    assert response.status_code == 201
    body = response.json()
    assert body["owner"] == str(org.rep.pk)
    assert body["business_unit"] == str(org.unit.pk)
    assert body["status"] == "new"


def test_rep_cannot_assign_lead_to_a_colleague_but_manager_can(org, api_as):
    refused = api_as(org.rep).post("/leads", {"company_name": "X", "owner": str(org.other_rep.pk)})
    assert refused.status_code == 403
    assert refused.json()["code"] == "owner_not_assignable"
    allowed = api_as(org.manager).post("/leads", {"company_name": "X", "owner": str(org.rep.pk)})
    assert allowed.status_code == 201
    assert Lead.objects.get().owner == org.rep


def test_disqualifying_a_lead_needs_a_reason(org, api_as):
    api = api_as(org.rep)
    lead_id = api.post("/leads", {"company_name": "Cold Co."}).json()["id"]
    refused = api.patch(f"/leads/{lead_id}", {"status": "disqualified"})
    assert refused.status_code == 422
    assert list(refused.json()["errors"]) == ["disqualified_reason"]
    ok = api.patch(
        f"/leads/{lead_id}", {"status": "disqualified", "disqualified_reason": "No budget"}
    )
    assert ok.status_code == 200
    assert api.patch(f"/leads/{lead_id}", {"status": "converted"}).status_code == 422


def test_opportunity_defaults_to_the_units_pipeline_and_first_stage(org, api_as):
    body = _new_opportunity(org, api_as(org.rep))
    assert body["pipeline"] == str(org.pipeline.pk)
    assert body["stage"] == str(_stage(org, "Prospecting").pk)
    assert body["owner"] == str(org.rep.pk)
    assert body["business_unit"] == str(org.unit.pk)
    assert body["currency"] == "THB"


def test_stage_rule_blocks_proposal_without_amount_and_close_date(org, api_as):
    # given
    _proposal_needs_amount_and_close_date(org)
    api = api_as(org.rep)
    opp = _new_opportunity(org, api)
    proposal = str(_stage(org, "Proposal").pk)
    # when
    refused = api.patch(f"/opportunities/{opp['id']}", {"stage": proposal})
    # then
    assert refused.status_code == 422
    assert refused.json()["code"] == "required_fields_missing"
    assert set(refused.json()["errors"]) == {"amount", "expected_close_date"}
    assert "Proposal" in refused.json()["detail"]
    assert Opportunity.objects.get().stage.name == "Prospecting"
    # and once filled in, the move succeeds
    moved = api.patch(
        f"/opportunities/{opp['id']}",
        {"stage": proposal, "amount": "250000.00", "expected_close_date": "2026-12-31"},
    )
    assert moved.status_code == 200, moved.content
    assert moved.json()["stage"] == proposal


def test_stage_rule_applies_to_later_stages_but_not_lost(org, api_as):
    _proposal_needs_amount_and_close_date(org)
    api = api_as(org.rep)
    opp = _new_opportunity(org, api)
    won = api.patch(f"/opportunities/{opp['id']}", {"stage": str(_stage(org, "Closed won").pk)})
    assert won.status_code == 422
    assert set(won.json()["errors"]) == {"amount", "expected_close_date"}
    lost = api.patch(f"/opportunities/{opp['id']}", {"stage": str(_stage(org, "Closed lost").pk)})
    assert lost.status_code == 422
    assert set(lost.json()["errors"]) == {"lost_reason"}
    lost = api.patch(
        f"/opportunities/{opp['id']}",
        {"stage": str(_stage(org, "Closed lost").pk), "lost_reason": "Price"},
    )
    assert lost.status_code == 200
    assert lost.json()["closed_at"] is not None


def test_create_directly_in_a_guarded_stage_is_checked_too(org, api_as):
    _proposal_needs_amount_and_close_date(org)
    account = make_account(org)
    response = api_as(org.rep).post(
        "/opportunities",
        {"name": "Direct", "account": str(account.pk), "stage": str(_stage(org, "Proposal").pk)},
    )
    assert response.status_code == 422
    assert Opportunity.objects.count() == 0


def test_line_items_set_the_amount(org, api_as):
    product_a, product_b = Product.objects.order_by("code")
    body = _new_opportunity(
        org,
        api_as(org.rep),
        line_items=[
            {"product": str(product_a.pk), "quantity": "2"},
            {
                "product": str(product_b.pk),
                "quantity": "3",
                "unit_price": "500",
                "discount_percent": "10",
            },
        ],
    )
    # 2 * 1000 + 3 * 500 * 0.9
    assert Decimal(body["amount"]) == Decimal("3350.00")
    assert [Decimal(li["total"]) for li in body["line_items"]] == [
        Decimal("2000.00"),
        Decimal("1350.00"),
    ]
    created = AuditEvent.objects.get(record_type="sales.opportunity", action="create")
    assert len(created.changes["line_items"][1]) == 2


def test_stage_of_another_pipeline_is_refused(org, api_as):
    api = api_as(org.rep)
    opp = _new_opportunity(org, api)
    foreign = Stage.objects.exclude(pipeline=org.pipeline).first()
    response = api.patch(
        f"/opportunities/{opp['id']}", {"stage": str(foreign.pk), "pipeline": str(org.pipeline.pk)}
    )
    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["stage"]


def test_rep_cannot_see_a_colleagues_opportunity(org, api_as):
    opp = _new_opportunity(org, api_as(org.other_rep))
    api = api_as(org.rep)
    assert api.get(f"/opportunities/{opp['id']}").status_code == 404
    assert api.get("/opportunities").json()["items"] == []
    manager_view = api_as(org.manager).get("/opportunities").json()["items"]
    assert [o["id"] for o in manager_view] == [opp["id"]]


def test_executive_reads_everything_but_writes_nothing(org, api_as):
    opp = _new_opportunity(org, api_as(org.rep))
    api = api_as(org.executive)
    assert api.get(f"/opportunities/{opp['id']}").status_code == 200
    refused = api.patch(f"/opportunities/{opp['id']}", {"name": "Renamed"})
    assert refused.status_code == 403


def test_log_visit_and_see_it_on_the_account_timeline(org, api_as):
    # given
    api = api_as(org.rep)
    account = make_account(org, legal_name="Visited Co., Ltd.")
    # when
    response = api.post(
        "/activities",
        {
            "kind": "visit",
            "subject": "Quarterly review",
            "account": str(account.pk),
            "start_at": "2026-11-20T10:00:00+07:00",
            "latitude": "13.756331",
            "longitude": "100.501762",
        },
    )
    # then
    assert response.status_code == 201, response.content
    activity = Activity.objects.get()
    assert activity.performed_by == org.rep
    timeline = api.get(f"/accounts/{account.pk}/timeline").json()["items"]
    kinds = [(item["kind"], (item["activity"] or {}).get("subject")) for item in timeline]
    assert kinds == [("audit", None), ("activity", "Quarterly review")]


def test_activity_links_must_agree(org, api_as):
    api = api_as(org.rep)
    opp = _new_opportunity(org, api)
    other = make_account(org, legal_name="Other Co., Ltd.")
    response = api.post(
        "/activities",
        {"kind": "call", "subject": "Call", "account": str(other.pk), "opportunity": opp["id"]},
    )
    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["opportunity"]
    inferred = api.post(
        "/activities", {"kind": "call", "subject": "Call", "opportunity": opp["id"]}
    )
    assert inferred.json()["account"] == opp["account"]


def test_task_needs_a_due_date_and_done_sets_done_at(org, api_as):
    api = api_as(org.rep)
    account = make_account(org)
    refused = api.post(
        "/activities", {"kind": "task", "subject": "Send quote", "account": str(account.pk)}
    )
    assert refused.status_code == 422
    assert list(refused.json()["errors"]) == ["due_date"]
    task = api.post(
        "/activities",
        {
            "kind": "task",
            "subject": "Send quote",
            "account": str(account.pk),
            "due_date": "2026-11-30",
        },
    ).json()
    done = api.patch(f"/activities/{task['id']}", {"is_done": True}).json()
    assert done["is_done"] is True
    assert done["done_at"] is not None


def test_timeline_pages_are_disjoint_and_complete(org, api_as):
    api = api_as(org.rep)
    account = make_account(org)
    for day in range(1, 8):
        api.post(
            "/activities",
            {
                "kind": "call",
                "subject": f"Call {day}",
                "account": str(account.pk),
                "start_at": f"2026-11-{day:02d}T09:00:00+07:00",
            },
        )
    seen, cursor = [], None
    while True:
        body = api.get(
            f"/accounts/{account.pk}/timeline", limit=3, **({"cursor": cursor} if cursor else {})
        ).json()
        seen += [
            (i["kind"], (i["activity"] or i["event"]).get("subject") or i["event"]["seq"])
            for i in body["items"]
        ]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 8
    assert [s for k, s in seen if k == "activity"] == [f"Call {d}" for d in range(7, 0, -1)]
