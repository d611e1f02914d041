"""The admin: who may use it, and that changes made there are audited."""

from __future__ import annotations

import pytest
from django.test import Client

from accord.audit.models import AuditEvent
from accord.audit.verify import audit_chain_verify
from accord.org.models import District

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url",
    [
        "/admin/",
        "/admin/org/businessunit/",
        "/admin/org/user/",
        "/admin/sales/pipeline/",
        "/admin/dataquality/requiredfieldrule/",
    ],
)
def test_admin_and_steward_may_open_org_screens(org, url):
    for user in (org.admin, org.steward):
        client = Client()
        client.force_login(user)
        assert client.get(url).status_code == 200, (user.username, url)


def test_rep_cannot_open_admin(org):
    client = Client()
    client.force_login(org.rep)
    response = client.get("/admin/org/user/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_only_administrators_read_the_audit_trail_in_admin(org):
    steward = Client()
    steward.force_login(org.steward)
    assert steward.get("/admin/audit/auditevent/").status_code == 403
    admin = Client()
    admin.force_login(org.admin)
    assert admin.get("/admin/audit/auditevent/").status_code == 200


def test_change_in_admin_is_audited_with_before_and_after(org):
    client = Client()
    client.force_login(org.steward)
    district = org.north
    response = client.post(
        f"/admin/org/district/{district.pk}/change/",
        {
            "code": district.code,
            "name": "Bangkok North (Chatuchak)",
            "name_th": "กรุงเทพเหนือ",
            "region": str(district.region_id),
        },
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(record_type="org.district", action="update")
    assert event.changes == {
        "name": ["Bangkok North", "Bangkok North (Chatuchak)"],
        "name_th": ["", "กรุงเทพเหนือ"],
    }
    assert event.actor_name == "steward"
    assert event.source == "web"
    assert District.objects.get(pk=district.pk).name == "Bangkok North (Chatuchak)"
    assert audit_chain_verify().ok
