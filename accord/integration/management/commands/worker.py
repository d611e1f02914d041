"""``accord worker``: django-tasks-db's worker (or RQ's), plus the outbox sweep.

Task dispatch is django-tasks-db's ``db_worker`` unchanged (run as many as you like, on
one machine or many); with ``ACCORD_TASKS_BACKEND=rq`` it is django-rq's ``rqworker``
with django-tasks-rq's job class and RQ's scheduler (for deferred retries). Alongside it,
a timer thread runs :func:`outbox_sweep` every ``--sweep-interval`` seconds: it
re-enqueues deliveries whose task was lost (a crash between commit and enqueue, a worker
killed mid-delivery, an expired lease) — recovery, not dispatch — and, every
``ACCORD_LEDGER_PULL_SECONDS``, pulls invoice and payment status from SQL ledgers.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import threading
import time
from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.db import close_old_connections, connection
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand

from accord.core.context import Source, acting_as
from accord.insights.digest import DigestResult, weekly_digests_send
from accord.insights.models import ForecastSnapshot
from accord.insights.periods import iso_week_start
from accord.insights.services import forecast_snapshot_take
from accord.integration.delivery import outbox_sweep
from accord.integration.invoices import invoices_pull_all
from accord.territories.disputes import disputes_escalate_overdue

logger = logging.getLogger(__name__)

#: How often the sweep thread escalates ownership disputes past their deadline.
DISPUTE_ESCALATION_SECONDS = 60.0
#: How often the sweep thread checks whether the managers' weekly e-mail is due.
WEEKLY_DIGEST_CHECK_SECONDS = 3600.0


def _escalate_disputes() -> None:
    """Ownership disputes past their deadline go to the regional manager (logged, never
    raised: the sweep goes on)."""
    try:
        with acting_as(None, Source.SYSTEM):
            escalated = disputes_escalate_overdue()
        if escalated:
            logger.info("Escalated %d ownership disputes past their deadline", escalated)
    except Exception:
        logger.exception("Dispute escalation failed; trying again later")


def _send_weekly_digests(now: dt.datetime | None = None) -> DigestResult | None:
    """On Mondays from ``ACCORD_WEEKLY_DIGEST_HOUR`` (local time), the managers' weekly
    forecast e-mail. Each manager gets one per ISO week, so calling this every hour of the
    day sends each mail once (and retries the ones that failed). Logged, never raised."""
    hour = settings.ACCORD_WEEKLY_DIGEST_HOUR
    local = timezone.localtime(now or timezone.now())
    if hour is None or hour < 0 or local.weekday() != 0 or local.hour < hour:
        return None
    try:
        with acting_as(None, Source.SYSTEM):
            result = weekly_digests_send(today=local.date())
    except Exception:
        logger.exception("Weekly forecast e-mails failed; trying again in an hour")
        return None
    if result.sent or result.failed:
        logger.info("Weekly forecast e-mails: %d sent, %d failed", result.sent, result.failed)
    return result


def _take_weekly_snapshot(now: dt.datetime | None = None) -> int | None:
    """The week's forecast snapshot (the trend on the dashboards and the forecast page),
    taken at the first hourly check of each ISO week that has none yet. Returns the rows
    written, or None when the week already has its snapshot. Logged, never raised."""
    today = timezone.localtime(now or timezone.now()).date()
    if ForecastSnapshot.objects.filter(week_start=iso_week_start(today)).exists():
        return None
    try:
        with acting_as(None, Source.SYSTEM):
            rows = forecast_snapshot_take(today=today)
    except Exception:
        logger.exception("Weekly forecast snapshot failed; trying again in an hour")
        return None
    logger.info("Weekly forecast snapshot: %d rows", rows)
    return rows


def _sweep_forever(interval: float, stop: threading.Event) -> None:
    pull_every = float(settings.ACCORD_LEDGER_PULL_SECONDS)
    next_pull = time.monotonic()
    next_escalation = time.monotonic()
    next_digest_check = time.monotonic()
    while not stop.wait(interval):
        try:
            close_old_connections()
            enqueued = outbox_sweep()
            if enqueued:
                logger.info("Sweep enqueued delivery for %d connectors", enqueued)
            if pull_every > 0 and time.monotonic() >= next_pull:
                next_pull = time.monotonic() + pull_every
                read = invoices_pull_all()
                if read:
                    logger.info("Pulled %d invoices from the ledger", read)
            if time.monotonic() >= next_escalation:  # at most once a minute
                next_escalation = time.monotonic() + DISPUTE_ESCALATION_SECONDS
                _escalate_disputes()
            if time.monotonic() >= next_digest_check:  # at most once an hour
                next_digest_check = time.monotonic() + WEEKLY_DIGEST_CHECK_SECONDS
                _take_weekly_snapshot()
                _send_weekly_digests()
        except Exception:
            logger.exception("Outbox sweep or ledger pull failed; trying again in %ss", interval)
        finally:
            connection.close()


class Command(DbWorkerCommand):
    help = "Run a background worker: integration deliveries and other tasks."

    def add_arguments(self, parser: ArgumentParser) -> None:
        if settings.ACCORD_TASKS_BACKEND == "rq":
            # RQ's worker takes its own options; these keep the same command lines working.
            parser.add_argument(
                "--batch", action="store_true", help="Run what is queued, then exit."
            )
            parser.add_argument("--no-startup-delay", action="store_true", help=argparse.SUPPRESS)
            parser.add_argument("--interval", type=float, help=argparse.SUPPRESS)
        else:
            super().add_arguments(parser)
        parser.add_argument(
            "--sweep-interval",
            type=float,
            default=10.0,
            help="Seconds between outbox sweeps; 0 turns the sweep off (default: 10).",
        )
        # Reloading forks a child; a worker is a long-running service, so off by default.
        parser.set_defaults(reload=False)

    def handle(self, *args: Any, **options: Any) -> None:
        interval = float(options.pop("sweep_interval"))
        stop = threading.Event()
        if interval > 0 and not options.get("batch"):
            threading.Thread(
                target=_sweep_forever, args=(interval, stop), name="outbox-sweep", daemon=True
            ).start()
        elif interval > 0:
            outbox_sweep()  # --batch: one sweep, then run what is queued
        try:
            if settings.ACCORD_TASKS_BACKEND == "rq":
                call_command(
                    "rqworker",
                    "default",
                    job_class="django_tasks_rq.Job",
                    with_scheduler=True,
                    burst=bool(options.get("batch")),
                    verbosity=options.get("verbosity", 1),
                )
            else:
                super().handle(*args, **options)
        finally:
            stop.set()
