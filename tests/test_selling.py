"""Cross-selling rules and selling exceptions: the decision, the exception services, and the
enforcement on opportunities through the services and the HTTP API."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from accord.audit.models import AuditEvent
from accord.core.errors import Conflict, PermissionDenied, ValidationFailed
from accord.org.models import Notification
from accord.sales.flows import lead_convert
from accord.sales.models import Lead, LeadStatus, Opportunity, Stage
from accord.sales.services import lead_create, opportunity_create, opportunity_update
from accord.territories import selling
from accord.territories.models import (
    Access,
    AccountOwner,
    AccountTeamMember,
    AccountTeamRole,
    ExceptionStatus,
    OutsideTerritory,
    SellingException,
    SellingPolicy,
)
from tests.conftest import make_account
from tests.factories import ProductFactory, ProductLineFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def lines(org):
    """Printers are sold by the first unit, cloud by the other; one product of each."""
    printers = ProductLineFactory(code="printers", name="Printers")
    cloud = ProductLineFactory(code="cloud", name="Cloud")
    org.unit.product_lines.add(printers)
    org.other_unit.product_lines.add(cloud)
    return {
        "printers": printers,
        "cloud": cloud,
        "printer": ProductFactory(code="PRN1", product_line=printers),
        "server": ProductFactory(code="CLD1", product_line=cloud),
    }


def _own(account, unit, owner, line=None) -> AccountOwner:
    return AccountOwner.objects.create(
        account=account, business_unit=unit, owner=owner, product_line=line
    )


def _owned_by_other_rep(org):
    account = make_account(org, legal_name="Owned Trading Co., Ltd.")
    _own(account, org.unit, org.other_rep)
    return account


def _decide(org, user, account, unit=None, product_lines=()):
    return selling.selling_decision(
        user=user, account=account, business_unit=unit or org.unit, product_lines=product_lines
    )


def _stage(org, name: str) -> Stage:
    return Stage.objects.get(pipeline=org.pipeline, name=name)


def _set_policy(**fields) -> SellingPolicy:
    return SellingPolicy.objects.create(**fields)


# --- the decision -------------------------------------------------------------------------


def test_only_the_owner_and_their_managers_sell_an_owned_account(org):
    # given an account other_rep owns in the unit
    account = _owned_by_other_rep(org)

    # when the owner, their manager and another rep of the unit ask
    owner = _decide(org, org.other_rep, account)
    manager = _decide(org, org.manager, account)
    refused = _decide(org, org.rep, account)

    # then the owner and the manager may; the other rep is told who owns it and what to do
    assert (owner.allowed, owner.code) == (True, "selling_owner")
    assert (manager.allowed, manager.code) == (True, "selling_owner")
    assert (refused.allowed, refused.code) == (False, "cross_sell_owned_by_other")
    assert refused.owner == org.other_rep
    assert refused.approver == org.manager
    assert str(org.other_rep) in refused.message
    assert f"Ask {org.manager} for an exception" in refused.message
    assert [o.action for o in refused.options] == ["request_exception", "open_dispute"]
    assert refused.options[0].url == (
        f"/accounts/{account.pk}/selling-exception/?unit={org.unit.pk}"
    )
    assert refused.options[1].url == f"/accounts/{account.pk}/claim/"
    assert refused.options[1].api == "/api/v1/disputes"


def test_people_who_are_not_sellers_pass(org):
    account = _owned_by_other_rep(org)

    for user in (org.admin, org.steward):
        decision = _decide(org, user, account)
        assert (decision.allowed, decision.code) == (True, "selling_not_a_seller")
    # an administrator acting for a rep passes too (e.g. a correction)
    for_rep = selling.selling_decision(
        user=org.rep, account=account, business_unit=org.unit, actor=org.admin
    )
    assert for_rep.allowed


def test_account_team_members_with_opportunity_write_access_sell(org):
    # given rep on the account team, first with read access to opportunities
    account = _owned_by_other_rep(org)
    member = AccountTeamMember.objects.create(
        account=account,
        user=org.rep,
        role=AccountTeamRole.PRE_SALES,
        opportunity_access=Access.READ,
    )
    assert _decide(org, org.rep, account).code == "cross_sell_owned_by_other"

    # when the team member gets write access
    member.opportunity_access = Access.READ_WRITE
    member.save(update_fields=["opportunity_access"])

    # then they may sell
    decision = _decide(org, org.rep, account)
    assert (decision.allowed, decision.code) == (True, "selling_account_team")


def test_a_product_line_owner_owns_only_that_line(org, lines):
    # given other_rep owns only the printers line of the account in the unit
    account = make_account(org, legal_name="Split Co., Ltd.")
    _own(account, org.unit, org.other_rep, lines["printers"])

    # when rep sells printers, then cloud
    printers = _decide(org, org.rep, account, product_lines=[lines["printers"]])
    cloud = _decide(org, org.rep, account, product_lines=[lines["cloud"].pk])

    # then printers are other_rep's; cloud has no owner in the unit and is in rep's district
    assert printers.code == "cross_sell_owned_by_other"
    assert "for Printers" in printers.message
    assert (cloud.allowed, cloud.code) == (True, "selling_allowed")


def test_another_unit_sells_an_owned_account_only_its_own_lines(org, lines):
    # given an account in the south, owned by other_rep in the first unit
    account = make_account(org, legal_name="South Owned Co., Ltd.", district=org.south)
    _own(account, org.unit, org.other_rep)

    # when south_rep (the other unit sells cloud only) sells cloud, then printers
    cloud = _decide(org, org.south_rep, account, org.other_unit, [lines["cloud"]])
    printers = _decide(org, org.south_rep, account, org.other_unit, [lines["printers"]])

    # then cloud is allowed; printers are refused, naming the owner and their unit
    assert (cloud.allowed, cloud.code) == (True, "selling_allowed")
    assert (printers.allowed, printers.code) == (False, "cross_sell_product_line_not_sold")
    assert "does not sell Printers" in printers.message
    assert str(org.other_rep) in printers.message
    assert org.unit.name in printers.message
    assert printers.approver == org.manager


def test_cross_unit_rule_can_be_switched_off(org, lines):
    _set_policy(cross_unit_product_lines_only=False)
    account = make_account(org, legal_name="South Owned Co., Ltd.", district=org.south)
    _own(account, org.unit, org.other_rep)

    decision = _decide(org, org.south_rep, account, org.other_unit, [lines["printers"]])

    assert decision.allowed


def test_same_unit_rule_can_be_switched_off(org):
    _set_policy(same_unit_owner_only=False)
    account = _owned_by_other_rep(org)

    decision = _decide(org, org.rep, account)

    assert (decision.allowed, decision.code) == (True, "selling_owner")


@pytest.mark.parametrize(
    ("setting", "allowed", "actions"),
    [
        (OutsideTerritory.ALLOW, True, []),
        (OutsideTerritory.EXCEPTION, False, ["request_exception", "open_dispute"]),
        (OutsideTerritory.BLOCK, False, ["open_dispute"]),
    ],
)
def test_an_unowned_account_outside_the_territory_follows_the_policy(
    org, setting, allowed, actions
):
    # given an unowned account in the south and a rep covering the north
    _set_policy(outside_territory=setting)
    account = make_account(org, legal_name="Far Away Co., Ltd.", district=org.south)

    # when the rep asks
    decision = _decide(org, org.rep, account)

    # then the policy decides, and a refusal says what is left to do
    assert decision.allowed is allowed
    assert [o.action for o in decision.options] == actions
    if not allowed:
        assert decision.code == "cross_sell_outside_territory"
        assert "Bangkok South" in decision.message
        assert decision.approver == org.manager  # the rep's own manager
    # inside the territory it is always allowed
    assert _decide(org, org.rep, make_account(org, legal_name="Near Co., Ltd.")).allowed


def test_the_default_policy_needs_an_exception_outside_the_territory(org):
    rules = selling.policy()

    assert rules._state.adding  # no row yet: the defaults, unsaved
    assert SellingPolicy.objects.count() == 0
    assert (rules.same_unit_owner_only, rules.cross_unit_product_lines_only) == (True, True)
    assert rules.outside_territory == OutsideTerritory.EXCEPTION
    assert rules.exception_valid_days == 90


# --- exceptions ---------------------------------------------------------------------------


def test_an_exception_is_asked_of_the_owners_manager_and_then_allows_the_sale(org, lines):
    # given rep is refused on other_rep's account
    account = _owned_by_other_rep(org)

    # when rep asks for printers
    exception = selling.selling_exception_request(
        actor=org.rep,
        account=account,
        business_unit=org.unit,
        product_lines=[lines["printers"]],
        reason="The customer asked me for a quote at a trade show.",
    )

    # then the owner's manager decides it, is notified, and it is audited
    assert exception.status == ExceptionStatus.PENDING
    assert exception.approver == org.manager
    note = Notification.objects.get(recipient=org.manager)
    assert note.kind == "selling_exception_requested"
    assert note.url == f"/selling/exceptions/{exception.pk}/"
    created = AuditEvent.objects.get(
        record_type="territories.sellingexception", action="create", record_id=str(exception.pk)
    )
    assert created.changes["product_lines"] == [None, [str(lines["printers"].pk)]]
    # while pending, the refusal points at the request instead of offering a new one
    waiting = _decide(org, org.rep, account, product_lines=[lines["printers"]])
    assert [o.action for o in waiting.options] == ["view_exception", "open_dispute"]
    assert f"waiting for {org.manager}'s decision" in waiting.message

    # when the manager approves
    before = timezone.now()
    selling.selling_exception_decide(actor=org.manager, exception=exception, approve=True)

    # then it is valid for the policy's days, and rep may sell printers, not cloud
    exception.refresh_from_db()
    assert exception.status == ExceptionStatus.APPROVED
    assert exception.decided_by == org.manager
    assert exception.valid_until is not None
    assert before + dt.timedelta(days=90) <= exception.valid_until
    assert exception.valid_until <= timezone.now() + dt.timedelta(days=90)
    allowed = _decide(org, org.rep, account, product_lines=[lines["printers"]])
    assert (allowed.allowed, allowed.code, allowed.exception) == (
        True,
        "selling_exception",
        exception,
    )
    assert _decide(org, org.rep, account, product_lines=[lines["cloud"]]).allowed is False
    assert Notification.objects.get(recipient=org.rep).kind == "selling_exception_approved"


def test_an_expired_exception_no_longer_allows_the_sale(org):
    account = _owned_by_other_rep(org)
    exception = selling.selling_exception_request(
        actor=org.rep, account=account, reason="A one-off order."
    )
    selling.selling_exception_decide(actor=org.manager, exception=exception, approve=True)
    assert _decide(org, org.rep, account).allowed

    # when its validity has passed
    SellingException.objects.filter(pk=exception.pk).update(
        valid_until=timezone.now() - dt.timedelta(minutes=1)
    )

    # then the sale is refused again
    exception.refresh_from_db()
    assert selling.is_expired(exception)
    assert _decide(org, org.rep, account).code == "cross_sell_owned_by_other"


def test_the_policy_sets_how_long_an_exception_lasts(org):
    _set_policy(exception_valid_days=7)
    account = _owned_by_other_rep(org)
    exception = selling.selling_exception_request(actor=org.rep, account=account, reason="x")

    selling.selling_exception_decide(actor=org.manager, exception=exception, approve=True)

    exception.refresh_from_db()
    assert exception.valid_until is not None
    assert exception.decided_at is not None
    assert exception.valid_until - exception.decided_at == dt.timedelta(days=7)


def test_a_refusal_needs_a_reason_and_is_told_to_the_rep(org):
    account = _owned_by_other_rep(org)
    exception = selling.selling_exception_request(actor=org.rep, account=account, reason="x")

    with pytest.raises(ValidationFailed) as no_note:
        selling.selling_exception_decide(actor=org.manager, exception=exception, approve=False)
    assert list(no_note.value.errors) == ["note"]

    selling.selling_exception_decide(
        actor=org.manager, exception=exception, approve=False, note="other_rep is on it."
    )

    exception.refresh_from_db()
    assert (exception.status, exception.decision_note) == (
        ExceptionStatus.REFUSED,
        "other_rep is on it.",
    )
    told = Notification.objects.get(recipient=org.rep)
    assert told.kind == "selling_exception_refused"
    assert "other_rep is on it." in told.body
    assert _decide(org, org.rep, account).allowed is False
    with pytest.raises(Conflict) as again:
        selling.selling_exception_decide(actor=org.manager, exception=exception, approve=True)
    assert again.value.code == "selling_exception_not_pending"


def test_only_the_approver_or_an_administrator_decides(org):
    account = _owned_by_other_rep(org)
    exception = selling.selling_exception_request(actor=org.rep, account=account, reason="x")

    for user in (org.rep, org.other_rep, org.steward):
        with pytest.raises(PermissionDenied) as refused:
            selling.selling_exception_decide(actor=user, exception=exception, approve=True)
        assert refused.value.code == "selling_exception_not_approver"

    selling.selling_exception_decide(actor=org.admin, exception=exception, approve=True)
    exception.refresh_from_db()
    assert exception.decided_by == org.admin


def test_duplicates_unneeded_and_blocked_requests_are_refused(org):
    account = _owned_by_other_rep(org)
    selling.selling_exception_request(actor=org.rep, account=account, reason="x")

    with pytest.raises(Conflict) as duplicate:
        selling.selling_exception_request(actor=org.rep, account=account, reason="again")
    assert duplicate.value.code == "selling_exception_pending"

    with pytest.raises(Conflict) as unneeded:
        selling.selling_exception_request(actor=org.other_rep, account=account, reason="mine")
    assert unneeded.value.code == "selling_exception_not_needed"

    _set_policy(outside_territory=OutsideTerritory.BLOCK)
    far = make_account(org, legal_name="Far Away Co., Ltd.", district=org.south)
    with pytest.raises(PermissionDenied) as blocked:
        selling.selling_exception_request(actor=org.rep, account=far, reason="x")
    assert blocked.value.code == "selling_exception_not_available"

    with pytest.raises(ValidationFailed) as no_reason:
        selling.selling_exception_request(actor=org.other_rep, account=far, reason="  ")
    assert list(no_reason.value.errors) == ["reason"]
    assert SellingException.objects.count() == 1


def test_outside_the_territory_the_reps_own_manager_decides(org):
    far = make_account(org, legal_name="Far Away Co., Ltd.", district=org.south)

    exception = selling.selling_exception_request(actor=org.rep, account=far, reason="x")
    selling.selling_exception_decide(actor=org.manager, exception=exception, approve=True)

    assert exception.approver == org.manager
    assert _decide(org, org.rep, far).code == "selling_exception"


def test_only_the_requester_withdraws_a_pending_request(org):
    account = _owned_by_other_rep(org)
    exception = selling.selling_exception_request(actor=org.rep, account=account, reason="x")

    with pytest.raises(PermissionDenied) as not_yours:
        selling.selling_exception_withdraw(actor=org.manager, exception=exception)
    assert not_yours.value.code == "selling_exception_not_yours"

    selling.selling_exception_withdraw(actor=org.rep, exception=exception)
    exception.refresh_from_db()
    assert exception.status == ExceptionStatus.WITHDRAWN
    with pytest.raises(Conflict):
        selling.selling_exception_withdraw(actor=org.rep, exception=exception)
    # a new request may follow
    selling.selling_exception_request(actor=org.rep, account=account, reason="again")


def test_who_sees_which_exceptions(org):
    account = _owned_by_other_rep(org)
    exception = selling.selling_exception_request(actor=org.rep, account=account, reason="x")

    def seen(user):
        return list(selling.selling_exceptions_visible_to(user))

    assert seen(org.rep) == [exception]
    assert seen(org.manager) == [exception]
    assert seen(org.admin) == [exception]
    assert seen(org.other_rep) == []
    assert seen(org.south_rep) == []
    assert list(selling.selling_exceptions_to_decide(org.manager)) == [exception]
    assert list(selling.selling_exceptions_to_decide(org.rep)) == []


# --- enforcement through the services -----------------------------------------------------


def test_creating_an_opportunity_on_another_reps_account_is_refused(org):
    account = _owned_by_other_rep(org)

    with pytest.raises(PermissionDenied) as refused:
        opportunity_create(actor=org.rep, data={"name": "Printers", "account": account.pk})

    assert refused.value.code == "cross_sell_owned_by_other"
    assert [o["action"] for o in refused.value.extra["options"]] == [
        "request_exception",
        "open_dispute",
    ]
    assert Opportunity.objects.count() == 0
    # the owner may, and a manager may open it for the owner but not for the other rep
    opportunity_create(actor=org.other_rep, data={"name": "Printers", "account": account.pk})
    opportunity_create(
        actor=org.manager,
        data={"name": "Toner", "account": account.pk, "owner": org.other_rep.pk},
    )
    with pytest.raises(PermissionDenied):
        opportunity_create(
            actor=org.manager,
            data={"name": "Paper", "account": account.pk, "owner": org.rep.pk},
        )
    assert Opportunity.objects.count() == 2


def test_a_line_of_another_unit_is_refused_on_create_and_update(org, lines):
    account = make_account(org, legal_name="South Owned Co., Ltd.", district=org.south)
    _own(account, org.unit, org.other_rep)
    opp = opportunity_create(
        actor=org.south_rep,
        data={
            "name": "Cloud",
            "account": account.pk,
            "line_items": [{"product": lines["server"].pk, "quantity": 1}],
        },
    )

    with pytest.raises(PermissionDenied) as on_create:
        opportunity_create(
            actor=org.south_rep,
            data={
                "name": "Printers",
                "account": account.pk,
                "line_items": [{"product": lines["printer"].pk, "quantity": 1}],
            },
        )
    with pytest.raises(PermissionDenied) as on_update:
        opportunity_update(
            actor=org.south_rep,
            opportunity=opp,
            data={"line_items": [{"product": lines["printer"].pk, "quantity": 2}]},
        )

    assert on_create.value.code == on_update.value.code == "cross_sell_product_line_not_sold"
    assert [li.product for li in opp.line_items.all()] == [lines["server"]]


def test_logging_a_sale_is_checked_but_ordinary_edits_are_not(org):
    # given rep's opportunity on an account nobody owned, which is then given to other_rep
    account = make_account(org, legal_name="Later Owned Co., Ltd.")
    opp = opportunity_create(actor=org.rep, data={"name": "Printers", "account": account.pk})
    _own(account, org.unit, org.other_rep)

    # when rep renames it, then moves it to won
    opportunity_update(actor=org.rep, opportunity=opp, data={"next_step": "Call back"})
    with pytest.raises(PermissionDenied) as won:
        opportunity_update(
            actor=org.rep, opportunity=opp, data={"stage": _stage(org, "Closed won").pk}
        )

    # then the edit is saved, the sale is refused
    opp.refresh_from_db()
    assert opp.next_step == "Call back"
    assert won.value.code == "cross_sell_owned_by_other"
    assert opp.stage == _stage(org, "Prospecting")
    # handing the opportunity to the owner lets them log the sale
    opportunity_update(actor=org.manager, opportunity=opp, data={"owner": org.other_rep.pk})
    opportunity_update(
        actor=org.other_rep, opportunity=opp, data={"stage": _stage(org, "Closed won").pk}
    )


def test_moving_an_opportunity_to_another_reps_account_is_refused(org):
    mine = make_account(org, legal_name="Mine Co., Ltd.")
    theirs = _owned_by_other_rep(org)
    opp = opportunity_create(actor=org.rep, data={"name": "Printers", "account": mine.pk})

    with pytest.raises(PermissionDenied) as refused:
        opportunity_update(actor=org.rep, opportunity=opp, data={"account": theirs.pk})

    assert refused.value.code == "cross_sell_owned_by_other"
    opp.refresh_from_db()
    assert opp.account == mine


def test_converting_a_lead_into_an_opportunity_follows_the_rules(org):
    account = _owned_by_other_rep(org)
    lead = lead_create(actor=org.rep, data={"company_name": "Owned Trading Co., Ltd."})

    with pytest.raises(PermissionDenied) as refused:
        lead_convert(
            actor=org.rep,
            lead=lead,
            account=account.pk,
            create_contact=False,
            opportunity={"name": "Printers"},
        )

    assert refused.value.code == "cross_sell_owned_by_other"
    lead.refresh_from_db()
    assert lead.status == LeadStatus.NEW
    assert Opportunity.objects.count() == 0
    assert Lead.objects.count() == 1


# --- the HTTP API -------------------------------------------------------------------------


def test_api_refuses_a_sale_with_problem_json_and_options(org, api_as):
    account = _owned_by_other_rep(org)

    response = api_as(org.rep).post("/opportunities", {"name": "X", "account": str(account.pk)})

    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "cross_sell_owned_by_other"
    assert str(org.other_rep) in body["detail"]
    assert [o["action"] for o in body["options"]] == ["request_exception", "open_dispute"]
    assert body["options"][0]["api"] == "/api/v1/selling/exceptions"
    assert Opportunity.objects.count() == 0


def test_api_refuses_logging_a_sale_outside_the_territory(org, api_as):
    # given an account outside rep's districts, shared with rep read-only (so rep sees it)
    far = make_account(org, legal_name="Far Away Co., Ltd.", district=org.south)
    AccountTeamMember.objects.create(
        account=far, user=org.rep, role=AccountTeamRole.SERVICE, opportunity_access=Access.READ
    )
    _set_policy(outside_territory=OutsideTerritory.ALLOW)
    api = api_as(org.rep)
    created = api.post("/opportunities", {"name": "X", "account": str(far.pk)})
    assert created.status_code == 201
    SellingPolicy.objects.update(outside_territory=OutsideTerritory.BLOCK)

    won = api.patch(
        f"/opportunities/{created.json()['id']}", {"stage": str(_stage(org, "Closed won").pk)}
    )

    assert won.status_code == 403
    assert won.json()["code"] == "cross_sell_outside_territory"
    assert [o["action"] for o in won.json()["options"]] == ["open_dispute"]


def test_api_check_answers_the_decision(org, api_as, lines):
    account = _owned_by_other_rep(org)

    refused = api_as(org.rep).get(
        "/selling/check", account=str(account.pk), product_lines=[str(lines["printers"].pk)]
    )
    allowed = api_as(org.manager).get(
        "/selling/check", account=str(account.pk), owner=str(org.other_rep.pk)
    )
    not_mine = api_as(org.rep).get(
        "/selling/check", account=str(account.pk), owner=str(org.other_rep.pk)
    )

    assert refused.status_code == 200
    body = refused.json()
    assert (body["allowed"], body["code"]) == (False, "cross_sell_owned_by_other")
    assert (body["owner"], body["approver"]) == (str(org.other_rep.pk), str(org.manager.pk))
    assert body["options"][0]["url"] == (
        f"/accounts/{account.pk}/selling-exception/?unit={org.unit.pk}&lines={lines['printers'].pk}"
    )
    assert (allowed.json()["allowed"], allowed.json()["code"]) == (True, "selling_owner")
    assert not_mine.status_code == 403
    assert not_mine.json()["code"] == "owner_not_assignable"
    hidden = make_account(org, legal_name="Hidden Co., Ltd.", district=org.south)
    assert api_as(org.rep).get("/selling/check", account=str(hidden.pk)).status_code == 404


def test_api_exception_flow(org, api_as):
    account = _owned_by_other_rep(org)
    rep, manager = api_as(org.rep), api_as(org.manager)

    # the rep asks
    created = rep.post("/selling/exceptions", {"account": str(account.pk), "reason": "Asked."})
    assert created.status_code == 201, created.content
    exception = created.json()
    assert (exception["status"], exception["approver"]) == ("pending", str(org.manager.pk))
    again = rep.post("/selling/exceptions", {"account": str(account.pk), "reason": "Again."})
    assert (again.status_code, again.json()["code"]) == (409, "selling_exception_pending")

    # the manager sees it to decide; others do not see it
    queue = manager.get("/selling/exceptions", role="to_decide").json()
    assert [e["id"] for e in queue["items"]] == [exception["id"]]
    assert api_as(org.south_rep).get(f"/selling/exceptions/{exception['id']}").status_code == 404
    by_rep = rep.post(f"/selling/exceptions/{exception['id']}/decide", {"approve": True})
    assert (by_rep.status_code, by_rep.json()["code"]) == (403, "selling_exception_not_approver")

    # the manager approves, and the rep may now open the opportunity
    decided = manager.post(f"/selling/exceptions/{exception['id']}/decide", {"approve": True})
    assert decided.status_code == 200
    assert (decided.json()["status"], decided.json()["expired"]) == ("approved", False)
    opened = rep.post("/opportunities", {"name": "X", "account": str(account.pk)})
    assert opened.status_code == 201
    withdrawn = rep.post(f"/selling/exceptions/{exception['id']}/withdraw", {})
    assert (withdrawn.status_code, withdrawn.json()["code"]) == (
        409,
        "selling_exception_not_pending",
    )


def test_email_goes_to_the_approver_after_commit(org, django_capture_on_commit_callbacks):
    account = _owned_by_other_rep(org)

    with django_capture_on_commit_callbacks(execute=True):
        selling.selling_exception_request(actor=org.rep, account=account, reason="x")

    assert [m.to for m in mail.outbox] == [[org.manager.email]]


# --- the admin ----------------------------------------------------------------------------


def test_administrators_set_the_one_selling_policy_in_the_admin(org):
    from django.test import Client

    admin, steward = Client(), Client()
    admin.force_login(org.admin)
    steward.force_login(org.steward)

    # an administrator adds the policy (audited); the CRM team may not
    assert steward.get("/admin/territories/sellingpolicy/add/").status_code == 403
    saved = admin.post(
        "/admin/territories/sellingpolicy/add/",
        {
            "same_unit_owner_only": "on",
            "outside_territory": OutsideTerritory.BLOCK,
            "exception_valid_days": "30",
            "dispute_answer_days": "5",
            "dispute_decision_days": "10",
        },
    )
    assert saved.status_code == 302, saved.content
    rules = selling.policy()
    assert (rules.same_unit_owner_only, rules.cross_unit_product_lines_only) == (True, False)
    assert (rules.outside_territory, rules.exception_valid_days) == (OutsideTerritory.BLOCK, 30)
    assert AuditEvent.objects.filter(record_type="territories.sellingpolicy").count() == 1
    # there is one policy: no second one is added
    assert admin.get("/admin/territories/sellingpolicy/add/").status_code == 403
