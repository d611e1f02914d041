"""Ownership disputes: a rep claims an account, the owner answers, the manager responsible
decides (keep, transfer, split) before the deadline or the regional manager does after it.
Services, the escalation command, the REST API and the report."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal as D
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from accord.activities.services import activity_create
from accord.audit.models import AuditEvent
from accord.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from accord.customers.models import Account
from accord.insights.reports import ReportFilters, ReportName, report_build
from accord.org.models import Notification, ProductLine, Role, User
from accord.territories.disputes import (
    dispute_answer,
    dispute_decide,
    dispute_open,
    dispute_withdraw,
    disputes_escalate_overdue,
    disputes_of_account,
    disputes_visible_to,
)
from accord.territories.models import (
    AccountOwner,
    DisputeStatus,
    OwnershipDispute,
    OwnershipSource,
    SellingPolicy,
)
from tests.conftest import Org, make_account
from tests.factories import ProductLineFactory, RegionFactory, UserFactory

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


@dataclass
class World:
    org: Org
    account: Account
    regional: User
    lines: list[ProductLine]


@pytest.fixture
def world(org: Org) -> World:
    """An account in the north district owned in the unit by ``other_rep`` (whose manager is
    the unit's sales manager); the region's regional manager; three product lines the unit
    sells."""
    account = make_account(org, legal_name="Disputed Trading Co., Ltd.")
    AccountOwner.objects.create(account=account, business_unit=org.unit, owner=org.other_rep)
    regional = UserFactory(username="regional", role=Role.REGIONAL_MANAGER, region=org.north.region)
    lines = [ProductLineFactory(name=name) for name in ("Copiers", "Managed print", "Cloud")]
    org.unit.product_lines.set(lines)
    return World(org, account, regional, lines)


def claim(world: World, **kwargs: Any) -> OwnershipDispute:
    kwargs.setdefault("actor", world.org.rep)
    kwargs.setdefault("account", world.account)
    kwargs.setdefault("reason", "I have visited them monthly since 2024.")
    kwargs.setdefault("now", T0)
    return dispute_open(**kwargs)


def notes(user: User, kind: str) -> list[Notification]:
    return list(Notification.objects.filter(recipient=user, kind=kind))


def steps(dispute: OwnershipDispute) -> list[str]:
    return [
        e.changes["dispute_step"]
        for e in AuditEvent.objects.filter(
            record_type="territories.ownershipdispute", record_id=str(dispute.pk)
        ).order_by("seq")
    ]


def unit_owner(world: World, line: ProductLine | None = None) -> User:
    return AccountOwner.objects.get(
        account=world.account, business_unit=world.org.unit, product_line=line
    ).owner


# --- opening a claim ----------------------------------------------------------------------


def test_a_claim_names_owner_and_decider_sets_the_deadline_and_tells_them(world: World) -> None:
    org = world.org
    # given an activity of the rep on the account
    visit = activity_create(
        actor=org.rep,
        data={"kind": "visit", "subject": "Quarterly visit", "account": world.account.pk},
    )
    # when the rep claims the account
    dispute = claim(world, evidence="Purchase orders 2024-2025", activities=[visit])
    # then the owner is the unit's owner, the decider the owner's manager, due in 10 days
    assert dispute.business_unit == org.unit
    assert dispute.owner == org.other_rep
    assert dispute.decider == org.manager
    assert dispute.status == DisputeStatus.OPEN
    assert dispute.deadline == T0 + dt.timedelta(days=10)
    assert list(dispute.activities.all()) == [visit]
    # and the owner and the decider are told, once each
    assert len(notes(org.other_rep, "dispute_opened")) == 1
    assert len(notes(org.manager, "dispute_to_decide")) == 1
    assert Notification.objects.filter(related_id=str(dispute.pk)).count() == 2
    # and the step is on the audit trail, with the backing activities
    event = AuditEvent.objects.get(
        record_type="territories.ownershipdispute", record_id=str(dispute.pk)
    )
    assert event.action == "create"
    assert event.changes["activities"] == [str(visit.pk)]
    assert event.changes["owner"] == [None, str(org.other_rep.pk)]


def test_the_selling_policy_sets_the_deadline(world: World) -> None:
    # given a policy giving managers three days
    SellingPolicy.objects.create(dispute_decision_days=3)
    # when a claim is opened, then it is due in three days
    assert claim(world).deadline == T0 + dt.timedelta(days=3)


def test_without_an_owner_the_decider_is_a_unit_manager_covering_the_district(
    world: World,
) -> None:
    org = world.org
    # given nobody owns the account, and a second manager of the unit covers the north
    AccountOwner.objects.filter(account=world.account).delete()
    covering = UserFactory(
        username="northboss",
        role=Role.SALES_MANAGER,
        business_unit=org.unit,
        districts=[org.north],
    )
    # when the rep claims it
    dispute = claim(world)
    # then there is no owner, and the covering manager decides
    assert dispute.owner is None
    assert dispute.decider == covering
    # and with nobody covering the district, the claimant's manager decides
    covering.districts.clear()
    dispute_withdraw(actor=org.rep, dispute=dispute, now=T0)
    assert claim(world).decider == org.manager


@pytest.mark.parametrize(
    ("change", "error", "code", "field"),
    [
        ("owner", Conflict, "dispute_already_owner", None),
        ("twice", Conflict, "dispute_duplicate", None),
        ("blank_reason", ValidationFailed, "validation_failed", "reason"),
        ("other_unit", ValidationFailed, "validation_failed", "business_unit"),
        ("foreign_activity", ValidationFailed, "validation_failed", "activities"),
    ],
)
def test_bad_claims_are_refused_and_change_nothing(
    world: World, change: str, error: type[Exception], code: str, field: str | None
) -> None:
    org = world.org
    kwargs: dict[str, Any] = {}
    if change == "owner":  # the rep already owns it in the unit
        AccountOwner.objects.filter(account=world.account).update(owner=org.rep)
    elif change == "twice":
        claim(world)
    elif change == "blank_reason":
        kwargs["reason"] = "   "
    elif change == "other_unit":
        kwargs["business_unit"] = org.other_unit
    elif change == "foreign_activity":
        elsewhere = make_account(org, legal_name="Elsewhere Co., Ltd.")
        kwargs["activities"] = [
            activity_create(
                actor=org.rep,
                data={"kind": "call", "subject": "Call", "account": elsewhere.pk},
            )
        ]
    before = OwnershipDispute.objects.count()
    with pytest.raises(error) as raised:
        claim(world, **kwargs)
    assert raised.value.code == code  # type: ignore[attr-defined]
    if field is not None:
        assert list(raised.value.errors) == [field]  # type: ignore[attr-defined]
    assert OwnershipDispute.objects.count() == before


def test_an_account_the_claimant_cannot_see_is_not_found_and_read_only_roles_cannot_claim(
    world: World,
) -> None:
    org = world.org
    # the south rep does not see a north account
    with pytest.raises(NotFound):
        claim(world, actor=org.south_rep)
    # an executive sees it but only reads
    with pytest.raises(PermissionDenied):
        claim(world, actor=org.executive)
    assert OwnershipDispute.objects.count() == 0


# --- answer, decide, withdraw -------------------------------------------------------------


def test_keep_after_the_owners_answer_changes_no_ownership(world: World) -> None:
    org = world.org
    dispute = claim(world)
    # when the owner answers and the manager keeps the owner
    dispute_answer(
        actor=org.other_rep,
        dispute=dispute,
        answer="I closed their last three deals.",
        now=T0 + dt.timedelta(days=1),
    )
    assert len(notes(org.manager, "dispute_answered")) == 1
    assert len(notes(org.rep, "dispute_answered")) == 1
    decided = dispute_decide(
        actor=org.manager,
        dispute=dispute,
        outcome="keep",
        note="The owner has the relationship.",
        now=T0 + dt.timedelta(days=2),
    )
    # then it is decided, the owner stays, both are told, every step is audited
    decided.refresh_from_db()
    assert (decided.status, decided.outcome) == (DisputeStatus.DECIDED, "keep")
    assert decided.owner_answer == "I closed their last three deals."
    assert decided.answered_at == T0 + dt.timedelta(days=1)
    assert decided.decided_by == org.manager
    assert decided.decided_at == T0 + dt.timedelta(days=2)
    assert unit_owner(world) == org.other_rep
    assert len(notes(org.rep, "dispute_decided")) == 1
    assert len(notes(org.other_rep, "dispute_decided")) == 1
    assert steps(dispute) == ["open", "answer", "decide"]
    assert not AuditEvent.objects.filter(record_type="territories.accountowner").exists()


def test_transfer_gives_the_units_ownership_to_the_claimant_on_the_record(world: World) -> None:
    org = world.org
    dispute = claim(world)
    row = AccountOwner.objects.get(account=world.account, business_unit=org.unit)
    # when the manager transfers
    dispute_decide(actor=org.manager, dispute=dispute, outcome="transfer", note="Rep's customer.")
    # then the unit's row is the claimant's, from a dispute
    row.refresh_from_db()
    assert (row.owner, row.source) == (org.rep, OwnershipSource.DISPUTE)
    assert AccountOwner.objects.filter(account=world.account).count() == 1
    # and the change of owner is audited with the old and new owner
    change = AuditEvent.objects.get(record_type="territories.accountowner", record_id=str(row.pk))
    assert change.action == "update"
    assert change.changes["owner"] == [str(org.other_rep.pk), str(org.rep.pk)]
    assert change.changes["dispute"] == str(dispute.pk)


def test_transfer_without_an_owner_creates_the_units_row(world: World) -> None:
    org = world.org
    AccountOwner.objects.filter(account=world.account).delete()
    dispute = claim(world)
    dispute_decide(actor=org.manager, dispute=dispute, outcome="transfer", note="Unowned.")
    row = AccountOwner.objects.get(account=world.account, business_unit=org.unit)
    assert (row.owner, row.product_line, row.source) == (org.rep, None, "dispute")
    created = AuditEvent.objects.get(record_type="territories.accountowner", record_id=str(row.pk))
    assert (created.action, created.changes["owner"]) == ("create", [None, str(org.rep.pk)])


def test_split_gives_the_claimant_the_chosen_lines_and_the_owner_keeps_the_rest(
    world: World,
) -> None:
    org = world.org
    copiers, managed, _cloud = world.lines
    dispute = claim(world)
    # when the manager splits: copiers and managed print to the claimant
    decided = dispute_decide(
        actor=org.manager,
        dispute=dispute,
        outcome="split",
        product_lines=[copiers.pk, str(managed.pk)],
        note="Each keeps what they sell.",
    )
    # then the claimant owns those lines, the owner still the whole unit (the rest)
    assert unit_owner(world, copiers) == org.rep
    assert unit_owner(world, managed) == org.rep
    assert unit_owner(world) == org.other_rep
    assert set(decided.split_product_lines.all()) == {copiers, managed}
    changes = AuditEvent.objects.filter(record_type="territories.accountowner", action="create")
    assert sorted(e.changes["product_line"] for e in changes) == sorted(
        [copiers.code, managed.code]
    )


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ("none", "Choose the product lines the claimant gets."),
        ("foreign", "Choose product lines that Business Solution Development sells."),
        ("all", "To give the claimant every line, transfer the account instead."),
    ],
)
def test_a_split_needs_some_of_the_units_lines(world: World, lines: str, message: str) -> None:
    org = world.org
    dispute = claim(world)
    chosen = {
        "none": [],
        "foreign": [ProductLineFactory(name="Not sold here")],
        "all": world.lines,
    }[lines]
    with pytest.raises(ValidationFailed) as raised:
        dispute_decide(
            actor=org.manager, dispute=dispute, outcome="split", product_lines=chosen, note="x"
        )
    assert raised.value.errors == {"product_lines": [message]}
    dispute.refresh_from_db()
    assert dispute.status == DisputeStatus.OPEN
    assert AccountOwner.objects.filter(account=world.account).count() == 1


def test_only_the_right_people_answer_decide_and_withdraw(world: World) -> None:
    org = world.org
    dispute = claim(world)
    # the claimant, the owner and other managers do not decide; executives do not either
    other_manager = UserFactory(role=Role.SALES_MANAGER, business_unit=org.unit)
    for person in (org.rep, org.other_rep, other_manager, org.executive, world.regional):
        with pytest.raises(PermissionDenied):
            dispute_decide(actor=person, dispute=dispute, outcome="keep", note="No.")
    # only the owner answers
    with pytest.raises(PermissionDenied):
        dispute_answer(actor=org.rep, dispute=dispute, answer="Mine!")
    # only the claimant withdraws
    with pytest.raises(PermissionDenied):
        dispute_withdraw(actor=org.manager, dispute=dispute)
    # the owner answers once
    dispute_answer(actor=org.other_rep, dispute=dispute, answer="No.", now=T0)
    with pytest.raises(Conflict) as twice:
        dispute_answer(actor=org.other_rep, dispute=dispute, answer="Again.", now=T0)
    assert twice.value.code == "dispute_answered"
    # a decision needs a reason on the record
    with pytest.raises(ValidationFailed) as no_note:
        dispute_decide(actor=org.manager, dispute=dispute, outcome="keep", note=" ")
    assert list(no_note.value.errors) == ["note"]
    # an administrator may always decide; once decided, nothing more happens
    dispute_decide(actor=org.admin, dispute=dispute, outcome="keep", note="Admin decision.")
    for attempt in (
        lambda: dispute_decide(actor=org.manager, dispute=dispute, outcome="transfer", note="x"),
        lambda: dispute_withdraw(actor=org.rep, dispute=dispute),
    ):
        with pytest.raises(Conflict) as closed:
            attempt()
        assert closed.value.code == "dispute_closed"
    assert steps(dispute) == ["open", "answer", "decide"]


def test_the_owner_answers_only_within_the_answer_period(world: World) -> None:
    org = world.org
    dispute = claim(world)
    with pytest.raises(Conflict) as late:
        dispute_answer(
            actor=org.other_rep,
            dispute=dispute,
            answer="Sorry, I was away.",
            now=T0 + dt.timedelta(days=5, seconds=1),
        )
    assert late.value.code == "dispute_answer_too_late"
    dispute_answer(
        actor=org.other_rep, dispute=dispute, answer="In time.", now=T0 + dt.timedelta(days=5)
    )


def test_withdraw_closes_the_claim_and_tells_owner_and_decider(world: World) -> None:
    org = world.org
    dispute = claim(world)
    withdrawn = dispute_withdraw(actor=org.rep, dispute=dispute, now=T0 + dt.timedelta(hours=1))
    assert withdrawn.status == DisputeStatus.WITHDRAWN
    assert withdrawn.decided_at == T0 + dt.timedelta(hours=1)
    assert len(notes(org.other_rep, "dispute_withdrawn")) == 1
    assert len(notes(org.manager, "dispute_withdrawn")) == 1
    assert steps(dispute) == ["open", "withdraw"]
    # the rep may claim again afterwards
    assert claim(world).status == DisputeStatus.OPEN


# --- deadline and escalation --------------------------------------------------------------


def test_past_the_deadline_the_regional_manager_decides(world: World) -> None:
    org = world.org
    dispute = claim(world)
    answered = claim(
        world,
        actor=UserFactory(
            role=Role.SALES_REP, business_unit=org.unit, districts=[org.north], manager=org.manager
        ),
    )
    dispute_answer(actor=org.other_rep, dispute=answered, answer="Mine.", now=T0)
    deadline = T0 + dt.timedelta(days=10)
    # before the deadline nothing escalates
    assert disputes_escalate_overdue(now=deadline) == 0
    # after it, both undecided disputes go to the regional manager with a new deadline
    later = deadline + dt.timedelta(seconds=1)
    assert disputes_escalate_overdue(now=later) == 2
    dispute.refresh_from_db()
    assert dispute.status == DisputeStatus.ESCALATED
    assert dispute.escalated_at == later
    assert dispute.decider == world.regional
    assert dispute.deadline == later + dt.timedelta(days=10)
    assert len(notes(world.regional, "dispute_escalated")) == 2
    assert len(notes(org.manager, "dispute_escalated")) == 2  # the decider who missed it
    assert len(notes(org.rep, "dispute_escalated")) == 1
    assert steps(dispute) == ["open", "escalate"]
    # running it again escalates nothing twice
    assert disputes_escalate_overdue(now=later + dt.timedelta(days=30)) == 0
    assert steps(dispute) == ["open", "escalate"]
    # the manager who missed the deadline may no longer decide; the regional manager does
    with pytest.raises(PermissionDenied):
        dispute_decide(actor=org.manager, dispute=dispute, outcome="keep", note="Late.")
    dispute_decide(actor=world.regional, dispute=dispute, outcome="transfer", note="Region.")
    assert unit_owner(world) == org.rep


def test_the_escalation_command_reports_what_it_did(world: World) -> None:
    from io import StringIO

    dispute = claim(world, now=timezone.now() - dt.timedelta(days=11))
    out = StringIO()
    call_command("disputes_escalate", stdout=out)
    assert out.getvalue() == "1 disputes escalated.\n"
    dispute.refresh_from_db()
    assert dispute.status == DisputeStatus.ESCALATED


# --- who sees a dispute -------------------------------------------------------------------


def test_claimant_owner_decider_their_managers_the_region_and_all_seeing_roles_see_it(
    world: World,
) -> None:
    org = world.org
    dispute = claim(world)
    colleague = UserFactory(role=Role.SALES_REP, business_unit=org.unit, districts=[org.north])
    other_region_boss = UserFactory(role=Role.REGIONAL_MANAGER, region=RegionFactory())
    seeing = [org.rep, org.other_rep, org.manager, world.regional, org.admin, org.steward]
    seeing.append(org.executive)
    for person in seeing:
        assert list(disputes_visible_to(person)) == [dispute], person
    for person in (colleague, org.south_rep, other_region_boss):
        assert list(disputes_visible_to(person)) == [], person
    assert list(disputes_of_account(org.rep, world.account)) == [dispute]
    assert list(disputes_of_account(colleague, world.account)) == []


# --- REST API -----------------------------------------------------------------------------


def test_api_claim_answer_decide(world: World, api_as: Any) -> None:
    org = world.org
    rep, owner, manager = api_as(org.rep), api_as(org.other_rep), api_as(org.manager)
    # a bad claim is a field error
    bad = rep.post("/disputes", {"account": str(world.account.pk), "reason": ""})
    assert bad.status_code == 422
    assert bad["Content-Type"] == "application/problem+json"
    assert list(bad.json()["errors"]) == ["reason"]
    # the claim
    created = rep.post(
        "/disputes", {"account": str(world.account.pk), "reason": "Visited monthly."}
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["owner"], body["decider"], body["status"]) == (
        str(org.other_rep.pk),
        str(org.manager.pk),
        "open",
    )
    dispute_id = body["id"]
    # someone who may not see it gets a 404, not a 403
    assert api_as(org.south_rep).get(f"/disputes/{dispute_id}").status_code == 404
    # the owner answers; the claimant cannot decide
    answered = owner.post(f"/disputes/{dispute_id}/answer", {"answer": "Mine."})
    assert answered.json()["status"] == "answered"
    refused = rep.post(f"/disputes/{dispute_id}/decide", {"outcome": "transfer", "note": "x"})
    assert (refused.status_code, refused.json()["code"]) == (403, "dispute_not_decider")
    # the manager splits
    decided = manager.post(
        f"/disputes/{dispute_id}/decide",
        {"outcome": "split", "product_lines": [str(world.lines[0].pk)], "note": "Copiers."},
    )
    assert decided.status_code == 200, decided.content
    assert decided.json()["split_product_lines"] == [str(world.lines[0].pk)]
    # lists filter by status and account
    listed = manager.get("/disputes", status="decided", account=str(world.account.pk)).json()
    assert [d["id"] for d in listed["items"]] == [dispute_id]
    assert manager.get("/disputes", status="open").json()["items"] == []


# --- report -------------------------------------------------------------------------------


def test_report_lists_disputes_by_unit_age_and_outcome(world: World) -> None:
    org = world.org
    now = timezone.now()
    # given: one kept (3 days to decide), one transferred, one undecided for 2 days,
    # one overdue and escalated, one withdrawn; and one in the other unit
    kept = claim(world, now=now - dt.timedelta(days=4))
    dispute_decide(
        actor=org.manager, dispute=kept, outcome="keep", note="x", now=now - dt.timedelta(days=1)
    )
    second = UserFactory(role=Role.SALES_REP, business_unit=org.unit, districts=[org.north])
    moved = claim(world, actor=second, now=now - dt.timedelta(days=3))
    dispute_decide(
        actor=org.manager,
        dispute=moved,
        outcome="transfer",
        note="x",
        now=now - dt.timedelta(days=2),
    )
    claim(world, now=now - dt.timedelta(days=2))
    third = UserFactory(role=Role.SALES_REP, business_unit=org.unit, districts=[org.north])
    claim(world, actor=third, now=now - dt.timedelta(days=12))
    disputes_escalate_overdue(now=now)
    fourth = UserFactory(role=Role.SALES_REP, business_unit=org.unit, districts=[org.north])
    gone = claim(world, actor=fourth, now=now - dt.timedelta(days=1))
    dispute_withdraw(actor=fourth, dispute=gone, now=now)
    south_account = make_account(org, district=org.south, legal_name="South Co., Ltd.")
    claim(world, actor=org.south_rep, account=south_account, now=now - dt.timedelta(days=1))
    # when the administrator runs the report (all time)
    report = report_build(
        viewer=org.admin, name=ReportName.DISPUTES, filters=ReportFilters(period=None)
    )
    # then one row per unit, counts by state and outcome, and ages in days
    rows = {r["label"]: r for r in report.rows}
    assert set(rows) == {org.unit.name, org.other_unit.name}
    unit = rows[org.unit.name]
    assert {k: unit[k] for k in ("disputes", "undecided", "overdue", "escalated")} == {
        "disputes": 5,
        "undecided": 2,
        "overdue": 0,
        "escalated": 1,
    }
    assert {k: unit[k] for k in ("kept", "transferred", "split", "withdrawn")} == {
        "kept": 1,
        "transferred": 1,
        "split": 0,
        "withdrawn": 1,
    }
    # ages: kept 3, transferred 1, waiting 2 and 12, withdrawn 1 → 19 / 5
    assert unit["average_age_days"] == D("3.8")
    assert unit["oldest_undecided_days"] == D("12.0")
    assert report.totals is not None
    assert report.totals["disputes"] == 6
    assert report.totals["oldest_undecided_days"] == D("12.0")
    # a rep's report holds only the disputes they may see
    mine = report_build(viewer=org.rep, name=ReportName.DISPUTES, filters=ReportFilters())
    assert mine.totals is not None and mine.totals["disputes"] == 2
