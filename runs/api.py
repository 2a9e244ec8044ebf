"""The runs API (DESIGN.md "Public API"): start, list, inspect, cancel, restart, approve."""

from __future__ import annotations

import time
from typing import Any

import jsonschema
from django.db import transaction
from django.shortcuts import get_object_or_404
from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authentication import BaseAuthentication
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from editor.api import LimitedJSONParser
from editor.models import Flow
from openflow_site.storable import loads_strict, nul_message, nul_path
from runs import engine, signing
from runs.models import Run
from runs.orchestrator import apply_event
from runs.permissions import runs_visible_to
from runs.presenter import run_detail, run_summary


class InvalidRequest(Exception):
    def __init__(self, errors: list[dict[str, str]], status_code: int = 400):
        super().__init__(errors)
        self.errors, self.status_code = errors, status_code


def error_response(errors: list[dict[str, str]], code: int = 400) -> Response:
    return Response({"errors": errors}, status=code)


def _one_error(message: str, code: int, path: str = "") -> Response:
    return error_response([{"path": path, "message": message}], code)


def _syntax_checker():
    try:
        from runs.expressions import syntax_error
    except ImportError:  # pragma: no cover - the module ships with the app
        return None
    return syntax_error


def _validate_flow(openflow: Any) -> list[dict[str, str]]:
    from editor.openflow import validate_flow

    return [e.to_dict() for e in validate_flow(openflow, check_js=_syntax_checker())]


def _validate_args(schema: Any, args: Any) -> list[dict[str, str]]:
    from editor.openflow import validate_args

    return [e.to_dict() for e in validate_args(schema, args)]


def _resolve(openflow: dict, user) -> dict:
    from editor.resolve import resolve_flow

    snapshot, errors = resolve_flow(openflow, user)
    if errors:
        raise InvalidRequest([e.to_dict() if hasattr(e, "to_dict") else e for e in errors])
    return snapshot


def create_run(*, user, openflow: dict, args: Any, flow: Flow | None = None, restart: dict | None = None,
               restarted_from: Run | None = None) -> Run:
    """Store a queued run and start it once the row is committed."""
    from runs.tasks import start_run

    snapshot = _resolve({k: v for k, v in openflow.items() if k != "path"}, user)
    with transaction.atomic():
        run = Run.objects.create(
            flow=flow,
            flow_path=flow.path if flow else (restarted_from.flow_path if restarted_from else ""),
            flow_version=flow.versions.values_list("number", flat=True).first() if flow else None,
            snapshot=snapshot,
            args=args,
            created_by=user,
            restart=restart,
            restarted_from=restarted_from,
        )
        transaction.on_commit(lambda: start_run.apply_async((str(run.pk),)))
    return run


def _args_from(data: Any) -> Any:
    if not isinstance(data, dict):
        raise InvalidRequest([{"path": "", "message": "the request body must be a JSON object"}])
    args = data.get("args", {})
    if args is None:
        args = {}
    return args


RUN_FIELDS = {
    "id": serializers.UUIDField(), "flow_path": serializers.CharField(), "status": serializers.CharField(),
    "skipped": serializers.BooleanField(), "args": serializers.JSONField(), "result": serializers.JSONField(),
    "created_at": serializers.DateTimeField(), "started_at": serializers.DateTimeField(allow_null=True),
    "finished_at": serializers.DateTimeField(allow_null=True), "steps": serializers.JSONField(),
    "suspended": serializers.JSONField(allow_null=True), "flow": serializers.JSONField(),
}
#: JSON bodies are size- and depth-limited (413 / 400 with a message, never a RecursionError 500).
PARSERS = [LimitedJSONParser, FormParser, MultiPartParser]

RunSerializer = inline_serializer("Run", RUN_FIELDS)
ErrorsSerializer = inline_serializer("Errors", {"errors": serializers.ListField(child=serializers.DictField())})
ArgsSerializer = inline_serializer("RunArgs", {"args": serializers.JSONField(required=False)})
PreviewSerializer = inline_serializer("PreviewRun", {"flow": serializers.JSONField(), "args": serializers.JSONField(required=False)})


