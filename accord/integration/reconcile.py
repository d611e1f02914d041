"""Reconciliation: compare what Accord would have sent a SQL ledger with what it holds.

The expected ledger rows are computed with the connector's own mapping from the records'
current payloads (:mod:`accord.integration.outbox`), so a difference means a delivery was
lost, failed for good, or the ledger was changed by hand:

* **missing** — Accord has the record, the ledger has no row with its key;
* **mismatch** — both have it, some mapped column differs (amount, status, name, lines…);
* **extra** — the ledger has a row that no Accord record maps to.

Both sides are read in key-ordered chunks, so memory stays flat at a million accounts.
``fix=True`` re-sends what is missing or different (an ``account.updated`` /
``opportunity.won`` / ``opportunity.reopened`` event to this connector alone, delivered by
the worker as usual); extra rows are reported only — the ledger's data is not Accord's to
delete.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import Q

from accord.customers.models import Account
from accord.integration.connectors import PermanentError
from accord.integration.connectors.sql_ledger import SQLITE, Dialect, _connect
from accord.integration.mapping import apply_mapping, lookup
from accord.integration.models import Connector, ConnectorKind, EventType
from accord.integration.outbox import (
    _jsonable,
    account_event_emit,
    account_payload,
    opportunity_event_emit,
    opportunity_payload,
)
from accord.sales.models import Opportunity, StageOutcome

CHUNK = 1000
MISSING, MISMATCH, EXTRA = "missing", "mismatch", "extra"


@dataclass
class Difference:
    kind: str
    table: str
    key: tuple[str, ...]
    record: str = ""  # "customers.account:<id>" for missing and mismatched rows
    columns: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # accord, ledger

    def describe(self) -> str:
        what = f"{self.table} {'/'.join(self.key)}"
        if self.kind == MISMATCH:
            cols = ", ".join(f"{c}: {a!r} ≠ {b!r}" for c, (a, b) in sorted(self.columns.items()))
            return f"{self.kind:8} {what} ({cols})"
        return f"{self.kind:8} {what}"


@dataclass
class ReconcileReport:
    connector: str
    checked: dict[str, int] = field(default_factory=dict)  # table → Accord records compared
    differences: list[Difference] = field(default_factory=list)
    resent: int = 0

    def count(self, kind: str) -> int:
        return sum(1 for d in self.differences if d.kind == kind)


def _same(accord: Any, ledger: Any) -> bool:
    """Equal as the ledger stores them: numbers by value, empty and NULL alike, text as text."""
    if accord in (None, "") and ledger in (None, ""):
        return True
    if isinstance(ledger, Decimal | int | float) and not isinstance(ledger, bool):
        try:
            return Decimal(str(accord)) == Decimal(str(ledger))
        except (InvalidOperation, ValueError):
            return False
    if isinstance(ledger, dt.datetime):
        return str(accord).replace("T", " ").rstrip("Z") == ledger.isoformat(sep=" ")
    if isinstance(ledger, dt.date):
        return str(accord) == ledger.isoformat()
    return str(accord) == str(ledger)


class LedgerReader:
    """Read access to the ledger's tables, with identifiers checked like the connector's."""

    def __init__(self, url: str) -> None:
        self.dialect: Dialect
        self.dialect, self.conn = _connect(url)

    def close(self) -> None:
        self.conn.close()

    def rows(
        self,
        table: str,
        key: Sequence[str],
        columns: Sequence[str],
        keys: Sequence[tuple[Any, ...]],
    ) -> dict[tuple[str, ...], dict[str, Any]]:
        """The rows of ``table`` with one of ``keys``, by key (as text)."""
        if not keys:
            return {}
        d = self.dialect
        names = list(dict.fromkeys([*key, *columns]))
        one = "(" + " AND ".join(f"{d.ident(k)} = {d.placeholder}" for k in key) + ")"
        sql = (
            f"SELECT {', '.join(d.ident(c) for c in names)} FROM {d.ident(table)} "  # noqa: S608
            f"WHERE {' OR '.join([one] * len(keys))}"
        )
        params = [value for k in keys for value in k]
        found = {}
        for row in self._fetch(sql, params):
            record = dict(zip(names, row, strict=True))
            found[tuple(str(record[k]) for k in key)] = record
        return found

    def keys(self, table: str, key: Sequence[str]) -> Iterator[list[tuple[str, ...]]]:
        """Every key of ``table`` in key order, a chunk at a time (keyset, not OFFSET)."""
        d = self.dialect
        cols = ", ".join(d.ident(k) for k in key)
        after: tuple[Any, ...] | None = None
        while True:
            sql = f"SELECT {cols} FROM {d.ident(table)}"  # noqa: S608 - identifiers checked
            params: list[Any] = []
            if after is not None:
                # Row-value comparison works on MariaDB, PostgreSQL and SQLite ≥ 3.15.
                sql += f" WHERE ({cols}) > ({', '.join([d.placeholder] * len(key))})"
                params = list(after)
            sql += f" ORDER BY {cols} LIMIT {CHUNK}"
            chunk = [tuple(str(v) for v in row) for row in self._fetch(sql, params)]
            if not chunk:
                return
            yield chunk
            after = chunk[-1]

    def _fetch(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        cursor = self.conn.cursor()
        try:
            cursor.execute(sql, tuple(params))
            rows = list(cursor.fetchall())
        finally:
            cursor.close()
        if self.dialect is not SQLITE:
            self.conn.commit()  # end the read transaction: the next chunk sees new rows
        return rows


@dataclass(frozen=True)
class _Entity:
    """One kind of Accord record and how it reaches a ledger table."""

    table: str
    key: tuple[str, ...]
    columns: Mapping[str, Any]
    lines: Mapping[str, Any] | None


def _entity(spec: Mapping[str, Any] | None) -> _Entity | None:
    if not spec:
        return None
    return _Entity(spec["table"], tuple(spec["key"]), spec["columns"], spec.get("lines"))


def _expected(entity: _Entity, payload: Any) -> tuple[tuple[str, ...], dict[str, Any]]:
    row = apply_mapping(entity.columns, payload)
    return tuple(str(row[k]) for k in entity.key), row


def _compare(
    report: ReconcileReport,
    ledger: LedgerReader,
    entity: _Entity,
    expected: list[tuple[tuple[str, ...], dict[str, Any], str, Any]],
) -> list[Any]:
    """Compare one chunk; return the records whose rows are missing or different."""
    columns = [c for c in entity.columns if c not in entity.key]
    found = ledger.rows(entity.table, entity.key, columns, [k for k, _, _, _ in expected])
    stale = []
    for key, row, label, record in expected:
        have = found.get(key)
        if have is None:
            report.differences.append(Difference(MISSING, entity.table, key, label))
            stale.append(record)
            continue
        diff = {c: (row[c], have[c]) for c in columns if not _same(row[c], have[c])}
        if entity.lines is not None:
            diff.update(_compare_lines(ledger, entity.lines, record))
        if diff:
            report.differences.append(Difference(MISMATCH, entity.table, key, label, diff))
            stale.append(record)
    return stale


def _compare_lines(ledger: LedgerReader, spec: Mapping[str, Any], payload: Any) -> dict[str, Any]:
    parent = apply_mapping(spec["parent"], payload)
    expected = [
        {**parent, **apply_mapping(spec["columns"], i)} for i in lookup(payload, spec["path"])
    ]
    d = ledger.dialect
    names = list(dict.fromkeys([*spec["key"], *spec["columns"], *parent]))
    where = " AND ".join(f"{d.ident(c)} = {d.placeholder}" for c in parent)
    sql = (
        f"SELECT {', '.join(d.ident(c) for c in names)} FROM {d.ident(spec['table'])} "  # noqa: S608
        f"WHERE {where} ORDER BY {', '.join(d.ident(k) for k in spec['key'])}"
    )
    have = [dict(zip(names, r, strict=True)) for r in ledger._fetch(sql, list(parent.values()))]
    key = list(spec["key"])

    def by_key(rows: list[dict[str, Any]]) -> dict[tuple[str, ...], dict[str, Any]]:
        return {tuple(str(r[k]) for k in key): r for r in rows}

    want, got = by_key(expected), by_key(have)
    same = want.keys() == got.keys() and all(
        _same(w[c], got[k][c]) for k, w in want.items() for c in spec["columns"]
    )
    return {} if same else {"lines": (len(expected), len(have))}


def _account_chunks() -> Iterator[list[Account]]:
    qs = Account.objects.order_by("customer_code")
    last = ""
    while True:
        chunk = list(qs.filter(customer_code__gt=last)[:CHUNK])
        if not chunk:
            return
        yield chunk
        last = chunk[-1].customer_code


def _opportunity_chunks(q: Q) -> Iterator[list[Opportunity]]:
    qs = (
        Opportunity.objects.filter(q)
        .select_related("account", "stage", "owner")
        .prefetch_related("line_items__product")
        .order_by("id")
    )
    last = None
    while True:
        page = qs.filter(id__gt=last) if last is not None else qs
        chunk = list(page[:CHUNK])
        if not chunk:
            return
        yield chunk
        last = chunk[-1].pk


def _extras(
    report: ReconcileReport, ledger: LedgerReader, entity: _Entity, known: set[tuple[str, ...]]
) -> None:
    for chunk in ledger.keys(entity.table, entity.key):
        for key in chunk:
            if key not in known:
                report.differences.append(Difference(EXTRA, entity.table, key))


def reconcile(connector: Connector, *, fix: bool = False) -> ReconcileReport:
    """Compare ``connector``'s ledger with Accord; with ``fix``, re-send what differs."""
    if connector.kind != ConnectorKind.SQL_LEDGER:
        raise PermanentError("Only SQL ledger connectors can be reconciled.")
    url = connector.settings.get("database_url")
    if not isinstance(url, str):
        raise PermanentError("The connector has no database_url.")
    mapping = connector.field_mapping
    accounts = _entity(
        mapping.get(EventType.ACCOUNT_UPDATED) or mapping.get(EventType.ACCOUNT_APPROVED)
    )
    won = _entity(mapping.get(EventType.OPPORTUNITY_WON))
    reopened = _entity(mapping.get(EventType.OPPORTUNITY_REOPENED))
    report = ReconcileReport(connector=connector.name)
    ledger = LedgerReader(url)
    try:
        if accounts is not None:
            _reconcile_accounts(report, ledger, accounts, connector=connector, fix=fix)
        if won is not None:
            _reconcile_orders(report, ledger, won, reopened, connector=connector, fix=fix)
    finally:
        ledger.close()
    return report


