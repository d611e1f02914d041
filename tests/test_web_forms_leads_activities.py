"""Lead and activity forms: the services' field-level errors next to the fields, what was
typed kept, nothing saved on error; links from the lists and the 360 page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accord.activities.models import Activity
from accord.activities.services import activity_create
from accord.audit.models import AuditEvent
from accord.sales.models import Lead
from accord.sales.services import lead_create
from tests.conftest import make_account

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _lead(owner, name: str = "Siam Copier Co., Ltd.", **data) -> Lead:
    return lead_create(actor=owner, data={"company_name": name, "owner": owner.pk, **data})


def _errors_of(html: str, field: str) -> str:
    """The error list rendered next to ``field`` (empty when there is none)."""
    marker = f'id="id_{field}-errors"'
    if marker not in html:
        return ""
    return html.split(marker, 1)[1].split("</ul>", 1)[0]


# --- leads --------------------------------------------------------------------------------


def test_rep_creates_a_lead(org):
    # given
    client = signed_in(org.rep)
    assert client.get("/leads/new/").status_code == 200
    # when
    response = client.post(
        "/leads/new/",
        {"company_name": "  Nonthaburi   Print  ", "first_name": "Somchai", "source": "phone",
         "email": "somchai@example.co.th", "district": org.north.pk},
    )  # fmt: skip
    # then
    lead = Lead.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/leads/{lead.pk}/edit/"
    assert (lead.company_name, lead.owner, lead.source, lead.status) == (
        "Nonthaburi Print", org.rep, "phone", "new"
    )  # fmt: skip
    assert lead.business_unit == org.unit and lead.district == org.north
    assert AuditEvent.objects.filter(record_id=str(lead.pk), action="create").count() == 1


def test_lead_form_shows_the_service_errors_by_field_keeps_input_and_saves_nothing(org):
    # when: no company, a malformed email
    response = signed_in(org.rep).post(
        "/leads/new/",
        {
            "company_name": "",
            "first_name": "Somchai",
            "email": "not-an-email",
            "phone": "0812345678",
        },
    )
    # then
    assert response.status_code == 422
    html = response.content.decode()
    assert "Nothing was saved" in html
    assert "This field cannot be blank." in _errors_of(html, "company_name")
    assert "valid email" in _errors_of(html, "email")
    assert _errors_of(html, "first_name") == ""
    assert 'value="Somchai"' in html and 'value="0812345678"' in html
    assert 'value="not-an-email"' in html
    assert Lead.objects.count() == 0


def test_lead_edit_enforces_the_disqualification_reason_and_keeps_the_lead(org):
    # given
    lead = _lead(org.rep)
    client = signed_in(org.rep)
    page = client.get(f"/leads/{lead.pk}/edit/").content.decode()
    assert 'value="Siam Copier Co., Ltd."' in page
    # when: disqualified without a reason
    response = client.post(
        f"/leads/{lead.pk}/edit/",
        {"company_name": "Siam Copier Co., Ltd.", "status": "disqualified", "owner": org.rep.pk},
    )
    # then
    assert response.status_code == 422
    html = response.content.decode()
    assert "Say why the lead is disqualified." in _errors_of(html, "disqualified_reason")
    assert '<option value="disqualified" selected>' in html
    lead.refresh_from_db()
    assert lead.status == "new"
    # and with the reason it is saved
    response = client.post(
        f"/leads/{lead.pk}/edit/",
        {"company_name": "Siam Copier Co., Ltd.", "status": "disqualified",
         "disqualified_reason": "No budget", "owner": org.rep.pk},
    )  # fmt: skip
    assert response.status_code == 302
    lead.refresh_from_db()
    assert (lead.status, lead.disqualified_reason) == ("disqualified", "No budget")


def test_lead_owner_choices_are_the_people_the_user_may_assign(org):
    lead = _lead(org.rep)
    client = signed_in(org.rep)
    # the rep may not give the lead to a colleague: not a choice, and nothing changes
    response = client.post(
        f"/leads/{lead.pk}/edit/",
        {"company_name": "Siam Copier Co., Ltd.", "owner": org.other_rep.pk},
    )
    assert response.status_code == 422
    assert "Select a valid choice" in _errors_of(response.content.decode(), "owner")
    lead.refresh_from_db()
    assert lead.owner == org.rep
    # their manager may
    response = signed_in(org.manager).post(
        f"/leads/{lead.pk}/edit/",
        {"company_name": "Siam Copier Co., Ltd.", "owner": org.other_rep.pk},
    )
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.owner == org.other_rep


def test_a_lead_the_user_may_not_see_is_not_found(org):
    lead = _lead(org.other_rep)
    client = signed_in(org.rep)
    assert client.get(f"/leads/{lead.pk}/edit/").status_code == 404
    assert client.post(f"/leads/{lead.pk}/edit/", {"company_name": "Mine now"}).status_code == 404
    assert client.get(f"/leads/{lead.pk}/activities/new/").status_code == 404
    lead.refresh_from_db()
    assert lead.company_name == "Siam Copier Co., Ltd."


# --- activities ---------------------------------------------------------------------------


def test_plan_a_task_on_an_account_with_field_errors_first(org):
    # given
    account = make_account(org)
    client = signed_in(org.rep)
    assert client.get(f"/accounts/{account.pk}/activities/new/").status_code == 200
    # when: a task without a due date
    response = client.post(
        f"/accounts/{account.pk}/activities/new/",
        {"kind": "task", "subject": "Send the price list", "body": "Both models"},
    )
    # then
    assert response.status_code == 422
    html = response.content.decode()
    assert "A task needs a due date." in _errors_of(html, "due_date")
    assert 'value="Send the price list"' in html and "Both models" in html
    assert Activity.objects.count() == 0
    # when: with the due date
    due = timezone.localdate() + dt.timedelta(days=2)
    response = client.post(
        f"/accounts/{account.pk}/activities/new/",
        {"kind": "task", "subject": "Send the price list", "due_date": due.isoformat()},
    )
    # then
    assert response.status_code == 302 and response["Location"] == f"/accounts/{account.pk}/"
    task = Activity.objects.get()
    assert (task.account, task.performed_by, task.due_date, task.is_done) == (
        account, org.rep, due, False
    )  # fmt: skip


def test_a_meeting_end_before_its_start_is_refused(org):
    account = make_account(org)
    response = signed_in(org.rep).post(
        f"/accounts/{account.pk}/activities/new/",
        {"kind": "meeting", "subject": "Demo", "start_at": "2026-12-01T10:00",
         "end_at": "2026-12-01T09:00"},
    )  # fmt: skip
    assert response.status_code == 422
    html = response.content.decode()
    assert "The end is before the start." in _errors_of(html, "end_at")
    assert 'value="2026-12-01T10:00"' in html
    assert Activity.objects.count() == 0


def test_log_a_call_on_a_lead(org):
    lead = _lead(org.rep)
    response = signed_in(org.rep).post(
        f"/leads/{lead.pk}/activities/new/",
        {"kind": "call", "subject": "First call", "is_done": "on"},
    )
    assert response.status_code == 302 and response["Location"] == f"/leads/{lead.pk}/edit/"
    call = Activity.objects.get()
    assert (call.lead, call.account, call.kind, call.is_done) == (lead, None, "call", True)


def test_edit_an_activity_and_mark_it_done(org):
    # given
    account = make_account(org)
    due = timezone.localdate()
    task = activity_create(
        actor=org.rep,
        data={"account": account.pk, "kind": "task", "subject": "Call back", "due_date": due},
    )
    client = signed_in(org.rep)
    page = client.get(f"/activities/{task.pk}/edit/").content.decode()
    assert 'value="Call back"' in page and f'value="{due.isoformat()}"' in page
    # when
    response = client.post(
        f"/activities/{task.pk}/edit/",
        {"kind": "task", "subject": "Called back", "due_date": due.isoformat(), "is_done": "on",
         "outcome": "Wants a demo"},
    )  # fmt: skip
    # then
    assert response.status_code == 302 and response["Location"] == f"/accounts/{account.pk}/"
    task.refresh_from_db()
    assert (task.subject, task.is_done, task.outcome) == ("Called back", True, "Wants a demo")
    assert task.done_at is not None
    # a colleague cannot open it
    assert signed_in(org.other_rep).get(f"/activities/{task.pk}/edit/").status_code == 404


def test_lists_and_the_360_page_link_to_the_forms(org):
    account = make_account(org)
    lead = _lead(org.rep)
    task = activity_create(
        actor=org.rep,
        data={"account": account.pk, "kind": "task", "subject": "Call back",
              "due_date": timezone.localdate()},
    )  # fmt: skip
    client = signed_in(org.rep)
    leads = client.get("/leads/").content.decode()
    assert 'href="/leads/new/"' in leads and f'href="/leads/{lead.pk}/edit/"' in leads
    assert f'href="/leads/{lead.pk}/activities/new/"' in leads
    activities = client.get("/activities/").content.decode()
    assert f'href="/activities/{task.pk}/edit/"' in activities
    page = client.get(f"/accounts/{account.pk}/").content.decode()
    assert f'href="/accounts/{account.pk}/activities/new/"' in page
    assert f'href="/activities/{task.pk}/edit/"' in page
    # an executive (read-only) is not offered the forms
    assert 'href="/leads/new/"' not in signed_in(org.executive).get("/leads/").content.decode()


def test_the_lead_page_lists_its_activities_in_constant_queries(org):
    # given
    lead = _lead(org.rep)
    client = signed_in(org.rep)

    def call(subject: str) -> None:
        activity_create(actor=org.rep, data={"lead": lead.pk, "kind": "call", "subject": subject})

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(f"/leads/{lead.pk}/edit/").status_code == 200
        return len(ctx.captured_queries)

    call("First call")
    few = queries()
    for n in range(2, 7):
        call(f"Call {n}")
    # then
    assert queries() == few
    html = client.get(f"/leads/{lead.pk}/edit/").content.decode()
    section = html.split('id="lead-activities"')[1]
    assert "First call" in section and "Call 6" in section
    assert f'href="/leads/{lead.pk}/activities/new/"' in section
