"""A pre-loaded worker parent for the SIGKILL drill (not a test module).

Starting ``accord worker`` costs a second or more of imports and set-up; the drill kills 50
workers. This process sets Django up once, then forks a fresh worker for every "fork" line
on stdin and prints the child's pid, which the drill kills with SIGKILL. Each child opens
its own database connections; the parent holds none when it forks.
"""

from __future__ import annotations

import os
import signal
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "accord.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    import accord.integration.management.commands.worker  # noqa: F401 - loaded before forks

    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped automatically
    for line in sys.stdin:
        if line.strip() != "fork":
            continue
        connections.close_all()
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            call_command(
                "worker",
                "--no-startup-delay",
                "--interval",
                "0.05",
                "--sweep-interval",
                "0",
                verbosity=0,
            )
            os._exit(0)
        print(pid, flush=True)


if __name__ == "__main__":
    main()
