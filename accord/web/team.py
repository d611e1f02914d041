"""The manager's team page and a leaver's handover (preview, adjust one by one, apply)."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _t

from accord.core.errors import DomainError
from accord.org.models import User
from accord.territories import visibility
from accord.territories.handover import (
    HandoverPlan,
    handover_apply,
    handover_plan,
    may_hand_over,
    still_owned_by,
)


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _assignable(actor: User) -> list[User]:
    people = User.objects.filter(is_active=True).order_by("first_name", "last_name", "username")
    return [u for u in people if visibility.may_assign_to(actor, u)]


@login_required
def team(request: HttpRequest) -> HttpResponse:
    """The people whose work the viewer may hand over, with their open work."""
    actor = _user(request)
    members = [
        (member, still_owned_by(member))
        for member in User.objects.exclude(pk=actor.pk).order_by("first_name", "username")
        if may_hand_over(actor, member)
    ]
    if not members and not actor.is_superuser:
        raise Http404("You have no team to manage.")
    return render(request, "web/team/team.html", {"nav": "team", "members": members})


@login_required
def handover(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    actor = _user(request)
    leaving = User.objects.filter(pk=pk).first()
    if leaving is None or not may_hand_over(actor, leaving):
        raise Http404("No such member of your team.")
    source = request.POST if request.method == "POST" else request.GET
    rule = source.get("rule", "by_district")
    to = source.get("to") or None
    overrides = {
        key.removeprefix("owner-"): value
        for key, value in source.items()
        if key.startswith("owner-") and value
    }
    plan: HandoverPlan | None = None
    errors: dict[str, list[str]] = {}
    detail = ""
    params: dict[str, Any] = {"rule": rule, "to": to, "overrides": overrides}
    try:
        if request.method == "POST" and "apply" in request.POST:
            done = handover_apply(
                actor=actor, leaving=leaving, deactivate="deactivate" in request.POST, **params
            )
            messages.success(
                request,
                _t("%(n)d open records handed over.") % {"n": len(done.items)},
            )
            return redirect("web:team")
        if "rule" in source:
            plan = handover_plan(actor=actor, leaving=leaving, **params)
    except DomainError as exc:
        detail, errors = exc.detail, exc.errors
    context = {
        "nav": "team",
        "leaving": leaving,
        "plan": plan,
        "rule": rule,
        "to": to or "",
        "people": [p for p in _assignable(actor) if p.pk != leaving.pk],
        "error": detail,
        "errors": errors,
        "open_work": still_owned_by(leaving),
    }
    status = 422 if detail else 200
    return render(request, "web/team/handover.html", context, status=status)
