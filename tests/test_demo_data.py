"""`accord demo-data` loads the documented demo organisation, once, fully audited."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from accord.activities.models import Activity, ActivityKind
from accord.audit.models import AuditEvent
from accord.audit.verify import audit_chain_verify
from accord.core.thai import tax_id_is_valid
from accord.customers.models import Account, Contact
from accord.customers.services import customer_code_is_valid
from accord.dataquality.models import RecordType
from accord.dataquality.required import required_fields_for
from accord.org import demo
from accord.org.models import BusinessUnit, Role, User
from accord.sales.models import Lead, Opportunity, OpportunityLineItem, Stage, StageOutcome

# The documented content of the demo (docs: accord/org/demo.py).
EXPECTED_COUNTS = {
    "business units": 3,
    "product lines": 7,
    "regions": 5,
    "districts": 13,
    "teams": 3,
    "users": 20,
    "pipelines": 3,
    "stages": 21,
    "products": 27,
    "data-entry rules": 11,
    "accounts": 300,
    "contacts": 600,
    "leads": 100,
    "opportunities": 400,
    "activities": 2000,
}


def _load() -> str:
    out = StringIO()
    call_command("demo_data", stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_demo_data_loads_the_documented_organisation_once() -> None:
    output = _load()

    counts = demo.demo_counts()
    assert {k: counts[k] for k in EXPECTED_COUNTS} == EXPECTED_COUNTS
    assert demo.DEMO_COUNTS == EXPECTED_COUNTS
    assert counts["opportunity line items"] > 100
    # Every row the load created was audited exactly once (line items with their deal),
    # the assignment rules one by one, and the owners they gave in one batch event.
    from accord.territories.models import AccountOwner, AssignmentRule

    rules = AssignmentRule.objects.count()
    assert rules == 10
    assert not Account.objects.filter(owners__isnull=True).exists()
    assert AccountOwner.objects.filter(owner__is_active=False).count() == 0
    assert counts["audit events"] == sum(EXPECTED_COUNTS.values()) + rules + 1
    assert "accounts" in output and "300" in output

    # The organisation: every role, the three units of the brief, a shared password.
    assert set(User.objects.values_list("role", flat=True)) == set(Role.values)
    assert set(BusinessUnit.objects.values_list("name", flat=True)) == {
        "Business Solution Development",
        "Business Solution Outsourcing",
        "Sales Bangkok",
    }
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff and admin.role == Role.ADMINISTRATOR
    assert User.objects.get(username="steward").is_staff
    rep = User.objects.get(username="somchai")
    assert rep.check_password(demo.DEMO_PASSWORD)
    assert rep.role == Role.SALES_REP and rep.team is not None and rep.districts.exists()
    assert rep.manager is not None and rep.manager.role == Role.SALES_MANAGER
    assert rep.manager.manager is not None
    assert rep.manager.manager.role == Role.REGIONAL_MANAGER
    assert all(u.first_name_th for u in User.objects.all())
    assert User.objects.filter(role=Role.SALES_REP).count() == 10
    assert not User.objects.filter(role=Role.SALES_REP, team__isnull=True).exists()

    # Accounts: valid customer codes and tax IDs, a few branches, all located.
    accounts = list(Account.objects.all())
    assert all(customer_code_is_valid(a.customer_code) for a in accounts)
    assert all(tax_id_is_valid(a.tax_id) for a in accounts)
    assert all(a.district_id for a in accounts)
    branches = [a for a in accounts if a.branch_code != "00000"]
    assert len(branches) == demo.ACCOUNT_BRANCHES
    assert not Account.objects.filter(contacts__isnull=True).exists()
    assert Contact.objects.exclude(first_name_th="").count() == 600

    # Opportunities: every stage is used; each is owned by a rep of its unit who covers
    # the account's district; the stage templates hold.
    assert {o.stage.name for o in Opportunity.objects.select_related("stage")} == {
        s.name for s in demo.STAGES
    }
    for opp in Opportunity.objects.select_related("owner", "account", "stage"):
        assert opp.owner.role == Role.SALES_REP
        assert opp.owner.business_unit_id == opp.business_unit_id
        assert opp.owner.districts.filter(pk=opp.account.district_id).exists()
        if opp.stage.outcome == StageOutcome.LOST:
            assert opp.lost_reason
        elif opp.stage.position >= 4:
            assert opp.amount > 0 and opp.expected_close_date is not None
    proposal = Stage.objects.filter(name="Proposal").first()
    assert {"amount", "expected_close_date"} <= set(
        required_fields_for(RecordType.OPPORTUNITY, stage=proposal)
    )
    assert OpportunityLineItem.objects.values("opportunity").distinct().count() > 200
    assert Lead.objects.filter(status="disqualified").exclude(disqualified_reason="").exists()

    # Activities: six months back, two weeks ahead; some tasks overdue, some planned.
    now = timezone.now()
    times = Activity.objects.values_list("occurred_at", flat=True)
    assert min(times) >= now - timezone.timedelta(days=demo.ACTIVITY_DAYS_BACK + 3)
    assert max(times) <= now + timezone.timedelta(days=demo.ACTIVITY_DAYS_AHEAD + 1)
    today = timezone.localdate()
    assert Activity.objects.filter(
        kind=ActivityKind.TASK, is_done=False, due_date__lt=today
    ).exists()
    assert Activity.objects.filter(is_done=False, occurred_at__gt=now).exists()
    assert Activity.objects.filter(kind=ActivityKind.VISIT, latitude__isnull=False).exists()
    assert Activity.objects.filter(opportunity__isnull=False).count() > 300
    assert Activity.objects.filter(account__isnull=True, lead__isnull=False).exists()

    assert audit_chain_verify().ok

    # A second run changes nothing.
    before = demo.demo_counts()
    assert "demo data already loaded" in _load()
    assert demo.demo_counts() == before
    assert AuditEvent.objects.count() == before["audit events"]

    # The logins table.
    out = StringIO()
    call_command("demo_logins", "--url", "http://accord.test:8000/", stdout=out)
    text = out.getvalue()
    assert "http://accord.test:8000/" in text
    assert demo.DEMO_PASSWORD in text
    for username in demo.DEMO_USERNAMES:
        assert f"  {username} " in text
    assert "Sales Bangkok" in text and "Regional manager" in text


@pytest.mark.django_db
def test_demo_logins_before_the_demo_is_loaded() -> None:
    out = StringIO()
    call_command("demo_logins", stdout=out)
    assert "http://127.0.0.1:8000/" in out.getvalue()
    assert "accord demo-data" in out.getvalue()


@pytest.mark.django_db
def test_demo_data_refuses_to_mix_with_existing_records() -> None:
    User.objects.create_user(username="admin", password="x")
    with pytest.raises(demo.DemoConflict, match="admin"):
        demo.demo_load()
    assert not BusinessUnit.objects.exists()
    assert User.objects.count() == 1
