"""Builders for OpenFlow documents used in the engine tests (plain dicts, nothing clever)."""

from __future__ import annotations

from typing import Any


def js(expr: str) -> dict:
    return {"type": "javascript", "expr": expr}


def static(value: Any) -> dict:
    return {"type": "static", "value": value}


def _transforms(inputs: dict | None) -> dict:
    out = {}
    for name, spec in (inputs or {}).items():
        out[name] = js(spec) if isinstance(spec, str) else spec
    return out


def flow(*modules: dict, failure: dict | None = None, resolved: dict | None = None, **value: Any) -> dict:
    doc: dict[str, Any] = {"summary": "test", "value": {"modules": list(modules), **value}}
    if failure is not None:
        doc["value"]["failure_module"] = failure
    if resolved is not None:
        doc["_resolved"] = resolved
    return doc


def ident(mid: str, **extra: Any) -> dict:
    return {"id": mid, "value": {"type": "identity"}, **extra}


def script(mid: str, content: str = "None", inputs: dict | None = None, language: str = "python3",
           **extra: Any) -> dict:
    """A rawscript. In tests the harness evaluates `content` as a Python expression over the args
    (plus `attempt` and `fail(msg)`). `inputs` maps arg name -> JS expr string or transform dict."""
    return {"id": mid, "value": {"type": "rawscript", "language": language, "content": content,
                                 "input_transforms": _transforms(inputs)}, **extra}


def saved(mid: str, path: str, inputs: dict | None = None, **extra: Any) -> dict:
    return {"id": mid, "value": {"type": "script", "path": path, "input_transforms": _transforms(inputs)}, **extra}


def subflow(mid: str, path: str, inputs: dict | None = None, **extra: Any) -> dict:
    return {"id": mid, "value": {"type": "flow", "path": path, "input_transforms": _transforms(inputs)}, **extra}


def forloop(mid: str, iterator: Any, modules: list, *, parallel: bool = False, skip_failures: bool = False,
            parallelism: Any = None, **extra: Any) -> dict:
    it = js(iterator) if isinstance(iterator, str) else iterator
    value: dict[str, Any] = {"type": "forloopflow", "iterator": it, "modules": modules,
                             "skip_failures": skip_failures, "parallel": parallel}
    if parallelism is not None:
        value["parallelism"] = parallelism
    return {"id": mid, "value": value, **extra}


def whileloop(mid: str, modules: list, *, skip_failures: bool = False, **extra: Any) -> dict:
    return {"id": mid, "value": {"type": "whileloopflow", "modules": modules, "skip_failures": skip_failures},
            **extra}


def branchone(mid: str, branches: list[tuple[str, list]], default: list | None = None, **extra: Any) -> dict:
    return {"id": mid, "value": {"type": "branchone",
                                 "branches": [{"expr": e, "modules": m} for e, m in branches],
                                 "default": default or []}, **extra}


def branchall(mid: str, branches: list, *, parallel: bool | None = None, **extra: Any) -> dict:
    value: dict[str, Any] = {"type": "branchall",
                             "branches": [b if isinstance(b, dict) else {"modules": b} for b in branches]}
    if parallel is not None:
        value["parallel"] = parallel
    return {"id": mid, "value": value, **extra}


def stop_if(expr: str, **extra: Any) -> dict:
    return {"stop_after_if": {"expr": expr, "skip_if_stopped": extra.pop("skip_if_stopped", False), **extra}}
