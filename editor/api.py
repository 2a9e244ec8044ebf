"""REST API for flows and scripts (DRF viewsets; routes in ``editor.api_urls``).

Flows are addressed by path (``/api/flows/f/folder/name``). A flow's GET returns the saved
OpenFlow object exactly as it was PUT, plus ``"path"``; metadata travels in headers
(``ETag``/``X-Flow-Version``, ``Last-Modified``) and in list items. Every save validates
with ``validate_flow`` and adds a ``FlowVersion`` in the same transaction (``editor.flowstore``).

Visibility: owners, users and groups the object is shared with, and staff. Anyone else gets a
404 (never 403), so paths do not leak.
"""

from __future__ import annotations

import codecs
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import OuterRef, Q, Subquery
from django.shortcuts import get_object_or_404
from django.utils.http import http_date
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, ParseError, PermissionDenied
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from editor import flowstore
from editor.flowstore import FlowRejected, path_errors, split_path
from editor.models import Flow, FlowVersion, Script
from editor.openflow import FlowError, runnability_errors
from editor.serializers import (
    ApiErrorsSerializer,
    FlowDiffSerializer,
    FlowListItemSerializer,
    FlowVersionListSerializer,
    OpenFlowPatchSerializer,
    OpenFlowSerializer,
    ScriptSerializer,
    SharedWithSerializer,
    SharingSerializer,
    ValidateRequestSerializer,
    ValidationResultSerializer,
    sharing_of,
)
from openflow_site.storable import loads_strict, nul_message, nul_path

#: Path segment pattern in URLs. Reserved words (sub-resources) never match as a segment after
#: the folder, so ``/api/flows/f/x/name/versions`` and ``.../runs`` route to their actions.
_RESERVED = "|".join(sorted(flowstore.RESERVED_NAMES))
PATH_URL_REGEX = rf"(?:u|f|g)/[A-Za-z0-9_-]+(?:/(?!(?:{_RESERVED})(?:/|$))[A-Za-z0-9_.-]+)+"


# --------------------------------------------------------------------------------------------
# request parsing and errors


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "payload_too_large"


