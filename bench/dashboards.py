"""Benchmark of the role dashboards (``accord.insights.dashboards``) as pages.

    python -m bench.dashboards [--repeat 30] [--warmup 3] [--period FY2026-Q4]

Sets up Django on the benchmark database (``DATABASE_URL``, default ``var/bench.sqlite3``)
and measures **what is there** (generate with ``python -m bench.generate`` first; the
issue's goal is for 1M opportunities and 5M activities on PostgreSQL). Signs in, with the
test client's session, the people each dashboard is for:

* ``mine`` — the sales rep with the most opportunities;
* ``team`` — the sales manager with the most direct reports;
* ``region`` — a regional manager (one is made for the region with the most districts if
  there is none);
* ``company`` — an administrator (sees everything, like an executive);

and times full page renders of their dashboard for the period (default: this quarter) —
middleware, visibility, the aggregate queries, the template; not the browser drawing the
charts. The weekly snapshots the trend panel reads are taken once first if this week has
none (the time that takes is printed too: it is the weekly job's cost). Prints the data
size, then p50/p95/mean/max, the SQL queries of one render and the database time, against
the issue's 300 ms goal.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from bench.env import database_label, migrate, setup_django
from bench.run import Part, Result, Runner, Scenario, benchmark_user, table

if TYPE_CHECKING:
    from accord.org.models import User

TARGET_P95_MS = 300.0  # the goal for every report and dashboard


def viewers() -> list[tuple[str, str, User]]:
    """(dashboard, role, user) for each dashboard."""
    from django.db.models import Count, Q

    from accord.org.models import Role, User
    from bench.visibility import _regional_manager

    found: list[tuple[str, str, User]] = []
    rep = (
        User.objects.filter(is_active=True, role=Role.SALES_REP)
        .annotate(n=Count("opportunities"))
        .order_by("-n", "username")
        .first()
    )
    if rep is not None:
        found.append(("mine", "rep", rep))
    manager = (
        User.objects.filter(is_active=True, role=Role.SALES_MANAGER)
        .annotate(n=Count("reports", filter=Q(reports__is_active=True)))
        .filter(n__gt=0)
        .order_by("-n", "username")
        .first()
    )
    if manager is not None:
        found.append(("team", "manager", manager))
    found.append(("region", "regional manager", _regional_manager()))
    found.append(("company", "administrator", benchmark_user()))
    return found


def snapshot_if_missing() -> str:
    """Take this week's snapshots if there are none (the trend panel reads them)."""
    from django.utils import timezone

    from accord.insights.models import ForecastSnapshot
    from accord.insights.periods import iso_week_start
    from accord.insights.services import forecast_snapshot_take

    week = iso_week_start(timezone.localdate())
    if ForecastSnapshot.objects.filter(week_start=week).exists():
        return f"Snapshots: this week's are there (week of {week})."
    t0 = time.perf_counter()
    rows = forecast_snapshot_take()
    return f"Snapshots: took this week's, {rows:,} rows in {time.perf_counter() - t0:.1f} s."


def _always(parts: list[Part]) -> Callable[[int], list[Part]]:
    """The same request for every sample (a dashboard has no parameters to vary)."""
    return lambda _i: parts


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.dashboards", description="Time each role's dashboard page."
    )
    parser.add_argument("--repeat", type=int, default=30, help="timed renders per dashboard")
    parser.add_argument("--warmup", type=int, default=3, help="untimed renders per dashboard")
    parser.add_argument("--period", default="", help="a month or quarter key (default: now)")
    parser.add_argument(
        "--explain", action="store_true", help="print the plans of one render's queries"
    )
    args = parser.parse_args(argv)

    setup_django()
    migrate()

    from django.test import Client

    from bench.loader import row_counts

    print(f"Database: {database_label()}")
    print(f"Machine:  {os.cpu_count()} CPUs, Python {platform.python_version()}")
    counts = row_counts()
    print("Rows:     " + " · ".join(f"{label} {n:,}" for label, n in counts.items()))
    if counts["sales.Opportunity"] == 0:
        print("No opportunities to show (generate data first).", file=sys.stderr)
        return 1
    print(snapshot_if_missing())
    query = f"?period={args.period}" if args.period else ""
    results: list[Result] = []
    explained: list[str] = []
    for kind, role, user in viewers():
        client = Client()
        client.force_login(user)
        url = f"/dashboards/{kind}/{query}"
        runner = Runner(client, repeat=args.repeat, warmup=args.warmup, explain=args.explain)
        for result in runner.run(Scenario(kind, _always([Part(kind, url)]))):
            result.label = f"{kind} dashboard ({role}: {user.username})"
            results.append(result)
        explained += runner.explained
    print()
    print("\n".join(table(results, target_ms=TARGET_P95_MS)))
    for plan in explained:
        print("\n" + plan)
    failed = [r for r in results if r.errors]
    for r in failed:
        print(f"\n  {r.label}: {len(r.errors)} failed requests, e.g. {r.errors[0][:300]}")
    slow = [r.label for r in results if r.percentile(0.95) >= TARGET_P95_MS]
    print(f"\n{len(results) - len(slow)} of {len(results)} under {TARGET_P95_MS:.0f} ms at p95.")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