class FlowRunsView(APIView):
    """POST /api/flows/<path>/runs — run a saved flow."""
    parser_classes = PARSERS

    @extend_schema(request=ArgsSerializer, responses={201: RunSerializer, 400: ErrorsSerializer}, operation_id="flows_run")
    def post(self, request: Request, path: str) -> Response:
        from editor.models import Flow as FlowModel

        flow = get_object_or_404(FlowModel.objects.visible_to(request.user), path=path)
        try:
            args = _args_from(request.data)
            openflow = flow.as_openflow()
            errors = _validate_args(openflow.get("schema"), args)
            if errors:
                return error_response(errors)
            run = create_run(user=request.user, openflow=openflow, args=args, flow=flow)
        except InvalidRequest as exc:
            return error_response(exc.errors, exc.status_code)
        return Response(run_detail(run, request), status=status.HTTP_201_CREATED)


class RunListView(APIView):
    """GET /api/runs/ (history, newest first) and POST /api/runs/ (run an unsaved flow)."""
    parser_classes = PARSERS

    @extend_schema(
        parameters=[
            OpenApiParameter("flow", OpenApiTypes.STR), OpenApiParameter("status", OpenApiTypes.STR),
            OpenApiParameter("created_after", OpenApiTypes.DATETIME),
            OpenApiParameter("created_before", OpenApiTypes.DATETIME),
            OpenApiParameter("page", OpenApiTypes.INT),
        ],
        responses={200: inline_serializer("RunPage", {
            "count": serializers.IntegerField(), "next": serializers.CharField(allow_null=True),
            "previous": serializers.CharField(allow_null=True), "results": inline_serializer("RunItem", RUN_FIELDS, many=True)})},
        operation_id="runs_list",
    )
    def get(self, request: Request) -> Response:
        from rest_framework.pagination import PageNumberPagination

        runs = runs_visible_to(request.user).select_related("created_by").order_by("-created_at")
        params = request.query_params
        if params.get("flow"):
            runs = runs.filter(flow_path=params["flow"])
        if params.get("status"):
            wanted = [s for s in params["status"].split(",") if s]
            unknown = [s for s in wanted if s not in Run.STATUSES]
            if unknown:
                return _one_error(f"unknown status {unknown[0]!r}; one of {', '.join(Run.STATUSES)}", 400, "/status")
            runs = runs.filter(status__in=wanted)
        for name, lookup in (("created_after", "created_at__gte"), ("created_before", "created_at__lte")):
            if params.get(name):
                when = parse_datetime(params[name])
                if when is None:
                    return _one_error(f"{name} must be an ISO 8601 date-time", 400, f"/{name}")
                runs = runs.filter(**{lookup: when})
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(runs.defer("state", "snapshot"), request, view=self)
        return paginator.get_paginated_response([run_summary(r) for r in page])

    @extend_schema(request=PreviewSerializer, responses={201: RunSerializer, 400: ErrorsSerializer},
                   operation_id="runs_create")
    def post(self, request: Request) -> Response:
        data = request.data
        if not isinstance(data, dict) or "flow" not in data:
            return _one_error("the body must be {\"flow\": <OpenFlow>, \"args\": {...}}", 400, "/flow")
        openflow = data["flow"]
        errors = _validate_flow(openflow)
        if errors:
            return error_response(errors)
        try:
            args = _args_from(data)
            errors = _validate_args(openflow.get("schema"), args)
            if errors:
                return error_response(errors)
            run = create_run(user=request.user, openflow=openflow, args=args)
        except InvalidRequest as exc:
            return error_response(exc.errors, exc.status_code)
        return Response(run_detail(run, request), status=status.HTTP_201_CREATED)


def _visible_run(request: Request, run_id) -> Run:
    return get_object_or_404(runs_visible_to(request.user), pk=run_id)


class RunDetailView(APIView):
    @extend_schema(responses={200: RunSerializer}, operation_id="runs_retrieve")
    def get(self, request: Request, run_id) -> Response:
        return Response(run_detail(_visible_run(request, run_id), request))


