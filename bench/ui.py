"""Benchmark of the web UI's pages at scale, as the people who use them.

    python -m bench.ui [--accounts N] [--skip-generate] [--repeat 100] [--pages board,360]

Sets up the benchmark database like ``bench.run`` (tops it up to N accounts unless
``--skip-generate``), signs in a sales rep and their manager with Django's test client and
times full page renders through the whole stack (middleware, session, visibility,
selectors, templates): the account list (first page, searched, a district filter), the
account 360 page, the pipeline board, the opportunity and activity lists and My day.
Prints p50/p95 per page, the SQL queries one render makes, and the data size. The goal of
the UI issue is p95 under 100 ms for the list, the 360 page and the board.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING
from urllib.parse import quote

from bench.env import database_label, migrate, setup_django
from bench.generate import add_generate_arguments, top_up
from bench.run import Part, Result, Runner, Scenario, search_fragments, table

if TYPE_CHECKING:
    from accord.org.models import User

TARGET_P95_MS = 100.0


def _people() -> tuple[User, User | None]:
    """A sales rep with districts and opportunities, and their manager (if any)."""
    from django.db.models import Count

    from accord.org.models import Role, User

    rep = (
        User.objects.filter(is_active=True, role=Role.SALES_REP, districts__isnull=False)
        .annotate(n=Count("opportunities"))
        .order_by("-n", "username")
        .first()
    )
    if rep is None:
        raise SystemExit("No sales rep with districts to benchmark as (generate data first).")
    return rep, rep.manager


def _visible_accounts(user: User, n: int, rng: random.Random) -> list[str]:
    """``n`` account ids the user may open, spread over their territory."""
    from accord.territories.visibility import accounts_visible_to

    ids = [
        str(pk)
        for pk in accounts_visible_to(user)
        .order_by("created_at")
        .values_list("pk", flat=True)[: max(n * 20, 200)]
    ]
    rng.shuffle(ids)
    return (ids * (n // max(len(ids), 1) + 1))[:n] if ids else []


def scenarios(rep: User, *, samples: int, rng: random.Random) -> list[Scenario]:
    from accord.sales.models import Pipeline

    accounts = _visible_accounts(rep, samples, rng)
    fragments = search_fragments(samples, rng)
    from accord.territories.visibility import scope_of

    districts = sorted(scope_of(rep).district_ids) or list(
        rep.districts.values_list("pk", flat=True)
    )
    pipeline = Pipeline.objects.filter(business_unit_id=rep.business_unit_id).first()
    board = f"/pipeline/?pipeline={pipeline.pk}" if pipeline else "/pipeline/"
    found = [
        Scenario("list", lambda _i: [Part("accounts list, first page", "/accounts/")]),
        Scenario(
            "search",
            lambda i: [
                Part(
                    "accounts list, searched",
                    f"/accounts/?q={quote(fragments[i % len(fragments)])}",
                )
            ],
        ),
        *(
            [
                Scenario(
                    "district",
                    lambda i: [
                        Part(
                            "accounts list, one district",
                            f"/accounts/?district={districts[i % len(districts)]}",
                        )
                    ],
                )
            ]
            if districts
            else []
        ),
        Scenario(
            "360",
            lambda i: [Part("account 360 page", f"/accounts/{accounts[i % len(accounts)]}/")],
        ),
        Scenario("board", lambda _i: [Part("pipeline board", board)]),
        Scenario("opps", lambda _i: [Part("opportunities list", "/opportunities/")]),
        Scenario("acts", lambda _i: [Part("activities list", "/activities/")]),
        Scenario("home", lambda _i: [Part("My day", "/")]),
    ]
    if not accounts:
        found = [s for s in found if s.name != "360"]
    return found


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.ui", description="Time the web UI's pages as a rep and a manager."
    )
    add_generate_arguments(parser)
    parser.add_argument("--skip-generate", action="store_true", help="measure the data as is")
    parser.add_argument("--repeat", type=int, default=100, help="timed samples per page")
    parser.add_argument("--warmup", type=int, default=5, help="untimed samples per page")
    parser.add_argument(
        "--pages",
        default="",
        help="comma-separated scenarios to time (list, search, district, 360, board, opps, "
        "acts, home); default: all",
    )
    args = parser.parse_args(argv)

    setup_django()
    migrate()

    from django.test import Client

    from bench.loader import row_counts

    print(f"Database: {database_label()}")
    print(f"Machine:  {os.cpu_count()} CPUs, Python {platform.python_version()}")
    if not args.skip_generate:
        report = top_up(args)
        if report is not None:
            print("\n".join(report.lines()))
    counts = row_counts()
    print("Rows:     " + " · ".join(f"{label} {n:,}" for label, n in counts.items()))
    if counts["customers.Account"] == 0:
        print("No accounts to benchmark (run without --skip-generate).", file=sys.stderr)
        return 1

    rng = random.Random(args.seed)
    rep, manager = _people()
    samples = args.warmup + args.repeat + 1
    results: list[Result] = []
    chosen = {name.strip() for name in args.pages.split(",") if name.strip()}
    people = [("rep", rep)] + ([("manager", manager)] if manager is not None else [])
    for role, user in people:
        client = Client()
        client.force_login(user)
        print(f"\nTiming as {user.username} ({role}): {args.warmup} warm-up + {args.repeat} timed")
        for scenario in scenarios(user, samples=samples, rng=rng):
            if chosen and scenario.name not in chosen:
                continue
            runner = Runner(client, repeat=args.repeat, warmup=args.warmup, explain=False)
            for result in runner.run(scenario):
                result.label = f"{result.label} ({role})"
                results.append(result)
    print()
    print("\n".join(table(results, target_ms=TARGET_P95_MS)))
    failed = [r for r in results if r.errors]
    for r in failed:
        print(f"\n  {r.label}: {len(r.errors)} failed requests, e.g. {r.errors[0][:300]}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
