"""SQL ledger connector: idempotent upserts into a database Accord does not own.

``settings.database_url``: ``mysql://user:password@host:3306/ledger`` (MySQL/MariaDB, via
PyMySQL), ``postgres://…`` or ``sqlite:////path/ledger.sqlite3``.
``field_mapping``: per event type, a table write::

    {"table": "ledger_customers", "key": ["cust_code"],
     "columns": {"cust_code": "account.customer_code", "cust_name": "account.legal_name"},
     "lines": {"table": "ledger_sales_order_lines", "path": "opportunity.line_items",
               "parent": {"crm_ref": "opportunity.id"}, "key": ["crm_ref", "line_no"],
               "columns": {"line_no": "position", …}}}

Every row is upserted on its key (``INSERT … ON DUPLICATE KEY UPDATE`` /
``ON CONFLICT … DO UPDATE``), lines the order no longer has are deleted, all in one ledger
transaction: delivering the same event twice leaves the ledger as once. An event type
without a mapping is not written (delivered as a no-op). A lines mapping with
``"prune": false`` keeps rows the event does not list (e.g. aliases of merged accounts:
each merge adds to them).

:meth:`SqlLedgerConnector.deliver_batch` writes many events in one ledger transaction,
statements of the same shape together (``executemany``: one multi-row ``INSERT`` on
MySQL/MariaDB). The events of a batch have different ordering keys (accounts) and so touch
different ledger rows; if the batch fails, each event is written on its own, so one bad
event fails alone.
"""

from __future__ import annotations

import contextlib
import functools
import re
import sqlite3
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from accord.integration.connectors import PermanentError, RetryableError, TargetUnavailable
from accord.integration.mapping import MappingError, apply_mapping, lookup

if TYPE_CHECKING:
    from accord.integration.models import Connector, OutboxEvent

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_local = threading.local()


@dataclass(frozen=True)
class Dialect:
    name: str  # mysql / sqlite / postgresql
    placeholder: str
    quote: str

    def ident(self, name: str) -> str:
        if not _IDENTIFIER.match(name):
            raise PermanentError(f"{name!r} is not a plain table or column name.")
        return f"{self.quote}{name}{self.quote}"


MYSQL = Dialect("mysql", "%s", "`")
SQLITE = Dialect("sqlite", "?", '"')
POSTGRESQL = Dialect("postgresql", "%s", '"')


def _connect(url: str) -> tuple[Dialect, Any]:
    parts = urlsplit(url)
    scheme = parts.scheme.split("+")[0]
    if scheme in ("mysql", "mariadb"):
        import pymysql

        conn = pymysql.connect(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 3306,
            user=unquote(parts.username or "root"),
            password=unquote(parts.password or ""),
            database=parts.path.lstrip("/"),
            charset="utf8mb4",
            autocommit=False,
            connect_timeout=5,
            read_timeout=30,
            write_timeout=30,
        )
        return MYSQL, conn
    if scheme == "sqlite":
        path = parts.path[1:] if parts.path.startswith("//") else parts.path
        conn = sqlite3.connect(path, timeout=20, isolation_level=None)
        return SQLITE, conn
    if scheme in ("postgres", "postgresql"):
        import psycopg

        return POSTGRESQL, psycopg.connect(url, connect_timeout=5, autocommit=False)
    raise PermanentError(f"Unsupported ledger database {scheme!r}.")


def _connection(url: str) -> tuple[Dialect, Any]:
    cache: dict[str, tuple[Dialect, Any]] = getattr(_local, "connections", None) or {}
    _local.connections = cache
    if url not in cache:
        cache[url] = _connect(url)
    return cache[url]


def _forget(url: str) -> None:
    cache = getattr(_local, "connections", {})
    dialect_conn = cache.pop(url, None)
    if dialect_conn is not None:
        with contextlib.suppress(Exception):  # closing a broken connection
            dialect_conn[1].close()


def upsert_sql(dialect: Dialect, table: str, columns: Sequence[str], key: Sequence[str]) -> str:
    return _upsert_sql(dialect, table, tuple(columns), tuple(key))


