"""Error objects exactly as spec §5.1 (a failed result is always `{"error": {...}}`)."""

from __future__ import annotations

import json
from typing import Any


def error_result(name: str, message: str, **extra: Any) -> dict:
    """`{"error": {"name", "message", ...}}` — the shape every failed result has."""
    err: dict[str, Any] = {"name": name, "message": message}
    err.update(extra)
    return {"error": err}


def compact_json(value: Any) -> str:
    """JSON as serde_json prints it (no spaces), used in engine error messages."""
    try:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(value)


def expression_error(expr: str, message: str) -> dict:
    """Spec §3.4: a throwing input transform / predicate fails with ExecutionErr."""
    return error_result("ExecutionErr", f"Error during isolated evaluation of expression `{expr}`:\n{message}")


def iterator_not_array(value: Any) -> dict:
    return error_result(
        "ExecutionErr", f"Expected an array value in the iterator expression, found: {compact_json(value)}"
    )


def early_stop(message: str, result: Any = None, include_result: bool = False) -> dict:
    extra = {"result": result} if include_result else {}
    return error_result("EarlyStopError", message, **extra)


def disapproved(approver: str | None) -> dict:
    return error_result("SuspendedDisapproved", f"Disapproved by {approver or 'unknown'}")


def timed_out() -> dict:
    return error_result("SuspendedTimedOut", "Timed out waiting to be resumed")


def canceled(reason: Any, canceler: Any) -> dict:
    """Spec §5.1 / §9.4: whole-run cancel."""
    return error_result(
        "Canceled", f"Job canceled: {reason} by {canceler}", reason=reason, canceler=canceler
    )


def is_error_result(value: Any) -> bool:
    return isinstance(value, dict) and "error" in value


def error_of(result: Any) -> Any:
    """The inner error object of a failed result (None when there is none)."""
    return result.get("error") if isinstance(result, dict) else None
