"""Account request pages through Django's test client: the rep's form with the live
duplicate check, their requests, the stewards' queue and decisions, notifications."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accord.customers.models import Account, AccountRequest
from accord.customers.requests import account_request_reject, account_request_submit
from accord.org.models import Notification
from tests.conftest import make_account

pytestmark = pytest.mark.django_db

SIAM = "Siam Trading Co., Ltd."


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _request(org, user=None, **data):
    data.setdefault("legal_name", "Lanna Copier Co., Ltd.")
    data.setdefault("district", org.north.pk)
    return account_request_submit(actor=user or org.rep, data=data)


# --- the rep ------------------------------------------------------------------------------


def test_new_account_sends_a_rep_to_the_request_form(org):
    response = signed_in(org.rep).get("/accounts/new/")
    assert (response.status_code, response["Location"]) == (302, "/requests/new/")
    # a steward still gets the account form
    assert signed_in(org.steward).get("/accounts/new/").status_code == 200


def test_the_request_form_checks_for_duplicates_as_one_types(org):
    # given
    visible = make_account(org, legal_name="Lanna Printing Co., Ltd.")
    hidden = make_account(org, legal_name=SIAM, district=org.south)
    client = signed_in(org.rep)
    # the form: every input labelled, the matching fields wired to the live check
    html = client.get("/requests/new/").content.decode()
    for name in ("legal_name", "name_th", "tax_id", "phone", "email", "website"):
        assert f'<label for="id_{name}">' in html, name
    assert html.count('hx-trigger="input changed delay:400ms"') == 7
    assert 'hx-post="/requests/check/"' in html
    # when: the rep types a look-alike of an account in another district
    response = client.post("/requests/check/", {"legal_name": "Siam Tradings Co., Ltd."})
    # then: the candidate with its reasons, not linked (the rep may not see it)
    html = response.content.decode()
    assert response.status_code == 200
    assert hidden.customer_code in html and SIAM in html
    assert "name differs by one character" in html
    assert f'href="/accounts/{hidden.pk}/"' not in html
    # one in the rep's district is linked
    html = client.post(
        "/requests/check/", {"legal_name": "Lanna Printing", "phone": ""}
    ).content.decode()
    assert visible.customer_code in html
    assert f'href="/accounts/{visible.pk}/"' in html
    # nothing similar
    html = client.post("/requests/check/", {"legal_name": "Zebra Holdings"}).content.decode()
    assert "No similar customers found." in html


def test_submit_refused_on_a_duplicate_then_sent_with_a_justification(org):
    existing = make_account(org, legal_name=SIAM)
    client = signed_in(org.rep)
    data = {"legal_name": "SIAM TRADING COMPANY LIMITED", "district": org.north.pk}
    # when
    response = client.post("/requests/new/", data)
    # then: refused, with the candidate and the justification field marked
    assert response.status_code == 422
    html = response.content.decode()
    assert "Nothing was sent" in html and existing.customer_code in html
    assert "Say why this is not the existing account." in html
    assert 'value="SIAM TRADING COMPANY LIMITED"' in html
    assert AccountRequest.objects.count() == 0
    # with a justification
    response = client.post("/requests/new/", {**data, "justification": "A different company"})
    request = AccountRequest.objects.get()
    assert (response.status_code, response["Location"]) == (302, f"/requests/{request.pk}/")
    assert request.justification == "A different company"
    assert [c["customer_code"] for c in request.candidates] == [existing.customer_code]


def test_invalid_input_keeps_what_was_typed(org):
    response = signed_in(org.rep).post(
        "/requests/new/", {"legal_name": "Typed Co.", "tax_id": "123", "phone": "053111222"}
    )
    assert response.status_code == 422
    assert response.context["form"].errors["tax_id"]
    html = response.content.decode()
    assert 'value="Typed Co."' in html and 'value="053111222"' in html
    assert AccountRequest.objects.count() == 0


def test_my_requests_and_the_outcome(org):
    mine = _request(org, legal_name="Mine Co., Ltd.")
    theirs = _request(org, org.other_rep, legal_name="Theirs Co., Ltd.")
    account_request_reject(actor=org.steward, request=mine, reason="Closed down in 2024.")
    client = signed_in(org.rep)
    html = client.get("/requests/").content.decode()
    assert "Mine Co., Ltd." in html and "Theirs Co., Ltd." not in html
    assert "Rejected" in html
    detail = client.get(f"/requests/{mine.pk}/").content.decode()
    assert "Closed down in 2024." in detail
    assert "Approve and create the account" not in detail
    # another rep's request is not found
    assert client.get(f"/requests/{theirs.pk}/").status_code == 404
    # the manager sees both
    html = signed_in(org.manager).get("/requests/").content.decode()
    assert "Mine Co., Ltd." in html and "Theirs Co., Ltd." in html


def test_the_requester_edits_and_withdraws(org):
    request = _request(org)
    client = signed_in(org.rep)
    response = client.post(
        f"/requests/{request.pk}/edit/", {"legal_name": request.legal_name, "phone": "053 9"}
    )
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.phone == "053 9"
    assert signed_in(org.other_rep).post(f"/requests/{request.pk}/withdraw/").status_code == 404
    client.post(f"/requests/{request.pk}/withdraw/")
    request.refresh_from_db()
    assert request.status == "withdrawn"
    # a decided request is not editable any more
    assert client.get(f"/requests/{request.pk}/edit/")["Location"] == f"/requests/{request.pk}/"


# --- the steward --------------------------------------------------------------------------


def test_the_queue_oldest_first_with_age_and_filters(org):
    old = _request(org, legal_name="Old Co., Ltd.")
    south = _request(org, org.south_rep, legal_name="South Co., Ltd.", district=org.south.pk)
    AccountRequest.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - dt.timedelta(days=3)
    )
    client = signed_in(org.steward)
    response = client.get("/requests/queue/")
    assert [r.pk for r in response.context["page"].items] == [old.pk, south.pk]
    html = response.content.decode()
    assert "waiting 3\xa0days" in html
    for label in ("Business unit", "District", "Status"):
        assert f">{label}</label>" in html
    html = client.get("/requests/queue/", {"district": org.south.pk}).content.decode()
    assert "South Co., Ltd." in html and "Old Co., Ltd." not in html
    html = client.get("/requests/queue/", {"unit": org.unit.pk}).content.decode()
    assert "Old Co., Ltd." in html and "South Co., Ltd." not in html
    # reps and managers have no queue
    assert signed_in(org.rep).get("/requests/queue/").status_code == 403
    assert signed_in(org.manager).get("/requests/queue/").status_code == 403


def test_the_queue_query_count_does_not_grow(org):
    _request(org, legal_name="Count 0 Co.")
    client = signed_in(org.steward)
    client.get("/requests/queue/")

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/requests/queue/").status_code == 200
        return len(ctx.captured_queries)

    few = count()
    for n in range(1, 5):
        _request(org, org.other_rep if n % 2 else org.rep, legal_name=f"Count {n} Co.")
    assert count() == few


def test_the_steward_approves_with_candidates_side_by_side(org, django_capture_on_commit_callbacks):
    existing = make_account(org, legal_name=SIAM)
    request = _request(org, legal_name="Siam Tradings Co., Ltd.", justification="New branch")
    client = signed_in(org.steward)
    html = client.get(f"/requests/{request.pk}/").content.decode()
    assert "Approve and create the account" in html
    assert existing.customer_code in html and f"Resolve to {existing.customer_code}" in html
    # approving over the blocking duplicate needs the steward's own justification
    data = {"legal_name": "Siam Tradings Co., Ltd.", "district": org.north.pk}
    response = client.post(f"/requests/{request.pk}/approve/", data)
    assert response.status_code == 422
    assert Account.objects.count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/requests/{request.pk}/approve/",
            {**data, "duplicate_justification": "Confirmed by phone: a new branch"},
        )
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == "approved"
    assert len(mail.outbox) == 1
    # the rep sees the outcome and the notification
    rep = signed_in(org.rep)
    html = rep.get("/").content.decode()
    assert 'id="unread-count">1<' in html
    html = rep.get(f"/requests/{request.pk}/").content.decode()
    assert request.account.customer_code in html
    assert f'href="/accounts/{request.account_id}/"' in html


def test_reject_needs_a_reason_and_resolve_a_valid_code(org):
    existing = make_account(org, legal_name="Existing Co., Ltd.")
    request = _request(org)
    client = signed_in(org.steward)
    response = client.post(f"/requests/{request.pk}/reject/", {"reason": ""})
    assert response.status_code == 422
    assert "A reason is required to reject a request." in response.content.decode()
    code = existing.customer_code
    for bad in (code[:-1], code + "1", code[:-1] + str((int(code[-1]) + 1) % 10)):
        response = client.post(f"/requests/{request.pk}/resolve/", {"customer_code": bad})
        assert response.status_code == 422, bad
        assert "Not a valid customer code." in response.content.decode(), bad
    request.refresh_from_db()
    assert request.status == "pending"
    response = client.post(f"/requests/{request.pk}/resolve/", {"customer_code": code})
    assert response.status_code == 302
    request.refresh_from_db()
    assert (request.status, request.account) == ("resolved", existing)


def test_a_rep_cannot_decide_through_the_pages(org):
    request = _request(org)
    client = signed_in(org.rep)
    for action, data in (
        ("approve", {"legal_name": "X"}),
        ("reject", {"reason": "x"}),
        ("resolve", {"customer_code": "C000000013"}),
    ):
        response = client.post(f"/requests/{request.pk}/{action}/", data)
        assert response.status_code == 403, action
    request.refresh_from_db()
    assert request.status == "pending"


# --- notifications ------------------------------------------------------------------------


def test_notifications_page_bell_and_mark_read(org):
    request = _request(org)
    account_request_reject(actor=org.steward, request=request, reason="Duplicate of C1.")
    client = signed_in(org.rep)
    html = client.get("/notifications/").content.decode()
    assert "Account request rejected: Lanna Copier Co., Ltd." in html
    assert 'id="unread-count">1<' in html
    note = Notification.objects.get()
    response = client.post(f"/notifications/{note.pk}/open/")
    assert (response.status_code, response["Location"]) == (302, f"/requests/{request.pk}/")
    note.refresh_from_db()
    assert note.read_at is not None
    assert 'id="unread-count"' not in client.get("/notifications/").content.decode()
    # someone else's notification is not found
    assert signed_in(org.other_rep).post(f"/notifications/{note.pk}/open/").status_code == 404


def test_mark_all_read(org):
    for n in range(2):
        account_request_reject(
            actor=org.steward, request=_request(org, legal_name=f"N{n} Co."), reason="No"
        )
    client = signed_in(org.rep)
    client.post("/notifications/read/")
    assert Notification.objects.filter(read_at__isnull=True).count() == 0
