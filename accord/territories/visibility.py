"""The one place that answers "may this user see / change this record?".

Every list, search, detail, export, timeline, related-record filter, autocomplete and
background job starts from one of the ``*_visible_to`` querysets here; write checks use the
``may_*`` functions. A record the user may not see is reported as missing (404), so ids
cannot be probed.

The sharing model (configured by an administrator, :class:`~accord.territories.models.
SharingDefault`; defaults in :data:`SHARING_DEFAULTS`) decides, per record type:

* **owners** — an account's owners (:class:`~accord.territories.models.AccountOwner`, one
  per business unit) and the owner of a lead, opportunity or activity read and write it;
* **the hierarchy** — when ``grant_via_hierarchy`` is on, a manager has what the people
  reporting to them (directly or not) have;
* **territory** — the people covering a record's district (a regional manager: every
  district of their region) get ``territory_access`` on it;
* **account teams** — :class:`~accord.territories.models.AccountTeamMember` shares an
  account (and, as set on the row, its opportunities) with a person;
* **implicit access** — whoever may see an opportunity may see its account (and its
  contacts, which always follow their account);
* **the org-wide default** — what everyone else gets.

Administrators, CRM officers, executives and integration users see every record;
executives only read. A deactivated user sees nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from django.db import connections
from django.db.models import Exists, Model, OuterRef, Q, QuerySet

from accord.activities.models import Activity
from accord.customers.models import Account, AccountRequest, Contact
from accord.org.models import District, Role, User
from accord.sales.models import Lead, Opportunity
from accord.territories.models import (
    Access,
    AccountOwner,
    AccountTeamMember,
    SharedRecordType,
    SharingDefault,
)

STEWARD_ROLES = frozenset({Role.ADMINISTRATOR, Role.CRM_OFFICER, Role.INTEGRATION})
# The CRM team also distributes leads, fixes selling records and imports them for reps.
SELLING_WRITE_ALL_ROLES = frozenset({Role.ADMINISTRATOR, Role.CRM_OFFICER, Role.INTEGRATION})
READ_ONLY_ROLES = frozenset({Role.EXECUTIVE})


@dataclass(frozen=True)
class Sharing:
    default_access: str = Access.NONE
    territory_access: str = Access.NONE
    grant_via_hierarchy: bool = True


#: The sharing model when an administrator has not changed it: a rep sees and edits the
#: accounts they own and reads the other accounts of their districts; leads, opportunities
#: and activities are private to their owner and the owner's managers.
SHARING_DEFAULTS: dict[str, Sharing] = {
    SharedRecordType.ACCOUNT: Sharing(Access.NONE, Access.READ, True),
    SharedRecordType.LEAD: Sharing(Access.NONE, Access.NONE, True),
    SharedRecordType.OPPORTUNITY: Sharing(Access.NONE, Access.NONE, True),
    SharedRecordType.ACTIVITY: Sharing(Access.NONE, Access.NONE, True),
}


def sharing_model() -> dict[str, Sharing]:
    """The sharing model in force: the defaults, overridden by the administrator's rows."""
    model = dict(SHARING_DEFAULTS)
    for row in SharingDefault.objects.all():
        model[row.record_type] = Sharing(
            row.default_access, row.territory_access, row.grant_via_hierarchy
        )
    return model


# Account-team places of a user (and the people under them) written into the visibility
# conditions as literal ids; beyond this, a correlated probe of the team table is used.
TEAM_PLACES_INLINED = 500


