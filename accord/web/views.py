"""The shell: home, global search. Record pages live in ``accounts.py``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.db.models import prefetch_related_objects
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from accord.activities.selectors import activities_due_for
from accord.core.pagination import Page
from accord.customers.selectors import account_list, contact_list
from accord.org.models import User
from accord.sales.selectors import lead_list, open_opportunities_by_stage, opportunity_list

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
    }
    return render(request, "web/home.html", context)


@login_required
def search(request: HttpRequest) -> HttpResponse:
    """Accounts, contacts, leads and opportunities matching a fragment, through the same
    selectors (and so the same visibility) as their lists and the API."""
    user = _user(request)
    query = request.GET.get("q", "").strip()
    sections: list[tuple[str, Page[Any]]] = []
    if len(query) >= SEARCH_MIN_LENGTH:
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
            "sections": sections,
            "min_length": SEARCH_MIN_LENGTH,
        },
    )
