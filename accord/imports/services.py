"""Spreadsheet imports of accounts and contacts, row by row through the ordinary services.

An import is not a back door: every row is created by ``account_create`` or
``contact_create`` as the importing user, so permissions, compulsory fields and the
duplicate check hold exactly as in the UI and the API (rows earlier in the same file count
as existing records, so a file cannot smuggle in its own shadow accounts). Each row is its
own savepoint: a bad row is reported with its field errors (and, for a suspected
duplicate, the candidates and reasons) and changes nothing, while good rows are kept.
``dry_run`` runs everything and then rolls the whole import back.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import IO, Any

from django.db import transaction

from accord.audit.services import audit_event
from accord.core.context import Source, acting_as
from accord.core.errors import DomainError, ValidationFailed
from accord.customers import services as customer_services
from accord.customers.models import Account, Contact
from accord.org.models import User


class Kind(StrEnum):
    ACCOUNT = "account"
    CONTACT = "contact"


# Columns an import reads, per kind: the API's field names. Anything else is ignored.
COLUMNS: dict[Kind, tuple[str, ...]] = {
    Kind.ACCOUNT: (
        *(f for f in customer_services.ACCOUNT_FIELDS if f != "status"),
        "duplicate_justification",
    ),
    Kind.CONTACT: (*customer_services.CONTACT_FIELDS, "duplicate_justification"),
}
BOOLEAN_COLUMNS = frozenset({"is_active"})
TRUE_WORDS = frozenset({"1", "true", "yes", "y", "ใช่"})
FALSE_WORDS = frozenset({"0", "false", "no", "n", "ไม่"})


class RowStatus(StrEnum):
    CREATED = "created"
    REJECTED = "rejected"


@dataclass
class RowResult:
    row: int  # 1-based data row; the header is row 0
    status: RowStatus
    record_id: str = ""
    customer_code: str = ""
    code: str = ""
    message: str = ""
    errors: dict[str, list[str]] = field(default_factory=dict)
    candidates: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class ImportReport:
    kind: Kind
    dry_run: bool
    rows: list[RowResult] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def created(self) -> int:
        return sum(1 for r in self.rows if r.status == RowStatus.CREATED)

    @property
    def rejected(self) -> int:
        return sum(1 for r in self.rows if r.status == RowStatus.REJECTED)


class _RollBack(Exception):
    """Raised at the end of a dry run to undo it."""


def _cell(column: str, value: str) -> Any:
    value = value.strip()
    if column in BOOLEAN_COLUMNS:
        word = value.casefold()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise ValidationFailed(errors={column: ["Write yes or no."]})
    return value


def _contact_account(actor: User, value: str) -> Any:
    """A contact's account column holds a customer code (or an account id)."""
    if value[:1].upper() == customer_services.CUSTOMER_CODE_PREFIX:
        try:
            return customer_services.account_get_by_code(actor=actor, code=value).pk
        except DomainError as error:
            raise ValidationFailed(
                errors={"account": [error.errors.get("customer_code", [error.detail])[0]]}
            ) from error
    return value


def _row_data(kind: Kind, actor: User, row: Mapping[str, str | None]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for column in COLUMNS[kind]:
        raw = row.get(column)
        if raw is None or not raw.strip():
            continue  # an empty cell leaves the field at its default
        try:
            value = _cell(column, raw)
            if kind == Kind.CONTACT and column == "account":
                value = _contact_account(actor, value)
        except ValidationFailed as error:
            for name, messages in error.errors.items():
                errors.setdefault(name, []).extend(messages)
            continue
        data[column] = value
    if errors:
        raise ValidationFailed(errors=errors)
    return data


def _create(kind: Kind, actor: User, data: Mapping[str, Any]) -> Account | Contact:
    if kind == Kind.ACCOUNT:
        return customer_services.account_create(actor=actor, data=data)
    return customer_services.contact_create(actor=actor, data=data)


def import_rows(
    *,
    actor: User,
    kind: Kind,
    rows: Iterable[Mapping[str, str | None]],
    columns: Iterable[str] = (),
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Create one record per row as ``actor``; return what happened to every row."""
    report = ImportReport(
        kind=kind,
        dry_run=dry_run,
        ignored_columns=[c for c in columns if c and c not in COLUMNS[kind]],
    )
    try:
        with acting_as(actor, Source.IMPORT), transaction.atomic():
            for number, row in enumerate(rows, start=1):
                report.rows.append(_import_one(kind, actor, number, row))
                if progress is not None:
                    progress(number)
            audit_event(
                action="import",
                record_type=f"customers.{kind}",
                record_id="",
                label=f"{kind} import",
                data={"created": report.created, "rejected": report.rejected},
            )
            if dry_run:
                raise _RollBack
    except _RollBack:
        pass
    return report


def _import_one(kind: Kind, actor: User, number: int, row: Mapping[str, str | None]) -> RowResult:
    try:
        with transaction.atomic():
            record = _create(kind, actor, _row_data(kind, actor, row))
    except DomainError as error:
        return RowResult(
            row=number,
            status=RowStatus.REJECTED,
            code=error.code,
            message=error.detail,
            errors=error.errors,
            candidates=list(error.extra.get("candidates", [])),
        )
    code = record.customer_code if isinstance(record, Account) else ""
    return RowResult(
        row=number, status=RowStatus.CREATED, record_id=str(record.pk), customer_code=code
    )


def import_csv(
    *,
    actor: User,
    kind: Kind,
    stream: IO[str],
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import a CSV file whose header names the fields (UTF-8, with or without a BOM)."""
    reader = csv.DictReader(stream)
    columns = [c.strip() for c in reader.fieldnames or []]
    reader.fieldnames = columns
    if not set(columns) & set(COLUMNS[kind]):
        raise ValidationFailed(
            "The file's first row must name the columns, e.g. "
            + ", ".join(COLUMNS[kind][:4])
            + ".",
            code="import_no_known_columns",
        )
    return import_rows(
        actor=actor, kind=kind, rows=reader, columns=columns, dry_run=dry_run, progress=progress
    )


REPORT_COLUMNS = ("row", "status", "record_id", "customer_code", "code", "message", "errors")


def report_rows(report: ImportReport) -> Iterable[dict[str, str]]:
    """The row-level report as flat CSV rows: field errors and candidates in words."""
    for result in report.rows:
        problems = [f"{name}: {' '.join(msgs)}" for name, msgs in result.errors.items()]
        problems += [
            f"candidate {c['customer_code']} {c['name']} ({c['score']}): " + ", ".join(c["reasons"])
            for c in result.candidates
        ]
        yield {
            "row": str(result.row),
            "status": str(result.status),
            "record_id": result.record_id,
            "customer_code": result.customer_code,
            "code": result.code,
            "message": result.message if result.status == RowStatus.REJECTED else "",
            "errors": "; ".join(problems),
        }
