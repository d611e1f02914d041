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
from typing import Literal

from django.db.models import Model, Q, QuerySet

from accord.activities.models import Activity
from accord.customers.models import Account, AccountRequest, Contact
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


# --- account requests ---------------------------------------------------------------------


def account_requests_visible_to(user: User) -> QuerySet[AccountRequest]:
    """Stewards (and everyone who sees all) see every request; others their own and their
    reports' (a manager: the team's)."""
    scope = scope_of(user)
    qs = AccountRequest.objects.all()
    return qs if scope.sees_all else qs.filter(requester_id__in=scope.user_ids)


def may_request_accounts(user: User) -> bool:
    return user.is_active and user.role not in READ_ONLY_ROLES


def may_review_account_requests(user: User) -> bool:
    """Approve, reject or resolve requests: the people who create accounts."""
    return may_create_accounts(user)


# --- list scopes: "mine / my team / all I may see" ----------------------------------------

ListScope = Literal["mine", "team", "all"]


def team_member_ids(user: User) -> frozenset[uuid.UUID]:
    """``user``, the members of their team and everyone who reports to them (directly or
    not): whose records "my team" lists show."""
    people = _subordinate_ids(user)
    if user.team_id is not None:
        people |= set(User.objects.filter(team_id=user.team_id).values_list("pk", flat=True))
    return frozenset(people)


def scope_owner_ids(user: User, scope: str | None) -> frozenset[uuid.UUID] | None:
    """The owners a list scope keeps (``None``: no narrowing, "all I may see"). Lists apply
    it on top of the ``*_visible_to`` querysets, so a scope never widens what is shown."""
    if scope == "mine":
        return frozenset({user.pk})
    if scope == "team":
        return team_member_ids(user)
    return None


def scope_district_ids(user: User, scope: str | None) -> frozenset[uuid.UUID] | None:
    """The districts covered by the people of a list scope (accounts have no owner yet):
    their own districts and, for regional managers, their region's."""
    people = scope_owner_ids(user, scope)
    if people is None:
        return None
    districts = set(
        User.districts.through.objects.filter(user_id__in=people).values_list(
            "district_id", flat=True
        )
    )
    regions = User.objects.filter(pk__in=people, region__isnull=False).values("region_id")
    districts |= set(District.objects.filter(region_id__in=regions).values_list("pk", flat=True))
    return frozenset(districts)


def narrow_to_scope[M: Model](
    qs: QuerySet[M], *, user: User, scope: str | None, owner_field: str
) -> QuerySet[M]:
    """``qs`` (already one of the ``*_visible_to`` querysets) kept to the scope's owners."""
    owners = scope_owner_ids(user, scope)
    return qs if owners is None else qs.filter(**{f"{owner_field}__in": owners})


def narrow_to_scope_districts[M: Model](
    qs: QuerySet[M], *, user: User, scope: str | None, district_field: str
) -> QuerySet[M]:
    """``qs`` kept to the districts the scope's people cover (for accounts and contacts)."""
    district_ids = scope_district_ids(user, scope)
    return qs if district_ids is None else qs.filter(**{f"{district_field}__in": district_ids})


def owners_visible_to(user: User) -> QuerySet[User]:
    """The people whose records ``user`` may see: the choices of a list's owner filter."""
    scope = scope_of(user)
    qs = User.objects.filter(is_active=True)
    return qs if scope.sees_all else qs.filter(pk__in=scope.user_ids)


def people_covering_district(district_id: uuid.UUID | None) -> QuerySet[User]:
    """The active people assigned to a district (the reps covering an account's district)."""
    if district_id is None:
        return User.objects.none()
    return User.objects.filter(is_active=True, districts=district_id).order_by(
        "first_name", "last_name", "username"
    )


# --- data stewardship ---------------------------------------------------------------------


def may_steward(user: User) -> bool:
    """Review the duplicate queue, merge and unmerge records: the people who create
    accounts (CRM officers, administrators)."""
    return may_create_accounts(user)


# --- forecasts and quotas -----------------------------------------------------------------


def manager_chain_ids(user: User) -> list[uuid.UUID]:
    """The people ``user`` reports to, nearest first (one query per level)."""
    chain: list[uuid.UUID] = []
    manager_id = user.manager_id
    while manager_id is not None and manager_id not in chain and manager_id != user.pk:
        chain.append(manager_id)
        manager_id = User.objects.filter(pk=manager_id).values_list("manager_id", flat=True)[0]
    return chain


def forecast_users_visible_to(user: User) -> QuerySet[User]:
    """Whose forecasts ``user`` may see: themselves and everyone under them; a regional
    manager also everyone covering a district of their region; all-seeing roles everyone."""
    scope = scope_of(user)
    qs = User.objects.all()
    if scope.sees_all:
        return qs
    condition = Q(pk__in=scope.user_ids)
    if user.role == Role.REGIONAL_MANAGER and user.region_id is not None:
        condition |= Q(districts__region_id=user.region_id)
    return qs.filter(condition).distinct()


def may_view_forecast_region(user: User, region_id: uuid.UUID | None) -> bool:
    """The organisation's forecast (company, region, unit, district nodes): all-seeing roles
    everywhere; a regional manager within their region (``region_id`` is the node's)."""
    scope = scope_of(user)
    if scope.sees_all:
        return True
    return (
        user.is_active
        and user.role == Role.REGIONAL_MANAGER
        and region_id is not None
        and user.region_id == region_id
    )


def may_adjust_forecast(user: User, subject: User) -> bool:
    """Adjust ``subject``'s roll-up: their managers up the chain, or a manager their own."""
    if not user.is_active or user.role in READ_ONLY_ROLES:
        return False
    if subject.pk == user.pk:
        return User.objects.filter(manager_id=user.pk).exists()
    return user.pk in manager_chain_ids(subject)


def may_set_quota(user: User, subject: User) -> bool:
    """Set ``subject``'s quota: administrators, or the subject's managers up the chain."""
    if not user.is_active or user.role in READ_ONLY_ROLES:
        return False
    if user.is_superuser or user.role == Role.ADMINISTRATOR:
        return True
    return subject.pk != user.pk and user.pk in manager_chain_ids(subject)
