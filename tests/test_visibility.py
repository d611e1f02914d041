"""The visibility module: who sees which accounts, contacts and selling records."""

from __future__ import annotations

import pytest

from accord.activities.services import activity_create
from accord.org.models import Role
from accord.sales.services import lead_create, opportunity_create
from accord.territories import visibility
from tests.conftest import make_account
from tests.factories import DistrictFactory, RegionFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_rep_sees_accounts_of_their_districts_only(org):
    north = make_account(org, legal_name="North Co., Ltd.")
    make_account(org, legal_name="South Co., Ltd.", district=org.south)
    assert list(visibility.accounts_visible_to(org.rep)) == [north]
    assert visibility.accounts_visible_to(org.steward).count() == 2
    assert visibility.accounts_visible_to(org.executive).count() == 2


def test_manager_sees_what_their_reports_cover_and_own(org):
    north = make_account(org, legal_name="North Co., Ltd.")
    make_account(org, legal_name="South Co., Ltd.", district=org.south)
    mine = opportunity_create(actor=org.rep, data={"name": "Mine", "account": north.pk})
    theirs = opportunity_create(actor=org.other_rep, data={"name": "Theirs", "account": north.pk})
    assert list(visibility.accounts_visible_to(org.manager)) == [north]
    assert set(visibility.opportunities_visible_to(org.manager)) == {mine, theirs}
    assert list(visibility.opportunities_visible_to(org.rep)) == [mine]


def test_regional_manager_sees_every_district_of_the_region(org):
    other_region = RegionFactory()
    far = DistrictFactory(region=other_region)
    boss = UserFactory(role=Role.REGIONAL_MANAGER, region=org.north.region)
    make_account(org, legal_name="North Co., Ltd.")
    make_account(org, legal_name="South Co., Ltd.", district=org.south)
    make_account(org, legal_name="Far Co., Ltd.", district=far)
    names = set(visibility.accounts_visible_to(boss).values_list("legal_name", flat=True))
    assert names == {"North Co., Ltd.", "South Co., Ltd."}


def test_deeper_hierarchy_rolls_up(org):
    director = UserFactory(role=Role.REGIONAL_MANAGER)
    org.manager.manager = director
    org.manager.save(update_fields=["manager"])
    lead = lead_create(actor=org.rep, data={"company_name": "Deep Co."})
    assert list(visibility.leads_visible_to(director)) == [lead]
    assert list(visibility.leads_visible_to(org.south_rep)) == []


def test_activity_visible_to_performer_and_to_the_opportunity_owner(org):
    account = make_account(org)
    opp = opportunity_create(actor=org.rep, data={"name": "Deal", "account": account.pk})
    helper_call = activity_create(
        actor=org.manager,
        data={"kind": "call", "subject": "Support call", "opportunity": opp.pk},
    )
    assert list(visibility.activities_visible_to(org.rep)) == [helper_call]
    assert list(visibility.activities_visible_to(org.other_rep)) == []


def test_inactive_user_sees_nothing(org):
    make_account(org)
    org.rep.is_active = False
    assert visibility.accounts_visible_to(org.rep).count() == 0


# --- the sharing model ----------------------------------------------------------------------


def _fresh(user):
    """The same user without the scope cached on the object (as on the next request)."""
    return type(user).objects.get(pk=user.pk)


def test_owner_reads_and_writes_territory_reps_only_read(org):
    # given: the rep owns the account; other_rep covers the same district
    account = make_account(org, owner=org.rep)
    # then
    assert visibility.may_edit_account(org.rep, account)
    assert list(visibility.accounts_visible_to(org.other_rep)) == [account]
    assert not visibility.may_edit_account(org.other_rep, account)
    # the owner's manager has what the owner has (the hierarchy)
    assert visibility.may_edit_account(org.manager, account)
    # the executive reads everything and writes nothing
    assert not visibility.may_edit_account(org.executive, account)
    assert visibility.may_edit_account(org.steward, account)


def test_an_owned_account_outside_ones_districts_is_visible_to_its_owner(org):
    south = make_account(org, district=org.south, owner=org.rep)
    assert list(visibility.accounts_visible_to(org.rep)) == [south]
    assert list(visibility.contacts_visible_to(org.rep)) == list(south.contacts.all())
    assert visibility.may_edit_account(org.rep, south)


