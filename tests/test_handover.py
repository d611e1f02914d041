"""Handover: a leaver's open work goes to colleagues in one audited step; history stays."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from accord.activities.services import activity_create
from accord.audit.models import AuditEvent, SecurityEvent
from accord.core.errors import PermissionDenied, ValidationFailed
from accord.org.models import User
from accord.sales.models import Lead, Opportunity, Stage
from accord.sales.services import lead_create, opportunity_create, opportunity_update
from accord.territories.handover import handover_apply, handover_plan, still_owned_by
from accord.territories.models import AccountOwner, AccountTeamMember
from accord.territories.ownership import (
    account_owner_set,
    account_team_add,
    assignment_rule_create,
)
from tests.conftest import make_account

pytestmark = pytest.mark.django_db


def _work(org):
    """The rep's book: open and closed records, in the north district and without one."""
    account = make_account(org, legal_name="Handover Co., Ltd.")
    rep = org.rep
    lead_north = lead_create(
        actor=rep, data={"company_name": "North Lead", "district": org.north.pk}
    )
    lead_nowhere = lead_create(actor=rep, data={"company_name": "Nowhere Lead"})
    open_opp = opportunity_create(actor=rep, data={"name": "Open deal", "account": account.pk})
    won_opp = opportunity_create(actor=rep, data={"name": "Won deal", "account": account.pk})
    opportunity_update(
        actor=rep,
        opportunity=won_opp,
        data={"stage": Stage.objects.get(pipeline=org.pipeline, name="Closed won").pk},
    )
    task = activity_create(
        actor=rep,
        data={
            "kind": "task",
            "subject": "Send the quote",
            "account": account.pk,
            "due_date": timezone.localdate() + dt.timedelta(days=3),
        },
    )
    visit = activity_create(
        actor=rep,
        data={"kind": "visit", "subject": "First visit", "account": account.pk, "is_done": True},
    )
    return lead_north, lead_nowhere, open_opp, won_opp, task, visit


def test_preview_by_district_names_a_covering_colleague_or_the_manager(org):
    lead_north, lead_nowhere, open_opp, _won, task, _visit = _work(org)
    plan = handover_plan(actor=org.manager, leaving=org.rep, rule="by_district")
    owners = {item.id: (item.new_owner, item.reason) for item in plan.items}
    assert owners == {
        lead_north.pk: (org.other_rep, "covers the district"),
        lead_nowhere.pk: (org.manager, "nobody else covers the district"),
        open_opp.pk: (org.other_rep, "covers the district"),
        task.pk: (org.other_rep, "covers the district"),
    }
    assert plan.counts() == {"lead": 2, "opportunity": 1, "activity": 1}
    assert Lead.objects.get(pk=lead_north.pk).owner_id == org.rep.pk  # a preview changes nothing


def test_apply_moves_open_work_keeps_history_and_deactivates(org):
    lead_north, _lead_nowhere, open_opp, won_opp, _task, visit = _work(org)
    plan = handover_apply(
        actor=org.manager,
        leaving=org.rep,
        rule="by_district",
        overrides={str(open_opp.pk): org.manager.pk},
        deactivate=True,
    )
    assert len(plan.items) == 4
    assert still_owned_by(org.rep) == {}
    assert Opportunity.objects.get(pk=open_opp.pk).owner_id == org.manager.pk
    assert Lead.objects.get(pk=lead_north.pk).owner_id == org.other_rep.pk
    # history stays with the person who made it
    assert Opportunity.objects.get(pk=won_opp.pk).owner_id == org.rep.pk
    assert type(visit).objects.get(pk=visit.pk).performed_by_id == org.rep.pk
    assert not User.objects.get(pk=org.rep.pk).is_active
    event = AuditEvent.objects.filter(record_id=str(open_opp.pk)).latest("seq")
    assert event.changes["owner"] == [str(org.rep.pk), str(org.manager.pk)]
    assert event.changes["handover"] == {"from": "rep", "by": "manager"}
    logged = SecurityEvent.objects.get(kind="ownership_change")
    assert logged.actor_id == org.manager.pk
    assert logged.detail["counts"] == {"lead": 2, "opportunity": 1, "activity": 1}


def test_everything_to_one_person(org):
    _work(org)
    handover_apply(actor=org.manager, leaving=org.rep, to=org.other_rep)
    assert still_owned_by(org.rep) == {}
    assert Lead.objects.filter(owner=org.other_rep).count() == 2


def test_only_managers_up_the_line_or_administrators_hand_over(org):
    _work(org)
    for actor in (org.other_rep, org.rep, org.steward, org.executive):
        with pytest.raises(PermissionDenied):
            handover_plan(actor=actor, leaving=org.rep, to=org.other_rep)
    assert handover_plan(actor=org.admin, leaving=org.rep, to=org.other_rep).items


