from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accord.core.context import Source, acting_as
from accord.org.models import ApiToken
from accord.org.services import api_token_revoke, token_digest


class Command(BaseCommand):
    help = "Revoke an API token, given the token itself or its printed prefix."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("token", help="The token, or the first 10 characters of it.")

    def handle(self, *args: Any, **options: Any) -> None:
        raw: str = options["token"]
        tokens = ApiToken.objects.filter(key_hash=token_digest(raw))
        if not tokens.exists():
            tokens = ApiToken.objects.filter(prefix=raw[:10], revoked_at__isnull=True)
        if tokens.count() != 1:
            raise CommandError("No single active token matches; give the whole token.")
        with acting_as(None, Source.SYSTEM):
            token = api_token_revoke(token=tokens.get())
        self.stdout.write(f"Revoked {token}.")
