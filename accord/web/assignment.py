"""Assignment rules in the UI (administrators): list, add, edit, reorder, delete, preview a
re-run over every account and apply it; and one account's owners and team.

Views parse input, call :mod:`accord.territories.ownership` and render; the rules are in
the services.
"""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accord.core.errors import DomainError, NotFound
from accord.core.selectors import get_visible
from accord.customers.models import Account, Industry
from accord.org.models import BusinessUnit, District, ProductLine, Role, User
from accord.territories import ownership, visibility
from accord.territories.models import (
    Access,
    AccountOwner,
    AccountTeamMember,
    AccountTeamRole,
    AssignmentRule,
)
from accord.web.forms import add_domain_errors
from accord.web.views import _user

# --- forms --------------------------------------------------------------------------------


def _people() -> Any:
    return (
        User.objects.filter(is_active=True)
        .select_related("business_unit")
        .order_by("first_name", "last_name", "username")
    )


class _PersonChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        unit = f" ({obj.business_unit.name})" if obj.business_unit_id else ""
        return f"{obj.get_full_name() or obj.username}{unit}"


class AssignmentRuleForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=120)
    business_unit = forms.ModelChoiceField(
        label=gettext_lazy("Business unit"), queryset=BusinessUnit.objects.filter(is_active=True)
    )
    product_line = forms.ModelChoiceField(
        label=gettext_lazy("Product line"),
        queryset=ProductLine.objects.all(),
        required=False,
        help_text=gettext_lazy("Empty: the owner for every product line of the unit."),
    )
    districts = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Districts"),
        queryset=District.objects.all(),
        required=False,
        help_text=gettext_lazy("Empty: any district."),
    )
    industries = forms.MultipleChoiceField(
        label=gettext_lazy("Industries"),
        choices=Industry.choices,
        required=False,
        help_text=gettext_lazy("Empty: any industry."),
    )
    owner = _PersonChoice(label=gettext_lazy("Owner"), queryset=_people())
    position = forms.IntegerField(
        label=gettext_lazy("Position"),
        min_value=0,
        required=False,
        help_text=gettext_lazy("Lower is tried first; empty: after the unit's other rules."),
    )
    is_active = forms.BooleanField(label=gettext_lazy("Active"), required=False, initial=True)

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        for name in ("business_unit", "product_line", "owner"):
            data[name] = data[name].pk if data.get(name) else None
        data["districts"] = [d.pk for d in data.get("districts") or []]
        data["industries"] = list(data.get("industries") or [])
        if data.get("position") is None:
            data.pop("position", None)
        return data


def _rule_initial(rule: AssignmentRule) -> dict[str, Any]:
    return {
        "name": rule.name,
        "business_unit": rule.business_unit_id,
        "product_line": rule.product_line_id,
        "districts": [d.pk for d in rule.districts.all()],
        "industries": list(rule.industries or []),
        "owner": rule.owner_id,
        "position": rule.position,
        "is_active": rule.is_active,
    }


class OwnerForm(forms.Form):
    business_unit = forms.ModelChoiceField(
        label=gettext_lazy("Business unit"), queryset=BusinessUnit.objects.filter(is_active=True)
    )
    product_line = forms.ModelChoiceField(
        label=gettext_lazy("Product line"),
        queryset=ProductLine.objects.all(),
        required=False,
        help_text=gettext_lazy("Empty: every product line of the unit."),
    )
    owner = _PersonChoice(label=gettext_lazy("Owner"), queryset=_people())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "owner-%s")
        super().__init__(*args, **kwargs)


class TeamMemberForm(forms.Form):
    user = _PersonChoice(label=gettext_lazy("Person"), queryset=_people())
    role = forms.ChoiceField(label=gettext_lazy("Role"), choices=AccountTeamRole.choices)
    account_access = forms.ChoiceField(
        label=gettext_lazy("Account access"),
        choices=[(Access.READ, Access.READ.label), (Access.READ_WRITE, Access.READ_WRITE.label)],
    )
    opportunity_access = forms.ChoiceField(
        label=gettext_lazy("Opportunity access"), choices=Access.choices, initial=Access.READ
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "team-%s")
        super().__init__(*args, **kwargs)


