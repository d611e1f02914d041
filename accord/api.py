"""The REST API at ``/api/v1/``: one router per app, problem+json errors, OpenAPI 3."""

from __future__ import annotations

from accord.activities.api import router as activities
from accord.audit.api import router as audit
from accord.core.api_support import (
    AccordNinjaAPI,
    ActiveSessionAuth,
    BearerTokenAuth,
    install_error_handlers,
)
from accord.customers.api import accounts, contacts
from accord.customers.api_requests import account_requests, me_notifications
from accord.dataquality.api import router as duplicates
from accord.insights.api import forecasts, quotas
from accord.insights.api_dashboards import router as dashboards
from accord.insights.api_reports import router as reports
from accord.integration.api import router as integration
from accord.org.api import router as org
from accord.sales.api import catalogue, leads, opportunities
from accord.territories.api import router as handover
from accord.territories.api_disputes import router as disputes
from accord.territories.api_ownership import router as ownership
from accord.territories.api_selling import router as selling

api = AccordNinjaAPI(
    title="Accord API",
    version="1.0.0",
    description=(
        "The REST API of Accord. Authenticate with a personal API token "
        "(`Authorization: Bearer …`, see `accord token-create`) or a browser session "
        "(CSRF token required on unsafe methods). Errors are `application/problem+json` "
        "with a stable `code`; lists use cursor pagination (`next_cursor`)."
    ),
    auth=[BearerTokenAuth(), ActiveSessionAuth()],
    urls_namespace="api",
)
install_error_handlers(api)

api.add_router("/", org)
api.add_router("/", handover)
api.add_router("/", ownership)
api.add_router("/accounts", accounts)
api.add_router("/contacts", contacts)
api.add_router("/account-requests", account_requests)
api.add_router("/duplicates", duplicates)
api.add_router("/me", me_notifications)
api.add_router("/leads", leads)
api.add_router("/opportunities", opportunities)
api.add_router("/", catalogue)
api.add_router("/activities", activities)
api.add_router("/audit", audit)
api.add_router("/integration", integration)
api.add_router("/forecasts", forecasts)
api.add_router("/quotas", quotas)
api.add_router("/reports", reports)
api.add_router("/dashboards", dashboards)
api.add_router("/disputes", disputes)
api.add_router("/selling", selling)
