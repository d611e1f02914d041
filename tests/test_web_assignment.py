"""The assignment rule pages (administrators) and one account's owners and team page."""

from __future__ import annotations

import pytest
from django.test import Client

from accord.territories.models import AccountOwner, AccountTeamMember, AssignmentRule
from accord.territories.ownership import account_owner_set, assignment_rule_create
from tests.conftest import make_account

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _rule(org, name, owner, **data):
    return assignment_rule_create(
        actor=org.admin,
        data={"name": name, "business_unit": org.unit.pk, "owner": owner.pk, **data},
    )


def test_an_administrator_adds_edits_and_reorders_rules(org):
    client = _client(org.admin)
    # when: a rule is added through the form
    added = client.post(
        "/territories/assignment-rules/new/",
        {
            "name": "North finance",
            "business_unit": str(org.unit.pk),
            "owner": str(org.rep.pk),
            "districts": [str(org.north.pk)],
            "industries": ["finance"],
            "is_active": "on",
        },
    )
    # then
    assert added.status_code == 302
    rule = AssignmentRule.objects.get(name="North finance")
    assert (rule.owner, list(rule.districts.all()), rule.industries) == (
        org.rep,
        [org.north],
        ["finance"],
    )
    second = _rule(org, "Catch-all", org.other_rep)
    page = client.get("/territories/assignment-rules/").content.decode()
    assert page.index("North finance") < page.index("Catch-all")
    assert "Bangkok North" in page and "Banking and finance" in page
    # when: the catch-all moves up
    moved = client.post(f"/territories/assignment-rules/{second.pk}/move/", {"direction": "up"})
    assert moved.status_code == 302
    page = client.get("/territories/assignment-rules/").content.decode()
    assert page.index("Catch-all") < page.index("North finance")
    # when: edited to an owner of another unit, the field says why and nothing changes
    refused = client.post(
        f"/territories/assignment-rules/{rule.pk}/edit/",
        {
            "name": "North finance",
            "business_unit": str(org.unit.pk),
            "owner": str(org.south_rep.pk),
        },
    )
    assert refused.status_code == 422
    assert "The owner must be a member of Business Solution Development." in (
        refused.content.decode()
    )
    assert AssignmentRule.objects.get(pk=rule.pk).owner == org.rep
    # when: deleted
    assert client.post(f"/territories/assignment-rules/{rule.pk}/delete/").status_code == 302
    assert not AssignmentRule.objects.filter(pk=rule.pk).exists()


def test_the_preview_page_lists_changes_and_apply_applies_them(org):
    manual = make_account(org, legal_name="Manual Co., Ltd.")
    empty = make_account(org, legal_name="Empty Co., Ltd.")
    account_owner_set(
        actor=org.steward, account=manual, business_unit=org.unit, owner=org.other_rep
    )
    _rule(org, "Everything to rep", org.rep)
    client = _client(org.admin)
    # when: previewed, keeping chosen owners
    html = client.get("/territories/assignment-rules/preview/").content.decode()
    # then
    assert "Empty Co., Ltd." in html and "Manual Co., Ltd." not in html
    assert "<td>Business Solution Development</td><td>1</td><td>0</td><td>1</td><td>0</td>" in html
    # when: previewed letting the rules replace them
    html = client.get("/territories/assignment-rules/preview/", {"mode": "all"}).content.decode()
    assert "Manual Co., Ltd." in html
    # when: applied (keeping chosen owners)
    applied = client.post("/territories/assignment-rules/preview/", {"mode": "keep", "apply": "1"})
    assert applied.status_code == 302
    assert AccountOwner.objects.get(account=empty).owner == org.rep
    assert AccountOwner.objects.get(account=manual).owner == org.other_rep


def test_rule_pages_are_for_administrators_only(org):
    rule = _rule(org, "Rule", org.rep)
    for user in (org.steward, org.manager, org.rep):
        client = _client(user)
        assert client.get("/territories/assignment-rules/").status_code == 404
        assert client.get("/territories/assignment-rules/preview/").status_code == 404
        assert client.post(f"/territories/assignment-rules/{rule.pk}/delete/").status_code == 404
    assert AssignmentRule.objects.filter(pk=rule.pk).exists()


def test_the_account_owners_page_sets_owners_and_manages_the_team(org):
    account = make_account(org, legal_name="Owned Co., Ltd.")
    south = make_account(org, legal_name="South Co., Ltd.", district=org.south)
    steward = _client(org.steward)
    # when: the CRM team sets the owner
    saved = steward.post(
        f"/accounts/{account.pk}/owners/",
        {"action": "set_owner", "business_unit": str(org.unit.pk), "owner": str(org.rep.pk)},
    )
    assert saved.status_code == 302
    assert AccountOwner.objects.get(account=account).owner == org.rep
    # an owner of another unit is refused next to the field
    refused = steward.post(
        f"/accounts/{account.pk}/owners/",
        {"action": "set_owner", "business_unit": str(org.unit.pk), "owner": str(org.south_rep.pk)},
    )
    assert refused.status_code == 422
    assert "The owner must be a member of Business Solution Development." in (
        refused.content.decode()
    )
    # the owner adds a colleague to the team, changes and removes them
    rep = _client(org.rep)
    page = rep.get(f"/accounts/{account.pk}/owners/").content.decode()
    assert "Add to the team" in page and "Set owner" not in page
    added = rep.post(
        f"/accounts/{account.pk}/owners/",
        {
            "action": "add_member",
            "user": str(org.south_rep.pk),
            "role": "pre_sales",
            "account_access": "read",
            "opportunity_access": "none",
        },
    )
    assert added.status_code == 302
    member = AccountTeamMember.objects.get(account=account)
    rep.post(
        f"/accounts/{account.pk}/owners/",
        {
            "action": "update_member",
            "member": str(member.pk),
            "role": "service",
            "account_access": "read_write",
            "opportunity_access": "read",
        },
    )
    member.refresh_from_db()
    assert (member.role, member.account_access) == ("service", "read_write")
    # a colleague who only reads the account sees the team but may not change it
    other = _client(org.other_rep)
    html = other.get(f"/accounts/{account.pk}/owners/").content.decode()
    assert "Pre-sales" not in html and "Service / support" in html and "Add to the team" not in html
    denied = other.post(
        f"/accounts/{account.pk}/owners/", {"action": "remove_member", "member": str(member.pk)}
    )
    assert denied.status_code == 422
    assert AccountTeamMember.objects.filter(pk=member.pk).exists()
    rep.post(
        f"/accounts/{account.pk}/owners/", {"action": "remove_member", "member": str(member.pk)}
    )
    assert not AccountTeamMember.objects.exists()
    # an account the user may not see is not found
    assert rep.get(f"/accounts/{south.pk}/owners/").status_code == 404
