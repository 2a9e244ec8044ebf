"""One error shape for the whole API: ``{"errors": [{"path", "message"}], ...}``.

DRF's default shapes (``{"detail": ...}`` or ``{field: [messages]}``) are kept as they are for
clients that read them, and the ``errors`` list is added next to them, with JSON-pointer paths.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


def _flatten(detail: Any, path: str) -> list[dict[str, str]]:
    if isinstance(detail, dict):
        out: list[dict[str, str]] = []
        for key, value in detail.items():
            sub = path if key in ("non_field_errors", "detail") else f"{path}/{key}"
            out.extend(_flatten(value, sub))
        return out
    if isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            return [{"path": path, "message": str(item)} for item in detail]
        out = []
        for index, item in enumerate(detail):
            out.extend(_flatten(item, f"{path}/{index}"))
        return out
    return [{"path": path, "message": str(detail)}]


def exception_handler(exc, context):
    if isinstance(exc, OperationalError | InterfaceError):
        response = Response(
            {"errors": [{"path": "", "message": "The database is unavailable; try again in a moment."}]},
            status=503,
            headers={"Retry-After": "5"},
        )
        return response
    if isinstance(exc, RequestDataTooBig):  # Django's own body limit (form posts, request.body)
        from django.conf import settings

        message = f"the request body is larger than the limit of {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes"
        return Response({"errors": [{"path": "", "message": message}]}, status=413)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    if isinstance(data, dict) and "errors" in data:
        return response
    errors = _flatten(data, "")
    if isinstance(data, dict):
        response.data = {**data, "errors": errors}
    else:
        response.data = {"detail": data, "errors": errors}
    return response
