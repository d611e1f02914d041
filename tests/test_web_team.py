"""The team page and the handover page: preview, adjust one by one, apply."""

from __future__ import annotations

import pytest
from django.test import Client

from accord.org.models import User
from accord.sales.models import Lead
from accord.sales.services import lead_create
from accord.territories.handover import still_owned_by

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_manager_previews_adjusts_and_applies_a_handover(org):
    north = lead_create(actor=org.rep, data={"company_name": "North", "district": org.north.pk})
    nowhere = lead_create(actor=org.rep, data={"company_name": "Nowhere"})
    client = _client(org.manager)
    team = client.get("/team/").content.decode()
    assert "Hand over" in team and "2 open leads" in team
    preview = client.get(f"/team/{org.rep.pk}/handover/", {"rule": "by_district"})
    html = preview.content.decode()
    assert preview.status_code == 200
    assert "covers the district" in html and "nobody else covers the district" in html
    applied = client.post(
        f"/team/{org.rep.pk}/handover/",
        {
            "rule": "by_district",
            f"owner-{north.pk}": str(org.manager.pk),  # changed one by one
            f"owner-{nowhere.pk}": str(org.other_rep.pk),
            "deactivate": "on",
            "apply": "1",
        },
    )
    assert applied.status_code == 302
    assert Lead.objects.get(pk=north.pk).owner_id == org.manager.pk
    assert Lead.objects.get(pk=nowhere.pk).owner_id == org.other_rep.pk
    assert still_owned_by(org.rep) == {}
    assert not User.objects.get(pk=org.rep.pk).is_active


def test_reps_have_no_team_page_and_cannot_hand_over_a_colleague(org):
    lead_create(actor=org.rep, data={"company_name": "Mine"})
    client = _client(org.other_rep)
    assert client.get("/team/").status_code == 404
    assert client.get(f"/team/{org.rep.pk}/handover/").status_code == 404


def test_a_handover_with_nobody_to_take_a_record_changes_nothing(org):
    lead = lead_create(actor=org.rep, data={"company_name": "Mine"})
    response = _client(org.manager).post(
        f"/team/{org.rep.pk}/handover/", {"rule": "to", "apply": "1"}
    )
    assert response.status_code == 422
    assert "Nothing was changed." in response.content.decode()
    assert Lead.objects.get(pk=lead.pk).owner_id == org.rep.pk


def test_the_handover_page_moves_owned_accounts_too(org):
    from accord.territories.models import AccountOwner
    from accord.territories.ownership import account_owner_set
    from tests.conftest import make_account

    account = make_account(org, legal_name="Owned Co., Ltd.")
    row = account_owner_set(
        actor=org.steward, account=account, business_unit=org.unit, owner=org.rep
    )
    client = _client(org.manager)
    assert "1 owned accounts" in client.get("/team/").content.decode()
    preview = client.get(f"/team/{org.rep.pk}/handover/", {"rule": "by_district"})
    html = preview.content.decode()
    assert "Owned Co., Ltd. · Business Solution Development" in html
    assert "Account owner" in html
    applied = client.post(
        f"/team/{org.rep.pk}/handover/",
        {"rule": "by_district", f"owner-{row.pk}": str(org.other_rep.pk), "apply": "1"},
    )
    assert applied.status_code == 302
    assert AccountOwner.objects.get(pk=row.pk).owner_id == org.other_rep.pk
    assert still_owned_by(org.rep) == {}