@functools.lru_cache(maxsize=256)
def _upsert_sql(
    dialect: Dialect, table: str, columns: tuple[str, ...], key: tuple[str, ...]
) -> str:
    cols = ", ".join(dialect.ident(c) for c in columns)
    marks = ", ".join([dialect.placeholder] * len(columns))
    rest = [c for c in columns if c not in key] or list(key[:1])
    sql = f"INSERT INTO {dialect.ident(table)} ({cols}) VALUES ({marks})"  # noqa: S608 - identifiers checked
    if dialect is MYSQL:
        sets = ", ".join(f"{dialect.ident(c)} = VALUES({dialect.ident(c)})" for c in rest)
        return f"{sql} ON DUPLICATE KEY UPDATE {sets}"
    conflict = ", ".join(dialect.ident(c) for c in key)
    sets = ", ".join(f"{dialect.ident(c)} = excluded.{dialect.ident(c)}" for c in rest)
    return f"{sql} ON CONFLICT ({conflict}) DO UPDATE SET {sets}"


@dataclass(frozen=True)
class Write:
    sql: str
    params: tuple[Any, ...]
    # A DELETE also names its table and its condition, so that a batch deletes with one
    # statement per table: ``DELETE FROM t WHERE (c1) OR (c2) …``.
    delete_from: str = ""
    condition: str = ""


def _row_write(dialect: Dialect, table: str, key: Sequence[str], row: Mapping[str, Any]) -> Write:
    missing = [k for k in key if k not in row]
    if missing:
        raise PermanentError(f"The mapping for {table} lacks its key columns {missing}.")
    columns = list(row)
    return Write(upsert_sql(dialect, table, columns, key), tuple(row[c] for c in columns))


def plan_writes(dialect: Dialect, spec: Mapping[str, Any], payload: Any) -> list[Write]:
    """The statements one event becomes (pure: tested without a database)."""
    try:
        table = spec["table"]
        key = list(spec["key"])
        row = apply_mapping(spec["columns"], payload)
        writes = [_row_write(dialect, table, key, row)]
        lines = spec.get("lines")
        if lines:
            parent = apply_mapping(lines["parent"], payload)
            line_key = list(lines["key"])
            own_key = [k for k in line_key if k not in parent]
            if len(own_key) != 1:
                raise PermanentError("A lines mapping needs exactly one key column of its own.")
            kept = []
            for item in lookup(payload, lines["path"]):
                line_row = {**parent, **apply_mapping(lines["columns"], item)}
                writes.append(_row_write(dialect, lines["table"], line_key, line_row))
                kept.append(line_row[own_key[0]])
            if lines.get("prune", True) is False:
                return writes
            where = " AND ".join(f"{dialect.ident(c)} = {dialect.placeholder}" for c in parent)
            if kept:
                marks = ", ".join([dialect.placeholder] * len(kept))
                where += f" AND {dialect.ident(own_key[0])} NOT IN ({marks})"
            table_sql = dialect.ident(lines["table"])
            sql = f"DELETE FROM {table_sql} WHERE {where}"  # noqa: S608
            writes.append(Write(sql, (*parent.values(), *kept), table_sql, where))
    except MappingError as exc:
        raise PermanentError(f"Mapping: {exc}") from exc
    except (KeyError, TypeError) as exc:
        raise PermanentError(f"The ledger mapping is incomplete: {exc!r}") from exc
    return writes


# MySQL/MariaDB: the server cannot be reached, is gone, full of connections, shutting down
# or read-only (a failover) — the ledger is unavailable; a lock wait timeout or deadlock is
# worth retrying too, but says something about this write.
_MYSQL_UNAVAILABLE = frozenset({1040, 1053, 1290, 1836, 2002, 2003, 2005, 2006, 2013})
_MYSQL_RETRY = frozenset({1205, 1213})


def _classify(exc: Exception) -> Exception:
    """Connection trouble and lock timeouts may pass; schema and data faults will not."""
    name = type(exc).__name__
    code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else None
    if code is not None and type(exc).__module__.startswith("pymysql"):
        if code in _MYSQL_UNAVAILABLE:
            return TargetUnavailable(f"Ledger unavailable: {exc}")
        if code in _MYSQL_RETRY:
            return RetryableError(f"Ledger busy: {exc}")
        return PermanentError(f"Ledger refused the write: {exc}")
    if isinstance(exc, sqlite3.OperationalError):
        message = str(exc).lower()
        if "unable to open" in message:
            return TargetUnavailable(f"Ledger unavailable: {exc}")
        if "locked" in message or "busy" in message:
            return RetryableError(f"Ledger busy: {exc}")
        return PermanentError(f"Ledger refused the write: {exc}")
    if name in ("OperationalError", "InterfaceError"):
        return TargetUnavailable(f"Ledger unavailable: {exc}")
    if name == "InternalError":
        return RetryableError(f"Ledger error: {exc}")
    if name in ("ProgrammingError", "IntegrityError", "DataError", "NotSupportedError"):
        return PermanentError(f"Ledger refused the write: {exc}")
    return RetryableError(f"Ledger error: {name}: {exc}")