def _reconcile_accounts(
    report: ReconcileReport,
    ledger: LedgerReader,
    entity: _Entity,
    *,
    connector: Connector,
    fix: bool,
) -> None:
    known: set[tuple[str, ...]] = set()
    for chunk in _account_chunks():
        expected = []
        for account in chunk:
            key, row = _expected(entity, _jsonable(account_payload(account)))
            expected.append((key, row, f"customers.account:{account.pk}", account))
            known.add(key)
        report.checked[entity.table] = report.checked.get(entity.table, 0) + len(chunk)
        for account in _compare(report, ledger, entity, expected):
            if fix:
                _resend(connector, EventType.ACCOUNT_UPDATED, account=account)
                report.resent += 1
    _extras(report, ledger, entity, known)


def _reconcile_orders(
    report: ReconcileReport,
    ledger: LedgerReader,
    won: _Entity,
    reopened: _Entity | None,
    *,
    connector: Connector,
    fix: bool,
) -> None:
    known: set[tuple[str, ...]] = set()
    for chunk in _opportunity_chunks(Q(stage__outcome=StageOutcome.WON)):
        expected = []
        by_id = {}
        for opp in chunk:
            payload = _jsonable(opportunity_payload(opp))
            key, row = _expected(won, payload)
            expected.append((key, row, f"sales.opportunity:{opp.pk}", payload))
            by_id[str(opp.pk)] = opp
            known.add(key)
        report.checked[won.table] = report.checked.get(won.table, 0) + len(chunk)
        for payload in _compare(report, ledger, won, expected):
            if fix:
                opp = by_id[payload["opportunity"]["id"]]
                _resend(connector, EventType.OPPORTUNITY_WON, opportunity=opp)
                report.resent += 1
    # A ledger order of an opportunity that is no longer won should be cancelled.
    if reopened is not None and reopened.table == won.table:
        _check_reopened(report, ledger, reopened, known, fix=fix, connector=connector)
    _extras(report, ledger, won, known)


