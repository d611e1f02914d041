"""``accord worker``: django-tasks-db's worker, plus the outbox sweep.

Task dispatch is django-tasks-db's ``db_worker`` unchanged (run as many as you like, on
one machine or many). Alongside it, a timer thread runs :func:`outbox_sweep` every
``--sweep-interval`` seconds: it re-enqueues deliveries whose task was lost (a crash
between commit and enqueue, a worker killed mid-delivery, an expired lease) — recovery,
not dispatch.
"""

from __future__ import annotations

import logging
import threading
from argparse import ArgumentParser
from typing import Any

from django.db import close_old_connections, connection
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand

from accord.integration.delivery import outbox_sweep

logger = logging.getLogger(__name__)


def _sweep_forever(interval: float, stop: threading.Event) -> None:
    while not stop.wait(interval):
        try:
            close_old_connections()
            enqueued = outbox_sweep()
            if enqueued:
                logger.info("Sweep re-enqueued %d delivery keys", enqueued)
        except Exception:
            logger.exception("Outbox sweep failed; trying again in %ss", interval)
        finally:
            connection.close()


class Command(DbWorkerCommand):
    help = "Run a background worker: integration deliveries and other tasks."

    def add_arguments(self, parser: ArgumentParser) -> None:
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
            super().handle(*args, **options)
        finally:
            stop.set()
