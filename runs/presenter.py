"""The run object of the public API (DESIGN.md "Run object"), built from a stored run.

The engine's ``run_view`` gives statuses, args, results and errors; ``Step`` rows add the logs
and the time a worker really started each script; the suspended step gets fresh signed links for
its next unused resume id.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from runs import engine, signing
from runs.models import Run, Step

PUBLIC_FLOW_KEYS = ("summary", "description", "schema", "value")


def iso(value) -> str | None:
    return value.isoformat() if value else None


def _epoch_iso(epoch: float | None) -> str | None:
    from runs.orchestrator import to_datetime

    return iso(to_datetime(epoch))


def public_flow(snapshot: dict) -> dict:
    """The OpenFlow object of a run without the resolution cache."""
    return {k: v for k, v in snapshot.items() if not k.startswith("_")}


def next_resume_id(suspended: dict) -> int:
    used = set(suspended.get("used_resume_ids") or [])
    candidate = 0
    while candidate in used:
        candidate += 1
    return candidate


def absolute(request: HttpRequest | None, url: str) -> str:
    return request.build_absolute_uri(url) if request is not None else url


def suspended_view(run: Run, suspended: dict | None, request: HttpRequest | None) -> dict | None:
    if not suspended:
        return None
    approver = request.GET.get("approver") if request is not None else None
    links = signing.links_for(str(run.pk), suspended["step"], next_resume_id(suspended),
                              suspended.get("timeout_at"), approver)
    out = {**suspended, **{k: absolute(request, v) for k, v in links.items()}}
    out["timeout_at"] = _epoch_iso(suspended.get("timeout_at"))
    return out


def step_delta(step: dict) -> dict:
    """A step of the engine's view in the API's shape (ISO times), without logs (they stream apart)."""
    out = dict(step)
    for key in ("started_at", "finished_at"):
        out[key] = _epoch_iso(step.get(key)) if not isinstance(step.get(key), str) else step.get(key)
    return out


def run_delta(run: Run, view: dict) -> dict:
    """The run fields of a live ``run`` event, in the same shape as GET /api/runs/<id> (no steps)."""
    final = view.get("status") in Run.FINAL
    return {
        "id": str(run.pk),
        "flow_path": run.flow_path,
        "status": view.get("status"),
        "skipped": bool(view.get("skipped")),
        "result": view.get("result") if final else None,
        "started_at": _epoch_iso(view.get("started_at")),
        "finished_at": _epoch_iso(view.get("finished_at")) if final else None,
        "suspended": suspended_view(run, view.get("suspended"), None),
    }


def step_view(step: dict, row: Step | None) -> dict:
    out = step_delta(step)
    out["logs"] = row.logs if row is not None else ""
    if row is not None and row.started_at and step.get("status") == "running":
        out["started_at"] = iso(row.started_at)
    return out


def run_summary(run: Run) -> dict[str, Any]:
    """List-item shape: the run without steps."""
    return {
        "id": str(run.pk),
        "flow_path": run.flow_path,
        "status": run.status,
        "skipped": run.skipped,
        "args": run.args,
        "result": run.result,
        "created_at": iso(run.created_at),
        "started_at": iso(run.started_at),
        "finished_at": iso(run.finished_at),
        "created_by": run.created_by.get_username() if run.created_by_id else None,
        "restarted_from": str(run.restarted_from_id) if run.restarted_from_id else None,
    }


def run_detail(run: Run, request: HttpRequest | None = None) -> dict[str, Any]:
    out = run_summary(run)
    out["flow"] = public_flow(run.snapshot)
    if run.state is None:
        out["steps"], out["suspended"] = [], None
        return out
    view = engine.run_view(run.snapshot, run.state)
    rows = {row.key: row for row in Step.objects.filter(run=run).only("key", "logs", "started_at", "status")}
    out["steps"] = [step_view(step, rows.get(step["key"])) for step in view.get("steps", [])]
    out["suspended"] = suspended_view(run, view.get("suspended"), request)
    if run.status not in Run.FINAL:
        out["result"] = None
    return out