def _check_reopened(
    report: ReconcileReport,
    ledger: LedgerReader,
    entity: _Entity,
    known: set[tuple[str, ...]],
    *,
    fix: bool,
    connector: Connector,
) -> None:
    """Ledger orders of opportunities that exist but are not won: expect the reopened row."""
    for chunk in ledger.keys(entity.table, entity.key):
        unknown = [k for k in chunk if k not in known]
        ids = [k[0] for k in unknown if len(k) == 1]
        opps = {
            str(o.pk): o
            for o in Opportunity.objects.filter(pk__in=_uuids(ids))
            .exclude(stage__outcome=StageOutcome.WON)
            .select_related("account", "stage", "owner")
        }
        expected = []
        for opp in opps.values():
            payload = _jsonable(opportunity_payload(opp))
            key, row = _expected(entity, payload)
            expected.append((key, row, f"sales.opportunity:{opp.pk}", opp))
            known.add(key)
        for opp in _compare(report, ledger, entity, expected):
            if fix:
                _resend(connector, EventType.OPPORTUNITY_REOPENED, opportunity=opp)
                report.resent += 1


def _uuids(values: Sequence[str]) -> list[str]:
    found = []
    for value in values:
        try:
            found.append(str(uuid.UUID(value)))
        except ValueError:
            continue
    return found


def _resend(
    connector: Connector,
    event_type: EventType,
    *,
    account: Account | None = None,
    opportunity: Opportunity | None = None,
) -> None:
    with transaction.atomic():
        if account is not None:
            account_event_emit(event_type=event_type, account=account, only=connector)
        elif opportunity is not None:
            opportunity_event_emit(event_type=event_type, opportunity=opportunity, only=connector)