DELETES_PER_STATEMENT = 200
# A failed batch is retried event by event for at most this long (the claim's lease is
# at least 60 s); what is left retries later.
FALLBACK_SECONDS = 20.0


def _grouped(writes: Sequence[Write]) -> list[tuple[str, list[tuple[Any, ...]]]]:
    """Statements of the same text together, in the order each text first appears;
    the deletes of one table joined into one statement (by up to 200 conditions)."""
    groups: dict[str, list[tuple[Any, ...]]] = {}
    deletes: dict[str, list[Write]] = {}
    for write in writes:
        if write.delete_from:
            if write.delete_from not in deletes:
                groups[f"DELETE {write.delete_from}"] = []  # keeps its place in the order
            deletes.setdefault(write.delete_from, []).append(write)
        else:
            groups.setdefault(write.sql, []).append(write.params)
    statements: list[tuple[str, list[tuple[Any, ...]]]] = []
    for sql, params in groups.items():
        table = sql.removeprefix("DELETE ")
        if table == sql or table not in deletes:
            statements.append((sql, params))
            continue
        group = deletes[table]
        for start in range(0, len(group), DELETES_PER_STATEMENT):
            chunk = group[start : start + DELETES_PER_STATEMENT]
            where = " OR ".join(f"({w.condition})" for w in chunk)
            statement = f"DELETE FROM {table} WHERE {where}"  # noqa: S608 - identifiers checked
            statements.append((statement, [tuple(p for w in chunk for p in w.params)]))
    return statements


def _execute_all(dialect: Dialect, conn: Any, writes: Sequence[Write]) -> None:
    cursor = conn.cursor()
    try:
        if dialect is SQLITE:
            cursor.execute("BEGIN IMMEDIATE")
        for sql, params in _grouped(writes):
            if len(params) == 1:
                cursor.execute(sql, params[0])
            else:
                cursor.executemany(sql, params)
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    finally:
        cursor.close()


class SqlLedgerConnector:
    def deliver_batch(
        self, *, connector: Connector, events: Sequence[OutboxEvent]
    ) -> list[Exception | None]:
        """Write the events in one ledger transaction; per event, ``None`` (written) or the
        error. A failed batch is retried one event at a time, unless the ledger is down."""
        results: list[Exception | None] = [None] * len(events)
        url = connector.settings.get("database_url")
        if not isinstance(url, str):
            return [PermanentError("The connector has no database_url.")] * len(events)
        try:
            dialect, _conn = _connection(url)
        except Exception as exc:
            _forget(url)
            return [_classify(exc)] * len(events)
        planned: list[int] = []
        writes: list[Write] = []
        for i, event in enumerate(events):
            spec = connector.field_mapping.get(event.event_type)
            if not spec:
                continue
            try:
                writes.extend(plan_writes(dialect, spec, event.payload))
            except PermanentError as exc:
                results[i] = exc
                continue
            planned.append(i)
        if not planned:
            return results
        try:
            _execute_all(dialect, _connection(url)[1], writes)
            return results
        except Exception as exc:
            _forget(url)
            error = _classify(exc)
            if len(planned) == 1 or isinstance(error, TargetUnavailable):
                for i in planned:
                    results[i] = error
                return results
        deadline = time.monotonic() + FALLBACK_SECONDS
        for n, i in enumerate(planned):  # one at a time: a bad event fails alone
            if time.monotonic() > deadline:  # stay well inside the claim's lease
                for j in planned[n:]:
                    results[j] = RetryableError("Ledger slow: the batch ran out of time.")
                break
            try:
                self.deliver(connector=connector, event=events[i])
            except TargetUnavailable as exc:
                for j in planned[n:]:
                    results[j] = exc
                break
            except (PermanentError, RetryableError) as exc:
                results[i] = exc
        return results

    def deliver(self, *, connector: Connector, event: OutboxEvent) -> None:
        spec = connector.field_mapping.get(event.event_type)
        if not spec:
            return
        url = connector.settings.get("database_url")
        if not isinstance(url, str):
            raise PermanentError("The connector has no database_url.")
        try:
            dialect, conn = _connection(url)
            _execute_all(dialect, conn, plan_writes(dialect, spec, event.payload))
        except (PermanentError, RetryableError):
            raise
        except Exception as exc:
            _forget(url)
            raise _classify(exc) from exc
