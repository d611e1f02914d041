"""The shell: home, global search. Record pages live in ``accounts.py``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.db.models import prefetch_related_objects
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from accord.activities.selectors import activities_due_for, records_owned_changed_since
from accord.audit.models import AuditEvent
from accord.audit.selectors import audit_events_on_records
from accord.core.errors import ValidationFailed
from accord.core.pagination import Page
from accord.customers.selectors import (
    account_list,
    account_search_code,
    contact_list,
    looks_like_customer_code,
)
from accord.org.models import User
from accord.sales.selectors import lead_list, open_opportunities_by_stage, opportunity_list
from accord.web.auth import ThrottledAuthenticationForm

SEARCH_SECTION_SIZE = 10
SEARCH_MIN_LENGTH = 2


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


MY_DAY_LIMIT = 30


class SignInView(LoginView):
    """Django's sign-in; a browser that never chose a language gets the user's own."""

    template_name = "web/login.html"
    redirect_authenticated_user = True
    authentication_form = ThrottledAuthenticationForm

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        response = super().form_valid(form)
        language = getattr(form.get_user(), "language", "")
        chosen = settings.LANGUAGE_COOKIE_NAME in self.request.COOKIES
        if not chosen and language in dict(settings.LANGUAGES):
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                language,
                max_age=settings.LANGUAGE_COOKIE_AGE,
                samesite=settings.LANGUAGE_COOKIE_SAMESITE,
                secure=settings.LANGUAGE_COOKIE_SECURE,
                httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
            )
        return response


RECENT_CHANGES_PERIOD = dt.timedelta(days=7)
RECENT_CHANGES_LIMIT = 15
# Where each kind of record a person owns opens (its form; accounts open their 360 page).
RECORD_PAGES = {
    "sales.lead": "web:lead_edit",
    "sales.opportunity": "web:opportunity_edit",
    "activities.activity": "web:activity_edit",
}


@dataclass(frozen=True)
class RecentChange:
    event: AuditEvent
    url: str

    @property
    def fields(self) -> list[str]:
        return sorted(self.event.changes) if isinstance(self.event.changes, dict) else []


def _recent_changes(user: User, *, since: dt.datetime) -> list[RecentChange]:
    """Audit events on the records ``user`` owns, newest first: a fixed number of queries
    (one per kind of record, one for the events), whatever the rows."""
    owned = records_owned_changed_since(user=user, since=since)
    events = audit_events_on_records(records=owned, since=since, limit=RECENT_CHANGES_LIMIT)
    return [
        RecentChange(event, reverse(RECORD_PAGES[event.record_type], args=[event.record_id]))
        for event in events
        if event.record_type in RECORD_PAGES
    ]


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """My day: my open activities due today or overdue, my open opportunities by stage."""
    user = _user(request)
    now = timezone.localtime()
    end_of_today = (now + dt.timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    due = activities_due_for(user=user, until=end_of_today, limit=MY_DAY_LIMIT)
    start_of_today = end_of_today - dt.timedelta(days=1)
    context = {
        "nav": "home",
        "due_today": [a for a in due if a.occurred_at >= start_of_today],
        "overdue": [a for a in due if a.occurred_at < start_of_today],
        "pipeline": open_opportunities_by_stage(user=user),
        "today": now.date(),
        "recent_changes": _recent_changes(user, since=now - RECENT_CHANGES_PERIOD),
    }
    return render(request, "web/home.html", context)


@login_required
def search(request: HttpRequest) -> HttpResponse:
    """Accounts, contacts, leads and opportunities matching a fragment, through the same
    selectors (and so the same visibility) as their lists and the API."""
    user = _user(request)
    query = request.GET.get("q", "").strip()
    sections: list[tuple[str, Page[Any]]] = []
    error = ""
    if looks_like_customer_code(query):
        try:
            account_search_code(query)
        except ValidationFailed as exc:
            error = exc.detail  # never shown as another customer's results
    if len(query) >= SEARCH_MIN_LENGTH and not error:
        size = SEARCH_SECTION_SIZE
        contacts = contact_list(user=user, search=query, limit=size)
        opportunities = opportunity_list(user=user, search=query, ordering="name", limit=size)
        prefetch_related_objects(contacts.items, "account")
        prefetch_related_objects(opportunities.items, "account", "stage")
        sections = [
            ("accounts", account_list(user=user, search=query, limit=size)),
            ("contacts", contacts),
            ("leads", lead_list(user=user, search=query, ordering="company_name", limit=size)),
            ("opportunities", opportunities),
        ]
    return render(
        request,
        "web/search.html",
        {
            "nav": "search",
            "query": query,
            "too_short": 0 < len(query) < SEARCH_MIN_LENGTH,
            "error": error,
            "sections": sections,
            "min_length": SEARCH_MIN_LENGTH,
        },
    )
