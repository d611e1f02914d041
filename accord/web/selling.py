"""Selling exceptions in the UI: a rep asks for one from an account, the approver's queue,
the decision and the withdrawal.

Views parse input, call one selector or service of :mod:`accord.territories.selling` and
render; the rules are in the services.
"""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accord.core.errors import DomainError, NotFound, PermissionDenied
from accord.core.selectors import get_visible
from accord.org.models import BusinessUnit, ProductLine, User
from accord.territories import selling
from accord.territories.models import ExceptionStatus, SellingException
from accord.web.accounts import _uuid_or_none, _visible_account
from accord.web.forms import add_domain_errors
from accord.web.views import _user

LIST_LIMIT = 100


class ExceptionRequestForm(forms.Form):
    business_unit = forms.ModelChoiceField(
        label=gettext_lazy("Business unit"),
        queryset=BusinessUnit.objects.filter(is_active=True),
        required=False,
    )
    product_lines = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Product lines"),
        queryset=ProductLine.objects.all(),
        required=False,
        help_text=gettext_lazy("None chosen: every product line."),
        widget=forms.CheckboxSelectMultiple,
    )
    reason = forms.CharField(
        label=gettext_lazy("Why should you sell to this account?"),
        required=False,
        max_length=selling.REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class DecideForm(forms.Form):
    decision = forms.ChoiceField(
        label=gettext_lazy("Decision"),
        choices=[
            ("approve", gettext_lazy("Approve")),
            ("refuse", gettext_lazy("Refuse")),
        ],
        widget=forms.RadioSelect,
        required=True,
    )
    note = forms.CharField(
        label=gettext_lazy("Note to the rep (required to refuse)"),
        required=False,
        max_length=selling.REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


def _visible_exception(user: User, pk: uuid.UUID) -> SellingException:
    try:
        return get_visible(
            selling.selling_exceptions_visible_to(user).select_related(
                "account", "business_unit", "requester", "approver", "decided_by"
            ),
            pk,
            what="selling exception",
        )
    except NotFound as exc:
        raise Http404(exc.detail) from exc


def _initial(request: HttpRequest, user: User) -> dict[str, Any]:
    """The unit and lines of the refusal that linked here (``?unit=…&lines=a,b``)."""
    unit = _uuid_or_none(request.GET.get("unit"))
    lines = [
        line
        for line in (_uuid_or_none(v) for v in request.GET.get("lines", "").split(","))
        if line is not None
    ]
    return {
        "business_unit": unit or user.business_unit_id,
        "product_lines": list(ProductLine.objects.filter(pk__in=lines)),
    }


@login_required
def exception_new(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    """Ask for an exception on an account (linked from a refusal)."""
    user = _user(request)
    account = _visible_account(request, pk)
    form = ExceptionRequestForm(request.POST or None, initial=_initial(request, user))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            saved = selling.selling_exception_request(
                actor=user,
                account=account,
                business_unit=data.get("business_unit"),
                product_lines=list(data.get("product_lines") or []),
                reason=data.get("reason") or "",
            )
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            messages.success(request, _("Exception requested: you will be told of the decision."))
            return redirect("web:selling_exception_detail", pk=saved.pk)
    decision = None
    unit_id = form.initial.get("business_unit")
    unit = BusinessUnit.objects.filter(pk=unit_id).first() if unit_id else None
    if request.method == "GET" and unit is not None:
        decision = selling.selling_decision(
            user=user,
            account=account,
            business_unit=unit,
            product_lines=form.initial.get("product_lines", []),
        )
    return render(
        request,
        "web/selling/form.html",
        {
            "nav": "accounts",
            "form": form,
            "account": account,
            "decision": decision,
            "options": getattr(form, "problem_options", []),
        },
        status=422 if request.method == "POST" else 200,
    )


def _rows(qs: QuerySet[SellingException]) -> list[SellingException]:
    return list(
        qs.select_related("account", "business_unit", "requester", "approver")
        .prefetch_related("product_lines")
        .order_by("-created_at")[:LIST_LIMIT]
    )


@login_required
def exception_list(request: HttpRequest) -> HttpResponse:
    """The approver's queue (pending requests to decide) and the user's own requests."""
    user = _user(request)
    status = request.GET.get("status", "")
    status = status if status in ExceptionStatus.values else ""
    mine = selling.selling_exceptions_visible_to(user).filter(requester=user)
    if status:
        mine = mine.filter(status=status)
    return render(
        request,
        "web/selling/list.html",
        {
            "nav": "accounts",
            "to_decide": _rows(selling.selling_exceptions_to_decide(user)),
            "mine": _rows(mine),
            "status": status,
            "statuses": ExceptionStatus.choices,
        },
    )


def _render_detail(
    request: HttpRequest,
    exception: SellingException,
    *,
    decide_form: DecideForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = _user(request)
    pending = exception.status == ExceptionStatus.PENDING
    return render(
        request,
        "web/selling/detail.html",
        {
            "nav": "accounts",
            "exc": exception,
            "lines": list(exception.product_lines.all()),
            "expired": selling.is_expired(exception),
            "may_decide": pending and selling.may_decide(user, exception),
            "is_requester": pending and exception.requester_id == user.pk,
            "decide_form": decide_form or DecideForm(),
        },
        status=status,
    )


@login_required
def exception_detail(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    return _render_detail(request, _visible_exception(_user(request), pk))


@login_required
@require_POST
def exception_decide(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    user = _user(request)
    exception = _visible_exception(user, pk)
    form = DecideForm(request.POST)
    if form.is_valid():
        approve = form.cleaned_data["decision"] == "approve"
        try:
            selling.selling_exception_decide(
                actor=user,
                exception=exception,
                approve=approve,
                note=form.cleaned_data.get("note") or "",
            )
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            messages.success(
                request, _("Exception approved.") if approve else _("Exception refused.")
            )
            return redirect("web:selling_exception_detail", pk=exception.pk)
    return _render_detail(request, _visible_exception(user, pk), decide_form=form, status=422)


@login_required
@require_POST
def exception_withdraw(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    user = _user(request)
    exception = _visible_exception(user, pk)
    try:
        selling.selling_exception_withdraw(actor=user, exception=exception)
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(exc.detail) from exc  # seen, not theirs to withdraw
    except DomainError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, _("Exception request withdrawn."))
    return redirect("web:selling_exception_detail", pk=exception.pk)
