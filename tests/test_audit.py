"""The audit trail: every write is recorded in its transaction; tampering is detected."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction

from accord.audit.models import AuditEvent
from accord.audit.verify import audit_chain_verify
from accord.core.context import Source, acting_as
from accord.customers.services import account_update
from tests.conftest import make_account

pytestmark = pytest.mark.django_db


def _events() -> list[AuditEvent]:
    return list(AuditEvent.objects.order_by("seq"))


def _make_history(org) -> None:
    account = make_account(org, legal_name="Chain One Co., Ltd.")
    make_account(org, legal_name="Chain Two Co., Ltd.")
    account_update(actor=org.steward, account=account, data={"phone": "+66 2 111 2222"})


def _verify_output() -> str:
    out = io.StringIO()
    call_command("audit_verify", stdout=out)
    return out.getvalue()


def test_create_and_update_record_who_what_when_from_where(org):
    # given
    with acting_as(org.steward, Source.API, request_id="req-123", ip="10.0.0.9"):
        account = make_account(org, legal_name="Audit Me Co., Ltd.")
        account_update(actor=org.steward, account=account, data={"phone": "021234567"})
    # when
    events = list(AuditEvent.objects.filter(record_id=str(account.pk)).order_by("seq"))
    # then
    assert [e.action for e in events] == ["create", "update"]
    created, updated = events
    assert created.record_type == "customers.account"
    assert created.actor_id == org.steward.pk
    assert created.actor_name == "steward"
    assert created.source == "api"
    assert created.request_id == "req-123"
    assert created.ip == "10.0.0.9"
    assert created.changes["legal_name"] == [None, "Audit Me Co., Ltd."]
    assert created.changes["customer_code"] == [None, account.customer_code]
    assert updated.changes == {"phone": ["", "021234567"]}
    assert updated.prev_hash == created.hash


def test_update_that_changes_nothing_writes_no_event(org):
    account = make_account(org)
    before = AuditEvent.objects.count()
    account_update(actor=org.steward, account=account, data={"legal_name": account.legal_name})
    assert AuditEvent.objects.count() == before


def test_rolled_back_write_leaves_no_event(org):
    before = AuditEvent.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        make_account(org, legal_name="Rolled Back Co., Ltd.")
        raise RuntimeError("boom")
    assert AuditEvent.objects.count() == before
    assert audit_chain_verify().ok


def test_application_cannot_update_or_delete_events(org):
    _make_history(org)
    event = AuditEvent.objects.order_by("seq").first()
    with pytest.raises(TypeError):
        event.delete()
    with pytest.raises(TypeError):
        AuditEvent.objects.filter(pk=event.pk).update(actor_name="someone else")
    with pytest.raises(TypeError):
        AuditEvent.objects.all().delete()
    event.actor_name = "someone else"
    with pytest.raises(TypeError):
        event.save()


def test_intact_chain_verifies(org):
    _make_history(org)
    report = audit_chain_verify()
    assert report.ok
    assert report.checked == AuditEvent.objects.count() == 3
    assert "Audit chain OK: 3 events verified." in _verify_output()


def test_altered_event_is_detected(org):
    _make_history(org)
    second = _events()[1]
    with connection.cursor() as cur:
        cur.execute(
            "UPDATE audit_auditevent SET actor_name = %s WHERE seq = %s", ["mallory", second.seq]
        )
    report = audit_chain_verify()
    assert not report.ok
    assert report.first_bad_seq == second.seq
    with pytest.raises(CommandError, match=f"#{second.seq}: event #{second.seq} was altered"):
        _verify_output()


def test_altered_changes_json_is_detected(org):
    _make_history(org)
    last = _events()[-1]
    with connection.cursor() as cur:
        cur.execute(
            "UPDATE audit_auditevent SET changes = %s WHERE seq = %s",
            ['{"phone": ["", "+66 2 999 9999"]}', last.seq],
        )
    report = audit_chain_verify()
    assert (report.ok, report.first_bad_seq) == (False, last.seq)


def test_deleted_event_is_detected(org):
    _make_history(org)
    with connection.cursor() as cur:
        cur.execute("DELETE FROM audit_auditevent WHERE seq = %s", [2])
    report = audit_chain_verify()
    assert (report.ok, report.first_bad_seq) == (False, 2)
    with pytest.raises(CommandError, match="event #2 is missing"):
        _verify_output()


def test_deleted_last_event_is_detected_through_the_head(org):
    _make_history(org)
    last = _events()[-1]
    with connection.cursor() as cur:
        cur.execute("DELETE FROM audit_auditevent WHERE seq = %s", [last.seq])
    report = audit_chain_verify()
    assert (report.ok, report.first_bad_seq) == (False, last.seq)


def test_inserted_event_is_detected(org):
    _make_history(org)
    events = _events()
    forged = events[1]
    with connection.cursor() as cur:
        # Make room after event 1 and slip a forged copy in.
        cur.execute("UPDATE audit_auditevent SET seq = seq + 100 WHERE seq >= 2")
        cur.execute("UPDATE audit_auditevent SET seq = seq - 99 WHERE seq >= 102")
        cur.execute(
            "INSERT INTO audit_auditevent (seq, occurred_at, actor_id, actor_name, source, "
            "action, record_type, record_id, record_label, changes, request_id, ip, prev_hash, "
            "hash) SELECT 2, occurred_at, actor_id, 'mallory', source, action, record_type, "
            "record_id, record_label, changes, request_id, ip, prev_hash, hash "
            "FROM audit_auditevent WHERE seq = 3",
        )
    report = audit_chain_verify()
    assert not report.ok
    assert report.first_bad_seq == 2
    assert forged.seq == 2


def test_reordered_events_are_detected(org):
    _make_history(org)
    with connection.cursor() as cur:
        cur.execute("UPDATE audit_auditevent SET seq = 1000 WHERE seq = 2")
        cur.execute("UPDATE audit_auditevent SET seq = 2 WHERE seq = 3")
        cur.execute("UPDATE audit_auditevent SET seq = 3 WHERE seq = 1000")
    report = audit_chain_verify()
    assert (report.ok, report.first_bad_seq) == (False, 2)


def test_audit_verify_command_exit_status(org):
    _make_history(org)
    with connection.cursor() as cur:
        cur.execute("UPDATE audit_auditevent SET record_id = 'x' WHERE seq = 1")
    with pytest.raises(CommandError) as excinfo:
        call_command("audit_verify")
    assert "BROKEN at event #1" in str(excinfo.value)