@dataclass(frozen=True)
class Scope:
    sees_all: bool
    user_ids: frozenset[uuid.UUID]  # the user and everyone under them
    district_ids: frozenset[uuid.UUID]  # the districts they (and those people) cover
    own_district_ids: frozenset[uuid.UUID] = frozenset()  # without the hierarchy
    sharing: tuple[tuple[str, Sharing], ...] = ()
    user_id: uuid.UUID | None = None
    # The account-team places of those people: (user, account, opportunity access), or
    # None when there are too many to write into a query (then a correlated probe is used).
    team: tuple[tuple[uuid.UUID, uuid.UUID, str], ...] | None = ()

    def team_accounts(
        self, people: frozenset[uuid.UUID], *, opportunities: bool = False
    ) -> frozenset[uuid.UUID] | None:
        """The accounts shared with ``people`` through account teams (with ``opportunities``:
        those whose opportunities are shared too); None: too many, probe instead."""
        if self.team is None:
            return None
        return frozenset(
            account
            for user, account, access in self.team
            if user in people and (not opportunities or access != Access.NONE)
        )

    def of(self, record_type: str) -> Sharing:
        return dict(self.sharing).get(record_type, SHARING_DEFAULTS[record_type])

    def people(self, record_type: str) -> frozenset[uuid.UUID]:
        """Whose records count as the user's own for ``record_type``."""
        if self.of(record_type).grant_via_hierarchy or self.user_id is None:
            return self.user_ids
        return frozenset({self.user_id})

    def districts(self, record_type: str) -> frozenset[uuid.UUID]:
        """The districts whose records the user gets territory access to."""
        if self.of(record_type).grant_via_hierarchy:
            return self.district_ids
        return self.own_district_ids


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


def _districts_covered(people: set[uuid.UUID]) -> set[uuid.UUID]:
    """The districts ``people`` are assigned to, and every district of their regions."""
    return set(
        District.objects.filter(
            Q(members__in=people)
            | Q(region_id__in=User.objects.filter(pk__in=people).values("region_id"))
        )
        .order_by()
        .values_list("pk", flat=True)
        .distinct()
    )


def scope_of(user: User) -> Scope:
    """What ``user`` covers and the sharing model in force; computed once per user object."""
    cached: Scope | None = getattr(user, "_accord_scope", None)
    if cached is not None:
        return cached
    if not user.is_active:
        scope = Scope(False, frozenset(), frozenset(), user_id=user.pk)
    elif user.sees_everything:
        scope = Scope(True, frozenset(), frozenset(), user_id=user.pk)
    else:
        people = _subordinate_ids(user)
        sharing = sharing_model()
        districts = _districts_covered(people)
        own = (
            districts
            if people == {user.pk} or all(s.grant_via_hierarchy for s in sharing.values())
            else _districts_covered({user.pk})
        )
        team = list(
            AccountTeamMember.objects.filter(user_id__in=people).values_list(
                "user_id", "account_id", "opportunity_access"
            )[: TEAM_PLACES_INLINED + 1]
        )
        scope = Scope(
            False,
            frozenset(people),
            frozenset(districts),
            frozenset(own),
            tuple(sharing.items()),
            user.pk,
            tuple(team) if len(team) <= TEAM_PLACES_INLINED else None,
        )
    user._accord_scope = scope  # type: ignore[attr-defined]
    return scope


def _granted(access: str, *, write: bool) -> bool:
    return access == Access.READ_WRITE if write else access != Access.NONE


# --- account conditions (shared by accounts, contacts and everything "on an account") ------


def _account_q(scope: Scope, *, pk: str, district: str, implicit: bool) -> Q | None:
    """Where an account is visible to the scope's user, written against the account's key
    (``pk``) and district (``district``) paths; ``None``: every account.

    The per-account conditions are correlated ``EXISTS`` probes of small indexes (owner,
    team member, opportunity by account), never ``IN (subquery)``: a rep who owns a large
    share of a million accounts would otherwise make the planner materialise and rescan
    the subquery for every row of a list."""
    sharing = scope.of(SharedRecordType.ACCOUNT)
    if _granted(sharing.default_access, write=False):
        return None
    people = scope.people(SharedRecordType.ACCOUNT)
    condition = Q(Exists(AccountOwner.objects.filter(account_id=OuterRef(pk), owner_id__in=people)))
    teamed = scope.team_accounts(people)
    if teamed is None:
        condition |= Q(
            Exists(AccountTeamMember.objects.filter(account_id=OuterRef(pk), user_id__in=people))
        )
    elif teamed:
        condition |= Q(**{f"{pk}__in": teamed})
    if _granted(sharing.territory_access, write=False):
        condition |= Q(**{f"{district}__in": scope.districts(SharedRecordType.ACCOUNT)})
    if implicit:
        opportunity = _opportunity_q(scope)
        if opportunity is None:
            return None  # every opportunity is visible, so every account with one is
        condition |= Q(Exists(Opportunity.objects.filter(opportunity, account_id=OuterRef(pk))))
    return condition