def test_bad_choices_are_refused_and_nothing_moves(org):
    lead_north, *_ = _work(org)
    with pytest.raises(ValidationFailed) as refused:
        handover_apply(actor=org.manager, leaving=org.rep, to=org.south_rep)  # not the manager's
    assert any("may not assign" in m for ms in refused.value.errors.values() for m in ms)
    with pytest.raises(ValidationFailed) as unknown:
        handover_apply(
            actor=org.manager,
            leaving=org.rep,
            to=org.other_rep,
            overrides={"00000000-0000-0000-0000-000000000000": org.other_rep.pk},
        )
    assert "overrides" in unknown.value.errors
    with pytest.raises(ValidationFailed):
        handover_plan(actor=org.manager, leaving=org.rep, rule="to")  # nobody chosen
    assert Lead.objects.get(pk=lead_north.pk).owner_id == org.rep.pk
    assert User.objects.get(pk=org.rep.pk).is_active


def test_handover_through_the_api(org, api_as):
    lead_north, *_ = _work(org)
    api = api_as(org.manager)
    preview = api.post(f"/org/users/{org.rep.pk}/handover/preview", {"rule": "by_district"})
    assert preview.status_code == 200, preview.content
    body = preview.json()
    assert body["counts"] == {"lead": 2, "opportunity": 1, "activity": 1}
    assert {i["new_owner_username"] for i in body["items"]} == {"other", "manager"}
    refused = api_as(org.other_rep).post(
        f"/org/users/{org.rep.pk}/handover", {"to": str(org.other_rep.pk)}
    )
    assert refused.status_code == 403
    assert refused.json()["code"] == "handover_not_allowed"
    done = api.post(
        f"/org/users/{org.rep.pk}/handover",
        {"rule": "by_district", "deactivate": True, "to": str(org.manager.pk)},
    )
    assert done.status_code == 200, done.content
    assert still_owned_by(org.rep) == {}
    assert Lead.objects.get(pk=lead_north.pk).owner_id == org.other_rep.pk
    nobody = "00000000-0000-0000-0000-000000000000"
    unknown = api.post(f"/org/users/{nobody}/handover", {"to": str(org.manager.pk)})
    assert unknown.status_code == 404


def _accounts_of_rep(org):
    """The rep owns two accounts (one by a rule at approval) and is on a third's team."""
    assignment_rule_create(
        actor=org.admin,
        data={
            "name": "North to rep",
            "business_unit": org.unit.pk,
            "owner": org.rep.pk,
            "districts": [org.north.pk],
        },
    )
    by_rule = make_account(org, legal_name="Rule Owned Co., Ltd.")
    south = make_account(org, legal_name="South Owned Co., Ltd.", district=org.south)
    account_owner_set(actor=org.steward, account=south, business_unit=org.unit, owner=org.rep)
    teamed = make_account(org, legal_name="Team Co., Ltd.", district=org.south)
    member = account_team_add(
        actor=org.steward, account=teamed, user=org.rep, data={"role": "pre_sales"}
    )
    return by_rule, south, teamed, member


def test_after_a_handover_and_deactivation_the_leaver_owns_nothing(org):
    # given: open work, two owned accounts and a place on an account team
    _work(org)
    by_rule, south, _teamed, member = _accounts_of_rep(org)
    assert still_owned_by(org.rep) == {
        "lead": 2,
        "opportunity": 1,
        "activity": 1,
        "account": 2,
        "account_team": 1,
    }
    # when
    plan = handover_apply(actor=org.manager, leaving=org.rep, rule="by_district", deactivate=True)
    # then: nothing is left in the leaver's name
    assert plan.counts()["account"] == 2 and plan.counts()["account_team"] == 1
    assert still_owned_by(org.rep) == {}
    assert not User.objects.get(pk=org.rep.pk).is_active
    assert not Lead.objects.filter(owner=org.rep, status__in=("new", "working", "qualified"))
    assert not AccountOwner.objects.filter(owner=org.rep).exists()
    # the north account went to the colleague covering north, the south one to the manager
    owners = {
        row.account_id: (row.owner.username, row.source)
        for row in AccountOwner.objects.select_related("owner")
    }
    assert owners == {by_rule.pk: ("other", "handover"), south.pk: ("manager", "handover")}
    assert AccountTeamMember.objects.get(pk=member.pk).user_id == org.manager.pk
    row = AccountOwner.objects.get(account=by_rule)
    event = AuditEvent.objects.filter(record_id=str(row.pk)).latest("seq")
    assert event.changes["owner"] == [str(org.rep.pk), str(org.other_rep.pk)]
    assert event.changes["handover"] == {"from": "rep", "by": "manager"}


def test_an_account_goes_only_to_a_member_of_its_unit(org):
    by_rule, *_ = _accounts_of_rep(org)
    row = AccountOwner.objects.get(account=by_rule)
    with pytest.raises(ValidationFailed) as refused:
        handover_apply(
            actor=org.admin, leaving=org.rep, to=org.other_rep, overrides={str(row.pk): org.steward}
        )
    assert refused.value.errors == {
        f"overrides.{row.pk}": [
            "Rule Owned Co., Ltd. · Business Solution Development: the new owner must be a "
            "member of the account's business unit."
        ]
    }
    assert AccountOwner.objects.get(pk=row.pk).owner_id == org.rep.pk