class Invalid(APIException):
    """400 (or another status) with ``{"errors": [{"path", "message"}]}``."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "invalid"

    def __init__(self, errors: list[FlowError], status_code: int = 400) -> None:
        super().__init__({"errors": [e.to_dict() for e in errors]})
        self.status_code = status_code


class PreconditionFailed(APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_code = "precondition_failed"


class LimitedJSONParser(JSONParser):
    """JSON bodies up to ``settings.MAX_PAYLOAD_BYTES``: bigger ones get 413 (DRF reads the
    stream itself, so Django's DATA_UPLOAD_MAX_MEMORY_SIZE does not apply); malformed or
    absurdly nested JSON gets 400, never 500."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.MAX_PAYLOAD_BYTES
        request = (parser_context or {}).get("request")
        length = request.META.get("CONTENT_LENGTH") if request is not None else None
        try:
            declared = int(length) if length else 0
        except ValueError:
            declared = 0
        too_big = f"the request body is larger than the limit of {limit} bytes"
        if declared > limit:
            raise PayloadTooLarge(too_big)
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise PayloadTooLarge(too_big)
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = codecs.decode(raw, encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise ParseError(f"JSON parse error - the body is not valid {encoding}: {exc}") from exc
        too_deep = f"JSON parse error - the document is nested more than {flowstore.MAX_JSON_DEPTH} levels deep"
        try:
            data = loads_strict(text)
        except RecursionError as exc:
            raise ParseError(too_deep) from exc
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
        if flowstore.json_depth(data) > flowstore.MAX_JSON_DEPTH:
            raise ParseError(too_deep)
        if "\\u0000" in text and (where := nul_path(data)) is not None:
            raise Invalid([FlowError(where, nul_message(where))])
        return data


class PathPagination(PageNumberPagination):
    """The site's page size (50) by default; ``?page_size=`` up to 500."""

    page_size_query_param = "page_size"
    max_page_size = 500


def _object_body(request) -> dict[str, Any]:
    data = request.data
    if not isinstance(data, dict):
        kind = "an array" if isinstance(data, list) else type(data).__name__
        raise Invalid([FlowError("", f"the body must be a JSON object (an OpenFlow), got {kind}")])
    return data


def _rejected(exc: FlowRejected) -> Invalid:
    return Invalid(exc.errors, exc.status)


# --------------------------------------------------------------------------------------------
# sharing (flows and scripts)


class SharingMixin:
    @extend_schema(
        request=SharingSerializer,
        responses={200: SharedWithSerializer, 400: ApiErrorsSerializer, 403: ApiErrorsSerializer},
        description="Replace the users and/or groups this object is shared with (keys not sent are "
        "kept). Only the owner and staff may change sharing. GET returns the current sharing.",
        methods=["POST"],
    )
    @extend_schema(responses={200: SharedWithSerializer}, methods=["GET"])
    @action(detail=True, methods=["get", "post"], url_path="share")
    def share(self, request, *args, **kwargs):
        obj = self.get_object()
        if request.method == "GET":
            return Response(sharing_of(obj))
        if not (request.user.is_staff or obj.owner_id == request.user.pk):
            raise PermissionDenied("only the owner or staff can change who this is shared with")
        serializer = SharingSerializer(data=_object_body(request))
        serializer.is_valid(raise_exception=True)
        if "users" in serializer.validated_data:
            obj.shared_with.set(serializer.validated_data["users"])
        if "groups" in serializer.validated_data:
            obj.shared_with_groups.set(serializer.validated_data["groups"])
        return Response(sharing_of(obj))


# --------------------------------------------------------------------------------------------
# flows

_FLOW_ERRORS = {400: ApiErrorsSerializer, 404: ApiErrorsSerializer, 413: ApiErrorsSerializer}
_VERSION_PARAM = OpenApiParameter("number", OpenApiTypes.INT, OpenApiParameter.PATH, description="version number")


@extend_schema_view(
    list=extend_schema(
        summary="List flows",
        parameters=[
            OpenApiParameter("path_prefix", str, description='only paths starting with this, e.g. "f/folder/"'),
            OpenApiParameter("search", str, description="case-insensitive match on summary and path"),
            OpenApiParameter("owner", str, description="owner's username"),
        ],
        responses=FlowListItemSerializer(many=True),
    ),
    create=extend_schema(
        summary="Create a flow",
        request=OpenFlowSerializer,
        responses={201: OpenFlowSerializer, 409: ApiErrorsSerializer, **_FLOW_ERRORS},
    ),
    retrieve=extend_schema(
        summary="Get a flow (the OpenFlow object as saved, plus path)",
        responses={200: OpenFlowSerializer, 404: ApiErrorsSerializer},
    ),
    update=extend_schema(
        summary="Replace a flow (new version)",
        request=OpenFlowSerializer,
        responses={200: OpenFlowSerializer, 412: ApiErrorsSerializer, **_FLOW_ERRORS},
    ),
    partial_update=extend_schema(
        summary="Replace some top-level keys of a flow (new version)",
        request=OpenFlowPatchSerializer,
        responses={200: OpenFlowSerializer, 412: ApiErrorsSerializer, **_FLOW_ERRORS},
    ),
    destroy=extend_schema(summary="Delete a flow and its versions", responses={204: None, 404: ApiErrorsSerializer}),
)
class FlowViewSet(SharingMixin, viewsets.GenericViewSet):
    lookup_field = "path"
    lookup_value_regex = PATH_URL_REGEX
    parser_classes = [LimitedJSONParser]
    pagination_class = PathPagination
    serializer_class = OpenFlowSerializer
    queryset = Flow.objects.none()  # for the schema generator; real queries: get_queryset

    def get_queryset(self):
        return Flow.objects.visible_to(self.request.user)

    def get_serializer_class(self):
        if self.action == "list":
            return FlowListItemSerializer
        return OpenFlowSerializer

    def _flow_response(self, flow: Flow, status_code: int = 200, **headers: str) -> Response:
        version = flowstore.latest_version_number(flow)
        response = Response(flow.as_openflow(), status=status_code)
        if version is not None:
            response["ETag"] = f'"{version}"'
            response["X-Flow-Version"] = str(version)
        response["Last-Modified"] = http_date(flow.updated_at.timestamp())
        for key, value in headers.items():
            response[key] = value
        return response

    def _check_if_match(self, request, flow: Flow) -> None:
        wanted = request.headers.get("If-Match")
        if not wanted or wanted.strip() == "*":
            return
        current = flowstore.latest_version_number(flow)
        tags = {t.strip().removeprefix("W/").strip('"') for t in wanted.split(",")}
        if str(current) not in tags:
            raise PreconditionFailed(
                f"the flow was changed since you loaded it (it is now version {current}); reload and retry"
            )

    # -- collection ----------------------------------------------------------------------------
    def list(self, request):
        latest = FlowVersion.objects.filter(flow=OuterRef("pk")).order_by("-number").values("number")[:1]
        qs = (
            self.get_queryset()
            .annotate(latest_version=Subquery(latest))
            .select_related("owner")
            .prefetch_related("shared_with", "shared_with_groups")
        )
        prefix = request.query_params.get("path_prefix")
        if prefix:
            qs = qs.filter(path__startswith=prefix)
        search = request.query_params.get("search")
        if search:
            qs = qs.filter(Q(summary__icontains=search) | Q(path__icontains=search))
        owner = request.query_params.get("owner")
        if owner:
            qs = qs.filter(owner__username=owner)
        page = self.paginate_queryset(qs.order_by("path"))
        return self.get_paginated_response(FlowListItemSerializer(page, many=True).data)

    def create(self, request):
        path, openflow = split_path(_object_body(request))
        owner = request.user
        if request.user.is_staff and isinstance(path, str) and path.startswith("u/"):
            # Staff saving into someone's folder: the flow belongs to that user.
            owner = get_user_model().objects.filter(username=path.split("/")[1]).first() or request.user
        try:
            flow = flowstore.create_flow(path, openflow, owner, path_user=request.user, created_by=request.user)
        except FlowRejected as exc:
            raise _rejected(exc) from exc
        return self._flow_response(flow, status.HTTP_201_CREATED, Location=f"/api/flows/{flow.path}")

    @extend_schema(
        summary="Validate an OpenFlow object without saving it",
        request=ValidateRequestSerializer,
        responses={200: ValidationResultSerializer, 400: ApiErrorsSerializer, 413: ApiErrorsSerializer},
        description='Body: {"flow": <OpenFlow>} or the OpenFlow object itself. 200 with '
        '{"errors": [...]} (empty when valid) and "warnings" (what would stop a run here).',
    )
    @action(detail=False, methods=["post"], url_path="validate")
    def validate(self, request):
        body = _object_body(request)
        if isinstance(body.get("flow"), dict) and "value" not in body:
            body = body["flow"]
        path, openflow = split_path(body)
        errors = (path_errors(path, None) if path is not None else []) + flowstore.validate_openflow(openflow)
        warnings = runnability_errors(openflow) + self._missing_references(openflow)
        return Response({"errors": [e.to_dict() for e in errors], "warnings": [w.to_dict() for w in warnings]})

    def _missing_references(self, openflow: dict[str, Any]) -> list[FlowError]:
        from editor.resolve import resolve_flow

        try:
            _, problems = resolve_flow(openflow, self.request.user)
        except Exception:  # noqa: BLE001 - warnings are best effort; the errors above are what count
            return []
        return [p for p in problems if not p.path.startswith("/_resolved") and "hub " not in p.message]

    # -- one flow --------------------------------------------------------------------------------
    def retrieve(self, request, path: str):
        return self._flow_response(self.get_object())

    def update(self, request, path: str):
        flow = self.get_object()
        body_path, openflow = split_path(_object_body(request))
        self._check_body_path(body_path, flow)
        self._check_if_match(request, flow)
        return self._save(flow, openflow)

    def partial_update(self, request, path: str):
        flow = self.get_object()
        body_path, changes = split_path(_object_body(request))
        self._check_body_path(body_path, flow)
        self._check_if_match(request, flow)
        return self._save(flow, {**flow.openflow, **changes})

    def destroy(self, request, path: str):
        self.get_object().delete()
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _check_body_path(self, body_path: Any, flow: Flow) -> None:
        if body_path is not None and body_path != flow.path:
            raise Invalid(
                [FlowError("/path", f"the body's path differs from the URL's '{flow.path}'; flows cannot be renamed")]
            )

    def _save(self, flow: Flow, openflow: dict[str, Any], message: str = "") -> Response:
        try:
            flowstore.update_flow(flow, openflow, self.request.user, message=message)
        except FlowRejected as exc:
            raise _rejected(exc) from exc
        return self._flow_response(flow)

    # -- versions ----------------------------------------------------------------------------------
    @extend_schema(summary="List a flow's versions, newest first", responses=FlowVersionListSerializer(many=True))
    @action(detail=True, methods=["get"], url_path="versions")
    def versions(self, request, path: str):
        flow = self.get_object()
        page = self.paginate_queryset(flow.versions.select_related("created_by").order_by("-number"))
        return self.get_paginated_response(FlowVersionListSerializer(page, many=True).data)

    def _version(self, flow: Flow, number: Any) -> FlowVersion:
        return get_object_or_404(flow.versions, number=int(number))

    @extend_schema(
        summary="One version: the OpenFlow object as saved then, plus path",
        parameters=[_VERSION_PARAM],
        responses={200: OpenFlowSerializer, 404: ApiErrorsSerializer},
    )
    @action(detail=True, methods=["get"], url_path=r"versions/(?P<number>[0-9]{1,9})")
    def version_detail(self, request, path: str, number: str):
        flow = self.get_object()
        version = self._version(flow, number)
        response = Response({**version.openflow, "path": flow.path})
        response["X-Flow-Version"] = str(version.number)
        return response

    @extend_schema(
        summary="Restore a version: saves it again as a new version",
        parameters=[_VERSION_PARAM],
        request=None,
        responses={201: FlowVersionListSerializer, 400: ApiErrorsSerializer, 404: ApiErrorsSerializer},
    )
    @action(detail=True, methods=["post"], url_path=r"versions/(?P<number>[0-9]{1,9})/restore")
    def restore(self, request, path: str, number: str):
        flow = self.get_object()
        old = self._version(flow, number)
        try:
            new = flowstore.update_flow(flow, old.openflow, request.user, message=f"restored version {old.number}")
        except FlowRejected as exc:
            raise _rejected(exc) from exc
        response = Response(FlowVersionListSerializer(new).data, status=status.HTTP_201_CREATED)
        response["X-Flow-Version"] = str(new.number)
        return response

    @extend_schema(
        summary="Diff two versions by module id",
        parameters=[
            OpenApiParameter("from", int, description="older version (default: the one before 'to')"),
            OpenApiParameter("to", int, description="newer version (default: the latest)"),
        ],
        responses={200: FlowDiffSerializer, 400: ApiErrorsSerializer, 404: ApiErrorsSerializer},
    )
    @action(detail=True, methods=["get"], url_path="diff")
    def diff(self, request, path: str):
        flow = self.get_object()
        latest = flowstore.latest_version_number(flow) or 0
        numbers = {}
        for key, default in (("to", latest), ("from", None)):
            raw = request.query_params.get(key)
            if raw in (None, ""):
                numbers[key] = default
                continue
            try:
                numbers[key] = int(raw)
            except ValueError:
                raise Invalid([FlowError(f"/{key}", f"'{key}' must be a version number, got {raw[:40]!r}")]) from None
        if numbers["from"] is None:
            numbers["from"] = max(numbers["to"] - 1, 1)
        old = self._version(flow, numbers["from"])
        new = self._version(flow, numbers["to"])
        body = {"path": flow.path, "from": old.number, "to": new.number}
        body.update(flowstore.diff_openflows(old.openflow, new.openflow).to_dict())
        return Response(body)


# --------------------------------------------------------------------------------------------
# scripts


@extend_schema_view(
    list=extend_schema(
        summary="List scripts",
        parameters=[
            OpenApiParameter("path_prefix", str, description='only paths starting with this, e.g. "f/folder/"'),
            OpenApiParameter("search", str, description="case-insensitive match on summary and path"),
            OpenApiParameter("language", str, enum=[c for c, _ in Script.LANGUAGES]),
        ],
    ),
    create=extend_schema(summary="Create a script (schema inferred from main's signature when not given)"),
    retrieve=extend_schema(summary="Get a script"),
    update=extend_schema(summary="Replace a script"),
    partial_update=extend_schema(summary="Change some fields of a script"),
    destroy=extend_schema(summary="Delete a script", responses={204: None, 404: OpenApiResponse(ApiErrorsSerializer)}),
)
class ScriptViewSet(
    SharingMixin,
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    lookup_field = "path"
    lookup_value_regex = PATH_URL_REGEX
    parser_classes = [LimitedJSONParser]
    pagination_class = PathPagination
    serializer_class = ScriptSerializer
    queryset = Script.objects.none()

    def get_queryset(self):
        qs = (
            Script.objects.visible_to(self.request.user)
            .select_related("owner")
            .prefetch_related("shared_with", "shared_with_groups")
        )
        if self.action == "list":
            params = self.request.query_params
            if params.get("path_prefix"):
                qs = qs.filter(path__startswith=params["path_prefix"])
            if params.get("search"):
                qs = qs.filter(Q(summary__icontains=params["search"]) | Q(path__icontains=params["search"]))
            if params.get("language"):
                qs = qs.filter(language=params["language"])
            qs = qs.order_by("path")
        return qs

    def create(self, request, *args, **kwargs):
        _object_body(request)
        return super().create(request, *args, **kwargs)

    def update(self, request, *args, **kwargs):
        _object_body(request)
        return super().update(request, *args, **kwargs)

    def perform_create(self, serializer):
        serializer.save(owner=self.request.user)