def _opportunity_q(scope: Scope) -> Q | None:
    sharing = scope.of(SharedRecordType.OPPORTUNITY)
    if _granted(sharing.default_access, write=False):
        return None
    people = scope.people(SharedRecordType.OPPORTUNITY)
    condition = Q(owner_id__in=people)
    teamed = scope.team_accounts(people, opportunities=True)
    if teamed is None:
        condition |= Q(
            Exists(
                AccountTeamMember.objects.filter(
                    account_id=OuterRef("account_id"), user_id__in=people
                ).exclude(opportunity_access=Access.NONE)
            )
        )
    elif teamed:
        condition |= Q(account_id__in=teamed)
    if _granted(sharing.territory_access, write=False):
        condition |= Q(account__district_id__in=scope.districts(SharedRecordType.OPPORTUNITY))
    return condition


def _visible[M: Model](qs: QuerySet[M], scope: Scope, condition: Q | None) -> QuerySet[M]:
    if scope.sees_all or condition is None:
        return qs
    return qs.filter(condition)


def accounts_visible_to(user: User) -> QuerySet[Account]:
    scope = scope_of(user)
    if scope.sees_all:
        return Account.objects.all()
    if user.pk is None or not user.is_active:
        return Account.objects.none()
    return _visible(
        Account.objects.all(),
        scope,
        _account_q(scope, pk="pk", district="district_id", implicit=True),
    )


# A search reads the visible accounts in parts only while the people's owned accounts and
# the opportunities behind implicit access are this few: those parts are then written in
# as literal ids (read once per search, like the team places). Beyond that, a rep's are read
# from AccountReach where the database keeps it (ReachPart).
SEARCH_PARTS_OWNED_MAX = 1000


@dataclass(frozen=True)
class ReachPart:
    """A search part read from :class:`~accord.territories.models.AccountReach`: the accounts
    ``user_id`` owns or owns an opportunity on outside the districts they cover, in name
    order with their search column, from one index."""

    user_id: uuid.UUID


SearchPart = Q | ReachPart


def reach_is_kept(using: str = "default") -> bool:
    """Whether the database keeps :class:`~accord.territories.models.AccountReach` in step
    (PostgreSQL, by triggers; elsewhere the table stays empty)."""
    return connections[using].vendor == "postgresql"


def account_search_parts(user: User, *, reach: bool = False) -> list[SearchPart] | None:
    """The accounts ``user`` may see, in parts a search reads one by one and merges in the
    list's order (``customers.selectors``), or ``None``: search
    :func:`accounts_visible_to` as one.

    The parts — one per covered district, the owned accounts, the team shares, the
    accounts of visible opportunities — together select exactly :func:`accounts_visible_to`.
    A covered district is read in name order from the ``(district, name)`` index, which
    holds the search column; the ORed conditions instead walk the whole name index until a
    page of visible matches turns up, past every account of the other districts. With ``n``
    of ``N`` districts covered the parts walk about ``n`` district ranges against ``N / n``
    for the single walk, so they are cheaper while ``n² < N`` (districts of similar size).

    With ``reach`` (a plain fragment search in name order: the caller says), a person with
    nobody under them whose territory opens their districts' accounts has their owned and
    opportunity accounts read as one :class:`ReachPart` where the database keeps it: those
    inside the covered districts are in the district parts, those outside are their reach.
    Otherwise the owned and implicit accounts are written in as ids while they are few
    (:data:`SEARCH_PARTS_OWNED_MAX`; team places likewise, :data:`TEAM_PLACES_INLINED`),
    and anyone with more stays on the single walk."""
    scope = scope_of(user)
    if scope.sees_all or user.pk is None or not user.is_active or scope.team is None:
        return None
    sharing = scope.of(SharedRecordType.ACCOUNT)
    opportunity = _opportunity_q(scope)
    if _granted(sharing.default_access, write=False) or opportunity is None:
        return None
    territory = _granted(sharing.territory_access, write=False)
    districts = sorted(scope.districts(SharedRecordType.ACCOUNT)) if territory else []
    if len(districts) ** 2 >= District.objects.count():
        return None
    people = scope.people(SharedRecordType.ACCOUNT)
    teamed = scope.team_accounts(people)
    district_parts: list[SearchPart] = [Q(district_id=district) for district in districts]
    # AccountReach holds what lies outside the districts the user covers themselves, which
    # are the scope's districts when nobody is under them.
    alone = scope.user_ids == frozenset({user.pk})
    if reach and alone and territory and reach_is_kept(Account.objects.db):
        team: list[SearchPart] = [Q(pk__in=teamed)] if teamed else []
        return [ReachPart(user.pk), *team, *district_parts]
    owned = _first_ids(AccountOwner.objects.filter(owner_id__in=people))
    implicit = _first_ids(Opportunity.objects.filter(opportunity)) if owned is not None else None
    if owned is None or implicit is None:
        return None
    parts: list[SearchPart] = [Q(pk__in=ids) for ids in (owned, teamed, implicit) if ids]
    return parts + district_parts


