"""What a connector's configuration must hold, per kind (used by the admin and services)."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from accord.integration.models import ConnectorKind, EventType

if TYPE_CHECKING:
    from accord.integration.models import Connector

SECRET_SETTINGS = ("secret", "database_url")


def connector_errors(connector: Connector) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    known = {e.value for e in EventType}
    types = connector.event_types
    if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
        errors["event_types"] = ['A list of event types, e.g. ["opportunity.won"].']
    elif unknown := sorted(set(types) - known):
        errors["event_types"] = [
            f"Unknown event types: {', '.join(unknown)}. Known: {', '.join(sorted(known))}."
        ]
    mapping = connector.field_mapping
    if not isinstance(mapping, dict) or not all(isinstance(v, dict) for v in mapping.values()):
        errors["field_mapping"] = ["An object: event type → {target field: source}."]
    settings = connector.settings
    if not isinstance(settings, dict):
        errors["settings"] = ["An object of settings."]
        return errors
    problems: list[str] = []
    if connector.kind == ConnectorKind.WEBHOOK:
        url = settings.get("url")
        parts = urlsplit(url) if isinstance(url, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
            problems.append('"url" must be an http(s) URL.')
        if not isinstance(settings.get("secret"), str) or len(settings["secret"]) < 16:
            problems.append('"secret" must be a string of at least 16 characters.')
    elif connector.kind == ConnectorKind.SQL_LEDGER and not isinstance(
        settings.get("database_url"), str
    ):
        problems.append('"database_url" is required (e.g. mysql://user:pw@host/ledger).')
    for name in ("max_attempts", "retry_base_seconds", "retry_cap_seconds", "timeout_seconds"):
        value = settings.get(name)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int | float) or value <= 0
        ):
            problems.append(f'"{name}" must be a positive number.')
    if problems:
        errors["settings"] = problems
    return errors


def masked_settings(settings: Any) -> Any:
    """Settings as the audit trail and screens show them: secrets as a short fingerprint."""
    if not isinstance(settings, dict):
        return settings
    shown = dict(settings)
    for name in SECRET_SETTINGS:
        value = shown.get(name)
        if isinstance(value, str) and value:
            shown[name] = "sha256:" + hashlib.sha256(value.encode()).hexdigest()[:12]
    return shown
