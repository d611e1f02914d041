"""Benchmark of the management reports (``accord.insights.reports``).

    python -m bench.reports [--as admin,manager,rep] [--repeat 20] [--accounts N]

Sets up Django on the benchmark database (``DATABASE_URL``, default ``var/bench.sqlite3``)
and measures **what is there**: it generates nothing unless ``--accounts N`` asks to top
the database up with ``bench/generate.py`` (at most 80,000 accounts here, about 100,000
opportunities: the 1M-opportunity figures belong to the dashboards' benchmark on
PostgreSQL).

For each viewer (an administrator who sees everything, a sales manager's team, one sales
rep) and each report it times the report function itself — the aggregate queries, the
visibility scope, building the rows and totals; no HTTP, no template — for the current
quarter and, as the administrator, for all time. Prints the data size, then p50/p95/mean/
max per report, the SQL queries one run makes and the rows it returns.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bench.env import database_label, migrate, setup_django
from bench.generate import add_generate_arguments, top_up
from bench.run import Result, table

if TYPE_CHECKING:
    from accord.insights.reports import ReportFilters
    from accord.org.models import User

TARGET_P95_MS = 300.0  # the goal for every report and dashboard
MAX_ACCOUNTS = 80_000  # ≈ 100k opportunities with the generator's 1.3 per account


def viewers(wanted: Sequence[str]) -> list[tuple[str, User]]:
    """The administrator, the sales manager with the most reports and one of their reps."""
    from django.db.models import Count

    from accord.org.models import Role, User
    from bench.run import benchmark_user

    found: list[tuple[str, User]] = []
    if "admin" in wanted:
        found.append(("admin", benchmark_user()))
    manager = (
        User.objects.filter(is_active=True, role=Role.SALES_MANAGER)
        .annotate(n=Count("reports"))
        .order_by("-n", "username")
        .first()
    )
    if "manager" in wanted and manager is not None:
        found.append(("manager", manager))
    rep = (
        User.objects.filter(is_active=True, role=Role.SALES_REP)
        .annotate(n=Count("opportunities"))
        .order_by("-n", "username")
        .first()
    )
    if "rep" in wanted and rep is not None:
        found.append(("rep", rep))
    return found


def time_report(
    name: str, viewer: User, filters: ReportFilters, *, label: str, repeat: int, warmup: int
) -> Result:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accord.insights.reports import report_build
    from accord.org.models import User

    result = Result(label)

    def fresh() -> User:  # a new user object: the visibility scope is computed every run
        return User.objects.get(pk=viewer.pk)

    for _ in range(warmup):
        report_build(viewer=fresh(), name=name, filters=filters)
    user = fresh()
    with CaptureQueriesContext(connection) as ctx:
        report = report_build(viewer=user, name=name, filters=filters)
    result.queries = len(ctx.captured_queries)
    result.query_ms = round(sum(float(q["time"]) for q in ctx.captured_queries) * 1000, 2)
    for _ in range(repeat):
        user = fresh()
        t0 = time.perf_counter()
        report = report_build(viewer=user, name=name, filters=filters)
        elapsed = (time.perf_counter() - t0) * 1000
        result.times_ms.append(elapsed)
        result.items.append(len(report.rows))
        if elapsed > result.slowest[0]:
            result.slowest = (elapsed, name)
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.reports", description="Time each management report."
    )
    add_generate_arguments(parser)
    parser.set_defaults(accounts=0)  # measure what exists unless asked to generate
    parser.add_argument("--repeat", type=int, default=20, help="timed runs per report (20)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed runs per report (2)")
    parser.add_argument(
        "--as",
        dest="people",
        default="admin,manager,rep",
        help="whose reports: any of admin, manager, rep (default all three)",
    )
    parser.add_argument("--report", action="append", help="only this report (repeatable)")
    args = parser.parse_args(argv)
    if args.accounts > MAX_ACCOUNTS:
        parser.error(f"--accounts: at most {MAX_ACCOUNTS:,} here (≈100k opportunities)")

    setup_django()
    migrate()

    from django.utils import timezone

    from accord.insights.periods import PeriodKind, period_containing
    from accord.insights.reports import REPORTS, ReportFilters
    from bench.loader import row_counts

    print(f"Database: {database_label()}")
    print(f"Machine:  {os.cpu_count()} CPUs, Python {platform.python_version()}")
    if args.accounts:
        generated = top_up(args)
        if generated is not None:
            print("\n".join(generated.lines()))
    counts = row_counts()
    print("Rows:     " + " · ".join(f"{label} {n:,}" for label, n in counts.items()))
    if counts["sales.Opportunity"] == 0:
        print("No opportunities to report on (generate data first).", file=sys.stderr)
        return 1

    quarter = period_containing(timezone.localdate(), PeriodKind.QUARTER)
    names = [spec.name for spec in REPORTS.values() if not args.report or spec.name in args.report]
    results: list[Result] = []
    for role, user in viewers([p.strip() for p in args.people.split(",")]):
        runs = [(quarter.key, ReportFilters(period=quarter))]
        if role == "admin":
            runs.append(("all", ReportFilters(period=None)))
        for period_label, filters in runs:
            print(
                f"\nAs {user.username} ({role}), period {period_label}: "
                f"{args.warmup} warm-up + {args.repeat} timed runs per report"
            )
            block = [
                time_report(
                    name,
                    user,
                    filters,
                    label=f"{name} [{role}, {period_label}]",
                    repeat=args.repeat,
                    warmup=args.warmup,
                )
                for name in names
            ]
            print("\n".join(table(block, target_ms=TARGET_P95_MS)))
            results += block
    slow = [r.label for r in results if r.percentile(0.95) >= TARGET_P95_MS]
    print(f"\n{len(results) - len(slow)} of {len(results)} under {TARGET_P95_MS:.0f} ms at p95.")
    if slow:
        print("Above the goal: " + ", ".join(slow))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
