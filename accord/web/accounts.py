"""Accounts: the list (search, filters, keyset pages, CSV export), the 360 page, and the
forms for accounts, their contacts and opportunities, and the quick visit/call log.

Views parse input, call one selector or service and render; the rules are in the services.
"""

from __future__ import annotations

import csv
import uuid
from collections.abc import Callable, Iterator
from typing import Any, Literal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Model, Prefetch, prefetch_related_objects
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accord.activities.selectors import record_timeline
from accord.activities.services import activity_create
from accord.audit.models import SecurityEventKind
from accord.audit.security import security_event
from accord.core.errors import DomainError, NotFound, ValidationFailed
from accord.core.pagination import MAX_LIMIT, Page
from accord.core.selectors import get_visible
from accord.customers.models import Account, AccountStatus
from accord.customers.selectors import (
    account_list,
    account_search_code,
    contact_list,
    looks_like_customer_code,
)
from accord.customers.services import (
    account_create,
    account_update,
    contact_create,
    contact_update,
)
from accord.integration.invoices import account_invoice_summary, account_invoices
from accord.integration.selectors import record_sync_status, sync_status_for_records
from accord.org.models import BusinessUnit
from accord.org.selectors import districts
from accord.sales.models import Opportunity
from accord.sales.selectors import opportunity_list
from accord.sales.services import opportunity_create, opportunity_update
from accord.territories import visibility
from accord.territories.disputes import disputes_of_account
from accord.territories.models import AccountOwner
from accord.territories.selectors import account_owners, account_team
from accord.web.forms import (
    AccountForm,
    ContactForm,
    OpportunityForm,
    QuickLogForm,
    add_domain_errors,
)
from accord.web.lists import SCOPES
from accord.web.views import _user

LIST_PAGE_SIZE = 50
# The owners shown on each row of the account list (two queries, whatever the page size).
OWNERS_PREFETCH = Prefetch(
    "owners", queryset=AccountOwner.objects.select_related("owner", "business_unit")
)
RELATED_LIMIT = 20
TIMELINE_LIMIT = 30
COVERING_REPS_SHOWN = 10