def reached_accounts_visible(user: User, accounts: Iterable[Account]) -> bool:
    """Whether ``user`` may see those of ``accounts`` (a page read with a
    :class:`ReachPart`) that lie outside the districts they cover — the ones the derived
    table put there; the others came from the district parts."""
    covered = scope_of(user).districts(SharedRecordType.ACCOUNT)
    outside = {a.pk for a in accounts if a.district_id not in covered}
    if not outside:
        return True
    seen = accounts_visible_to(user).filter(pk__in=outside).values_list("pk", flat=True)
    return len(set(seen)) == len(outside)


def _first_ids(qs: QuerySet[Any]) -> frozenset[uuid.UUID] | None:
    """The accounts of ``qs``'s rows (owner rows, opportunities), or ``None`` when it has
    more than :data:`SEARCH_PARTS_OWNED_MAX` rows; reads at most one row more than that."""
    found = list(qs.order_by().values_list("account_id", flat=True)[: SEARCH_PARTS_OWNED_MAX + 1])
    return None if len(found) > SEARCH_PARTS_OWNED_MAX else frozenset(found)


def contacts_visible_to(user: User) -> QuerySet[Contact]:
    """Contacts follow their account."""
    scope = scope_of(user)
    if scope.sees_all:
        return Contact.objects.all()
    if not user.is_active:
        return Contact.objects.none()
    return _visible(
        Contact.objects.all(),
        scope,
        _account_q(scope, pk="account_id", district="account__district_id", implicit=True),
    )


def leads_visible_to(user: User) -> QuerySet[Lead]:
    scope = scope_of(user)
    if scope.sees_all:
        return Lead.objects.all()
    if not user.is_active:
        return Lead.objects.none()
    sharing = scope.of(SharedRecordType.LEAD)
    if _granted(sharing.default_access, write=False):
        return Lead.objects.all()
    condition = Q(owner_id__in=scope.people(SharedRecordType.LEAD))
    if _granted(sharing.territory_access, write=False):
        condition |= Q(district_id__in=scope.districts(SharedRecordType.LEAD))
    return Lead.objects.filter(condition)


def opportunities_visible_to(user: User) -> QuerySet[Opportunity]:
    scope = scope_of(user)
    if scope.sees_all:
        return Opportunity.objects.all()
    if not user.is_active:
        return Opportunity.objects.none()
    return _visible(Opportunity.objects.all(), scope, _opportunity_q(scope))


