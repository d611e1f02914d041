"""Account requests: a rep requests, a steward approves, rejects or resolves; the requester
is notified in the app and by e-mail. Services and the REST API."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.core import mail
from django.db import close_old_connections, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accord.audit.models import AuditEvent
from accord.core.context import Source, acting_as
from accord.core.errors import Conflict, DomainError, PermissionDenied, ValidationFailed
from accord.customers.models import Account, AccountRequest
from accord.customers.requests import (
    account_request_age,
    account_request_approve,
    account_request_list,
    account_request_queue,
    account_request_reject,
    account_request_resolve,
    account_request_submit,
    account_request_update,
    account_request_withdraw,
)
from accord.customers.services import customer_code_format
from accord.dataquality.models import RecordType, RequiredFieldRule
from accord.org.models import Notification, Role
from accord.org.notifications import notifications_mark_read, unread_count
from tests.conftest import make_account
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

TAX_ID = "0994000165668"
SIAM = "Siam Trading Co., Ltd."


def _submit(org, **data):
    data.setdefault("legal_name", "Chiang Mai Copier Co., Ltd.")
    data.setdefault("district", org.north.pk)
    return account_request_submit(actor=org.rep, data=data)


def _mistyped(code: str) -> list[str]:
    """The code with one character changed, one added and one removed."""
    changed = code[:-2] + str((int(code[-2]) + 1) % 10) + code[-1]
    return [changed, code + "7", code[:-1]]


# --- submit -------------------------------------------------------------------------------


def test_a_rep_requests_an_account(org):
    # when
    request = _submit(org, name_th="บริษัท เชียงใหม่ก๊อปปี้ จำกัด", tax_id="0-9940-00165-66-8")
    # then
    request.refresh_from_db()
    assert (request.status, request.requester, request.business_unit) == (
        "pending",
        org.rep,
        org.unit,
    )
    assert (request.tax_id, request.district, request.candidates) == (TAX_ID, org.north, [])
    assert Account.objects.count() == 0
    event = AuditEvent.objects.get(record_id=str(request.pk))
    assert (event.action, event.record_type) == ("create", "customers.accountrequest")


def test_invalid_input_saves_nothing(org):
    with pytest.raises(ValidationFailed) as exc:
        _submit(org, tax_id="0994000165667", email="not an email")
    assert set(exc.value.errors) == {"tax_id", "email"}
    with pytest.raises(ValidationFailed) as exc:
        _submit(org, legal_name="", district=None)
    assert set(exc.value.errors) == {"legal_name"}
    assert AccountRequest.objects.count() == 0
    assert AuditEvent.objects.filter(record_type="customers.accountrequest").count() == 0


def test_the_account_templates_compulsory_fields_apply(org):
    # given
    RequiredFieldRule.objects.create(record_type=RecordType.ACCOUNT, field="tax_id")
    RequiredFieldRule.objects.create(record_type=RecordType.ACCOUNT, field="phone")
    # when / then: every missing field named at once
    with pytest.raises(ValidationFailed) as exc:
        _submit(org)
    assert exc.value.code == "required_fields_missing"
    assert set(exc.value.errors) == {"tax_id", "phone"}
    assert AccountRequest.objects.count() == 0
    # with them given
    assert _submit(org, tax_id=TAX_ID, phone="053 111 222").status == "pending"


def test_a_blocking_duplicate_is_refused_without_justification_and_kept_with_one(org):
    # given
    existing = make_account(org, legal_name=SIAM, district=org.south)
    # when
    with pytest.raises(Conflict) as exc:
        _submit(org, legal_name="Siam Tradings Co., Ltd.")
    # then: the candidates, with reasons, even though the rep may not see the account
    assert exc.value.code == "duplicate_suspected"
    assert [
        (c["customer_code"], c["decision"], c["reasons"]) for c in exc.value.extra["candidates"]
    ] == [(existing.customer_code, "block", ["name differs by one character"])]
    assert "justification" in exc.value.errors
    assert AccountRequest.objects.count() == 0
    # when: with a justification
    request = _submit(
        org, legal_name="Siam Tradings Co., Ltd.", justification=" A separate branch "
    )
    # then: saved, with the candidates it was shown
    assert request.justification == "A separate branch"
    assert [(c["id"], c["name"], c["decision"]) for c in request.candidates] == [
        (str(existing.pk), SIAM, "block")
    ]


def test_an_executive_may_not_request(org):
    with pytest.raises(PermissionDenied):
        account_request_submit(actor=org.executive, data={"legal_name": "X Co., Ltd."})


# --- the requester's changes --------------------------------------------------------------


def test_the_requester_changes_or_withdraws_a_pending_request(org):
    request = _submit(org)
    # another rep may not
    with pytest.raises(PermissionDenied):
        account_request_update(actor=org.other_rep, request=request, data={"phone": "1"})
    # the requester may; the checks run again
    with pytest.raises(ValidationFailed):
        account_request_update(actor=org.rep, request=request, data={"tax_id": "123"})
    updated = account_request_update(actor=org.rep, request=request, data={"phone": "053 111 222"})
    assert updated.phone == "053 111 222"
    withdrawn = account_request_withdraw(actor=org.rep, request=request)
    assert (withdrawn.status, withdrawn.decided_by) == ("withdrawn", org.rep)
    with pytest.raises(Conflict) as exc:
        account_request_update(actor=org.rep, request=request, data={"phone": "2"})
    assert exc.value.code == "account_request_not_pending"


# --- decisions ----------------------------------------------------------------------------


def test_approval_creates_the_account_and_notifies_the_requester(
    org, django_capture_on_commit_callbacks
):
    # given
    request = _submit(org, phone="053 111 222")
    # when: the steward corrects the district at approval
    with django_capture_on_commit_callbacks(execute=True):
        approved = account_request_approve(
            actor=org.steward, request=request, data={"district": org.south.pk}
        )
    # then
    account = Account.objects.get()
    assert (approved.status, approved.account, approved.decided_by) == (
        "approved",
        account,
        org.steward,
    )
    assert approved.decided_at is not None
    assert (account.legal_name, account.phone, account.district) == (
        "Chiang Mai Copier Co., Ltd.",
        "053 111 222",
        org.south,
    )
    assert account.customer_code.startswith("C") and len(account.customer_code) == 10
    request.refresh_from_db()
    assert request.district == org.south
    # in the app ...
    note = Notification.objects.get(recipient=org.rep)
    assert note.kind == "account_request_approved"
    assert account.customer_code in note.title
    assert note.url == f"/requests/{request.pk}/"
    assert (note.related_type, note.related_id) == ("customers.accountrequest", str(request.pk))
    # ... and by e-mail
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [org.rep.email]
    assert mail.outbox[0].subject == note.title
    assert f"/requests/{request.pk}/" in mail.outbox[0].body


def test_a_rep_cannot_decide(org):
    request = _submit(org)
    for decide in (
        lambda: account_request_approve(actor=org.rep, request=request),
        lambda: account_request_reject(actor=org.manager, request=request, reason="no"),
        lambda: account_request_resolve(actor=org.rep, request=request, customer_code="C"),
    ):
        with pytest.raises(PermissionDenied) as exc:
            decide()
        assert exc.value.code == "account_request_review_requires_steward"
    with pytest.raises(PermissionDenied):
        account_request_queue(user=org.manager)
    request.refresh_from_db()
    assert request.status == "pending"
    assert Account.objects.count() == 0


def test_approval_runs_the_duplicate_check_again(org):
    # given: a request justified by the rep ...
    make_account(org, legal_name=SIAM)
    request = _submit(org, legal_name="Siam Tradings Co., Ltd.", justification="New branch")
    # when: the steward approves without their own justification, it is refused
    with pytest.raises(Conflict) as exc:
        account_request_approve(actor=org.steward, request=request)
    assert exc.value.code == "duplicate_suspected"
    request.refresh_from_db()
    assert (request.status, Account.objects.count(), Notification.objects.count()) == (
        "pending",
        1,
        0,
    )
    # with one, it is created and the override audited
    approved = account_request_approve(
        actor=org.steward, request=request, duplicate_justification="Confirmed: the Lamphun branch"
    )
    assert approved.decision_reason == "Confirmed: the Lamphun branch"
    event = AuditEvent.objects.get(record_id=str(approved.account_id), action="create")
    assert event.changes["duplicate_override"]["justification"] == "Confirmed: the Lamphun branch"


def test_approval_applies_the_compulsory_fields_too(org):
    request = _submit(org)
    RequiredFieldRule.objects.create(record_type=RecordType.ACCOUNT, field="phone")
    with pytest.raises(ValidationFailed) as exc:
        account_request_approve(actor=org.steward, request=request)
    assert set(exc.value.errors) == {"phone"}
    assert Account.objects.count() == 0
    approved = account_request_approve(actor=org.steward, request=request, data={"phone": "053 1"})
    assert approved.account.phone == "053 1"


def test_rejection_needs_a_reason(org, django_capture_on_commit_callbacks):
    request = _submit(org)
    with pytest.raises(ValidationFailed) as exc:
        account_request_reject(actor=org.steward, request=request, reason="  ")
    assert set(exc.value.errors) == {"reason"}
    with django_capture_on_commit_callbacks(execute=True):
        rejected = account_request_reject(
            actor=org.steward, request=request, reason="Not a customer of ours."
        )
    assert (rejected.status, rejected.decision_reason) == ("rejected", "Not a customer of ours.")
    assert Notification.objects.get(recipient=org.rep).kind == "account_request_rejected"
    assert "Not a customer of ours." in mail.outbox[0].body
    with pytest.raises(Conflict):
        account_request_approve(actor=org.steward, request=request)
    assert Account.objects.count() == 0


def test_resolve_to_an_existing_account_validates_the_code(org):
    # given
    existing = make_account(org, legal_name=SIAM)
    request = _submit(org, legal_name="Siam Trading (Chiang Mai)", justification="maybe new")
    # when: a code with one character changed, added or removed
    for code in _mistyped(existing.customer_code):
        with pytest.raises(ValidationFailed) as exc:
            account_request_resolve(actor=org.steward, request=request, customer_code=code)
        # then: invalid, never another customer
        assert exc.value.code == "invalid_customer_code", code
    # a valid code no account has
    with pytest.raises(ValidationFailed) as exc:
        account_request_resolve(
            actor=org.steward, request=request, customer_code=customer_code_format(99999999)
        )
    assert exc.value.errors == {"customer_code": ["No account has this customer code."]}
    request.refresh_from_db()
    assert request.status == "pending"
    # the right code, typed in lower case with spaces
    resolved = account_request_resolve(
        actor=org.steward,
        request=request,
        customer_code=f" {existing.customer_code.lower()} ",
        reason="Same company.",
    )
    assert (resolved.status, resolved.account) == ("resolved", existing)
    assert Account.objects.count() == 1
    note = Notification.objects.get(recipient=org.rep)
    assert existing.customer_code in note.title and "Same company." in note.body


def test_no_email_when_the_decision_is_rolled_back(org):
    request = _submit(org)
    RequiredFieldRule.objects.create(record_type=RecordType.ACCOUNT, field="industry")
    with pytest.raises(ValidationFailed):
        account_request_approve(actor=org.steward, request=request)
    assert (Notification.objects.count(), len(mail.outbox)) == (0, 0)


def test_a_user_without_email_is_notified_in_the_app_only(org, django_capture_on_commit_callbacks):
    org.rep.email = ""
    org.rep.save(update_fields=["email"])
    request = _submit(org)
    with django_capture_on_commit_callbacks(execute=True):
        account_request_reject(actor=org.steward, request=request, reason="Duplicate.")
    assert (Notification.objects.count(), len(mail.outbox)) == (1, 0)


# --- reads --------------------------------------------------------------------------------


def test_who_sees_which_requests(org):
    mine = _submit(org, legal_name="Mine Co., Ltd.")
    other = account_request_submit(
        actor=org.other_rep, data={"legal_name": "Other Co., Ltd.", "district": org.north.pk}
    )
    south = account_request_submit(
        actor=org.south_rep, data={"legal_name": "South Co., Ltd.", "district": org.south.pk}
    )

    def seen(user):
        return {r.pk for r in account_request_list(user=user).items}

    assert seen(org.rep) == {mine.pk}
    assert seen(org.manager) == {mine.pk, other.pk}
    assert seen(org.steward) == {mine.pk, other.pk, south.pk}


def test_the_queue_is_oldest_first_with_filters_and_age(org):
    # given
    first = _submit(org, legal_name="First Co., Ltd.")
    second = account_request_submit(
        actor=org.south_rep, data={"legal_name": "Second Co., Ltd.", "district": org.south.pk}
    )
    third = _submit(org, legal_name="Third Co., Ltd.")
    account_request_reject(actor=org.steward, request=third, reason="Test")
    AccountRequest.objects.filter(pk=first.pk).update(
        created_at=timezone.now() - dt.timedelta(days=3)
    )
    # then
    assert [r.pk for r in account_request_queue(user=org.steward).items] == [first.pk, second.pk]
    assert [r.pk for r in account_request_queue(user=org.steward, district=org.south.pk).items] == [
        second.pk
    ]
    assert [
        r.pk for r in account_request_queue(user=org.steward, business_unit=org.unit.pk).items
    ] == [first.pk]
    assert [r.pk for r in account_request_queue(user=org.steward, status="rejected").items] == [
        third.pk
    ]
    first.refresh_from_db()
    now = timezone.now()
    assert account_request_age(first, now=now).days == 3


def test_notifications_unread_count_and_mark_read(org):
    for reason in ["One", "Two"]:
        account_request_reject(
            actor=org.steward, request=_submit(org, legal_name=f"{reason} Co."), reason=reason
        )
    assert unread_count(org.rep) == 2
    one = Notification.objects.filter(recipient=org.rep).first()
    assert notifications_mark_read(user=org.other_rep, ids=[one.pk]) == 0  # not theirs
    assert notifications_mark_read(user=org.rep, ids=[one.pk]) == 1
    assert unread_count(org.rep) == 1
    assert notifications_mark_read(user=org.rep) == 1
    assert unread_count(org.rep) == 0


# --- the API ------------------------------------------------------------------------------


def test_api_workflow(org, api_as, django_capture_on_commit_callbacks):
    rep, steward = api_as(org.rep), api_as(org.steward)
    # submit
    response = rep.post(
        "/account-requests",
        {"legal_name": "Lanna Office Co., Ltd.", "district": str(org.north.pk), "phone": "053 1"},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["requester"], body["business_unit"], body["account"]) == (
        "pending",
        str(org.rep.pk),
        str(org.unit.pk),
        None,
    )
    request_id = body["id"]
    # the rep may change it; not approve it
    assert (
        rep.patch(f"/account-requests/{request_id}", {"phone": "053 2"}).json()["phone"] == "053 2"
    )
    refused = rep.post(f"/account-requests/{request_id}/approve", {})
    assert refused.status_code == 403
    assert refused["Content-Type"] == "application/problem+json"
    assert refused.json()["code"] == "account_request_review_requires_steward"
    # the steward's queue
    queue = steward.get("/account-requests", status="pending", ordering="created_at").json()
    assert [r["id"] for r in queue["items"]] == [request_id]
    # approve
    with django_capture_on_commit_callbacks(execute=True):
        approved = steward.post(f"/account-requests/{request_id}/approve", {"industry": "retail"})
    assert approved.status_code == 200, approved.content
    body = approved.json()
    account = Account.objects.get()
    assert (body["status"], body["account"], body["account_customer_code"]) == (
        "approved",
        str(account.pk),
        account.customer_code,
    )
    assert account.industry == "retail"
    # the rep sees the outcome and the notification
    assert rep.get(f"/account-requests/{request_id}").json()["account_customer_code"] == (
        account.customer_code
    )
    notes = rep.get("/me/notifications").json()
    assert notes["unread_count"] == 1
    assert notes["items"][0]["kind"] == "account_request_approved"
    assert len(mail.outbox) == 1
    marked = rep.post("/me/notifications/read", {"ids": [notes["items"][0]["id"]]}).json()
    assert marked == {"marked": 1, "unread_count": 0}
    assert rep.get("/me/notifications", unread=True).json()["items"] == []


def test_api_duplicate_409_with_candidates_then_justified(org, api_as):
    existing = make_account(org, legal_name=SIAM)
    rep = api_as(org.rep)
    data = {"legal_name": "SIAM  TRADING COMPANY LIMITED", "district": str(org.north.pk)}
    refused = rep.post("/account-requests", data)
    assert refused.status_code == 409
    problem = refused.json()
    assert problem["code"] == "duplicate_suspected"
    assert [(c["customer_code"], c["reasons"]) for c in problem["candidates"]] == [
        (existing.customer_code, ["same name"])
    ]
    assert AccountRequest.objects.count() == 0
    accepted = rep.post("/account-requests", {**data, "justification": "A different company"})
    assert accepted.status_code == 201
    assert [c["customer_code"] for c in accepted.json()["candidates"]] == [existing.customer_code]


def test_api_refuses_unknown_and_read_only_fields(org, api_as):
    rep = api_as(org.rep)
    for extra in ({"status": "approved"}, {"customer_code": "C000000010"}, {"account": None}):
        response = rep.post("/account-requests", {"legal_name": "X Co.", **extra})
        assert response.status_code == 422, extra
    assert AccountRequest.objects.count() == 0


def test_api_reject_resolve_withdraw(org, api_as):
    existing = make_account(org, legal_name="Existing Co., Ltd.")
    rep, steward = api_as(org.rep), api_as(org.steward)
    ids = [
        rep.post("/account-requests", {"legal_name": f"Req {n} Co., Ltd."}).json()["id"]
        for n in range(3)
    ]
    # reject: a reason is required
    assert steward.post(f"/account-requests/{ids[0]}/reject", {"reason": " "}).status_code == 422
    assert steward.post(f"/account-requests/{ids[0]}/reject", {"reason": "No."}).json()[
        "status"
    ] == ("rejected")
    # resolve: a mistyped code is invalid
    for code in _mistyped(existing.customer_code):
        bad = steward.post(f"/account-requests/{ids[1]}/resolve", {"customer_code": code})
        assert (bad.status_code, bad.json()["code"]) == (422, "invalid_customer_code"), code
    good = steward.post(
        f"/account-requests/{ids[1]}/resolve", {"customer_code": existing.customer_code}
    )
    assert (good.json()["status"], good.json()["account_customer_code"]) == (
        "resolved",
        existing.customer_code,
    )
    # withdraw: the requester only
    assert steward.post(f"/account-requests/{ids[2]}/withdraw", {}).status_code == 403
    assert rep.post(f"/account-requests/{ids[2]}/withdraw", {}).json()["status"] == "withdrawn"
    # a decided request cannot be decided again
    again = steward.post(f"/account-requests/{ids[0]}/approve", {})
    assert (again.status_code, again.json()["code"]) == (409, "account_request_not_pending")


def test_api_a_request_the_user_may_not_see_is_404(org, api_as):
    other = api_as(org.other_rep).post("/account-requests", {"legal_name": "Hidden Co."}).json()
    south = api_as(org.south_rep)
    assert south.get(f"/account-requests/{other['id']}").status_code == 404
    assert south.patch(f"/account-requests/{other['id']}", {"phone": "1"}).status_code == 404
    assert south.post(f"/account-requests/{other['id']}/withdraw", {}).status_code == 404
    # the manager sees the team's request, may not change it
    manager = api_as(org.manager)
    assert manager.get(f"/account-requests/{other['id']}").status_code == 200
    assert manager.patch(f"/account-requests/{other['id']}", {"phone": "1"}).status_code == 403


def test_api_list_query_count_does_not_grow(org, api_as):
    steward = api_as(org.steward)
    rep = UserFactory(role=Role.SALES_REP, business_unit=org.unit, districts=[org.north])
    first = account_request_submit(actor=rep, data={"legal_name": "Count 0 Co."})
    account_request_approve(actor=org.steward, request=first)
    steward.get("/account-requests")

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert steward.get("/account-requests").status_code == 200
        return len(ctx.captured_queries)

    few = count()
    for n in range(1, 5):
        request = account_request_submit(actor=rep, data={"legal_name": f"Count {n} Co."})
        account_request_approve(actor=org.steward, request=request)
    assert count() == few


# --- concurrency --------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_stewards_deciding_one_request_at_once_create_one_account(org):
    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent connections to one database: run with PostgreSQL")
    # given
    request = _submit(org)
    other_steward = UserFactory(role=Role.CRM_OFFICER)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def approve(steward) -> None:
        try:
            barrier.wait(timeout=10)
            with acting_as(steward, Source.WEB):
                account_request_approve(actor=steward, request=request)
            outcomes.append("approved")
        except DomainError as exc:
            outcomes.append(exc.code)
        finally:
            close_old_connections()
            connection.close()

    # when
    threads = [threading.Thread(target=approve, args=(s,)) for s in (org.steward, other_steward)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    # then
    assert sorted(outcomes) == ["account_request_not_pending", "approved"]
    assert Account.objects.count() == 1
    assert Notification.objects.count() == 1