class RunCancelView(APIView):
    parser_classes = PARSERS
    @extend_schema(request=None, responses={200: RunSerializer, 409: ErrorsSerializer}, operation_id="runs_cancel")
    def post(self, request: Request, run_id) -> Response:
        run = _visible_run(request, run_id)
        if run.is_final:
            return _one_error(f"the run already finished ({run.status})", 409)
        if run.state is None:
            # Not started yet: start it so the engine records the cancel like any other.
            apply_event(run.pk, {"type": "RunStarted", "args": run.args, "now": time.time()})
        reason = (request.data or {}).get("reason") if isinstance(request.data, dict) else None
        apply_event(run.pk, {"type": "CancelReceived", "reason": reason or "canceled from the API",
                             "canceler": request.user.get_username(), "now": time.time()})
        run.refresh_from_db()
        return Response(run_detail(run, request))


class RunRestartView(APIView):
    parser_classes = PARSERS
    @extend_schema(request=inline_serializer("Restart", {"from": serializers.CharField()}),
                   responses={201: RunSerializer, 400: ErrorsSerializer}, operation_id="runs_restart")
    def post(self, request: Request, run_id) -> Response:
        old = _visible_run(request, run_id)
        module_id = request.data.get("from") if isinstance(request.data, dict) else None
        modules = (old.snapshot.get("value") or {}).get("modules") or []
        ids = [m.get("id") for m in modules if isinstance(m, dict)]
        if not isinstance(module_id, str) or module_id not in ids:
            return _one_error(f"'from' must name a top-level step of the run's flow: {', '.join(map(str, ids))}",
                              400, "/from")
        if old.state is None:
            return _one_error("the run has not started yet", 409)
        view = engine.run_view(old.snapshot, old.state)
        by_key = {s["key"]: s for s in view.get("steps", [])}
        before = ids[: ids.index(module_id)]
        missing = [i for i in before if by_key.get(i, {}).get("status") not in ("success", "skipped")]
        if missing:
            return _one_error(f"step {missing[0]!r} has no successful result to reuse", 400, "/from")
        restart = {"from": module_id, "results": {i: by_key[i].get("result") for i in before}}
        try:
            run = create_run(user=request.user, openflow=old.snapshot, args=old.args, flow=old.flow,
                             restart=restart, restarted_from=old)
        except InvalidRequest as exc:
            return error_response(exc.errors, exc.status_code)
        return Response(run_detail(run, request), status=status.HTTP_201_CREATED)


# --- signed approval links -------------------------------------------------------------------

def _payload(request: Request) -> Any:
    """The approval payload of a resume / cancel request, from its body, form or ``?payload=``."""
    payload = _raw_payload(request)
    if (where := nul_path(payload)) is not None:
        raise InvalidRequest([{"path": f"/payload{where}", "message": nul_message(where)}])
    return payload


def _raw_payload(request: Request) -> Any:
    if request.method == "POST":
        content_type = request.content_type or ""
        if content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
            # An HTML form (or a client that posts no body at all): its fields are the payload.
            fields = {k: v for k, v in request._request.POST.items()}
            return fields or None
        body = request.body
        if not body.strip():
            return None
        try:
            return loads_strict(body)
        except (UnicodeDecodeError, ValueError) as exc:
            raise InvalidRequest([{"path": "/payload", "message": f"the body is not JSON: {exc}"}]) from None
        except RecursionError:
            raise InvalidRequest([{"path": "/payload", "message": "the body is nested too deeply"}]) from None
    raw = request.query_params.get("payload")
    if raw is None:
        return None
    try:
        return signing.decode_payload(raw)
    except ValueError as exc:
        raise InvalidRequest([{"path": "/payload", "message": str(exc)}]) from None


