"""Routes of the flows and scripts API (mounted under /api/).

Paths contain slashes (``/api/flows/f/folder/name``), so the router's lookup is a regex and
sub-resource routes (``.../versions``, ``.../diff``, ``.../share``) are tried before the detail
route. Reserved words never match as a path segment, so ``.../runs`` (the run API, routed by
``runs.api_urls``) never reaches these views.
"""

from rest_framework.routers import DynamicRoute, Route, SimpleRouter

from editor.api import FlowViewSet, ScriptViewSet


class PathRouter(SimpleRouter):
    routes = [
        Route(
            url=r"^{prefix}/$",
            mapping={"get": "list", "post": "create"},
            name="{basename}-list",
            detail=False,
            initkwargs={"suffix": "List"},
        ),
        DynamicRoute(url=r"^{prefix}/{url_path}$", name="{basename}-{url_name}", detail=False, initkwargs={}),
        DynamicRoute(
            url=r"^{prefix}/{lookup}/{url_path}$", name="{basename}-{url_name}", detail=True, initkwargs={}
        ),
        Route(
            url=r"^{prefix}/{lookup}$",
            mapping={"get": "retrieve", "put": "update", "patch": "partial_update", "delete": "destroy"},
            name="{basename}-detail",
            detail=True,
            initkwargs={"suffix": "Instance"},
        ),
    ]


router = PathRouter()
router.register("flows", FlowViewSet, basename="flow")
router.register("scripts", ScriptViewSet, basename="script")

urlpatterns = router.urls
