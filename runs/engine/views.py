"""Read-only projections of a run state for the API, the UI and live events."""

from __future__ import annotations

from typing import Any

from .errors import error_of
from .state import resolve

_STEP_FIELDS = ("key", "module_id", "type", "status", "attempts", "args", "result", "error",
                "started_at", "finished_at")


def _module_type(module: Any) -> Any:
    value = module.get("value") if isinstance(module, dict) else None
    return value.get("type") if isinstance(value, dict) else None


def _step_error(st: dict) -> Any:
    if st.get("error") is not None:
        return st["error"]
    if st.get("status") == "failure":
        return error_of(st.get("result"))
    return None


def step_view(st: dict) -> dict:
    """One step as the API shows it (without logs)."""
    out = {name: st.get(name) for name in _STEP_FIELDS}
    out["error"] = _step_error(st)
    out["frame"] = st.get("frame", "")
    out["skipped"] = bool(st.get("skipped"))
    out["job"] = st.get("job")
    if st.get("handler"):
        out["handler"] = True
    if st.get("approvers"):
        out["approvers"] = st["approvers"]
    if "retry_at" in st:
        out["retry_at"] = st["retry_at"]
    if "sleep_until" in st:
        out["sleep_until"] = st["sleep_until"]
    if st.get("failed_jobs"):
        out["failed_jobs"] = st["failed_jobs"]
    fan = st.get("fan")
    if fan is not None:
        label = "branches" if fan["kind"] == "all" else "iterations"
        out[label] = {"total": fan["total"], "done": fan["done"], "failed": list(fan["failed"])}
    if "branch_chosen" in st:
        out["branch_chosen"] = st["branch_chosen"]
    return out


def _waiting(key: str, module: Any) -> dict:
    mid = module.get("id") if isinstance(module, dict) else None
    return {"key": key, "module_id": mid if isinstance(mid, str) else key, "type": _module_type(module),
            "status": "waiting", "attempts": 0, "args": None, "result": None, "error": None,
            "started_at": None, "finished_at": None, "frame": "", "skipped": False, "job": None}


def _child_order(child: Any) -> tuple:
    return (1, 0) if child == "default" else (0, child if isinstance(child, int) else 0)


def _children_index(steps: dict) -> dict[str, list[dict]]:
    """container step key -> its child steps, in child index then module order."""
    index: dict[str, list[dict]] = {}
    for st in steps.values():
        container = st.get("container")
        if container is not None:
            index.setdefault(container, []).append(st)
    for items in index.values():
        items.sort(key=lambda s: (_child_order(s.get("child")), s.get("pos", 0)))
    return index


def suspended_view(state: dict) -> dict | None:
    """The first suspended step (in run order) and what an approval UI needs."""
    candidates = [st for st in state.get("steps", {}).values() if st.get("status") == "suspended"]
    if not candidates:
        return None
    st = min(candidates, key=lambda s: s.get("started_at") or 0)
    conf = st.get("suspend") or {}
    return {
        "step": st["key"],
        "module_id": st["module_id"],
        "required_events": conf.get("required"),
        "received_events": len(conf.get("payloads", [])),
        "timeout_at": conf.get("timeout_at"),
        "resume_form": conf.get("resume_form"),
        "hide_cancel": conf.get("hide_cancel", False),
        "user_auth_required": conf.get("user_auth_required", False),
        "user_groups_required": conf.get("user_groups_required", []),
        "self_approval_disabled": conf.get("self_approval_disabled", False),
        "used_resume_ids": list(conf.get("used", [])),
        "approvers": [a.get("approver") for a in conf.get("approvers", [])],
    }


def run_view(flow: dict, state: dict | None) -> dict:
    """The run object of DESIGN.md (without id/flow_path/logs): status, result, timestamps, every
    top-level module in order (waiting ones too) with the started child steps after their container,
    and `suspended`."""
    value = flow.get("value") if isinstance(flow, dict) and isinstance(flow.get("value"), dict) else {}
    mods = value.get("modules") if isinstance(value.get("modules"), list) else []
    if state is None:
        return {"status": "queued", "skipped": False, "result": None, "args": None, "started_at": None,
                "finished_at": None, "suspended": None,
                "steps": [_waiting(m.get("id", str(i)) if isinstance(m, dict) else str(i), m)
                          for i, m in enumerate(mods)]}
    steps = state.get("steps", {})
    children = _children_index(steps)
    out: list[dict] = []

    def emit(st: dict) -> None:
        # iterative walk: containers can hold thousands of children
        stack = [st]
        while stack:
            cur = stack.pop()
            out.append(step_view(cur))
            stack.extend(reversed(children.get(cur["key"], [])))

    for i, module in enumerate(mods):
        mid = module.get("id") if isinstance(module, dict) else None
        key = mid if isinstance(mid, str) and mid else f"step{i}"
        if key in steps:
            emit(steps[key])
        else:
            out.append(_waiting(key, module))
    if "failure" in steps:
        emit(steps["failure"])

    status = state.get("status", "running")
    suspended = suspended_view(state) if status == "running" else None
    if status == "running" and suspended is not None and not state.get("jobs"):
        status = "suspended"
    return {
        "status": status,
        "skipped": bool(state.get("skipped")),
        "result": state.get("result"),
        "args": state.get("args"),
        "started_at": state.get("started_at"),
        "finished_at": state.get("finished_at"),
        "steps": out,
        "suspended": suspended,
    }


def module_at(flow: dict, step: dict) -> Any:
    """The module definition a step record refers to."""
    return resolve(flow, step.get("mpath", []))
