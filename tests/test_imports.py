"""Spreadsheet imports go through the services: the duplicate check, rules and a row report."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.management import CommandError, call_command

from accord.audit.models import AuditEvent
from accord.customers.models import Account, Contact
from accord.dataquality.models import RequiredFieldRule
from accord.imports.services import Kind, RowStatus, import_csv
from tests.conftest import make_account

pytestmark = pytest.mark.django_db


def _csv(*rows: dict[str, str]) -> io.StringIO:
    columns = list(dict.fromkeys(k for row in rows for k in row))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns)
    writer.writeheader()
    writer.writerows(rows)
    out.seek(0)
    return out


def test_rows_are_created_and_bad_rows_reported_without_saving(org):
    existing = make_account(org, legal_name="Siam Trading Co., Ltd.", tax_id="")
    RequiredFieldRule.objects.create(record_type="account", field="phone")
    stream = _csv(
        {"legal_name": "Bangkok Glass Co., Ltd.", "phone": "02 123 4567", "notes": "x"},
        {"legal_name": "Siam  Trading Company Limited", "phone": "02 555 0000"},  # shadow
        {"legal_name": "Chonburi Ice Co., Ltd.", "phone": ""},  # compulsory phone missing
        {"legal_name": "Rayong Steel Co., Ltd.", "phone": "038 111 222", "tax_id": "123"},
        {"legal_name": "Bangkok Glass Company Limited", "phone": "02 123 4567"},  # row 1 again
    )
    report = import_csv(actor=org.steward, kind=Kind.ACCOUNT, stream=stream)

    assert [r.status for r in report.rows] == [
        RowStatus.CREATED,
        RowStatus.REJECTED,
        RowStatus.REJECTED,
        RowStatus.REJECTED,
        RowStatus.REJECTED,
    ]
    assert report.ignored_columns == ["notes"]
    shadow = report.rows[1]
    assert shadow.code == "duplicate_suspected"
    assert [c["id"] for c in shadow.candidates] == [str(existing.pk)]
    assert shadow.candidates[0]["reasons"] == ["same name"]
    assert report.rows[2].code == "required_fields_missing"
    assert "phone" in report.rows[2].errors
    assert "tax_id" in report.rows[3].errors
    # The file cannot smuggle in its own shadow: row 5 repeats row 1.
    assert report.rows[4].code == "duplicate_suspected"
    assert report.rows[4].candidates[0]["id"] == report.rows[0].record_id
    assert set(Account.objects.values_list("legal_name", flat=True)) == {
        "Siam Trading Co., Ltd.",
        "Bangkok Glass Co., Ltd.",
    }
    created = Account.objects.get(pk=report.rows[0].record_id)
    event = AuditEvent.objects.get(record_id=str(created.pk), action="create")
    assert (event.source, event.actor_id) == ("import", org.steward.pk)


def test_a_justification_column_lets_a_known_non_duplicate_through(org):
    make_account(org, legal_name="Siam Trading Co., Ltd.")
    stream = _csv(
        {
            "legal_name": "Siam Trading Co., Ltd. (สาขา 00002)",
            "branch_code": "00002",
            "duplicate_justification": "A separate branch.",
        }
    )
    report = import_csv(actor=org.steward, kind=Kind.ACCOUNT, stream=stream)
    assert report.rows[0].status == RowStatus.CREATED, report.rows[0]


def test_a_rep_cannot_import_accounts(org):
    report = import_csv(
        actor=org.rep, kind=Kind.ACCOUNT, stream=_csv({"legal_name": "Rep Made Co., Ltd."})
    )
    assert report.rows[0].code == "account_create_requires_steward"
    assert not Account.objects.filter(legal_name="Rep Made Co., Ltd.").exists()


def test_contacts_reference_accounts_by_customer_code_with_its_check_digit(org):
    account = make_account(org)
    code = account.customer_code
    wrong = code[:-1] + str((int(code[-1]) + 1) % 10)
    stream = _csv(
        {"account": code, "first_name": "Somchai", "email": "somchai@siam.co.th"},
        {"account": wrong, "first_name": "Malee"},
        {"account": code, "first_name": "Somchai", "email": "SOMCHAI@siam.co.th "},
    )
    report = import_csv(actor=org.rep, kind=Kind.CONTACT, stream=stream)
    assert report.rows[0].status == RowStatus.CREATED
    assert report.rows[1].errors == {"account": ["Not a valid customer code."]}
    assert report.rows[2].code == "duplicate_suspected"
    assert Contact.objects.filter(account=account).count() == 1


def test_dry_run_checks_every_row_and_saves_nothing(org):
    stream = _csv({"legal_name": "Dry Run Co., Ltd."}, {"legal_name": "Dry Run Company Limited"})
    report = import_csv(actor=org.steward, kind=Kind.ACCOUNT, stream=stream, dry_run=True)
    assert [r.status for r in report.rows] == [RowStatus.CREATED, RowStatus.REJECTED]
    assert not Account.objects.filter(legal_name__startswith="Dry Run").exists()


def test_a_file_without_known_columns_is_refused(org, tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("foo,bar\n1,2\n", encoding="utf-8")
    with pytest.raises(CommandError, match="first row must name the columns"):
        call_command("import_records", str(path), kind="account", username="steward")


def test_command_writes_the_row_report(org, tmp_path):
    path = tmp_path / "accounts.csv"
    path.write_text(
        '\ufefflegal_name,phone\n"Nakhon Foods Co., Ltd.",02 111 2222\n,\n', encoding="utf-8"
    )
    report_path = tmp_path / "report.csv"
    err = io.StringIO()
    call_command(
        "import_records",
        str(path),
        kind="account",
        username="steward",
        report=str(report_path),
        stderr=err,
    )
    rows = list(csv.DictReader(report_path.open(encoding="utf-8")))
    assert [r["status"] for r in rows] == ["created", "rejected"]
    assert (
        rows[0]["customer_code"]
        == Account.objects.get(legal_name="Nakhon Foods Co., Ltd.").customer_code
    )
    assert "legal_name" in rows[1]["errors"]
    assert "2 rows: 1 created, 1 rejected." in err.getvalue()


def _upload(client, kind: str, text: str, *, dry_run: bool = False):
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = {"kind": kind, "file": SimpleUploadedFile("x.csv", text.encode("utf-8"))}
    if dry_run:
        data["dry_run"] = "on"
    return client.post("/imports/", data)


def test_import_page_shows_every_rows_outcome(org):
    from django.test import Client

    make_account(org, legal_name="Siam Trading Co., Ltd.")
    client = Client()
    client.force_login(org.steward)
    page = _upload(
        client,
        "account",
        'legal_name\n"Korat Rice Co., Ltd."\n"Siam Trading Company Limited"\n',
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert "Import result" in html
    assert "looks like" in html and "same name" in html
    created = Account.objects.get(legal_name="Korat Rice Co., Ltd.")
    assert created.customer_code in html


def test_import_page_refuses_a_file_that_is_not_utf8_and_saves_nothing(org):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client

    client = Client()
    client.force_login(org.steward)
    before = Account.objects.count()
    response = client.post(
        "/imports/",
        {
            "kind": "account",
            "file": SimpleUploadedFile("x.csv", "legal_name\nบริษัท\n".encode("cp874")),
        },
    )
    assert response.status_code == 200
    assert "not UTF-8" in response.content.decode()
    assert Account.objects.count() == before
