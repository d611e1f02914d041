"""The ``accord`` command: Django's manage.py with Accord's settings."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "accord.settings")
    from django.core.management import execute_from_command_line

    args = list(sys.argv[1:] if argv is None else argv)
    if args and not args[0].startswith("-"):
        # Accord's own commands are spelled with hyphens: `accord audit-verify`.
        args[0] = args[0].replace("-", "_")
    execute_from_command_line(["accord", *args])


if __name__ == "__main__":
    main()
