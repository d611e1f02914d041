"""Account requests in the UI: a rep's request form (with the duplicate check as they type),
their requests, the stewards' review queue and decisions; and the notifications page.

Views parse input, call one selector or service of :mod:`accord.customers.requests` or
:mod:`accord.org.notifications` and render; the rules are in the services.
"""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import prefetch_related_objects
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accord.core.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from accord.core.pagination import Page
from accord.core.selectors import get_visible
from accord.customers import requests as services
from accord.customers.models import AccountRequest, AccountRequestStatus
from accord.dataquality import matching
from accord.org import notifications as notes
from accord.org.models import Notification, User
from accord.org.selectors import business_units, districts
from accord.territories import visibility
from accord.web.accounts import _uuid_or_none
from accord.web.forms import AccountForm, add_domain_errors
from accord.web.views import _user

LIST_PAGE_SIZE = 50
# The fields the duplicate check looks at: typing in one of them re-runs it.
LIVE_CHECK_FIELDS = ("legal_name", "name_th", "name_en", "tax_id", "phone", "email", "website")


# --- forms --------------------------------------------------------------------------------


class AccountRequestForm(AccountForm):
    """The proposed account's fields and the requester's justification."""

    status = None  # type: ignore[assignment]  # a new account is active
    duplicate_justification = None  # the request's own justification is the override
    justification = forms.CharField(
        label=gettext_lazy("Why is this a new account?"),
        required=False,
        max_length=services.JUSTIFICATION_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy(
            "If it looks like an existing one: e.g. “a separate branch”, “a different company”."
        ),
    )

    def __init__(self, *args: Any, live_check_url: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if live_check_url:
            for name in LIVE_CHECK_FIELDS:
                self.fields[name].widget.attrs.update(
                    {
                        "hx-post": live_check_url,
                        "hx-trigger": "input changed delay:400ms",
                        "hx-target": "#request-candidates",
                        "hx-swap": "innerHTML",
                        "hx-include": "closest form",
                        "hx-sync": "closest form:replace",
                    }
                )

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        if "district" in data:
            data["district"] = data["district"].pk if data["district"] else None
        if data.get("branch_code") == "":
            data.pop("branch_code")
        return data


class ApproveForm(AccountForm):
    """The steward's corrections before approval, and their own duplicate override."""

    status = None  # type: ignore[assignment]  # a new account is active
    duplicate_justification = forms.CharField(
        label=gettext_lazy("Why is this not a duplicate?"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("Only to approve over a blocking duplicate; it is audited."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "approve-%s")
        super().__init__(*args, **kwargs)


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason (told to the requester)"),
        required=False,
        max_length=services.REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "reject-%s")
        super().__init__(*args, **kwargs)


class ResolveForm(forms.Form):
    customer_code = forms.CharField(
        label=gettext_lazy("Customer code of the existing account"),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    reason = forms.CharField(
        label=gettext_lazy("Note to the requester"),
        required=False,
        max_length=services.REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "resolve-%s")
        super().__init__(*args, **kwargs)


# --- helpers ------------------------------------------------------------------------------


def _visible_request(user: User, pk: uuid.UUID) -> AccountRequest:
    try:
        return get_visible(
            services.account_requests_visible(user).select_related(
                "requester", "business_unit", "district", "decided_by", "account"
            ),
            pk,
            what="account request",
        )
    except NotFound as exc:
        raise Http404(exc.detail) from exc


def _candidates_with_links(user: User, candidates: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Candidates as the templates show them: a link to the account when the user may see it."""
    ids = [c["id"] for c in candidates]
    visible = {
        str(pk)
        for pk in visibility.accounts_visible_to(user)
        .filter(pk__in=ids)
        .values_list("pk", flat=True)
    }
    return [{**c, "visible": str(c["id"]) in visible} for c in candidates]


def _request_initial(request: AccountRequest) -> dict[str, Any]:
    initial = {name: getattr(request, name) for name in services.REQUEST_FIELDS}
    initial["district"] = request.district_id
    initial["justification"] = request.justification
    return initial


def _form_page(
    request: HttpRequest,
    form: AccountRequestForm,
    *,
    title: str,
    back: str,
    candidates: list[dict[str, Any]],
    status: int,
) -> HttpResponse:
    return render(
        request,
        "web/requests/form.html",
        {
            "nav": "requests",
            "form": form,
            "title": title,
            "back": back,
            "candidates": _candidates_with_links(_user(request), candidates),
        },
        status=status,
    )


# --- the rep's side -----------------------------------------------------------------------


@login_required
def request_new(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not visibility.may_request_accounts(user):
        raise DjangoPermissionDenied
    form = AccountRequestForm(request.POST or None, live_check_url=reverse("web:request_check"))
    candidates: list[dict[str, Any]] = []
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.account_request_submit(actor=user, data=form.service_data())
        except DomainError as exc:
            add_domain_errors(form, exc)
            candidates = list(exc.extra.get("candidates", []))
        else:
            messages.success(
                request, _("Request sent: the CRM team will review it and let you know.")
            )
            return redirect("web:account_request_detail", pk=saved.pk)
    return _form_page(
        request,
        form,
        title=_("Request a new account"),
        back=reverse("web:request_list"),
        candidates=candidates,
        status=422 if request.method == "POST" else 200,
    )


@login_required
@require_POST
def request_check(request: HttpRequest) -> HttpResponse:
    """The duplicate check as the form is typed in (htmx): candidates with their reasons."""
    user = _user(request)
    form = AccountRequestForm(request.POST)
    form.is_valid()  # what parses is checked; the rest waits for the submit
    data = {
        name: form.cleaned_data.get(name, "")
        for name in matching.ACCOUNT_MATCH_FIELDS
        if name in form.fields
    }
    candidates = [c.as_dict() for c in matching.account_matches(user=user, data=data)]
    return render(
        request,
        "web/requests/partials/candidates.html",
        {"candidates": _candidates_with_links(user, candidates), "checked": True},
    )


@login_required
def request_list(request: HttpRequest) -> HttpResponse:
    """My requests (a manager: the team's), newest first."""
    user = _user(request)
    status = request.GET.get("status", "")
    status = status if status in AccountRequestStatus.values else ""
    try:
        page = services.account_request_list(
            user=user,
            status=status or None,
            cursor=request.GET.get("cursor") or None,
            limit=LIST_PAGE_SIZE,
        )
    except ValidationFailed:  # a stale or edited cursor: start again
        page = services.account_request_list(user=user, status=status or None, limit=LIST_PAGE_SIZE)
    prefetch_related_objects(page.items, "district", "requester")
    return render(
        request,
        "web/requests/list.html",
        {
            "nav": "requests",
            "page": page,
            "status": status,
            "statuses": AccountRequestStatus.choices,
            "may_review": visibility.may_review_account_requests(user),
            "may_request": visibility.may_request_accounts(user),
            "now": timezone.now(),
        },
    )


@login_required
def request_edit(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    user = _user(request)
    account_request = _visible_request(user, pk)
    if account_request.requester_id != user.pk:
        raise DjangoPermissionDenied  # seen (a manager, a steward), not theirs to change
    if not account_request.is_pending:
        return redirect("web:account_request_detail", pk=account_request.pk)
    form = AccountRequestForm(
        request.POST or None,
        initial=_request_initial(account_request),
        live_check_url=reverse("web:request_check"),
    )
    candidates: list[dict[str, Any]] = list(account_request.candidates)
    if request.method == "POST" and form.is_valid():
        try:
            services.account_request_update(
                actor=user, request=account_request, data=form.service_data()
            )
        except DomainError as exc:
            add_domain_errors(form, exc)
            candidates = list(exc.extra.get("candidates", candidates))
        else:
            messages.success(request, _("Request saved."))
            return redirect("web:account_request_detail", pk=account_request.pk)
    return _form_page(
        request,
        form,
        title=_("Change the request"),
        back=reverse("web:account_request_detail", args=[account_request.pk]),
        candidates=candidates,
        status=422 if request.method == "POST" else 200,
    )


@login_required
@require_POST
def request_withdraw(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    user = _user(request)
    account_request = _visible_request(user, pk)
    try:
        services.account_request_withdraw(actor=user, request=account_request)
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(exc.detail) from exc
    except DomainError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, _("Request withdrawn."))
    return redirect("web:account_request_detail", pk=account_request.pk)


# --- detail and the steward's decisions ---------------------------------------------------


def _render_detail(
    request: HttpRequest,
    account_request: AccountRequest,
    *,
    approve_form: ApproveForm | None = None,
    reject_form: RejectForm | None = None,
    resolve_form: ResolveForm | None = None,
    approve_candidates: list[dict[str, Any]] | None = None,
    status: int = 200,
) -> HttpResponse:
    user = _user(request)
    may_review = visibility.may_review_account_requests(user) and account_request.is_pending
    live: list[dict[str, Any]] = []
    if may_review:
        # What the duplicate check finds now (accounts may have been created since).
        live = approve_candidates or [
            c.as_dict()
            for c in matching.account_matches(
                user=user,
                data={f: getattr(account_request, f) for f in matching.ACCOUNT_MATCH_FIELDS},
            )
        ]
    account_visible = (
        account_request.account_id is not None
        and visibility.accounts_visible_to(user).filter(pk=account_request.account_id).exists()
    )
    context = {
        "nav": "requests",
        "req": account_request,
        "submitted_candidates": _candidates_with_links(user, list(account_request.candidates)),
        "live_candidates": _candidates_with_links(user, live),
        "may_review": may_review,
        "is_requester": account_request.requester_id == user.pk and account_request.is_pending,
        "account_visible": account_visible,
        "approve_form": approve_form or ApproveForm(initial=_request_initial(account_request)),
        "reject_form": reject_form or RejectForm(),
        "resolve_form": resolve_form or ResolveForm(),
        "age": services.account_request_age(account_request),
    }
    return render(request, "web/requests/detail.html", context, status=status)


def _may_decide(user: User) -> None:
    """The decision pages are the CRM team's (the services check again)."""
    if not visibility.may_review_account_requests(user):
        raise DjangoPermissionDenied


@login_required
def request_detail(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    return _render_detail(request, _visible_request(_user(request), pk))


@login_required
@require_POST
def request_approve(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    user = _user(request)
    account_request = _visible_request(user, pk)
    _may_decide(user)
    form = ApproveForm(request.POST)
    if form.is_valid():
        data = form.service_data()
        justification = data.pop("duplicate_justification", "")
        try:
            saved = services.account_request_approve(
                actor=user,
                request=account_request,
                data=data,
                duplicate_justification=justification,
            )
        except DomainError as exc:
            add_domain_errors(form, exc)
            candidates = exc.extra.get("candidates")
            return _render_detail(
                request,
                _visible_request(user, pk),
                approve_form=form,
                approve_candidates=list(candidates) if candidates else None,
                status=422,
            )
        assert saved.account is not None
        messages.success(
            request,
            _("Approved: account %(code)s created.") % {"code": saved.account.customer_code},
        )
        return redirect("web:account_request_detail", pk=saved.pk)
    return _render_detail(request, account_request, approve_form=form, status=422)


@login_required
@require_POST
def request_reject(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    user = _user(request)
    account_request = _visible_request(user, pk)
    _may_decide(user)
    form = RejectForm(request.POST)
    if form.is_valid():
        try:
            services.account_request_reject(
                actor=user, request=account_request, reason=form.cleaned_data["reason"]
            )
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            messages.success(request, _("Request rejected."))
            return redirect("web:account_request_detail", pk=account_request.pk)
    return _render_detail(request, account_request, reject_form=form, status=422)


@login_required
@require_POST
def request_resolve(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    user = _user(request)
    account_request = _visible_request(user, pk)
    _may_decide(user)
    form = ResolveForm(request.POST)
    if form.is_valid():
        try:
            saved = services.account_request_resolve(
                actor=user,
                request=account_request,
                customer_code=form.cleaned_data["customer_code"],
                reason=form.cleaned_data["reason"],
            )
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            assert saved.account is not None
            messages.success(
                request,
                _("Resolved to account %(code)s.") % {"code": saved.account.customer_code},
            )
            return redirect("web:account_request_detail", pk=saved.pk)
    return _render_detail(request, account_request, resolve_form=form, status=422)


@login_required
def request_queue(request: HttpRequest) -> HttpResponse:
    """The stewards' review queue: oldest first, with the age; by unit, district, status."""
    user = _user(request)
    if not visibility.may_review_account_requests(user):
        raise DjangoPermissionDenied
    status = request.GET.get("status", "") or AccountRequestStatus.PENDING
    status = status if status in AccountRequestStatus.values else AccountRequestStatus.PENDING
    unit = _uuid_or_none(request.GET.get("unit"))
    district = _uuid_or_none(request.GET.get("district"))
    filters = {"business_unit": unit, "district": district, "status": status}

    def queue(cursor: str | None) -> Page[AccountRequest]:
        return services.account_request_queue(
            user=user,
            business_unit=unit,
            district=district,
            status=status,
            cursor=cursor,
            limit=LIST_PAGE_SIZE,
        )

    try:
        page = queue(request.GET.get("cursor") or None)
    except ValidationFailed:  # a stale or edited cursor: start again
        page = queue(None)
    prefetch_related_objects(page.items, "district", "requester", "business_unit")
    context = {
        "nav": "requests",
        "page": page,
        "rows": page.items,
        "filters": filters,
        "units": business_units(),
        "districts": districts(),
        "statuses": AccountRequestStatus.choices,
    }
    partial = request.headers.get("HX-Request") == "true"
    template = "web/requests/partials/queue_rows.html" if partial else "web/requests/queue.html"
    return render(request, template, context)


# --- notifications ------------------------------------------------------------------------


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    try:
        page = notes.notification_list(
            user=user, cursor=request.GET.get("cursor") or None, limit=LIST_PAGE_SIZE
        )
    except ValidationFailed:
        page = notes.notification_list(user=user, limit=LIST_PAGE_SIZE)
    return render(
        request, "web/requests/notifications.html", {"nav": "notifications", "page": page}
    )


@login_required
@require_POST
def notifications_read_all(request: HttpRequest) -> HttpResponse:
    notes.notifications_mark_read(user=_user(request))
    return redirect("web:notifications")


@login_required
@require_POST
def notification_open(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    """Mark one notification read and go to what it is about."""
    user = _user(request)
    try:
        notification: Notification = get_visible(notes.notifications_of(user), pk)
    except NotFound as exc:
        raise Http404(exc.detail) from exc
    notes.notifications_mark_read(user=user, ids=[notification.pk])
    target = notification.url
    safe = url_has_allowed_host_and_scheme(target, allowed_hosts=None) and target.startswith("/")
    return redirect(target if safe else "web:notifications")
