"""``accord assign-owners``: re-run the assignment rules over every account.

    accord assign-owners                 # preview: counts per unit and sample changes
    accord assign-owners --apply         # change the owners the preview lists
    accord assign-owners --all           # also replace owners a person chose
    accord assign-owners --as USERNAME   # the administrator it runs as (audit trail)

Without ``--apply`` nothing is changed. ``--keep-manual`` (the default) leaves owners set
by the CRM team, a manager, a dispute or a handover; ``--all`` lets the rules replace them.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q

from accord.core.context import Source, acting_as
from accord.core.errors import DomainError
from accord.org.models import Role, User
from accord.territories.ownership import AssignmentPreview, assignment_apply, assignment_preview


def _administrator(username: str | None) -> User:
    qs = User.objects.filter(is_active=True)
    if username:
        found = qs.filter(username=username).first()
        if found is None:
            raise CommandError(f"No active user called {username!r}.")
        return found
    found = (
        qs.filter(Q(is_superuser=True) | Q(role=Role.ADMINISTRATOR)).order_by("username").first()
    )
    if found is None:
        raise CommandError("No active administrator to run as; pass --as USERNAME.")
    return found


class Command(BaseCommand):
    help = "Preview (or apply with --apply) the assignment rules over every account."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--apply", action="store_true", help="Change the owners.")
        group = parser.add_mutually_exclusive_group()
        group.add_argument(
            "--keep-manual",
            dest="keep_manual",
            action="store_true",
            default=True,
            help="Keep owners a person chose (the default).",
        )
        group.add_argument(
            "--all",
            dest="keep_manual",
            action="store_false",
            help="Let the rules replace owners a person chose too.",
        )
        parser.add_argument("--as", dest="username", help="The administrator to run as.")
        parser.add_argument("--sample", type=int, default=20, help="Sample changes to print.")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = _administrator(options["username"])
        keep_manual: bool = options["keep_manual"]
        with acting_as(actor, Source.SYSTEM):
            try:
                preview = assignment_preview(
                    actor=actor, keep_manual=keep_manual, limit=options["sample"]
                )
                self._print(preview)
                if options["apply"]:
                    counts = assignment_apply(actor=actor, keep_manual=keep_manual)
                    changed = sum(c["assign"] + c["change"] for c in counts.values())
                    self.stdout.write(f"Applied: {changed} owners assigned or changed.")
                else:
                    self.stdout.write("Nothing changed (preview); run with --apply to apply.")
            except DomainError as exc:
                raise CommandError(exc.detail) from exc

    def _print(self, preview: AssignmentPreview) -> None:
        self.stdout.write(f"{preview.accounts} accounts checked.")
        if not preview.counts:
            self.stdout.write("No assignment rule matches any account.")
        for unit, c in sorted(preview.counts.items()):
            self.stdout.write(
                f"{unit}: {c['assign']} to assign, {c['change']} to change, "
                f"{c['keep']} manual kept, {c['same']} unchanged"
            )
        for change in preview.changes:
            line = f" / {change.product_line}" if change.product_line else ""
            old = change.old_owner.username if change.old_owner else "-"
            self.stdout.write(
                f"  {change.account_label} · {change.business_unit}{line}: "
                f"{old} -> {change.new_owner.username} (rule: {change.rule.name})"
            )