def activities_visible_to(user: User) -> QuerySet[Activity]:
    """Activities the user did or that are on their records: their (and, through the
    hierarchy, their reports') opportunities and leads, and — when not about an opportunity —
    the accounts they own."""
    scope = scope_of(user)
    if scope.sees_all:
        return Activity.objects.all()
    if not user.is_active:
        return Activity.objects.none()
    sharing = scope.of(SharedRecordType.ACTIVITY)
    if _granted(sharing.default_access, write=False):
        return Activity.objects.all()
    people = scope.people(SharedRecordType.ACTIVITY)
    condition = (
        Q(performed_by_id__in=people)
        | Q(opportunity__owner_id__in=people)
        | Q(lead__owner_id__in=people)
        | Q(
            Exists(
                AccountOwner.objects.filter(account_id=OuterRef("account_id"), owner_id__in=people)
            ),
            opportunity__isnull=True,
        )
    )
    if _granted(sharing.territory_access, write=False):
        condition |= Q(account__district_id__in=scope.districts(SharedRecordType.ACTIVITY))
    return Activity.objects.filter(condition)


# --- writes -------------------------------------------------------------------------------


def may_create_accounts(user: User) -> bool:
    return user.is_active and (user.is_superuser or user.role in STEWARD_ROLES)


def _may_write(user: User) -> bool:
    return user.is_active and user.role not in READ_ONLY_ROLES


def account_owner_ids(account: Account) -> set[uuid.UUID]:
    return set(AccountOwner.objects.filter(account=account).values_list("owner_id", flat=True))


def may_edit_account(user: User, account: Account) -> bool:
    """Stewards; an owner (and their managers); a team member with write access; the
    people covering its district or everyone, when the sharing model gives them write."""
    if may_create_accounts(user):
        return True
    if not _may_write(user):
        return False
    scope = scope_of(user)
    sharing = scope.of(SharedRecordType.ACCOUNT)
    if _granted(sharing.default_access, write=True):
        return True
    if _granted(sharing.territory_access, write=True) and account.district_id in scope.districts(
        SharedRecordType.ACCOUNT
    ):
        return True
    people = scope.people(SharedRecordType.ACCOUNT)
    if AccountOwner.objects.filter(account=account, owner_id__in=people).exists():
        return True
    return AccountTeamMember.objects.filter(
        account=account, user_id__in=people, account_access=Access.READ_WRITE
    ).exists()


def may_edit_contact(user: User, contact: Contact) -> bool:
    """Contacts follow their account: see :func:`may_edit_contacts_of`."""
    return may_edit_contacts_of(user, contact.account)


def may_edit_contacts_of(user: User, account: Account) -> bool:
    """Add and change an account's contacts: who may change the account, whoever sells to
    it (owns an opportunity there), and the reps covering its district while no one else of
    their business unit owns it (they may sell there: the account is theirs to work)."""
    if may_edit_account(user, account):
        return True
    if not _may_write(user):
        return False
    scope = scope_of(user)
    people = scope.people(SharedRecordType.OPPORTUNITY)
    if Opportunity.objects.filter(account=account, owner_id__in=people).exists():
        return True
    return (
        user.business_unit_id is not None
        and account.district_id in scope.districts(SharedRecordType.ACCOUNT)
        and not AccountOwner.objects.filter(account=account, business_unit_id=user.business_unit_id)
        .exclude(owner_id__in=scope.people(SharedRecordType.ACCOUNT))
        .exists()
    )


def _owns(user: User, owner_id: uuid.UUID, record_type: str) -> bool:
    if not _may_write(user):
        return False
    if user.is_superuser or user.role in SELLING_WRITE_ALL_ROLES:
        return True
    return owner_id in scope_of(user).people(record_type)


def _shared_write(user: User, record_type: str, district_id: uuid.UUID | None) -> bool:
    scope = scope_of(user)
    sharing = scope.of(record_type)
    if _granted(sharing.default_access, write=True):
        return True
    return _granted(sharing.territory_access, write=True) and district_id in scope.districts(
        record_type
    )


def may_edit_lead(user: User, lead: Lead) -> bool:
    if _owns(user, lead.owner_id, SharedRecordType.LEAD):
        return True
    return _may_write(user) and _shared_write(user, SharedRecordType.LEAD, lead.district_id)


