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
