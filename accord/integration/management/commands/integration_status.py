"""``accord integration-status``: backlog, lag and failure rate per connector."""

from __future__ import annotations

from argparse import ArgumentParser
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand

from accord.integration.selectors import connector_health


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f}s"
    if seconds < 3600:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.1f}h"


class Command(BaseCommand):
    help = "Show each connector's backlog, lag, dead letters and recent failure rate."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--window", type=int, default=60, help="Minutes of attempts to rate (default 60)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        window = timedelta(minutes=options["window"])
        rows = connector_health(window=window)
        if not rows:
            self.stdout.write("No connectors are configured.")
            return
        header = (
            f"{'connector':<20} {'kind':<10} {'state':<8} {'backlog':>7} {'retrying':>8} "
            f"{'dead':>5} {'lag':>6} {'attempts':>8} {'failed':>7}"
        )
        self.stdout.write(header)
        for h in rows:
            self.stdout.write(
                f"{h.name[:20]:<20} {h.kind:<10} {h.state:<8} {h.backlog:>7} {h.failed:>8} "
                f"{h.dead:>5} {_duration(h.lag_seconds):>6} {h.attempts:>8} "
                f"{h.failure_rate:>7.1%}"
            )
        self.stdout.write(f"(attempts and failure rate over the last {options['window']} min)")
