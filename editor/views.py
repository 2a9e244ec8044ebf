"""Editor pages: the flow list and the graph editor (rendered by the front-end bundle)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse

from editor.models import Flow
from openflow_site.spa import render_page


def flows_page(request: HttpRequest) -> HttpResponse:
    return render_page(request, "flows", "Flows")


def editor_page(request: HttpRequest, path: str | None = None) -> HttpResponse:
    if path is not None and not Flow.objects.visible_to(request.user).filter(path=path).exists():
        raise Http404("No such flow")
    return render_page(request, "editor", path or "New flow", {"path": path})