def approval_check(request, link: signing.ApprovalLink) -> tuple[Run | None, dict | None, Response | None]:
    """Shared by the endpoints and the approval page: the run, its suspended view, or why not."""
    run = Run.load(link.run_id)
    if run is None:
        return None, None, _one_error("This run no longer exists.", 410)
    if run.is_final:
        return run, None, _one_error(f"The run already finished ({run.status}); this link can't be used.", 410)
    if link.expired:
        return run, None, _one_error("This link has expired.", 410)
    suspended = engine.run_view(run.snapshot, run.state).get("suspended") if run.state else None
    if not suspended or suspended.get("step") != link.step:
        return run, None, _one_error("This step is no longer waiting for approval.", 410)
    if link.resume_id in (suspended.get("used_resume_ids") or []):
        return run, suspended, _one_error("This link was already used.", 410)
    user = request.user
    groups = suspended.get("user_groups_required") or []
    # self_approval_disabled and user_groups_required need to know who is approving: without a
    # login, the run's creator could approve anonymously and nobody's groups could be checked.
    needs_login = suspended.get("user_auth_required") or suspended.get("self_approval_disabled") or groups
    if needs_login and not user.is_authenticated:
        return run, suspended, _one_error("Log in to approve this step.", 403)
    if suspended.get("self_approval_disabled") and user.is_authenticated and user.pk == run.created_by_id:
        return run, suspended, _one_error("You started this run, so you can't approve it.", 403)
    if groups and not user.groups.filter(name__in=[str(g) for g in groups]).exists():
        return run, suspended, _one_error(
            f"Only members of {', '.join(map(str, groups))} can approve this step.", 403)
    return run, suspended, None


def _approval(request: Request, token: str, action: str) -> Response:
    try:
        link = signing.read_token(token, action)
    except signing.LinkInvalid as exc:
        return _one_error(str(exc), 403)
    run, suspended, problem = approval_check(request, link)
    if problem is not None:
        return problem
    try:
        payload = _payload(request)
    except InvalidRequest as exc:
        return error_response(exc.errors)
    form = (suspended.get("resume_form") or {}).get("schema") if isinstance(suspended.get("resume_form"), dict) else None
    if action == "resume" and isinstance(form, dict):
        validator = jsonschema.Draft202012Validator(form)
        errors = [{"path": "/payload" + "".join(f"/{p}" for p in e.absolute_path), "message": e.message}
                  for e in validator.iter_errors(payload if payload is not None else {})]
        if errors:
            return error_response(errors)
    approver = request.query_params.get("approver") or (
        request.user.get_username() if request.user.is_authenticated else None)
    outcome = apply_event(run.pk, {
        "type": "ResumeReceived", "step": link.step, "resume_id": link.resume_id, "approver": approver,
        "payload": payload, "approved": action == "resume", "now": time.time(),
    })
    if not outcome.applied:
        return _one_error("This link was already used or the step is no longer waiting.", 410)
    run.refresh_from_db()
    return Response({"ok": True, "action": action, "run": run_summary(run)})


class SessionUserWithoutCsrf(BaseAuthentication):
    """Signed links need no login and no CSRF token (the signature is the credential), but a logged-in
    user's identity still counts for user_auth_required / self_approval_disabled."""

    def authenticate(self, request):
        user = getattr(request._request, "user", None)
        if user is not None and user.is_authenticated and user.is_active:
            return (user, None)
        return None


@extend_schema(methods=["GET"], responses={200: OpenApiTypes.OBJECT}, auth=[{}], operation_id="approvals_resume_get",
               parameters=[OpenApiParameter("payload", OpenApiTypes.STR, description="base64 of the JSON payload"),
                           OpenApiParameter("approver", OpenApiTypes.STR)])
@extend_schema(methods=["POST"], request=OpenApiTypes.ANY, responses={200: OpenApiTypes.OBJECT}, auth=[{}],
               operation_id="approvals_resume", parameters=[OpenApiParameter("approver", OpenApiTypes.STR)])
@api_view(["GET", "POST"])
@authentication_classes([SessionUserWithoutCsrf])
@permission_classes([AllowAny])
def approval_resume(request: Request, token: str) -> Response:
    return _approval(request, token, "resume")


@extend_schema(methods=["GET"], responses={200: OpenApiTypes.OBJECT}, auth=[{}], operation_id="approvals_cancel_get",
               parameters=[OpenApiParameter("payload", OpenApiTypes.STR, description="base64 of the JSON payload"),
                           OpenApiParameter("approver", OpenApiTypes.STR)])
@extend_schema(methods=["POST"], request=OpenApiTypes.ANY, responses={200: OpenApiTypes.OBJECT}, auth=[{}],
               operation_id="approvals_cancel", parameters=[OpenApiParameter("approver", OpenApiTypes.STR)])
@api_view(["GET", "POST"])
@authentication_classes([SessionUserWithoutCsrf])
@permission_classes([AllowAny])
def approval_cancel(request: Request, token: str) -> Response:
    return _approval(request, token, "cancel")
