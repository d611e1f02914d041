"""Django set-up for the benchmarks: settings, a dedicated database, migrations.

Kept free of model imports so it can run before ``django.setup()``.
"""

from __future__ import annotations

import os
from pathlib import Path


def setup_django() -> None:
    """Settings, a benchmark database (never ``var/accord.sqlite3``), ``django.setup()``.

    Without ``DATABASE_URL`` the database is ``$ACCORD_VAR_DIR/bench.sqlite3`` (default
    ``var/bench.sqlite3``). ``DEBUG`` defaults to off: the query log would otherwise hold
    every bulk insert, and production runs without it.
    """
    import django
    from django.apps import apps

    if apps.ready:
        return
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "accord.settings")
    os.environ.setdefault("DEBUG", "false")
    if not os.environ.get("DATABASE_URL"):
        home = Path(os.environ.get("ACCORD_HOME", Path.cwd()))
        var_dir = Path(os.environ.get("ACCORD_VAR_DIR", home / "var")).resolve()
        var_dir.mkdir(parents=True, exist_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{var_dir / 'bench.sqlite3'}"
    django.setup()
    from django.conf import settings

    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        main_db = (Path(settings.VAR_DIR) / "accord.sqlite3").resolve()
        if Path(str(db["NAME"])).resolve() == main_db:
            raise SystemExit(
                f"Refusing to benchmark {main_db}: that is the application's database. "
                "Unset DATABASE_URL to use var/bench.sqlite3."
            )


def migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def database_label() -> str:
    from django.db import connection

    name = connection.settings_dict["NAME"]
    if connection.vendor == "sqlite":
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version} ({name})"
    version = ""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            row = cursor.fetchone()
            version = str(row[0]) if row else ""
    return f"{connection.display_name} {version} ({name})"
