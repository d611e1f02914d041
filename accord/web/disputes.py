"""Ownership disputes in the UI: claim an account, the owner's answer, the manager's
decision, the claimant's withdrawal; lists of mine, to decide and all I may see.

Views parse input, call one selector or service of :mod:`accord.territories.disputes` and
render; the rules are in the services.
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accord.activities.models import Activity
from accord.core.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from accord.core.pagination import Page, keyset_page
from accord.core.selectors import get_visible
from accord.customers.models import Account
from accord.org.models import ProductLine, User
from accord.territories import disputes as services
from accord.territories import visibility
from accord.territories.models import DisputeOutcome, DisputeStatus, OwnershipDispute
from accord.web.forms import add_domain_errors
from accord.web.views import _user

LIST_PAGE_SIZE = 50
CLAIM_ACTIVITIES_SHOWN = 100

ListTab = Literal["mine", "decide", "all"]
TABS: tuple[tuple[ListTab, Any], ...] = (
    ("mine", gettext_lazy("Mine")),
    ("decide", gettext_lazy("Mine to decide")),
    ("all", gettext_lazy("All I may see")),
)


# --- forms --------------------------------------------------------------------------------


class ActivityChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        assert isinstance(obj, Activity)
        return f"{obj.occurred_at:%Y-%m-%d} · {obj.get_kind_display()}: {obj.subject}"


class ClaimForm(forms.Form):
    """Why the account should be the claimant's; the service checks and explains."""

    reason = forms.CharField(
        label=gettext_lazy("Why should the account be yours?"),
        required=False,
        max_length=services.REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    evidence = forms.CharField(
        label=gettext_lazy("Evidence"),
        required=False,
        max_length=services.EVIDENCE_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Orders, visits, contacts: what shows the customer is yours."),
    )
    activities = ActivityChoice(
        label=gettext_lazy("Activities that back the claim"),
        required=False,
        queryset=Activity.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, activities: QuerySet[Activity], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["activities"]
        assert isinstance(field, forms.ModelMultipleChoiceField)
        field.queryset = activities


class AnswerForm(forms.Form):
    answer = forms.CharField(
        label=gettext_lazy("Your answer"),
        required=False,
        max_length=services.ANSWER_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "answer-%s")
        super().__init__(*args, **kwargs)


class DecideForm(forms.Form):
    outcome = forms.ChoiceField(
        label=gettext_lazy("Your decision"),
        required=False,
        choices=DisputeOutcome.choices,
        widget=forms.RadioSelect,
    )
    product_lines = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Product lines the claimant gets (split only)"),
        required=False,
        queryset=ProductLine.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )
    note = forms.CharField(
        label=gettext_lazy("Reason for the decision (told to both)"),
        required=False,
        max_length=services.NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, lines: QuerySet[ProductLine], **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "decide-%s")
        super().__init__(*args, **kwargs)
        field = self.fields["product_lines"]
        assert isinstance(field, forms.ModelMultipleChoiceField)
        field.queryset = lines


# --- helpers ------------------------------------------------------------------------------


def _visible_dispute(user: User, pk: uuid.UUID) -> OwnershipDispute:
    try:
        return services.dispute_get(user, pk)
    except NotFound as exc:
        raise Http404(exc.detail) from exc


def _visible_account(user: User, pk: uuid.UUID) -> Account:
    try:
        return get_visible(
            visibility.accounts_visible_to(user).select_related("district"), pk, what="account"
        )
    except NotFound as exc:
        raise Http404(exc.detail) from exc


def _claim_activities(user: User, account: Account) -> QuerySet[Activity]:
    return (
        visibility.activities_visible_to(user)
        .filter(account=account)
        .order_by("-occurred_at", "-pk")
    )


def _unit_lines(dispute: OwnershipDispute) -> QuerySet[ProductLine]:
    return dispute.business_unit.product_lines.order_by("name")


def _render_detail(
    request: HttpRequest,
    dispute: OwnershipDispute,
    *,
    answer_form: AnswerForm | None = None,
    decide_form: DecideForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = _user(request)
    account_visible = visibility.accounts_visible_to(user).filter(pk=dispute.account_id).exists()
    context = {
        "nav": "disputes",
        "dispute": dispute,
        "timeline": services.dispute_timeline(dispute),
        "activities": list(
            visibility.activities_visible_to(user)
            .filter(pk__in=dispute.activities.values("pk"))
            .order_by("occurred_at", "pk")
        ),
        "split_lines": list(dispute.split_product_lines.order_by("name")),
        "account_visible": account_visible,
        "is_open": dispute.status in services.UNDECIDED,
        "may_answer": services.may_answer(user, dispute),
        "answer_due": services.answer_due(dispute),
        "may_decide": services.may_decide(user, dispute),
        "may_withdraw": services.may_withdraw(user, dispute),
        "answer_form": answer_form or AnswerForm(),
        "decide_form": decide_form or DecideForm(lines=_unit_lines(dispute)),
    }
    return render(request, "web/disputes/detail.html", context, status=status)


# --- views --------------------------------------------------------------------------------


@login_required
def dispute_list(request: HttpRequest) -> HttpResponse:
    """Mine (claimed by me or against me), to decide (undecided, mine to decide), or all
    the disputes I may see; newest first."""
    user = _user(request)
    tab = request.GET.get("tab", "mine")
    tab = tab if tab in dict(TABS) else "mine"
    status = request.GET.get("status", "")
    status = status if status in DisputeStatus.values else ""
    qs = services.disputes_visible_to(user).select_related(
        "account", "business_unit", "claimant", "owner", "decider"
    )
    if tab == "mine":
        qs = qs.filter(Q(claimant=user) | Q(owner=user))
    elif tab == "decide":
        qs = qs.filter(decider=user, status__in=services.UNDECIDED)
    if status:
        qs = qs.filter(status=status)

    def page_at(cursor: str | None) -> Page[OwnershipDispute]:
        return keyset_page(qs, ordering="-created_at", cursor=cursor, limit=LIST_PAGE_SIZE)

    try:
        page = page_at(request.GET.get("cursor") or None)
    except ValidationFailed:  # a stale or edited cursor: start again
        page = page_at(None)
    return render(
        request,
        "web/disputes/list.html",
        {
            "nav": "disputes",
            "page": page,
            "tab": tab,
            "tabs": TABS,
            "status": status,
            "statuses": DisputeStatus.choices,
        },
    )


@login_required
def dispute_claim(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    """ "Claim this account": the reason, evidence and backing activities."""
    user = _user(request)
    account = _visible_account(user, pk)
    if not services.may_claim(user, account):
        raise DjangoPermissionDenied
    activities = _claim_activities(user, account)
    form = ClaimForm(request.POST or None, activities=activities)
    if request.method == "POST" and form.is_valid():
        try:
            dispute = services.dispute_open(
                actor=user,
                account=account,
                reason=form.cleaned_data["reason"],
                evidence=form.cleaned_data["evidence"],
                activities=list(form.cleaned_data["activities"]),
            )
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            messages.success(
                request, _("Claim sent: the owner and the manager who decides are told.")
            )
            return redirect("web:dispute_detail", pk=dispute.pk)
    return render(
        request,
        "web/disputes/claim.html",
        {
            "nav": "disputes",
            "account": account,
            "form": form,
            "has_activities": activities[:1].exists(),
        },
        status=422 if request.method == "POST" else 200,
    )


@login_required
def dispute_detail(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    return _render_detail(request, _visible_dispute(_user(request), pk))


@login_required
@require_POST
def dispute_answer(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    user = _user(request)
    dispute = _visible_dispute(user, pk)
    form = AnswerForm(request.POST)
    if form.is_valid():
        try:
            services.dispute_answer(actor=user, dispute=dispute, answer=form.cleaned_data["answer"])
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            messages.success(request, _("Answer sent."))
            return redirect("web:dispute_detail", pk=dispute.pk)
    return _render_detail(request, dispute, answer_form=form, status=422)


@login_required
@require_POST
def dispute_decide(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    user = _user(request)
    dispute = _visible_dispute(user, pk)
    form = DecideForm(request.POST, lines=_unit_lines(dispute))
    if form.is_valid():
        try:
            services.dispute_decide(
                actor=user,
                dispute=dispute,
                outcome=form.cleaned_data["outcome"],
                product_lines=list(form.cleaned_data["product_lines"]),
                note=form.cleaned_data["note"],
            )
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            messages.success(request, _("Decision recorded."))
            return redirect("web:dispute_detail", pk=dispute.pk)
    return _render_detail(request, dispute, decide_form=form, status=422)


@login_required
@require_POST
def dispute_withdraw(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    user = _user(request)
    dispute = _visible_dispute(user, pk)
    try:
        services.dispute_withdraw(actor=user, dispute=dispute)
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(exc.detail) from exc  # seen, not theirs to withdraw
    except DomainError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, _("Claim withdrawn."))
    return redirect("web:dispute_detail", pk=dispute.pk)
