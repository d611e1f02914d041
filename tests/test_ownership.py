"""Account ownership: assignment rules (first match per slot), approval assigns, re-running
the rules with a preview, manual owners, account teams, permissions and the audit trail."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from accord.audit.models import AuditEvent, SecurityEvent
from accord.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from accord.customers.models import Account
from accord.customers.requests import account_request_approve, account_request_submit
from accord.org.models import Notification, Role
from accord.territories import visibility
from accord.territories.models import AccountOwner, AccountTeamMember, OwnershipSource
from accord.territories.ownership import (
    account_owner_remove,
    account_owner_set,
    account_owners_assign,
    account_team_add,
    account_team_remove,
    account_team_update,
    assignment_apply,
    assignment_for,
    assignment_preview,
    assignment_rule_create,
    assignment_rule_delete,
    assignment_rule_move,
    assignment_rule_update,
)
from tests.conftest import make_account
from tests.factories import ProductLineFactory, UserFactory

pytestmark = pytest.mark.django_db


def _rule(org, name, owner, *, districts=(), industries=(), product_line=None, position=None):
    data = {
        "name": name,
        "business_unit": org.unit.pk,
        "owner": owner.pk,
        "districts": [d.pk for d in districts],
        "industries": list(industries),
        "product_line": product_line.pk if product_line else None,
    }
    if position is not None:
        data["position"] = position
    return assignment_rule_create(actor=org.admin, data=data)


def _owners(account: Account) -> dict[tuple[str, str | None], str]:
    return {
        (row.business_unit.code, row.product_line.code if row.product_line else None): (
            row.owner.username
        )
        for row in AccountOwner.objects.filter(account=account).select_related(
            "business_unit", "product_line", "owner"
        )
    }


def test_the_first_matching_rule_of_a_unit_wins(org):
    # given: a district rule before a catch-all rule of the same unit
    _rule(org, "South to other", org.other_rep, districts=[org.south], position=10)
    _rule(org, "Everything else to rep", org.rep, position=20)
    north = Account(district=org.north, industry="retail")
    south = Account(district=org.south, industry="retail")
    # when / then
    assert {k: (o.username, r.name) for k, (o, r) in assignment_for(north).items()} == {
        (org.unit.pk, None): ("rep", "Everything else to rep")
    }
    assert {k: (o.username, r.name) for k, (o, r) in assignment_for(south).items()} == {
        (org.unit.pk, None): ("other", "South to other")
    }


def test_moving_a_rule_changes_which_one_matches_first(org):
    _rule(org, "South to other", org.other_rep, districts=[org.south])
    catch_all = _rule(org, "Everything to rep", org.rep)
    # when: the catch-all is moved to the top
    assignment_rule_move(actor=org.admin, rule=catch_all, position=1)
    # then
    (owner, rule), *_ = assignment_for(Account(district=org.south)).values()
    assert (owner, rule.name) == (org.rep, "Everything to rep")


def test_industry_conditions_and_product_line_slots(org):
    # given: the unit sells printers; a printers rule for finance, a unit rule for any
    printers = ProductLineFactory(code="printers", name="Printers")
    org.unit.product_lines.add(printers)
    _rule(org, "Finance printers", org.other_rep, industries=["finance"], product_line=printers)
    _rule(org, "Unit", org.rep)
    # when
    bank = make_account(org, legal_name="Bank Co., Ltd.", industry="finance")
    shop = make_account(org, legal_name="Shop Co., Ltd.", industry="retail")
    # then: the line rule fills only its own slot
    assert _owners(bank) == {("bsd", None): "rep", ("bsd", "printers"): "other"}
    assert _owners(shop) == {("bsd", None): "rep"}


def test_approving_a_request_assigns_the_owner_and_tells_them(org):
    # given
    _rule(org, "North", org.rep, districts=[org.north])
    request = account_request_submit(
        actor=org.other_rep, data={"legal_name": "Approved Co., Ltd.", "district": org.north.pk}
    )
    # when
    account = account_request_approve(actor=org.steward, request=request).account
    # then
    row = AccountOwner.objects.get(account=account)
    assert (row.owner, row.source, row.rule.name) == (org.rep, "rule", "North")
    assert Notification.objects.filter(recipient=org.rep, kind="account_owner_assigned").count()
    created = AuditEvent.objects.get(record_type="territories.accountowner", record_id=row.pk)
    assert created.changes["owner"] == [None, str(org.rep.pk)]
    assert created.changes["rule"] == "North"
    # and the owner now edits it
    assert visibility.may_edit_account(org.rep, account)


def test_assign_fills_only_empty_slots(org):
    account = make_account(org)
    account_owner_set(
        actor=org.steward, account=account, business_unit=org.unit, owner=org.other_rep
    )
    _rule(org, "Unit", org.rep)
    # when
    assert account_owners_assign(actor=org.steward, account=account) == []
    # then
    assert _owners(account) == {("bsd", None): "other"}


def test_preview_matches_apply_and_keep_manual_keeps_chosen_owners(org):
    # given: three accounts, no rules yet; one owner chosen by the CRM team, one by a rule
    manual = make_account(org, legal_name="Manual Co., Ltd.")
    by_rule = make_account(org, legal_name="Rule Co., Ltd.")
    empty = make_account(org, legal_name="Empty Co., Ltd.", district=org.south)
    merged = make_account(org, legal_name="Gone Co., Ltd.")
    Account.objects.filter(pk=merged.pk).update(status="merged", merged_into=manual)
    account_owner_set(
        actor=org.steward, account=manual, business_unit=org.unit, owner=org.other_rep
    )
    AccountOwner.objects.create(
        account=by_rule, business_unit=org.unit, owner=org.other_rep, source="rule"
    )
    _rule(org, "Everything to rep", org.rep)
    # when
    preview = assignment_preview(actor=org.admin, batch_size=2)
    # then
    assert preview.counts == {
        "Business Solution Development": {"assign": 1, "change": 1, "keep": 1, "same": 0}
    }
    assert preview.accounts == 3
    assert {(c.account_id, getattr(c.old_owner, "username", None)) for c in preview.changes} == {
        (by_rule.pk, "other"),
        (empty.pk, None),
    }
    assert _owners(empty) == {}  # a preview changes nothing
    # when: applied in batches of two
    counts = assignment_apply(actor=org.admin, batch_size=2)
    # then: exactly what the preview said
    assert counts == preview.counts
    assert (_owners(manual), _owners(by_rule), _owners(empty), _owners(merged)) == (
        {("bsd", None): "other"},
        {("bsd", None): "rep"},
        {("bsd", None): "rep"},
        {},
    )
    assert assignment_preview(actor=org.admin).total_changes == 0
    logged = AuditEvent.objects.filter(action="rules_assign")
    assert sum(len(e.changes["changes"]) for e in logged) == 2
    assert Notification.objects.filter(recipient=org.rep, title__contains="gave you 2").count()
    # when: re-run without keeping manual owners
    assert assignment_apply(actor=org.admin, keep_manual=False)[
        "Business Solution Development"
    ] == {"assign": 0, "change": 1, "keep": 0, "same": 2}
    assert _owners(manual) == {("bsd", None): "rep"}
    assert AccountOwner.objects.get(account=manual).source == OwnershipSource.RULE


def test_the_command_prints_the_preview_and_applies(org, capsys):
    make_account(org, legal_name="Command Co., Ltd.")
    _rule(org, "Everything to rep", org.rep)
    call_command("assign_owners")
    out = capsys.readouterr().out
    assert "Business Solution Development: 1 to assign, 0 to change" in out
    assert "Command Co., Ltd." in out
    assert AccountOwner.objects.count() == 0
    call_command("assign_owners", "--apply")
    assert AccountOwner.objects.get().owner == org.rep


def test_setting_an_owner_is_audited_logged_and_told(org):
    account = make_account(org)
    account_owner_set(actor=org.steward, account=account, business_unit=org.unit, owner=org.rep)
    # when: the unit's manager gives it to another rep
    row = account_owner_set(
        actor=org.manager, account=account, business_unit=org.unit, owner=org.other_rep
    )
    # then
    assert (row.owner, row.source) == (org.other_rep, OwnershipSource.MANAGER)
    event = AuditEvent.objects.filter(record_id=str(row.pk)).latest("seq")
    assert event.changes["owner"] == [str(org.rep.pk), str(org.other_rep.pk)]
    assert event.changes["source"] == ["steward", "manager"]
    logged = SecurityEvent.objects.filter(kind="ownership_change").latest("occurred_at")
    assert (logged.actor_id, logged.detail["old_owner"], logged.detail["new_owner"]) == (
        org.manager.pk,
        "rep",
        "other",
    )
    assert Notification.objects.filter(recipient=org.other_rep, kind="account_owner_assigned")
    assert Notification.objects.filter(recipient=org.rep, kind="account_owner_removed")
    # when: removed
    account_owner_remove(actor=org.steward, account=account, business_unit=org.unit)
    assert _owners(account) == {}


def test_who_may_set_owners_and_whom(org):
    account = make_account(org)
    south_account = make_account(org, legal_name="South Co., Ltd.", district=org.south)
    other_manager = UserFactory(role=Role.SALES_MANAGER, business_unit=org.other_unit)
    # reps and managers of another unit may not
    for actor in (org.rep, other_manager):
        with pytest.raises((PermissionDenied, NotFound)):
            account_owner_set(actor=actor, account=account, business_unit=org.unit, owner=org.rep)
    # an account the manager may not see is missing, not forbidden
    with pytest.raises(NotFound):
        account_owner_set(
            actor=org.manager, account=south_account, business_unit=org.unit, owner=org.rep
        )
    # the owner must be an active member of the unit
    with pytest.raises(ValidationFailed) as refused:
        account_owner_set(
            actor=org.steward, account=account, business_unit=org.unit, owner=org.south_rep
        )
    assert refused.value.errors == {
        "owner": ["The owner must be a member of Business Solution Development."]
    }
    line = ProductLineFactory(name="Cloud")
    with pytest.raises(ValidationFailed) as not_sold:
        account_owner_set(
            actor=org.steward,
            account=account,
            business_unit=org.unit,
            owner=org.rep,
            product_line=line,
        )
    assert not_sold.value.errors == {
        "product_line": ["Business Solution Development does not sell Cloud."]
    }
    assert AccountOwner.objects.count() == 0


def test_rules_are_edited_by_administrators_and_validated(org):
    # only administrators
    for actor in (org.steward, org.manager, org.rep):
        with pytest.raises(PermissionDenied):
            assignment_rule_create(
                actor=actor,
                data={"name": "x", "business_unit": org.unit.pk, "owner": org.rep.pk},
            )
    # field errors
    with pytest.raises(ValidationFailed) as refused:
        assignment_rule_create(
            actor=org.admin,
            data={
                "name": "",
                "business_unit": org.unit.pk,
                "owner": org.south_rep.pk,
                "industries": ["mining"],
            },
        )
    assert set(refused.value.errors) == {"name", "owner", "industries"}
    # create, update, delete are audited
    rule = _rule(org, "North", org.rep, districts=[org.north])
    assert rule.position == 10
    assignment_rule_update(actor=org.admin, rule=rule, data={"districts": [org.south.pk]})
    assert list(rule.districts.all()) == [org.south]
    update = AuditEvent.objects.filter(record_id=str(rule.pk)).latest("seq")
    assert update.changes["districts"] == [[str(org.north.pk)], [str(org.south.pk)]]
    assignment_rule_delete(actor=org.admin, rule=rule)
    assert AuditEvent.objects.filter(record_id=str(rule.pk), action="delete").count() == 1


def test_account_team_is_managed_by_who_may_edit_the_account(org):
    account = make_account(org)
    account_owner_set(actor=org.steward, account=account, business_unit=org.unit, owner=org.rep)
    # a reader of the district may not manage the team
    with pytest.raises(PermissionDenied):
        account_team_add(
            actor=org.other_rep, account=account, user=org.other_rep, data={"role": "service"}
        )
    # the owner may
    member = account_team_add(
        actor=org.rep,
        account=account,
        user=org.south_rep,
        data={"role": "pre_sales", "account_access": "read_write"},
    )
    assert visibility.may_edit_account(org.south_rep, account)
    with pytest.raises(Conflict):
        account_team_add(
            actor=org.rep, account=account, user=org.south_rep, data={"role": "service"}
        )
    with pytest.raises(ValidationFailed):
        account_team_update(actor=org.rep, member=member, data={"account_access": "none"})
    account_team_update(actor=org.rep, member=member, data={"account_access": "read"})
    assert not visibility.may_edit_account(org.south_rep, account)
    assert AuditEvent.objects.filter(record_id=str(member.pk)).count() == 2
    account_team_remove(actor=org.rep, member=member)
    assert not AccountTeamMember.objects.exists()
    # (the next request's user: a user object keeps its visibility scope for its request)
    south_rep = type(org.south_rep).objects.get(pk=org.south_rep.pk)
    assert not visibility.accounts_visible_to(south_rep).filter(pk=account.pk).exists()


# --- REST API -----------------------------------------------------------------------------


def test_owners_and_team_through_the_api(org, api_as):
    account = make_account(org)
    south_account = make_account(org, legal_name="South Co., Ltd.", district=org.south)
    steward = api_as(org.steward)
    # when: the CRM team sets the unit's owner
    put = steward.client.put(
        f"/api/v1/accounts/{account.pk}/owners",
        {"business_unit": str(org.unit.pk), "owner": str(org.rep.pk)},
        content_type="application/json",
        headers=steward.headers,
    )
    # then
    assert put.status_code == 200, put.content
    assert put.json()["owner_username"] == "rep"
    assert put.json()["source"] == "steward"
    rep = api_as(org.rep)
    listed = rep.get(f"/accounts/{account.pk}/owners")
    assert [(o["business_unit_name"], o["owner_username"]) for o in listed.json()] == [
        ("Business Solution Development", "rep")
    ]
    # a rep may not set owners; an account out of sight is a 404
    refused = rep.client.put(
        f"/api/v1/accounts/{account.pk}/owners",
        {"business_unit": str(org.unit.pk), "owner": str(org.other_rep.pk)},
        content_type="application/json",
        headers=rep.headers,
    )
    assert (refused.status_code, refused.json()["code"]) == (403, "account_owner_not_allowed")
    assert rep.get(f"/accounts/{south_account.pk}/owners").status_code == 404
    assert rep.get(f"/accounts/{south_account.pk}/team").status_code == 404
    # the owner manages the team
    added = rep.post(
        f"/accounts/{account.pk}/team",
        {"user": str(org.south_rep.pk), "role": "pre_sales", "account_access": "read_write"},
    )
    assert added.status_code == 201, added.content
    member_id = added.json()["id"]
    again = rep.post(f"/accounts/{account.pk}/team", {"user": str(org.south_rep.pk), "role": "x"})
    assert again.status_code == 422
    patched = rep.patch(f"/accounts/{account.pk}/team/{member_id}", {"account_access": "read"})
    assert patched.json()["account_access"] == "read"
    assert [m["username"] for m in rep.get(f"/accounts/{account.pk}/team").json()] == ["southrep"]
    other = api_as(org.other_rep)  # reads the district's accounts, does not edit this one
    assert other.delete(f"/accounts/{account.pk}/team/{member_id}").status_code == 403
    assert rep.delete(f"/accounts/{account.pk}/team/{member_id}").status_code == 204
    assert rep.get(f"/accounts/{account.pk}/team").json() == []


def test_assignment_rules_through_the_api(org, api_as):
    account = make_account(org)
    admin = api_as(org.admin)
    created = admin.post(
        "/territories/assignment-rules",
        {
            "name": "North",
            "business_unit": str(org.unit.pk),
            "owner": str(org.rep.pk),
            "districts": [str(org.north.pk)],
            "industries": ["retail"],
        },
    )
    assert created.status_code == 201, created.content
    rule_id = created.json()["id"]
    assert created.json()["position"] == 10
    bad = admin.post(
        "/territories/assignment-rules",
        {"name": "Bad", "business_unit": str(org.unit.pk), "owner": str(org.south_rep.pk)},
    )
    assert (bad.status_code, list(bad.json()["errors"])) == (422, ["owner"])
    assert api_as(org.steward).get("/territories/assignment-rules").status_code == 403
    # the account has no industry: the rule does not match until it is widened
    preview = admin.post("/territories/assignment-rules/preview", {})
    assert preview.json()["accounts"] == 1 and preview.json()["changes"] == []
    patched = admin.patch(f"/territories/assignment-rules/{rule_id}", {"industries": []})
    assert patched.json()["industries"] == []
    preview = admin.post("/territories/assignment-rules/preview", {"limit": 10})
    body = preview.json()
    assert body["counts"] == {
        "Business Solution Development": {"assign": 1, "change": 0, "keep": 0, "same": 0}
    }
    assert [(c["account"], c["new_owner_username"]) for c in body["changes"]] == [
        (str(account.pk), "rep")
    ]
    applied = admin.post("/territories/assignment-rules/apply", {"keep_manual": True})
    assert applied.json()["counts"] == body["counts"]
    assert _owners(account) == {("bsd", None): "rep"}
    moved = admin.post(f"/territories/assignment-rules/{rule_id}/move", {"position": 1})
    assert moved.status_code == 200
    assert admin.delete(f"/territories/assignment-rules/{rule_id}").status_code == 204
    assert admin.get(f"/territories/assignment-rules/{rule_id}").status_code == 404
    assert AccountOwner.objects.get(account=account).rule is None  # the owner stays


def test_the_preview_reads_a_batch_in_a_fixed_number_of_queries(org):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    # given: rules with districts and industries, and accounts
    _rule(org, "North", org.rep, districts=[org.north], industries=["retail", "finance"])
    _rule(org, "Rest", org.other_rep)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assignment_preview(actor=org.admin, batch_size=100)
        return len(captured)

    make_account(org, legal_name="One Co., Ltd.", industry="retail")
    few = queries()
    for n in range(6):
        make_account(org, legal_name=f"More {n} Co., Ltd.", district=org.south)
    # then: six more accounts, the same queries (rules: 2, each batch: 2, the end: 1)
    assert queries() == few == 5