def test_implicit_access_through_an_opportunity(org):
    # given: a south account the rep neither owns nor covers, with the rep's opportunity
    south = make_account(org, district=org.south)
    assert list(visibility.accounts_visible_to(org.rep)) == []
    opportunity_create(
        actor=org.admin, data={"name": "Deal", "account": south.pk, "owner": org.rep.pk}
    )
    # then: the account is visible (read), not writable
    assert list(visibility.accounts_visible_to(_fresh(org.rep))) == [south]
    assert not visibility.may_edit_account(_fresh(org.rep), south)
    # and its contacts may be added by who sells there
    assert visibility.may_edit_contacts_of(_fresh(org.rep), south)


def test_reps_cannot_open_other_reps_opportunities_in_their_district(org):
    account = make_account(org)
    theirs = opportunity_create(
        actor=org.admin, data={"name": "Theirs", "account": account.pk, "owner": org.other_rep.pk}
    )
    assert list(visibility.opportunities_visible_to(org.rep)) == []
    assert not visibility.may_edit_opportunity(org.rep, theirs)


def test_account_team_shares_the_account_and_its_opportunities_as_set(org):
    from accord.territories.models import Access, AccountTeamMember

    # given: a south account owned by the south rep, with an opportunity
    south = make_account(org, district=org.south, owner=org.south_rep)
    opp = opportunity_create(actor=org.south_rep, data={"name": "Deal", "account": south.pk})
    assert list(visibility.accounts_visible_to(org.rep)) == []
    # when: the rep joins the account team as pre-sales with read access to opportunities
    member = AccountTeamMember.objects.create(account=south, user=org.rep, role="pre_sales")
    # then
    rep = _fresh(org.rep)
    assert list(visibility.accounts_visible_to(rep)) == [south]
    assert list(visibility.opportunities_visible_to(rep)) == [opp]
    assert not visibility.may_edit_account(rep, south)
    assert not visibility.may_edit_opportunity(rep, opp)
    # when: write access is granted, and opportunity access withdrawn
    member.account_access = Access.READ_WRITE
    member.opportunity_access = Access.NONE
    member.save()
    assert visibility.may_edit_account(rep, south)
    assert list(visibility.opportunities_visible_to(_fresh(org.rep))) == []


def test_the_administrator_configures_the_sharing_model(org):
    from accord.territories.models import Access, SharingDefault

    account = make_account(org, district=org.south)
    theirs = opportunity_create(
        actor=org.admin, data={"name": "Theirs", "account": account.pk, "owner": org.other_rep.pk}
    )
    lead = lead_create(actor=org.other_rep, data={"company_name": "Their lead"})
    assert list(visibility.accounts_visible_to(org.rep)) == []
    # when: accounts become public read-only, opportunities read/write for the territory
    SharingDefault.objects.create(record_type="account", default_access=Access.READ)
    SharingDefault.objects.create(record_type="opportunity", territory_access=Access.READ_WRITE)
    # then
    rep = _fresh(org.rep)
    assert list(visibility.accounts_visible_to(rep)) == [account]
    assert not visibility.may_edit_account(rep, account)
    assert list(visibility.opportunities_visible_to(rep)) == []  # the account is south
    north = make_account(org, legal_name="North Co., Ltd.")
    there = opportunity_create(actor=org.other_rep, data={"name": "North", "account": north.pk})
    assert list(visibility.opportunities_visible_to(_fresh(org.rep))) == [there]
    assert visibility.may_edit_opportunity(_fresh(org.rep), there)
    assert not visibility.may_edit_opportunity(_fresh(org.rep), theirs)
    assert list(visibility.leads_visible_to(_fresh(org.rep))) == []
    # when: the hierarchy no longer grants leads to managers
    SharingDefault.objects.create(record_type="lead", grant_via_hierarchy=False)
    assert list(visibility.leads_visible_to(_fresh(org.manager))) == []
    SharingDefault.objects.filter(record_type="lead").update(grant_via_hierarchy=True)
    assert list(visibility.leads_visible_to(_fresh(org.manager))) == [lead]