# --- rules --------------------------------------------------------------------------------


def _admin(request: HttpRequest) -> User:
    """The signed-in administrator; anyone else finds no such page."""
    user = _user(request)
    if not (user.is_active and (user.is_superuser or user.role == Role.ADMINISTRATOR)):
        raise Http404("No such page.")
    return user


def _rule(actor: User, pk: uuid.UUID) -> AssignmentRule:
    try:
        return ownership.assignment_rule_get(actor=actor, pk=pk)
    except NotFound as exc:
        raise Http404(exc.detail) from exc


@login_required
def rule_list(request: HttpRequest) -> HttpResponse:
    actor = _admin(request)
    groups: dict[str, list[AssignmentRule]] = {}
    for rule in ownership.assignment_rules_list(actor=actor):
        groups.setdefault(rule.business_unit.name, []).append(rule)
    industries = dict(Industry.choices)
    return render(
        request,
        "web/assignment/rules.html",
        {"nav": "assignment", "groups": groups, "industries": industries},
    )


def _rule_form_page(
    request: HttpRequest, *, actor: User, rule: AssignmentRule | None
) -> HttpResponse:
    if request.method == "POST":
        form = AssignmentRuleForm(request.POST)
        if form.is_valid():
            try:
                if rule is None:
                    ownership.assignment_rule_create(actor=actor, data=form.service_data())
                    messages.success(request, _("Assignment rule added."))
                else:
                    ownership.assignment_rule_update(
                        actor=actor, rule=rule, data=form.service_data()
                    )
                    messages.success(request, _("Assignment rule saved."))
                return redirect("web:assignment_rules")
            except DomainError as exc:
                add_domain_errors(form, exc)
    else:
        form = AssignmentRuleForm(initial=_rule_initial(rule) if rule else None)
    status = 422 if form.errors else 200
    return render(
        request,
        "web/assignment/rule_form.html",
        {
            "nav": "assignment",
            "form": form,
            "rule": rule,
            "title": _("Edit assignment rule") if rule else _("New assignment rule"),
        },
        status=status,
    )


@login_required
def rule_new(request: HttpRequest) -> HttpResponse:
    return _rule_form_page(request, actor=_admin(request), rule=None)


