"""``accord dedupe``: CSV files in and out, and the database into the steward queue."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from accord.customers.models import Account, AccountStatus
from accord.customers.services import contact_create
from accord.dataquality.models import DuplicateCluster, DuplicateClusterPair
from tests.conftest import Org, make_account

ACCOUNTS = [
    # record, name, tax id, branch, phone, an unknown column
    ("A1", "Siam Trading Co., Ltd.", "0105551234561", "", "02-123-4567", "x"),
    ("A2", "SIAM TRADING COMPANY LIMITED", "", "", "+66 2 123 4567", "y"),
    ("A3", "Siam Tradinq Co., Ltd.", "", "", "", ""),
    ("A4", "Siam Logistics Co., Ltd.", "", "", "02-123-4567", ""),
    ("A5", "บริษัท สยามน้ำทอง จำกัด", "", "", "", ""),
    ("A6", "บจก. สยามน\u0e49\u0e4d\u0e32ทอง", "", "", "", ""),
    ("A7", "Siam Trading Co., Ltd. Branch 2", "0105551234561", "00002", "", ""),
]


def _write(path: Path, header: list[str], rows: list[tuple[str, ...]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _read(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


@pytest.fixture
def accounts_csv(tmp_path: Path) -> Path:
    header = ["record", "Company", "tax_id", "branch", "phone", "notes"]
    return _write(tmp_path / "accounts.csv", header, ACCOUNTS)


def _run(*args: str, stdout: Any = None) -> str:
    out = stdout or io.StringIO()
    call_command("dedupe", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue() if isinstance(out, io.StringIO) else ""


def test_csv_clusters_without_a_database(accounts_csv: Path, tmp_path: Path) -> None:
    """No database access at all (this test has none): the seeded default rules are used."""
    out, pairs = tmp_path / "out.csv", tmp_path / "pairs.csv"
    printed = _run(
        str(accounts_csv),
        "--kind=account",
        "--id-column=record",
        "--map",
        "name=Company",
        f"--out={out}",
        f"--pairs={pairs}",
    )
    assert "rules from the defaults" in printed
    assert "2 clusters of 5 records" in printed
    assert _read(out) == [
        ["record_id", "cluster_id"],
        ["A1", "A1"],
        ["A2", "A1"],
        ["A3", "A1"],
        ["A4", "A4"],  # a sister company sharing the switchboard
        ["A5", "A5"],
        ["A6", "A5"],
        ["A7", "A7"],  # another branch of A1's company
    ]
    rows = _read(pairs)
    assert rows[0] == ["left_id", "right_id", "score", "reasons"]
    by_pair = {(r[0], r[1]): (r[2], r[3]) for r in rows[1:]}
    assert by_pair[("A1", "A2")] == ("1.000", "same name; same phone")
    assert by_pair[("A1", "A3")] == ("0.920", "name differs by one character")
    assert by_pair[("A5", "A6")] == ("1.000", "same name")
    assert ("A1", "A4") not in by_pair and ("A1", "A7") not in by_pair


@pytest.mark.django_db
def test_csv_reads_the_administrators_rules(accounts_csv: Path, tmp_path: Path) -> None:
    from accord.dataquality.models import MatchThreshold

    MatchThreshold.objects.filter(record_type="account").update(block=0.95)
    out = tmp_path / "out.csv"
    printed = _run(
        str(accounts_csv), "--kind", "account", "--id-column", "record", "--map", "name=Company",
        "--out", str(out),
    )  # fmt: skip
    assert "rules from the database" in printed
    clusters = dict(r for r in _read(out)[1:])
    assert clusters["A3"] == "A3"  # 0.92: below the administrator's block threshold
    assert clusters["A2"] == "A1"


def test_contacts_csv(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "contacts.csv",
        ["id", "first_name", "last_name", "email", "phone", "birth_date", "city"],
        [
            ("c1", "Somchai", "Jaidee", "somchai@siam.co.th", "081-111-2222", "1980-01-02", "BKK"),
            ("c2", "Somchay", "Jaidee", "Somchai@Siam.co.th", "", "", ""),
            ("c3", "Somsak", "Jaidee", "", "081-111-2222", "", ""),
            ("c4", "Somsak", "Jaideee", "", "0811112222", "", ""),
        ],
    )
    out = tmp_path / "out.csv"
    _run(str(path), "--kind=contact", "--id-column=id", f"--out={out}")
    assert [r[1] for r in _read(out)[1:]] == ["c1", "c1", "c3", "c3"]


def test_progress_bar_only_on_a_terminal(accounts_csv: Path, tmp_path: Path) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    args = [str(accounts_csv), "--kind=account", "--id-column=record", "--map=name=Company"]
    terminal = Terminal()
    call_command("dedupe", *args, f"--out={tmp_path / 'a.csv'}", stdout=terminal)
    shown = terminal.getvalue()
    assert "\rfeatures" in shown and "100% 7/7" in shown
    piped = _run(*args, f"--out={tmp_path / 'b.csv'}")
    assert "\r" not in piped and "features" not in piped


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--kind=account", "--id-column=nope", "--out=o.csv"], "has no column 'nope'"),
        (["--kind=account", "--id-column=record", "--out=o.csv", "--map=nam=x"], "unknown"),
        (["--kind=account", "--id-column=record", "--out=o.csv", "--map=name"], "FIELD=COLUMN"),
        (["--id-column=record", "--out=o.csv"], "--kind is required"),
        (["--kind=account", "--out=o.csv"], "--id-column and --out are required"),
        (["--db"], "not both"),
    ],
)
def test_csv_errors(accounts_csv: Path, tmp_path: Path, args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        call_command(
            "dedupe",
            str(accounts_csv),
            *[a.replace("o.csv", str(tmp_path / "o.csv")) for a in args],
        )


def test_repeated_or_empty_ids_are_refused(tmp_path: Path) -> None:
    path = _write(tmp_path / "d.csv", ["id", "name"], [("1", "A Co"), ("1", "B Co")])
    with pytest.raises(CommandError, match="'1' repeats"):
        call_command("dedupe", str(path), "--kind=account", "--id-column=id", "--out=/dev/null")
    path = _write(tmp_path / "e.csv", ["id", "name"], [("", "A Co")])
    with pytest.raises(CommandError, match="column is empty"):
        call_command("dedupe", str(path), "--kind=account", "--id-column=id", "--out=/dev/null")
    with pytest.raises(CommandError, match="Give a CSV file"):
        call_command("dedupe")


# --- --db: the database into the steward queue --------------------------------------------


def _override(org: Org, **data: Any) -> Account:
    return make_account(org, duplicate_justification="Testing the batch dedupe.", **data)


@pytest.mark.django_db
def test_db_mode_queues_clusters_for_review(org: Org) -> None:
    siam = make_account(org, legal_name="Siam Trading Co., Ltd.", phone="02-123-4567")
    shadow = _override(org, legal_name="SIAM TRADING COMPANY LIMITED")
    typo = _override(org, legal_name="Siam Tradinq Co., Ltd.")
    make_account(org, legal_name="Lanna Foods Co., Ltd.", phone="02-123-4567")
    merged = _override(org, legal_name="Siam Trading Ltd.")
    Account.objects.filter(pk=merged.pk).update(status=AccountStatus.MERGED)
    lotus = make_account(org, legal_name="Lotus Paper Co., Ltd.")
    people = [
        contact_create(actor=org.steward, data={"account": lotus.pk, **person})
        for person in (
            {"first_name": "Somchai", "last_name": "Jaidee", "email": "s@lotus.co.th"},
            {
                "first_name": "Somchay",
                "last_name": "Jaidee",
                "email": "S@lotus.co.th",
                "duplicate_justification": "Testing the batch dedupe.",
            },
            {"first_name": "Malee", "last_name": "Dee"},
        )
    ]

    printed = _run("--db")

    assert "accounts: 5 checked, 1 duplicate clusters found, 1 queued for review." in printed
    assert "contacts: 3 checked, 1 duplicate clusters found, 1 queued for review." in printed
    account_cluster = DuplicateCluster.objects.get(record_type="account")
    assert account_cluster.source == "batch"
    assert {m.account_id for m in account_cluster.members.all()} == {siam.pk, shadow.pk, typo.pk}
    pairs = {
        frozenset((p.left_id, p.right_id)): (p.score, p.reasons)
        for p in DuplicateClusterPair.objects.filter(cluster=account_cluster)
    }
    assert pairs[frozenset((siam.pk, typo.pk))] == (0.92, ["name differs by one character"])
    contact_cluster = DuplicateCluster.objects.get(record_type="contact")
    assert {m.contact_id for m in contact_cluster.members.all()} == {p.pk for p in people[:2]}

    # Running again queues nothing new: the clusters are already open.
    again = _run("--db", "--kind=account")
    assert "1 duplicate clusters found, 0 queued for review." in again
    assert DuplicateCluster.objects.count() == 2