def may_edit_opportunity(user: User, opportunity: Opportunity) -> bool:
    if _owns(user, opportunity.owner_id, SharedRecordType.OPPORTUNITY):
        return True
    if not _may_write(user):
        return False
    if _shared_write(
        user, SharedRecordType.OPPORTUNITY, _account_district_id(opportunity.account_id)
    ):
        return True
    return AccountTeamMember.objects.filter(
        account_id=opportunity.account_id,
        user_id__in=scope_of(user).people(SharedRecordType.OPPORTUNITY),
        opportunity_access=Access.READ_WRITE,
    ).exists()


def may_edit_activity(user: User, activity: Activity) -> bool:
    if _owns(user, activity.performed_by_id, SharedRecordType.ACTIVITY):
        return True
    return _may_write(user) and _shared_write(
        user, SharedRecordType.ACTIVITY, _account_district_id(activity.account_id)
    )


def _account_district_id(account_id: uuid.UUID | None) -> uuid.UUID | None:
    if account_id is None:
        return None
    found = Account.objects.filter(pk=account_id).values_list("district_id", flat=True).first()
    return found


def may_assign_to(user: User, owner: User) -> bool:
    """May ``user`` make ``owner`` responsible for a record (own it, or manage them)?"""
    if not owner.is_active or not _may_write(user):
        return False
    if user.is_superuser or user.role in SELLING_WRITE_ALL_ROLES:
        return True
    return owner.pk in scope_of(user).user_ids


def may_create_selling_records(user: User) -> bool:
    return _may_write(user)


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


def narrow_to_scope[M: Model](
    qs: QuerySet[M], *, user: User, scope: str | None, owner_field: str
) -> QuerySet[M]:
    """``qs`` (already one of the ``*_visible_to`` querysets) kept to the scope's owners."""
    owners = scope_owner_ids(user, scope)
    return qs if owners is None else qs.filter(**{f"{owner_field}__in": owners})


def narrow_accounts_to_scope[M: Model](
    qs: QuerySet[M], *, user: User, scope: str | None, account_field: str
) -> QuerySet[M]:
    """``qs`` (accounts or records on accounts) kept to the accounts the scope's people own
    or work on as an account team member."""
    people = scope_owner_ids(user, scope)
    if people is None:
        return qs
    owned = AccountOwner.objects.filter(account_id=OuterRef(account_field), owner_id__in=people)
    teamed = AccountTeamMember.objects.filter(
        account_id=OuterRef(account_field), user_id__in=people
    )
    return qs.filter(Q(Exists(owned)) | Q(Exists(teamed)))


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


def activity_performers_visible_to(
    user: User, candidates: Iterable[uuid.UUID] | None
) -> frozenset[uuid.UUID] | None:
    """Of ``candidates`` (``None``: everyone), the people all of whose activities ``user``
    may see — so a count over ``performed_by_id__in=<them>`` needs no per-row condition
    (the dashboards' activity panels). ``None`` back means everyone's."""
    scope = scope_of(user)
    if not user.is_active:
        return frozenset()
    if scope.sees_all or _granted(scope.of(SharedRecordType.ACTIVITY).default_access, write=False):
        return None if candidates is None else frozenset(candidates)
    people = scope.people(SharedRecordType.ACTIVITY)
    return people if candidates is None else people & frozenset(candidates)


def opportunity_owners_visible_to(user: User) -> frozenset[uuid.UUID] | Literal["all"] | None:
    """When the opportunities ``user`` may see are exactly those of some owners, those
    owners (``"all"``: every opportunity) — so figures summed ahead per owner (the
    opportunity cells) can stand for a count over the visible opportunities. ``None`` when
    it is not that simple (account-team places or territory access widen it)."""
    scope = scope_of(user)
    if not user.is_active:
        return frozenset()
    sharing = scope.of(SharedRecordType.OPPORTUNITY)
    if scope.sees_all or _granted(sharing.default_access, write=False):
        return "all"
    if _granted(sharing.territory_access, write=False):
        return None
    people = scope.people(SharedRecordType.OPPORTUNITY)
    if scope.team_accounts(people, opportunities=True) != frozenset():
        return None
    return people
