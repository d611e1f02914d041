"""The integration console (administrators): per connector backlog, lag, failure rate and
state; the dead-letter list with replay; pause and resume. The same figures as
``accord integration-status`` and the integration API, from the same selectors."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _t
from django.views.decorators.http import require_POST

from accord.core.errors import DomainError
from accord.integration import services
from accord.integration.models import Connector, Delivery
from accord.integration.selectors import connector_health, dead_deliveries
from accord.org.models import User

DEAD_SHOWN = 100


def _admin(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    try:
        services.check_integration_admin(user)
    except DomainError as exc:
        raise Http404(exc.detail) from exc
    return user


@login_required
def console(request: HttpRequest) -> HttpResponse:
    _admin(request)
    dead = list(dead_deliveries()[: DEAD_SHOWN + 1])
    connectors = {c.name: c for c in Connector.objects.all()}
    context = {
        "nav": "integration",
        "health": [(h, connectors[h.name]) for h in connector_health()],
        "dead": dead[:DEAD_SHOWN],
        "more_dead": len(dead) > DEAD_SHOWN,
    }
    return render(request, "web/integration/console.html", context)


@login_required
@require_POST
def replay(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _admin(request)
    delivery = Delivery.objects.filter(pk=pk).first()
    if delivery is None:
        raise Http404("No such delivery.")
    try:
        services.delivery_replay(actor=actor, delivery=delivery)
    except DomainError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, _t("Delivery queued again."))
    return redirect("web:integration_console")


@login_required
@require_POST
def pause(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    actor = _admin(request)
    connector = Connector.objects.filter(pk=pk).first()
    if connector is None:
        raise Http404("No such connector.")
    paused = request.POST.get("paused") == "1"
    services.connector_set_paused(actor=actor, connector=connector, paused=paused)
    messages.success(request, _t("Connector paused.") if paused else _t("Connector resumed."))
    return redirect("web:integration_console")