def _uuid_or_none(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


ACCOUNT_SORTS = {
    "legal_name": gettext_lazy("Name"),
    "-updated_at": gettext_lazy("Recently changed"),
    "-created_at": gettext_lazy("Newest"),
}


def _scope_or_none(value: str | None) -> Literal["mine", "team"] | None:
    """Mine or my team (accounts those people own or work on); else all I see."""
    return "mine" if value == "mine" else "team" if value == "team" else None


def _account_filters(request: HttpRequest) -> dict[str, Any]:
    status = request.GET.get("status", "")
    sort = request.GET.get("sort", "")
    return {
        "search": request.GET.get("q", "").strip() or None,
        "district": _uuid_or_none(request.GET.get("district")),
        "status": status if status in AccountStatus.values else None,
        "ordering": sort if sort in ACCOUNT_SORTS else "legal_name",
        "scope": _scope_or_none(request.GET.get("scope")),
        "owner": _uuid_or_none(request.GET.get("owner")),
        "business_unit": _uuid_or_none(request.GET.get("unit")),
    }


# --- list and export ----------------------------------------------------------------------


@login_required
def account_list_view(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    filters = _account_filters(request)
    error = ""
    try:
        page = account_list(
            user=user, cursor=request.GET.get("cursor") or None, limit=LIST_PAGE_SIZE, **filters
        )
    except ValidationFailed as exc:
        error = exc.detail
        if exc.code == "invalid_customer_code":  # a mistyped code finds nobody
            page = Page(items=[], next_cursor=None)
        else:  # a stale or edited cursor: start again
            page = account_list(user=user, limit=LIST_PAGE_SIZE, **filters)
    prefetch_related_objects(page.items, "district", OWNERS_PREFETCH)
    context = {
        "nav": "accounts",
        "page": page,
        "owners": visibility.owners_visible_to(user).order_by(
            "first_name", "last_name", "username"
        ),
        "units": BusinessUnit.objects.filter(is_active=True).order_by("name"),
        "filters": filters,
        "query": filters["search"] or "",
        "districts": districts(),
        "statuses": AccountStatus.choices,
        "sorts": list(ACCOUNT_SORTS.items()),
        "scopes": SCOPES,
        "error": error,
        "may_create": visibility.may_create_accounts(user),
    }
    # htmx asks for the results alone as the search box is typed in.
    partial = (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-Target") == "account-results"
    )
    template = "web/partials/account_results.html" if partial else "web/account_list.html"
    return render(request, template, context)


class _Echo:
    def write(self, value: str) -> str:
        return value


@login_required
def account_export(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    """The current list (same filters, same visibility) as CSV, streamed page by page."""
    user = _user(request)
    filters = _account_filters(request)
    if filters.get("search") and looks_like_customer_code(filters["search"]):
        try:
            account_search_code(filters["search"])
        except ValidationFailed as exc:
            return HttpResponse(exc.detail, status=422, content_type="text/plain; charset=utf-8")
    writer = csv.writer(_Echo())

    def rows() -> Iterator[str]:
        yield "\ufeff"  # so that spreadsheet programs read the Thai names as UTF-8
        yield writer.writerow(
            ["customer_code", "legal_name", "name_th", "name_en", "tax_id", "branch_code",
             "district", "status", "phone", "email", "province", "owners"]
        )  # fmt: skip
        cursor: str | None = None
        while True:
            page = account_list(user=user, cursor=cursor, limit=MAX_LIMIT, **filters)
            prefetch_related_objects(page.items, "district", OWNERS_PREFETCH)
            for a in page.items:
                owners = "; ".join(
                    f"{o.business_unit.code}: {o.owner.username}" for o in a.owners.all()
                )
                yield writer.writerow(
                    [a.customer_code, a.legal_name, a.name_th, a.name_en, a.tax_id,
                     a.branch_code, a.district.code if a.district else "", a.status,
                     a.phone, a.email, a.province, owners]
                )  # fmt: skip
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    security_event(
        SecurityEventKind.EXPORT,
        request=request,
        actor=user,
        what="accounts",
        filters={k: str(v) for k, v in filters.items() if v not in (None, "")},
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="accounts-{stamp}.csv"'
    return response


# --- the 360 page -------------------------------------------------------------------------


def _visible_account(request: HttpRequest, pk: uuid.UUID) -> Account:
    try:
        return get_visible(
            visibility.accounts_visible_to(_user(request)).select_related("district__region"),
            pk,
            what="account",
        )
    except NotFound as exc:
        raise Http404(exc.detail) from exc


INVOICES_SHOWN = 5
DISPUTES_SHOWN = 10


def _render_360(
    request: HttpRequest,
    account: Account,
    *,
    log_form: QuickLogForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = _user(request)
    contacts = contact_list(user=user, account=account.pk, limit=RELATED_LIMIT)
    opportunities = opportunity_list(user=user, account=account.pk, limit=RELATED_LIMIT)
    prefetch_related_objects(opportunities.items, "stage", "owner")
    timeline = record_timeline(
        user=user, record=account, cursor=request.GET.get("cursor") or None, limit=TIMELINE_LIMIT
    )
    prefetch_related_objects(
        [e.activity for e in timeline.items if e.activity is not None], "performed_by", "contact"
    )
    context = {
        "nav": "accounts",
        "account": account,
        "contacts": contacts,
        "opportunities": opportunities,
        "timeline": timeline,
        "log_form": log_form or QuickLogForm(),
        "may_edit": visibility.may_edit_account(user, account),
        "may_sell": visibility.may_create_selling_records(user),
        "owners": list(account_owners(account)),
        "team": list(account_team(account)),
        "disputes": list(disputes_of_account(user, account)[:DISPUTES_SHOWN]),
        "covering_reps": list(
            visibility.people_covering_district(account.district_id)[:COVERING_REPS_SHOWN]
        ),
        "invoice_summary": account_invoice_summary(account),
        "invoices": account_invoices(account, limit=INVOICES_SHOWN),
        "sync_status": record_sync_status(account),
        "opportunity_sync": {
            record_id: states
            for record_id, states in sync_status_for_records(
                "sales.opportunity", [str(o.pk) for o in opportunities.items]
            ).items()
            if states
        },
    }
    return render(request, "web/account_detail.html", context, status=status)


@login_required
def account_detail(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    try:
        return _render_360(request, _visible_account(request, pk))
    except ValidationFailed as exc:  # a bad timeline cursor
        raise Http404(exc.detail) from exc


@login_required
@require_POST
def account_quick_log(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    account = _visible_account(request, pk)
    form = QuickLogForm(request.POST)
    if form.is_valid():
        try:
            activity = activity_create(
                actor=_user(request), data={**form.service_data(), "account": account.pk}
            )
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            messages.success(
                request,
                _("%(kind)s logged: %(subject)s")
                % {"kind": activity.get_kind_display(), "subject": activity.subject},
            )
            return redirect("web:account_detail", pk=account.pk)
    return _render_360(request, account, log_form=form, status=422)


# --- forms --------------------------------------------------------------------------------


def _form_page(
    request: HttpRequest,
    form: Any,
    *,
    title: str,
    back: str,
    account: Account | None,
    status: int,
    notice: str = "",
    template: str = "web/record_form.html",
    extra: dict[str, Any] | None = None,
) -> HttpResponse:
    context = {
        "form": form,
        "title": title,
        "back": back,
        "account": account,
        "nav": "accounts",
        "notice": notice,
        "candidates": getattr(form, "duplicate_candidates", []),
        "link_candidates": isinstance(form, AccountForm),
        **(extra or {}),
    }
    return render(request, template, context, status=status)


def _save_form[M: Model](
    request: HttpRequest,
    form: Any,
    *,
    save: Callable[[dict[str, Any]], M],
    done: Callable[[M], str],
    title: str,
    back: str,
    account: Account | None,
    notice: str = "",
    success_url: Callable[[M], str] | None = None,
    template: str = "web/record_form.html",
    extra: dict[str, Any] | None = None,
) -> HttpResponse:
    """On a valid POST, hand the form's data to ``save`` (a service call). Its field errors
    go back onto the form, with what the user typed, and nothing is saved; success returns
    to ``success_url(saved)`` if given, else to the account's 360 page."""
    if request.method == "POST" and form.is_valid():
        try:
            saved = save(form.service_data())
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            messages.success(request, done(saved))
            if success_url is not None:
                return redirect(success_url(saved))
            return redirect("web:account_detail", pk=getattr(saved, "account_id", saved.pk))
    status = 422 if request.method == "POST" else 200
    return _form_page(
        request,
        form,
        title=title,
        back=back,
        account=account,
        status=status,
        notice=notice,
        template=template,
        extra=extra,
    )


@login_required
def account_new(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if request.method == "GET" and not visibility.may_create_accounts(user):
        return redirect("web:request_new")  # reps request accounts; the CRM team creates them
    notice = (
        ""
        if visibility.may_create_accounts(user)
        else _("Accounts are created by the CRM team; request a new account instead.")
    )
    return _save_form(
        request,
        AccountForm(request.POST or None),
        save=lambda data: account_create(actor=user, data=data),
        done=lambda account: _("Account %(code)s created.") % {"code": account.customer_code},
        title=_("New account"),
        back="/accounts/",
        account=None,
        notice=notice,
    )


def _account_initial(account: Account) -> dict[str, Any]:
    return {
        name: getattr(account, name, "") for name in AccountForm.base_fields if name != "district"
    } | {"district": account.district_id}


@login_required
def account_edit(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    user = _user(request)
    account = _visible_account(request, pk)
    steward = visibility.may_create_accounts(user)
    return _save_form(
        request,
        AccountForm(request.POST or None, initial=_account_initial(account), steward=steward),
        save=lambda data: account_update(actor=user, account=account, data=data),
        done=lambda _saved: _("Account saved."),
        title=_("Edit account"),
        back=f"/accounts/{account.pk}/",
        account=account,
    )


@login_required
def contact_new(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    user = _user(request)
    account = _visible_account(request, pk)
    return _save_form(
        request,
        ContactForm(request.POST or None),
        save=lambda data: contact_create(actor=user, data={**data, "account": account.pk}),
        done=lambda _saved: _("Contact added."),
        title=_("New contact"),
        back=f"/accounts/{account.pk}/",
        account=account,
    )


@login_required
def contact_edit(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    user = _user(request)
    try:
        contact = get_visible(
            visibility.contacts_visible_to(user).select_related("account"), pk, what="contact"
        )
    except NotFound as exc:
        raise Http404(exc.detail) from exc
    initial = {name: getattr(contact, name, "") for name in ContactForm.base_fields}
    return _save_form(
        request,
        ContactForm(request.POST or None, initial=initial),
        save=lambda data: contact_update(actor=user, contact=contact, data=data),
        done=lambda _saved: _("Contact saved."),
        title=_("Edit contact"),
        back=f"/accounts/{contact.account_id}/",
        account=contact.account,
    )


@login_required
def opportunity_new(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    user = _user(request)
    account = _visible_account(request, pk)
    return _save_form(
        request,
        OpportunityForm(request.POST or None),
        save=lambda data: opportunity_create(actor=user, data={**data, "account": account.pk}),
        done=lambda _saved: _("Opportunity created."),
        title=_("New opportunity"),
        back=f"/accounts/{account.pk}/",
        account=account,
    )


@login_required
def opportunity_edit(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    user = _user(request)
    try:
        opp: Opportunity = get_visible(
            visibility.opportunities_visible_to(user).select_related("account"),
            pk,
            what="opportunity",
        )
    except NotFound as exc:
        raise Http404(exc.detail) from exc
    initial = {name: getattr(opp, name) for name in OpportunityForm.base_fields if name != "stage"}
    initial["stage"] = opp.stage_id
    return _save_form(
        request,
        OpportunityForm(request.POST or None, initial=initial),
        save=lambda data: opportunity_update(actor=user, opportunity=opp, data=data),
        done=lambda _saved: _("Opportunity saved."),
        title=_("Edit opportunity"),
        back=f"/accounts/{opp.account_id}/",
        account=opp.account,
    )
