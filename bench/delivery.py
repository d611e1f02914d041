"""Benchmark of integration delivery to the SQL ledger (issue 6).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/accord_bench \\
        python -m bench.delivery [--events 20000] [--workers 1 2] [--rate 400 --seconds 30]

1. Sets up Django on the benchmark database (``DATABASE_URL``; PostgreSQL is the target,
   SQLite works for a try-out) and migrates it; creates (or empties) the demo ledger schema
   in a MariaDB database of its own (``--ledger-url``, default
   ``mysql://root@127.0.0.1:3306/accord_bench_ledger``) and a ``bench-ledger`` connector
   with the shipped demo mapping.
2. **Throughput**, for each worker count: seeds ``--events`` outbox events through the
   outbox API (``outbox_emit``, 500 per commit: half ``account.approved``, half
   ``opportunity.won`` with two lines, each account's approval before its order), then
   starts that many real ``accord worker`` processes and waits until every delivery is
   delivered. Prints deliveries/s over the delivering time (first claim to last
   delivery) and over the wall clock (including the workers' start-up).
3. **Steady load**, with the largest worker count: the workers run, and emitter processes
   commit events (an approval and its order per transaction) at ``--rate`` events/s for
   ``--seconds``; prints the p50/p95/p99/max lag from commit (the event's ``created_at``)
   to ``delivered_at``.

The events are synthetic (accounts and opportunities that exist only in the payload), so
the figures are the delivery path's: claim, ledger write, outcome, task dispatch. The
outbox rows of earlier runs are deleted first; nothing else in the database is touched.
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bench.env import database_label, migrate, setup_django

CONNECTOR = "bench-ledger"
DEFAULT_LEDGER_URL = "mysql://root@127.0.0.1:3306/accord_bench_ledger"
TARGET_PER_SECOND = 1000.0
TARGET_P99_SECONDS = 2.0
SEED_PER_COMMIT = 500


def _ledger_reset(url: str) -> str:
    """An empty demo ledger at ``url`` (the MariaDB database is created if missing)."""
    from urllib.parse import urlsplit

    from accord.integration.connectors import sql_ledger
    from accord.integration.ledger import demo_schema_statements

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if parts.scheme.startswith(("mysql", "mariadb")):
        admin_url = url.rsplit("/", 1)[0] + "/mysql"
        _, admin = sql_ledger._connect(admin_url)
        with admin.cursor() as cur:
            cur.execute(f"CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4")
            cur.execute("SELECT VERSION()")
            version = f"MariaDB/MySQL {cur.fetchone()[0]}"
        admin.close()
    else:
        version = parts.scheme
    _, conn = sql_ledger._connect(url)
    cur = conn.cursor()
    for statement in demo_schema_statements():
        table = statement.split()[2]
        cur.execute(f"DROP TABLE IF EXISTS {table}")
        cur.execute(statement)
    conn.commit()
    conn.close()
    sql_ledger._forget(url)
    return version


def _connector(url: str, batch_size: int) -> Any:
    from accord.integration.ledger import DEMO_LEDGER_MAPPING
    from accord.integration.models import Connector, ConnectorKind, EventType

    connector, _ = Connector.objects.update_or_create(
        name=CONNECTOR,
        defaults={
            "kind": ConnectorKind.SQL_LEDGER,
            "enabled": True,
            "paused": False,
            "event_types": [EventType.ACCOUNT_APPROVED, EventType.OPPORTUNITY_WON],
            "field_mapping": DEMO_LEDGER_MAPPING,
            "settings": {"database_url": url, "batch_size": batch_size},
        },
    )
    return connector


def _clear(connector: Any) -> None:
    """Forget earlier runs: their events, deliveries and delivery tasks."""
    from django_tasks_db.models import DBTaskResult

    from accord.integration.models import Delivery, OutboxEvent
    from accord.integration.tasks import deliver_connector_task

    events = Delivery.objects.filter(connector=connector).values("event_id")
    OutboxEvent.objects.filter(pk__in=events).delete()
    DBTaskResult.objects.filter(task_path=deliver_connector_task.module_path).delete()


def _emit_pair(connector: Any, n: int, run: str) -> None:
    """An approved account and its won order (two events of one key)."""
    from accord.customers.models import Account
    from accord.integration.models import EventType
    from accord.integration.outbox import outbox_emit
    from accord.sales.models import Opportunity

    account = Account(pk=uuid.uuid4())
    code = f"B{run}{n:07d}"[:12]
    outbox_emit(
        event_type=EventType.ACCOUNT_APPROVED,
        aggregate=account,
        only=connector,
        payload={
            "account": {
                "id": str(account.pk),
                "customer_code": code,
                "legal_name": f"Bench Customer {n} Co., Ltd.",
                "tax_id": f"{n:013d}",
                "branch_code": "00000",
                "province": "Bangkok",
                "postal_code": "10110",
                "status": "active",
            }
        },
    )
    opportunity = Opportunity(pk=uuid.uuid4(), account_id=account.pk)
    lines = [
        {
            "position": i,
            "product_code": f"P-{i}",
            "product_name": f"Product {i}",
            "quantity": "2.00",
            "unit_price": "1500.00",
            "discount_percent": "0.00",
            "total": "3000.00",
        }
        for i in range(2)
    ]
    outbox_emit(
        event_type=EventType.OPPORTUNITY_WON,
        aggregate=opportunity,
        only=connector,
        payload={
            "opportunity": {
                "id": str(opportunity.pk),
                "account_id": str(account.pk),
                "customer_code": code,
                "name": f"Order {n}",
                "amount": "6000.00",
                "currency": "THB",
                "closed_at": "2026-11-24T00:00:00+07:00",
                "line_items": lines,
            }
        },
    )


def _seed(connector: Any, events: int, run: str) -> None:
    from django.db import transaction

    pairs = events // 2
    for start in range(0, pairs, SEED_PER_COMMIT // 2):
        with transaction.atomic():
            for n in range(start, min(pairs, start + SEED_PER_COMMIT // 2)):
                _emit_pair(connector, n, run)


def _start_workers(count: int) -> list[subprocess.Popen[bytes]]:
    env = {**os.environ, "ACCORD_LEDGER_PULL_SECONDS": "0", "DEBUG": "false"}
    command = [sys.executable, "-m", "accord.cli", "worker", "--no-startup-delay"]
    command += ["--interval", "0.1", "--sweep-interval", "10", "--verbosity", "0"]
    return [subprocess.Popen(command, env=env) for _ in range(count)]  # noqa: S603


def _stop_workers(workers: list[subprocess.Popen[bytes]]) -> None:
    for worker in workers:
        worker.send_signal(signal.SIGTERM)
    for worker in workers:
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def _undelivered(connector: Any) -> int:
    from accord.integration.models import Delivery, DeliveryStatus

    return (
        Delivery.objects.filter(connector=connector)
        .exclude(status=DeliveryStatus.DELIVERED)
        .count()
    )


def _wait_delivered(connector: Any, timeout: float) -> bool:
    from django.db import connection

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _undelivered(connector) == 0:
            return True
        connection.close()
        time.sleep(0.1)
    return False


@dataclass
class Throughput:
    workers: int
    events: int
    delivering_seconds: float
    wall_seconds: float
    per_second: float
    wall_per_second: float
    batches: int


def _throughput(connector: Any, workers: int, events: int, timeout: float) -> Throughput:
    from django.db.models import Max, Min

    from accord.integration.models import Delivery, DeliveryAttempt, DeliveryStatus

    _clear(connector)
    _seed(connector, events, run=f"{workers}")
    started = time.monotonic()
    procs = _start_workers(workers)
    try:
        if not _wait_delivered(connector, timeout):
            raise SystemExit(f"Not all delivered within {timeout:.0f} s")
        wall = time.monotonic() - started
    finally:
        _stop_workers(procs)
    first = DeliveryAttempt.objects.filter(connector=connector).aggregate(t=Min("started_at"))["t"]
    last = Delivery.objects.filter(connector=connector).aggregate(t=Max("delivered_at"))["t"]
    assert first is not None and last is not None
    delivering = max((last - first).total_seconds(), 1e-6)
    delivered = Delivery.objects.filter(connector=connector, status=DeliveryStatus.DELIVERED)
    count = delivered.count()
    batches = (
        DeliveryAttempt.objects.filter(connector=connector).values("started_at").distinct().count()
    )
    return Throughput(workers, count, delivering, wall, count / delivering, count / wall, batches)


@dataclass
class Steady:
    workers: int
    rate: float
    achieved_rate: float
    events: int
    lags: list[float]


def _emitter(
    connector: Any, rate: float, seconds: float, first: int, run: str, per_commit: int = 1
) -> int:
    """Commit ``rate·seconds`` events, an approval-and-order pair per transaction, at up to
    ``rate`` events/s (it falls behind if it cannot keep up); returns the events."""
    from django.db import connection, transaction

    interval = 2.0 * per_commit / rate
    start = time.monotonic()
    n = 0
    try:
        while True:
            due = start + n * interval
            now = time.monotonic()
            if due - start >= seconds:
                return 2 * n * per_commit
            if due > now:
                time.sleep(due - now)
            with transaction.atomic():
                for k in range(per_commit):
                    _emit_pair(connector, first + n * per_commit + k, run)
            n += 1
    finally:
        connection.close()


def _emit_in_processes(
    connector: Any, rate: float, seconds: float, processes: int, per_commit: int
) -> list[int]:
    """Emitter processes (forked, each with its own database connection), ``rate`` in all."""
    import multiprocessing

    from django.db import connections

    connections.close_all()
    context = multiprocessing.get_context("fork")
    results: Any = context.Queue()

    def run(n: int) -> None:
        share = rate / processes
        results.put(_emitter(connector, share, seconds, n * 10_000_000, "s", per_commit))

    pool = [context.Process(target=run, args=(n,)) for n in range(processes)]
    for process in pool:
        process.start()
    counts = [int(results.get()) for _ in pool]
    for process in pool:
        process.join()
    return counts


def _steady(
    connector: Any,
    workers: int,
    rate: float,
    seconds: float,
    threads: int,
    timeout: float,
    per_commit: int,
) -> Steady:
    from django.db import transaction

    from accord.integration.models import Delivery

    _clear(connector)
    procs = _start_workers(workers)
    try:
        # the workers' start-up is not lag: wait until they deliver a first pair
        with transaction.atomic():
            _emit_pair(connector, 99_999_999, "w")
        if not _wait_delivered(connector, timeout):
            raise SystemExit("The workers did not start")
        _clear(connector)
        started = time.monotonic()
        counts = _emit_in_processes(connector, rate, seconds, threads, per_commit)
        emitted = time.monotonic() - started
        if not _wait_delivered(connector, timeout):
            raise SystemExit(f"Not all delivered within {timeout:.0f} s of the load")
    finally:
        _stop_workers(procs)
    rows: list[tuple[datetime, datetime | None]] = list(
        Delivery.objects.filter(connector=connector).values_list(
            "event__created_at", "delivered_at"
        )
    )
    lags = sorted((d - c).total_seconds() for c, d in rows if d is not None)
    return Steady(workers, rate, sum(counts) / emitted, sum(counts), lags)


def _pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    memory = ""
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        memory = f", {pages / 2**30:.1f} GiB RAM"
    except (ValueError, OSError):
        pass
    python = sys.version.split()[0]
    return f"{cpu}, {os.cpu_count()} CPUs{memory}; {platform.platform()}; Python {python}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=20_000, help="events per throughput run")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--rate", type=float, default=400.0, help="steady load, events/s")
    parser.add_argument("--seconds", type=float, default=30.0, help="steady load duration")
    parser.add_argument("--emitters", type=int, default=4, help="emitter processes")
    parser.add_argument(
        "--pairs-per-commit", type=int, default=1, help="approval+order pairs per transaction"
    )
    parser.add_argument("--batch-size", type=int, default=200)
    parser.add_argument("--ledger-url", default=DEFAULT_LEDGER_URL)
    parser.add_argument("--timeout", type=float, default=600.0)
    args = parser.parse_args(argv)

    setup_django()
    migrate()
    from accord.integration.models import Delivery

    ledger_version = _ledger_reset(args.ledger_url)
    connector = _connector(args.ledger_url, args.batch_size)
    print("Delivery benchmark (SQL ledger)")
    print(f"  machine:  {_machine()}")
    print(f"  database: {database_label()}")
    print(f"  ledger:   {ledger_version} ({args.ledger_url.rsplit('@', 1)[-1]})")
    print(f"  batch size {args.batch_size}; workers: `accord worker` processes (django-tasks-db)")
    print()
    print(f"Throughput: {args.events} events per run ({args.events // 2} accounts approved +")
    print("  as many orders won with 2 lines), queued before the workers start")
    print(
        f"  {'workers':>7} {'events':>7} {'delivering':>11} {'deliveries/s':>13} "
        f"{'wall':>7} {'wall/s':>8} {'batches':>8}"
    )
    for workers in args.workers:
        _ledger_reset(args.ledger_url)
        r = _throughput(connector, workers, args.events, args.timeout)
        print(
            f"  {r.workers:>7} {r.events:>7} {r.delivering_seconds:>10.2f}s "
            f"{r.per_second:>13.0f} {r.wall_seconds:>6.1f}s {r.wall_per_second:>8.0f} "
            f"{r.batches:>8}"
        )
        sys.stdout.flush()
    workers = max(args.workers)
    _ledger_reset(args.ledger_url)
    s = _steady(
        connector,
        workers,
        args.rate,
        args.seconds,
        args.emitters,
        args.timeout,
        args.pairs_per_commit,
    )
    print()
    print(
        f"Steady load: {s.events} events committed "
        f"({args.pairs_per_commit} approval+order pairs per transaction) "
        f"at {s.achieved_rate:.0f}/s (asked {s.rate:.0f}/s) for {args.seconds:.0f} s, "
        f"{s.workers} workers"
    )
    print(
        f"  lag commit → delivered: p50 {_pct(s.lags, 50):.3f}s  p95 {_pct(s.lags, 95):.3f}s  "
        f"p99 {_pct(s.lags, 99):.3f}s  max {s.lags[-1] if s.lags else float('nan'):.3f}s  "
        f"(mean {statistics.fmean(s.lags) if s.lags else float('nan'):.3f}s)"
    )
    total = Delivery.objects.count()
    print()
    print(f"Delivery table: {total} rows in all after the runs.")
    print(
        f"Goals: > {TARGET_PER_SECOND:.0f} deliveries/s with 2 workers, "
        f"p99 lag < {TARGET_P99_SECONDS:.0f} s."
    )


if __name__ == "__main__":
    main()
