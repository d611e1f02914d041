"""Converting a lead from the UI: pick the account (the duplicate check suggests it), then
the contact and, optionally, an opportunity. The work is ``sales.flows.lead_convert``."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _

from accord.core.errors import DomainError, NotFound, ValidationFailed
from accord.core.selectors import get_visible
from accord.customers.services import account_get_by_code
from accord.dataquality.matching import account_matches
from accord.org.models import User
from accord.sales import flows
from accord.sales.models import Lead, LeadStatus
from accord.territories import visibility
from accord.web.forms import add_domain_errors

NEW = "new"


class ConvertForm(forms.Form):
    account = forms.CharField(label=_("Account"), required=False)
    account_code = forms.CharField(
        label=_("…or another account's customer code"), required=False, max_length=12
    )
    duplicate_justification = forms.CharField(
        label=_("Why is the new account not a duplicate?"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    create_contact = forms.BooleanField(label=_("Create a contact from the lead"), required=False)
    opportunity_name = forms.CharField(
        label=_("Open an opportunity named (optional)"), required=False, max_length=255
    )


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _account_choice(user: User, form: ConvertForm) -> tuple[Any, dict[str, Any] | None]:
    """``(existing account id, new-account data)`` from the form: exactly one is set."""
    code = form.cleaned_data["account_code"].strip()
    if code:
        try:
            return account_get_by_code(actor=user, code=code).pk, None
        except DomainError as exc:
            message = exc.errors.get("customer_code", [exc.detail])[0]
            raise ValidationFailed(errors={"account_code": [message]}) from exc
    choice = form.cleaned_data["account"]
    if choice == NEW:
        data: dict[str, Any] = {}
        if form.cleaned_data["duplicate_justification"].strip():
            data["duplicate_justification"] = form.cleaned_data["duplicate_justification"]
        return None, data
    return (choice or None), None


@login_required
def lead_convert(request: HttpRequest, pk: Any) -> HttpResponse:
    user = _user(request)
    try:
        lead: Lead = get_visible(visibility.leads_visible_to(user), pk, what="lead")
    except NotFound as exc:
        raise Http404(exc.detail) from exc
    if lead.status == LeadStatus.CONVERTED:
        messages.info(request, _t("This lead is converted already."))
        return redirect("web:account_detail", pk=lead.converted_account_id)
    candidates = account_matches(user=user, data=flows.lead_account_data(lead))
    visible = set(
        visibility.accounts_visible_to(user)
        .filter(pk__in=[c.id for c in candidates])
        .values_list("pk", flat=True)
    )
    form = ConvertForm(
        request.POST or None,
        initial={
            "create_contact": bool(lead.first_name),
            "opportunity_name": lead.company_name,
            "account": str(candidates[0].id) if candidates and candidates[0].id in visible else "",
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            account, new_account = _account_choice(user, form)
            opportunity_name = form.cleaned_data["opportunity_name"].strip()
            done = flows.lead_convert(
                actor=user,
                lead=lead,
                account=account,
                new_account=new_account,
                create_contact=form.cleaned_data["create_contact"],
                opportunity={"name": opportunity_name} if opportunity_name else None,
            )
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            messages.success(request, _t("Lead converted."))
            return redirect("web:account_detail", pk=done.account.pk)
    context = {
        "nav": "leads",
        "lead": lead,
        "form": form,
        "candidates": [{**c.as_dict(), "visible": c.id in visible} for c in candidates],
        "may_create_accounts": visibility.may_create_accounts(user),
        "selected": form["account"].value() or "",
        "new": NEW,
    }
    status = 422 if request.method == "POST" else 200
    return render(request, "web/leads/convert.html", context, status=status)