def test_a_territory_rep_adds_contacts_to_an_unowned_account_but_not_to_an_owned_one(org):
    unowned = make_account(org, legal_name="Open Co., Ltd.")
    owned = make_account(org, legal_name="Taken Co., Ltd.", owner=org.other_rep)
    assert visibility.may_edit_contacts_of(org.rep, unowned)
    assert not visibility.may_edit_contacts_of(org.rep, owned)
    # an owner in another unit does not take the account from the rep's unit
    cross = make_account(org, legal_name="Cross Co., Ltd.", owner=org.south_rep)
    assert visibility.may_edit_contacts_of(org.rep, cross)


def test_an_administrator_changes_the_sharing_model_in_admin_and_it_is_logged(org):
    from django.test import Client

    from accord.audit.models import SecurityEvent, SecurityEventKind
    from accord.territories.models import SharingDefault

    account = make_account(org, district=org.south)
    assert list(visibility.accounts_visible_to(org.rep)) == []
    admin = Client()
    admin.force_login(org.admin)
    steward = Client()
    steward.force_login(org.steward)
    # a CRM officer may not change who sees what
    assert steward.get("/admin/territories/sharingdefault/add/").status_code == 403
    # when
    response = admin.post(
        "/admin/territories/sharingdefault/add/",
        {
            "record_type": "account",
            "default_access": "read",
            "territory_access": "read",
            "grant_via_hierarchy": "on",
        },
    )
    # then
    assert response.status_code == 302
    assert SharingDefault.objects.get(record_type="account").default_access == "read"
    assert list(visibility.accounts_visible_to(_fresh(org.rep))) == [account]
    event = SecurityEvent.objects.get(kind=SecurityEventKind.PERMISSION_CHANGE)
    assert event.actor_id == org.admin.pk
    assert event.detail["sharing"] == "account"
    assert event.detail["changes"]["default_access"] == {"from": None, "to": "read"}


def test_the_search_parts_select_exactly_the_visible_accounts(org):
    from accord.customers.models import Account
    from accord.territories.models import AccountTeamMember

    # given: an account visible for each reason, and one visible to nobody but the CRM team
    covered = make_account(org, legal_name="Covered Co., Ltd.")
    owned = make_account(org, legal_name="Owned Co., Ltd.", district=org.south, owner=org.rep)
    teamed = make_account(org, legal_name="Teamed Co., Ltd.", district=org.south)
    AccountTeamMember.objects.create(account=teamed, user=org.rep, role="pre_sales")
    implicit = make_account(org, legal_name="Implicit Co., Ltd.", district=org.south)
    opportunity_create(
        actor=org.admin, data={"name": "Deal", "account": implicit.pk, "owner": org.rep.pk}
    )
    make_account(org, legal_name="Hidden Co., Ltd.", district=org.south)
    rep = _fresh(org.rep)
    # when: the rep covers one district of two (1² < 2)
    parts = visibility.account_search_parts(rep)
    # then: one part per reason (owners, team, opportunities, the covered district)
    assert parts is not None and len(parts) == 4
    found = [set(Account.objects.filter(part)) for part in parts]
    assert found == [{owned}, {teamed}, {implicit}, {covered}]
    assert set().union(*found) == set(visibility.accounts_visible_to(rep))


def test_a_search_reads_the_visible_accounts_as_one_when_parts_cost_more(org, monkeypatch):
    # given: a regional manager covering both districts (2² is not under 2)
    boss = UserFactory(role=Role.REGIONAL_MANAGER, region=org.north.region)
    make_account(org, owner=org.rep)
    # then
    assert visibility.account_search_parts(boss) is None
    assert visibility.account_search_parts(org.executive) is None  # sees everything
    # and: a rep owning more accounts than are read from the owner side
    assert visibility.account_search_parts(_fresh(org.rep)) is not None
    monkeypatch.setattr(visibility, "SEARCH_PARTS_OWNED_MAX", 0)
    assert visibility.account_search_parts(_fresh(org.rep)) is None
    assert visibility.account_search_parts(_fresh(org.other_rep)) is not None
