"""Bulk generator of synthetic customers for benchmarks.

    python -m bench.generate --accounts 100000      # top the database up to 100k accounts

Per account, on average: 2 contacts, 1.3 opportunities (about one line item each) and
5 activities, spread over the existing districts, sales reps, business units and
pipelines. See ``bench/loader.py`` for how rows are made and written.

**This is a bulk path that bypasses the services**: no audit events, no data-entry-template
or territory checks, no outbox. It exists only to fill a benchmark database quickly.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bench.env import database_label, migrate, setup_django

if TYPE_CHECKING:
    from bench.loader import GenerationReport

DEFAULT_ACCOUNTS = 100_000
DEFAULT_CHUNK = 10_000
DEFAULT_BATCH = 5_000


def add_generate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--accounts",
        type=int,
        default=DEFAULT_ACCOUNTS,
        help=f"accounts the database should hold (default {DEFAULT_ACCOUNTS})",
    )
    parser.add_argument(
        "--method",
        choices=("auto", "bulk", "insert", "copy"),
        default="auto",
        help="bulk = bulk_create, insert = executemany, copy = PostgreSQL COPY; "
        "auto = copy on PostgreSQL, insert elsewhere",
    )
    parser.add_argument(
        "--chunk", type=int, default=DEFAULT_CHUNK, help="accounts per transaction (10000)"
    )
    parser.add_argument(
        "--batch-size", type=int, default=DEFAULT_BATCH, help="bulk_create batch_size (5000)"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=0,
        help="processes loading chunks in parallel (default: 2 on PostgreSQL, 1 on SQLite)",
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed (1)")
    parser.add_argument("--no-analyze", action="store_true", help="skip ANALYZE after loading")


def top_up(args: argparse.Namespace) -> GenerationReport | None:
    """Generate until the database holds ``args.accounts`` accounts; None if it already does."""
    import os

    from django.db import connection

    from accord.customers.models import Account
    from bench.loader import generate

    missing = args.accounts - Account.objects.count()
    if missing <= 0:
        return None
    workers = args.workers
    if workers <= 0:  # SQLite has one writer; PostgreSQL gains from a second core
        workers = min(2, os.cpu_count() or 1) if connection.vendor == "postgresql" else 1
    report = generate(
        missing,
        method=args.method,
        chunk_size=args.chunk,
        batch_size=args.batch_size,
        workers=workers,
        seed=args.seed,
        run_analyze=not args.no_analyze,
    )
    rebuild_cells()
    return report


def rebuild_cells() -> None:
    """The bulk path bypasses the ORM's signals: recompute the opportunity, line-item and
    activity cells (figures summed ahead for forecasts, dashboards and reports) from what was
    loaded."""
    import time

    from accord.insights.activity_cells import activity_cells_rebuild
    from accord.insights.cells import cells_rebuild
    from accord.insights.line_cells import line_cells_rebuild

    t0 = time.perf_counter()
    written = cells_rebuild()
    print(f"Opportunity cells rebuilt: {written:,} cells in {time.perf_counter() - t0:.1f} s")
    t0 = time.perf_counter()
    written = line_cells_rebuild()
    print(f"Line-item cells rebuilt: {written:,} cells in {time.perf_counter() - t0:.1f} s")
    t0 = time.perf_counter()
    written = activity_cells_rebuild()
    print(f"Activity cells rebuilt: {written:,} cells in {time.perf_counter() - t0:.1f} s")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.generate",
        description="Bulk-load synthetic accounts, contacts, opportunities and activities.",
    )
    add_generate_arguments(parser)
    args = parser.parse_args(argv)
    setup_django()
    migrate()
    print(f"Database: {database_label()}")
    report = top_up(args)
    if report is None:
        print(f"The database already holds {args.accounts:,} or more accounts.")
    else:
        print("\n".join(report.lines()))
    from bench.loader import row_counts

    for label, count in row_counts().items():
        print(f"  {label:<32}{count:>12,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
