"""Render a front-end page: the template mounts the React bundle with the page's props."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.urls import reverse


def render_page(request: HttpRequest, page: str, title: str, props: dict[str, Any] | None = None,
                status: int = 200) -> HttpResponse:
    user = request.user
    base = {
        "user": (
            {"username": user.get_username(), "is_staff": user.is_staff} if user.is_authenticated else None
        ),
        "csrf_token": get_token(request),
        "urls": {
            "logout": reverse("logout"),
            "api": "/api/",
            "flows": reverse("flows-page"),
            "runs": reverse("runs-page"),
            "docs": reverse("api-docs"),
        },
    }
    return render(
        request, "spa.html", {"page": page, "title": title, "props": {**base, **(props or {})}}, status=status
    )
