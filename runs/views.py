"""Run pages (rendered by the front-end bundle)."""

from __future__ import annotations

import uuid

from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse

from openflow_site.spa import render_page
from runs.models import Run
from runs.permissions import runs_visible_to


def runs_page(request: HttpRequest) -> HttpResponse:
    return render_page(request, "runs", "Runs")


def run_page(request: HttpRequest, run_id: uuid.UUID) -> HttpResponse:
    try:
        run = runs_visible_to(request.user).get(pk=run_id)
    except Run.DoesNotExist:
        raise Http404("No such run") from None
    return render_page(request, "run", f"Run {run.flow_path or 'preview'}", {"run_id": str(run.id)})


@login_not_required
def approval_page(request: HttpRequest, token: str) -> HttpResponse:
    """The signed approval page: works without an account unless the step requires one."""
    from runs import signing
    from runs.api import approval_check
    from runs.presenter import absolute, public_flow

    try:
        link = signing.read_token(token, "page")
    except signing.LinkInvalid as exc:
        return render_page(request, "approval", "Approval", {"state": "forbidden", "message": str(exc)}, status=403)
    run, suspended, problem = approval_check(request, link)
    props: dict = {"state": "pending", "message": "", "run_id": link.run_id, "step": link.step,
                   "approver": request.GET.get("approver") or ""}
    if run is not None:
        flow = public_flow(run.snapshot)
        props.update({"flow_path": run.flow_path, "flow_summary": flow.get("summary", ""), "args": run.args})
        props["step_summary"] = _module_summary(flow, link.step)
    if suspended:
        links = signing.links_for(link.run_id, link.step, link.resume_id, link.expires_at,
                                  request.GET.get("approver") or None)
        props.update({
            "resume_form": (suspended.get("resume_form") or {}).get("schema"),
            "hide_cancel": bool(suspended.get("hide_cancel")),
            "required_events": suspended.get("required_events"),
            "received_events": suspended.get("received_events"),
            "approvers": suspended.get("approvers", []),
            "timeout_at": link.expires_at and _iso(link.expires_at),
            "user_auth_required": bool(suspended.get("user_auth_required")),
            "resume_url": absolute(request, links["resume_url"]),
            "cancel_url": absolute(request, links["cancel_url"]),
        })
    status = 200
    if problem is not None:
        message = problem.data["errors"][0]["message"]
        props["message"] = message
        props["state"] = {403: "forbidden"}.get(problem.status_code) or (
            "expired" if "expired" in message else "used" if "already used" in message else "finished")
        status = problem.status_code
    return render_page(request, "approval", "Approval", props, status=status)


def _iso(epoch: float) -> str:
    from runs.orchestrator import to_datetime

    return to_datetime(epoch).isoformat()


def _module_summary(flow: dict, step_key: str) -> str:
    from editor.openflow import iter_modules

    module_id = step_key.split("/")[-1]
    for item in iter_modules(flow.get("value") or {}):
        module = item[1]
        if isinstance(module, dict) and module.get("id") == module_id:
            return module.get("summary") or module_id
    return module_id
