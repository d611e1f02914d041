"""Reads about ownership: who owns an account in each unit, and who is on its team."""

from __future__ import annotations

from django.db.models import QuerySet

from accord.customers.models import Account
from accord.territories.models import AccountOwner, AccountTeamMember


def account_owners(account: Account) -> QuerySet[AccountOwner]:
    """The account's owners: one per business unit (and per product line after a split)."""
    return AccountOwner.objects.filter(account=account).select_related(
        "business_unit", "product_line", "owner"
    )


def account_team(account: Account) -> QuerySet[AccountTeamMember]:
    return AccountTeamMember.objects.filter(account=account).select_related("user")
