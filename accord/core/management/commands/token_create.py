from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accord.core.context import Source, acting_as
from accord.core.errors import DomainError
from accord.org.services import api_token_create, user_by_username


class Command(BaseCommand):
    help = "Create a personal API token for USERNAME and print it (shown only once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="API token", help="What the token is for.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            user = user_by_username(options["username"])
            with acting_as(None, Source.SYSTEM):
                issued = api_token_create(user=user, name=options["name"])
        except DomainError as exc:
            raise CommandError(exc.detail) from exc
        self.stdout.write(issued.secret)
