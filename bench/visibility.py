"""Benchmark of the sharing model: what visibility costs on the account list and search.

    python -m bench.visibility [--accounts N] [--skip-generate] [--repeat 200] [--explain]

Sets up the benchmark database like ``bench.run`` (tops it up to N accounts unless
``--skip-generate``; the generator gives ~90% of accounts an owner in one unit and ~25% a
second owner in another), then times the account API (``GET /api/v1/accounts``: first
page, and searched by a name fragment) through the whole stack with a Bearer token as:

* a sales rep (owner of their accounts, reading the rest of their districts),
* a territory rep (one district, owning nothing yet: the search reads it in parts),
* a regional manager (every district of the region, and everything their reports own),
* an administrator (no visibility filter: the baseline the others are compared with).

Prints p50/p95 per scenario, the SQL queries of one request, how many accounts each user
may see and the data size. The ownership issue's goal: p95 under 50 ms for the rep and the
regional manager at 1M accounts on PostgreSQL.
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
from bench.run import Part, Result, Runner, Scenario, benchmark_user, search_fragments, table

if TYPE_CHECKING:
    from django.test import Client

    from accord.org.models import User

TARGET_P95_MS = 50.0


def _rep() -> User:
    """The sales rep who owns the most accounts."""
    from django.db.models import Count

    from accord.org.models import Role, User

    rep = (
        User.objects.filter(is_active=True, role=Role.SALES_REP)
        .annotate(n=Count("owned_accounts"))
        .order_by("-n", "username")
        .first()
    )
    if rep is None:
        raise SystemExit("No sales rep to benchmark as (generate data first).")
    return rep


def _regional_manager() -> User:
    """A regional manager with a region (made one of the region with most districts)."""
    from django.db.models import Count

    from accord.org.models import Region, Role, User

    found = (
        User.objects.filter(is_active=True, role=Role.REGIONAL_MANAGER, region__isnull=False)
        .order_by("username")
        .first()
    )
    if found is not None:
        return found
    region = Region.objects.annotate(n=Count("districts")).order_by("-n").first()
    if region is None:
        raise SystemExit("No region to benchmark a regional manager in.")
    user = User(username="bench-regional", role=Role.REGIONAL_MANAGER, region=region)
    user.set_unusable_password()
    user.save()
    return user


def _territory_rep(rep: User) -> User:
    """A rep new to ``rep``'s first district: covers it and owns nothing yet (made once; no
    business unit, so ``bench.salesforce`` never hands them accounts)."""
    from accord.org.models import Role, User

    found = User.objects.filter(username="bench-territory-rep").first()
    if found is not None:
        return found
    user = User(username="bench-territory-rep", role=Role.SALES_REP)
    user.set_unusable_password()
    user.save()
    user.districts.set(rep.districts.order_by("code")[:1])
    return user


def scenarios(fragments: list[str]) -> list[Scenario]:
    return [
        Scenario("list", lambda _i: [Part("accounts, first page", "/api/v1/accounts?limit=50")]),
        Scenario(
            "search",
            lambda i: [
                Part(
                    "accounts, searched",
                    f"/api/v1/accounts?limit=50&search={quote(fragments[i % len(fragments)])}",
                )
            ],
        ),
    ]


def _explain_slowest(client: Client, result: Result, role: str) -> list[str]:
    """The plans of the scenario's slowest timed request, run once more: the p95 is made of
    such requests, not of the first sample."""
    elapsed, url = result.slowest
    if not url:
        return []
    runner = Runner(client, repeat=0, warmup=0, explain=True)
    runner.run(Scenario("slowest", lambda _i: [Part(result.label, url)]))
    return [f"[{role}, slowest: {elapsed:.1f} ms] {plan}" for plan in runner.explained]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.visibility",
        description="Time the account list and search with visibility applied.",
    )
    add_generate_arguments(parser)
    parser.add_argument("--skip-generate", action="store_true", help="measure the data as is")
    parser.add_argument("--repeat", type=int, default=200, help="timed samples per scenario")
    parser.add_argument("--warmup", type=int, default=10, help="untimed samples per scenario")
    parser.add_argument(
        "--explain", action="store_true", help="print the plans of each scenario's slowest request"
    )
    args = parser.parse_args(argv)

    setup_django()
    migrate()

    from django.test import Client

    from accord.org.services import api_token_create, api_token_revoke
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
    from accord.territories.models import AccountOwner

    print(f"Owners:   {AccountOwner.objects.count():,} account-owner rows")

    rng = random.Random(args.seed)
    samples = args.warmup + args.repeat + 1
    fragments = search_fragments(samples, rng)
    rep = _rep()
    people = [
        ("rep", rep),
        ("territory rep", _territory_rep(rep)),
        ("regional manager", _regional_manager()),
    ]
    people.append(("admin, unfiltered", benchmark_user()))
    results: list[Result] = []
    explained: list[str] = []
    for role, user in people:
        owned = AccountOwner.objects.filter(owner=user).count()
        print(f"\n{user.username} ({role}) owns {owned:,} accounts", flush=True)
        issued = api_token_create(user=user, name="bench-visibility")
        try:
            client = Client(HTTP_AUTHORIZATION=f"Bearer {issued.secret}")
            for scenario in scenarios(fragments):
                runner = Runner(
                    client, repeat=args.repeat, warmup=args.warmup, explain=args.explain
                )
                for result in runner.run(scenario):
                    if args.explain:
                        explained += _explain_slowest(client, result, role)
                    result.label = f"{result.label} ({role})"
                    results.append(result)
        finally:
            api_token_revoke(token=issued.token)
    print()
    print("\n".join(table(results, target_ms=TARGET_P95_MS)))
    if explained:
        print("\nQuery plans of the slowest requests (auth look-ups left out):")
        print("\n".join(explained))
    failed = [r for r in results if r.errors]
    for r in failed:
        print(f"\n  {r.label}: {len(r.errors)} failed requests, e.g. {r.errors[0][:300]}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
