"""Which parts of the shell a user is shown. Navigation only: every page and service still
checks access itself (``accord.territories.visibility``, Django admin's staff check)."""

from __future__ import annotations

from typing import Any

from accord.org.models import Role

ADMIN_ROLES = frozenset({Role.ADMINISTRATOR, Role.CRM_OFFICER})


def shows_admin(user: Any) -> bool:
    """Administrators and CRM officers with a staff login see the administration link."""
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return False
    return bool(user.is_superuser or user.role in ADMIN_ROLES)
