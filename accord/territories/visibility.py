"""The one place that answers "may this user see / change this record?".

Every list, search, detail, export, timeline and related-record filter starts from one of
the ``*_visible_to`` querysets here; write checks use the ``may_*`` functions. A record the
user may not see is reported as missing (404), so ids cannot be probed.

Foundation rules (the territories issue refines them into a configurable sharing model):

* administrators, CRM officers, executives and integration users see every record;
* everyone else sees the accounts in the districts they — or the people reporting to
  them — cover (a regional manager: every district of their region), those accounts'
  contacts, and the leads, opportunities and activities owned by themselves or by the
  people reporting to them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from accord.activities.models import Activity
from accord.customers.models import Account, Contact
from accord.org.models import District, Role, User
from accord.sales.models import Lead, Opportunity

STEWARD_ROLES = frozenset({Role.ADMINISTRATOR, Role.CRM_OFFICER, Role.INTEGRATION})
SELLING_WRITE_ALL_ROLES = frozenset({Role.ADMINISTRATOR, Role.INTEGRATION})
READ_ONLY_ROLES = frozenset({Role.EXECUTIVE})


@dataclass(frozen=True)
class Scope:
    sees_all: bool
    user_ids: frozenset[uuid.UUID]
    district_ids: frozenset[uuid.UUID]


def _subordinate_ids(user: User) -> set[uuid.UUID]:
    found: set[uuid.UUID] = {user.pk}
    frontier = {user.pk}
    while frontier:
        frontier = (
            set(
                User.objects.filter(manager_id__in=frontier).order_by().values_list("pk", flat=True)
            )
            - found
        )
        found |= frontier
    return found


def scope_of(user: User) -> Scope:
    """What ``user`` covers; computed once per user object."""
    cached: Scope | None = getattr(user, "_accord_scope", None)
    if cached is not None:
        return cached
    if not user.is_active:
        scope = Scope(False, frozenset(), frozenset())
    elif user.sees_everything:
        scope = Scope(True, frozenset(), frozenset())
    else:
        people = _subordinate_ids(user)
        districts = set(
            User.districts.through.objects.filter(user_id__in=people).values_list(
                "district_id", flat=True
            )
        )
        region_ids = set(
            User.objects.filter(pk__in=people, region__isnull=False).values_list(
                "region_id", flat=True
            )
        )
        if region_ids:
            districts |= set(
                District.objects.filter(region_id__in=region_ids).values_list("pk", flat=True)
            )
        scope = Scope(False, frozenset(people), frozenset(districts))
    user._accord_scope = scope  # type: ignore[attr-defined]
    return scope


def accounts_visible_to(user: User) -> QuerySet[Account]:
    scope = scope_of(user)
    qs = Account.objects.all()
    return qs if scope.sees_all else qs.filter(district_id__in=scope.district_ids)


def contacts_visible_to(user: User) -> QuerySet[Contact]:
    scope = scope_of(user)
    qs = Contact.objects.all()
    return qs if scope.sees_all else qs.filter(account__district_id__in=scope.district_ids)


def leads_visible_to(user: User) -> QuerySet[Lead]:
    scope = scope_of(user)
    qs = Lead.objects.all()
    return qs if scope.sees_all else qs.filter(owner_id__in=scope.user_ids)


def opportunities_visible_to(user: User) -> QuerySet[Opportunity]:
    scope = scope_of(user)
    qs = Opportunity.objects.all()
    return qs if scope.sees_all else qs.filter(owner_id__in=scope.user_ids)


def activities_visible_to(user: User) -> QuerySet[Activity]:
    scope = scope_of(user)
    qs = Activity.objects.all()
    if scope.sees_all:
        return qs
    return qs.filter(
        Q(performed_by_id__in=scope.user_ids) | Q(opportunity__owner_id__in=scope.user_ids)
    )


# --- writes -------------------------------------------------------------------------------


def may_create_accounts(user: User) -> bool:
    return user.is_active and (user.is_superuser or user.role in STEWARD_ROLES)


def may_edit_account(user: User, account: Account) -> bool:
    if may_create_accounts(user):
        return True
    if user.role in READ_ONLY_ROLES or not user.is_active:
        return False
    return account.district_id in scope_of(user).district_ids


def may_edit_contact(user: User, contact: Contact) -> bool:
    return may_edit_account(user, contact.account)


def _owns(user: User, owner_id: uuid.UUID) -> bool:
    if not user.is_active or user.role in READ_ONLY_ROLES:
        return False
    if user.is_superuser or user.role in SELLING_WRITE_ALL_ROLES:
        return True
    return owner_id in scope_of(user).user_ids


def may_edit_lead(user: User, lead: Lead) -> bool:
    return _owns(user, lead.owner_id)


def may_edit_opportunity(user: User, opportunity: Opportunity) -> bool:
    return _owns(user, opportunity.owner_id)


def may_edit_activity(user: User, activity: Activity) -> bool:
    return _owns(user, activity.performed_by_id)


def may_assign_to(user: User, owner: User) -> bool:
    """May ``user`` make ``owner`` responsible for a record (own it, or manage them)?"""
    return owner.is_active and _owns(user, owner.pk)


def may_create_selling_records(user: User) -> bool:
    return user.is_active and user.role not in READ_ONLY_ROLES
