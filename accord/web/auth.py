"""Signing in and out: the throttle and the security log around Django's own views."""

from __future__ import annotations

from typing import Any

from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LogoutView
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from django.views import defaults

from accord.audit.models import SecurityEventKind
from accord.audit.security import login_throttled, security_event, throttle_policy
from accord.core.middleware import client_ip


class ThrottledAuthenticationForm(AuthenticationForm):
    """Django's sign-in form, refusing names and addresses with too many recent failures.

    A throttled attempt is refused before the password is checked, so guessing on goes
    nowhere even with the right password; the refusal says when to try again.
    """

    error_messages = {
        **AuthenticationForm.error_messages,
        "throttled": _(
            "Too many failed sign-ins. Wait %(minutes)d minutes and try again, or ask an "
            "administrator to reset your password."
        ),
    }

    def clean(self) -> dict[str, Any]:
        username = str(self.cleaned_data.get("username") or "")
        ip = client_ip(self.request) if self.request is not None else ""
        if username and login_throttled(username=username, ip=ip):
            security_event(
                SecurityEventKind.LOGIN_THROTTLED, request=self.request, username=username
            )
            minutes = max(1, int(throttle_policy().window.total_seconds() // 60))
            raise ValidationError(
                self.error_messages["throttled"], code="throttled", params={"minutes": minutes}
            )
        try:
            cleaned = super().clean()
        except ValidationError as error:
            if username:
                security_event(
                    SecurityEventKind.LOGIN_FAILED,
                    request=self.request,
                    username=username,
                    reason=getattr(error, "code", "") or "invalid_login",
                )
            raise
        security_event(SecurityEventKind.LOGIN, request=self.request, actor=self.get_user())
        return cleaned


class ThrottledAdminAuthenticationForm(ThrottledAuthenticationForm, AdminAuthenticationForm):
    """The admin site's sign-in, under the same throttle and log."""


class SignOutView(LogoutView):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated:
            security_event(SecurityEventKind.LOGOUT, request=request, actor=request.user)
        return super().post(request, *args, **kwargs)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's 403 page, after writing the refusal to the security log."""
    security_event(
        SecurityEventKind.ACCESS_DENIED,
        request=request,
        method=request.method,
        path=request.path,
    )
    return defaults.permission_denied(request, exception)
