"""``accord demo-data``: load the demo organisation (idempotent; ``make run`` calls it)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from accord.org import demo


class Command(BaseCommand):
    help = (
        "Load a realistic demo organisation: business units, districts, users for every role, "
        "pipelines, products, accounts, contacts, leads, opportunities and activities. "
        "Running it again changes nothing."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        verbose = int(options.get("verbosity", 1)) > 1
        if demo.demo_is_loaded():
            demo.demo_ownership_load()  # demo data loaded before assignment rules existed
            self.stdout.write("demo data already loaded")
            return
        started = time.perf_counter()

        def progress(step: str) -> None:
            if verbose:
                self.stdout.write(f"  … {step}")

        self.stdout.write("Loading the demo organisation…")
        try:
            counts = demo.demo_load(progress=progress)
        except demo.DemoAlreadyLoaded:
            self.stdout.write("demo data already loaded")
            return
        except demo.DemoConflict as exc:
            raise CommandError(str(exc)) from exc
        elapsed = time.perf_counter() - started
        width = max(len(label) for label in counts)
        for label, count in counts.items():
            self.stdout.write(f"  {label:<{width}}  {count:>6,}")
        self.stdout.write(
            self.style.SUCCESS(f"Demo data loaded in {elapsed:.1f} s.")
            + f" Sign in with any demo user and the password {demo.DEMO_PASSWORD!r}"
            " (`accord demo-logins` lists them)."
        )
