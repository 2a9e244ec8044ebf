"""Site-wide request guards."""

from __future__ import annotations

import logging

from django.contrib.auth.middleware import LoginRequiredMiddleware
from django.db import InterfaceError, OperationalError
from django.http import JsonResponse
from django.template.response import SimpleTemplateResponse

log = logging.getLogger(__name__)


class LoginRequiredForPagesMiddleware(LoginRequiredMiddleware):
    """Pages need a login; /api/ answers for itself.

    DRF authenticates tokens inside the view, so a redirect here would break token clients:
    the API returns 401/403 JSON instead. Public views opt out with ``login_not_required``.
    """

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path.startswith("/api/"):
            return None
        try:  # loads the session's user: the first query of a page, before any view can catch it
            return super().process_view(request, view_func, view_args, view_kwargs)
        except (OperationalError, InterfaceError) as exc:
            return database_unavailable(request, exc)


class DatabaseUnavailableMiddleware:
    """Turn a lost database into a clear 503 instead of a 500 page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        return database_unavailable(request, exception)


def database_unavailable(request, exception):
    """503: JSON for the API (and JSON clients), the 503 page for browsers."""
    if "locked" in str(exception):
        message = "The database is busy; try again in a moment."
    else:
        message = "The database is unavailable; try again in a moment."
    log.warning("database unavailable on %s: %s", request.path, exception)
    if request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", ""):
        response = JsonResponse({"errors": [{"path": "", "message": message}]}, status=503)
    else:
        response = SimpleTemplateResponse("503.html", {"message": message}, status=503)
        response.render()
    response["Retry-After"] = "5"
    return response


class ApiErrorsAsJsonMiddleware:
    """Errors Django answers itself under /api/ (no route: 404; 500) get the API's JSON error shape
    instead of an HTML page, so every API client reads a message."""

    MESSAGES = {404: "There is no API endpoint at this URL.", 500: "Internal server error."}

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        message = self.MESSAGES.get(response.status_code)
        if (message and request.path.startswith("/api/")
                and response.get("Content-Type", "").startswith("text/html")):
            return JsonResponse({"errors": [{"path": "", "message": message}]}, status=response.status_code)
        return response