@login_required
def rule_edit(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    actor = _admin(request)
    return _rule_form_page(request, actor=actor, rule=_rule(actor, pk))


@login_required
@require_POST
def rule_move(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    """Up or down one place within the rule's unit."""
    actor = _admin(request)
    rule = _rule(actor, pk)
    siblings = list(
        AssignmentRule.objects.filter(business_unit_id=rule.business_unit_id)
        .order_by("position", "name", "id")
        .values_list("pk", flat=True)
    )
    place = siblings.index(rule.pk) + 1
    step = -1 if request.POST.get("direction") == "up" else 1
    ownership.assignment_rule_move(actor=actor, rule=rule, position=place + step)
    return redirect("web:assignment_rules")


@login_required
@require_POST
def rule_delete(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    actor = _admin(request)
    rule = _rule(actor, pk)
    ownership.assignment_rule_delete(actor=actor, rule=rule)
    messages.success(request, _("Assignment rule deleted; the owners it gave stay."))
    return redirect("web:assignment_rules")


@login_required
def assignment_preview(request: HttpRequest) -> HttpResponse:
    """What re-running the rules would change; the Apply button applies it."""
    actor = _admin(request)
    source = request.POST if request.method == "POST" else request.GET
    keep_manual = source.get("mode", "keep") != "all"
    if request.method == "POST" and "apply" in request.POST:
        counts = ownership.assignment_apply(actor=actor, keep_manual=keep_manual)
        changed = sum(c["assign"] + c["change"] for c in counts.values())
        messages.success(
            request,
            _("The assignment rules were applied: %(n)d owners assigned or changed.")
            % {"n": changed},
        )
        return redirect("web:assignment_rules")
    preview = ownership.assignment_preview(actor=actor, keep_manual=keep_manual, limit=100)
    return render(
        request,
        "web/assignment/preview.html",
        {
            "nav": "assignment",
            "preview": preview,
            "counts": sorted(preview.counts.items()),
            "mode": "keep" if keep_manual else "all",
        },
    )


# --- one account's owners and team --------------------------------------------------------


def _owner_rows(account: Account) -> list[AccountOwner]:
    return list(
        AccountOwner.objects.filter(account=account)
        .select_related("business_unit", "product_line", "owner")
        .order_by("business_unit__name", "product_line__name")
    )


@login_required
def account_owners(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    """The owners per unit and the account team, with the forms to change them."""
    actor = _user(request)
    try:
        account = get_visible(visibility.accounts_visible_to(actor), pk, what="account")
    except NotFound as exc:
        raise Http404(exc.detail) from exc
    owner_form = OwnerForm()
    team_form = TeamMemberForm(initial={"account_access": Access.READ})
    error = ""
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "set_owner":
                owner_form = OwnerForm(request.POST)
                if owner_form.is_valid():
                    data = owner_form.cleaned_data
                    ownership.account_owner_set(
                        actor=actor,
                        account=account,
                        business_unit=data["business_unit"],
                        owner=data["owner"],
                        product_line=data["product_line"],
                    )
                    messages.success(request, _("Owner saved."))
                    return redirect("web:account_owners", pk=account.pk)
            elif action == "remove_owner":
                row = _owner_row(account, request.POST.get("row", ""))
                ownership.account_owner_remove(
                    actor=actor,
                    account=account,
                    business_unit=row.business_unit,
                    product_line=row.product_line,
                )
                messages.success(request, _("Owner removed."))
                return redirect("web:account_owners", pk=account.pk)
            elif action == "add_member":
                team_form = TeamMemberForm(request.POST)
                if team_form.is_valid():
                    data = dict(team_form.cleaned_data)
                    ownership.account_team_add(
                        actor=actor, account=account, user=data.pop("user"), data=data
                    )
                    messages.success(request, _("Added to the account team."))
                    return redirect("web:account_owners", pk=account.pk)
            elif action in ("update_member", "remove_member"):
                member = _team_member(account, request.POST.get("member", ""))
                if action == "remove_member":
                    ownership.account_team_remove(actor=actor, member=member)
                    messages.success(request, _("Removed from the account team."))
                else:
                    ownership.account_team_update(
                        actor=actor,
                        member=member,
                        data={
                            k: request.POST[k]
                            for k in ("role", "account_access", "opportunity_access")
                            if k in request.POST
                        },
                    )
                    messages.success(request, _("Account team member saved."))
                return redirect("web:account_owners", pk=account.pk)
        except DomainError as exc:
            if action == "set_owner":
                add_domain_errors(owner_form, exc)
            elif action == "add_member":
                add_domain_errors(team_form, exc)
            else:
                error = exc.detail + "".join(f" {m}" for ms in exc.errors.values() for m in ms)
    failed = bool(error or owner_form.errors or team_form.errors)
    context = {
        "nav": "accounts",
        "account": account,
        "owners": _owner_rows(account),
        "team": ownership.account_team_of(account),
        "owner_form": owner_form,
        "team_form": team_form,
        "error": error,
        "may_manage_team": visibility.may_edit_account(actor, account),
        "may_set_owners": visibility.may_create_accounts(actor)
        or (actor.role == Role.SALES_MANAGER and actor.business_unit_id is not None),
        "roles": AccountTeamRole.choices,
        "accesses": Access.choices,
        "account_accesses": [
            (Access.READ, Access.READ.label),
            (Access.READ_WRITE, Access.READ_WRITE.label),
        ],
    }
    return render(
        request, "web/assignment/account_owners.html", context, status=422 if failed else 200
    )


def _owner_row(account: Account, row_id: str) -> AccountOwner:
    try:
        return AccountOwner.objects.select_related("business_unit", "product_line").get(
            account=account, pk=uuid.UUID(row_id)
        )
    except (ValueError, AccountOwner.DoesNotExist) as exc:
        raise NotFound("This account has no such owner.") from exc


def _team_member(account: Account, member_id: str) -> AccountTeamMember:
    try:
        return AccountTeamMember.objects.select_related("account", "user").get(
            account=account, pk=uuid.UUID(member_id)
        )
    except (ValueError, AccountTeamMember.DoesNotExist) as exc:
        raise NotFound("No such member of this account's team.") from exc
