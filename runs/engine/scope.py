"""Expression scopes (spec §3.1, §3.2), JS truthiness and evaluation helpers.

The engine never interprets expression text beyond finding which `results.<id>` it mentions; the
injected `evaluate` does the JavaScript (implicit return, undefined -> null, ...).
"""

from __future__ import annotations

import math
import re
from typing import Any

from .errors import error_of, expression_error
from .state import DONE_STATUSES, Tx, frame_prefix

# results.ID / results?.ID / results["ID"] — the forms Windmill rewrites to a lazy lookup (§3.2).
_RESULTS_REF = re.compile(
    r"(?<![\w$.])results\s*(?:\?\.|\.)\s*([A-Za-z_$][\w$]*)|(?<![\w$.])results\s*(?:\?\.)?\[\s*\"([^\"]+)\"\s*\]"
)
# Any other computed access (results[x], results['x']) needs every visible id.
_RESULTS_COMPUTED = re.compile(r"(?<![\w$.])results\s*(?:\?\.)?\[(?!\s*\"[^\"]+\"\s*\])")

MISSING = object()  # an InputTransform that yields no value ("ai", unknown type)


def js_truthy(value: Any) -> bool:
    """JavaScript truthiness of a JSON value: null/false/0/""/NaN are falsy; [] and {} are truthy."""
    if value is None or value is False:
        return False
    if value is True:
        return True
    if isinstance(value, (int, float)):
        return not (value == 0 or (isinstance(value, float) and math.isnan(value)))
    if isinstance(value, str):
        return value != ""
    return True


def referenced_ids(expr: str) -> tuple[list[str], bool]:
    """Ids an expression reads through `results`, and whether it needs all of them."""
    ids: list[str] = []
    for m in _RESULTS_REF.finditer(expr):
        ident = m.group(1) or m.group(2)
        if ident not in ids:
            ids.append(ident)
    return ids, bool(_RESULTS_COMPUTED.search(expr))


def frame_chain(tx: Tx, frame_key: str):
    """The frame and its ancestors, innermost first."""
    key: str | None = frame_key
    while key is not None:
        frame = tx.frame(key)
        if frame is None:
            return
        yield key, frame
        key = frame.get("parent")


def _iter_name(level: int) -> str:
    return "iter" + "_parent" * level


def with_iter(base: Any, it: dict) -> dict:
    """Loop-body flow_input: the enclosing one plus `iter`; an existing `iter` becomes `iter_parent`,
    an existing `iter_parent` becomes `iter_parent_parent`, and so on (spec §0.8)."""
    out = dict(base) if isinstance(base, dict) else {}
    depth = 0
    while _iter_name(depth) in out:
        depth += 1
    for level in range(depth, 0, -1):
        out[_iter_name(level)] = out[_iter_name(level - 1)]
    out["iter"] = it
    return out


def flow_input(tx: Tx, frame_key: str) -> Any:
    frame = tx.frame(frame_key)
    if frame is None:
        return {}
    if "args" in frame:
        return frame["args"]
    base = flow_input(tx, frame["parent"]) if frame.get("parent") is not None else {}
    if "iter" in frame:
        return with_iter(base, frame["iter"])
    return base


def previous_result(tx: Tx, frame_key: str) -> Any:
    """A frame's previous_result; before its first step that is the frame's own args (§2.2)."""
    frame = tx.frame(frame_key) or {}
    if "prev" in frame:
        return frame["prev"]
    return flow_input(tx, frame_key)


def flow_env(tx: Tx, frame_key: str) -> Any:
    for _, frame in frame_chain(tx, frame_key):
        if "env" in frame:
            return frame["env"]
    return {}


def _visible(step: dict | None) -> tuple[bool, Any]:
    if step is None:
        return False, None
    if step.get("status") in DONE_STATUSES:
        return True, step.get("result")
    if "last" in step:  # a running loop: its previous iteration's result (spec §4.2)
        return True, step["last"]
    return False, None


def lookup_result(tx: Tx, frame_key: str, module_id: str) -> Any:
    """`results.<id>`: the current flow, then enclosing flows, then any completed step with that id
    anywhere in the run (Windmill's flow_leaf_jobs); unknown / not yet run -> null."""
    for key, _ in frame_chain(tx, frame_key):
        found, value = _visible(tx.step(frame_prefix(key) + module_id))
        if found:
            return value
    found, value = _visible(tx.step(tx.state["latest"].get(module_id, "\0")))
    return value if found else None


def results_for(tx: Tx, frame_key: str, expr: str) -> dict:
    ids, everything = referenced_ids(expr)
    if everything:
        candidates = set(tx.state["latest"])
        for key, frame in frame_chain(tx, frame_key):
            prefix = frame_prefix(key)
            for mod in tx.modules(frame):
                mid = mod.get("id") if isinstance(mod, dict) else None
                if isinstance(mid, str) and _visible(tx.step(prefix + mid))[0]:
                    candidates.add(mid)
        ids = sorted(candidates.union(ids))
    return {mid: lookup_result(tx, frame_key, mid) for mid in ids}


def error_magic(prev: Any) -> Any:
    """The `error` variable of input transforms (§3.3), derived from previous_result."""
    if isinstance(prev, dict) and "error" in prev:
        return prev["error"]
    if isinstance(prev, list):
        errors = [error_of(x) for x in prev if isinstance(x, dict) and "error" in x]
        if len(errors) == 1:
            return errors[0]
        if errors:
            messages = [e.get("message") if isinstance(e, dict) else str(e) for e in errors]
            return {"name": "MultipleErrors", "message": "; ".join(str(m) for m in messages), "errors": errors}
    return {"name": "UnknownError", "message": "Could not derive an error from previous_result", "stack": ""}


def resume_context(frame: dict) -> dict:
    """`resume` / `resumes` / `approvers` for the frame's current step (spec §9.3).

    `suspend` records them for the module index right after the suspended step (`"for"`). Windmill
    reads them from the previous module's status each time the step is evaluated, so a retry of that
    step (skip_if, branchone predicates, iterator again) sees the same values; any other step, and
    the error handler, sees none.
    """
    ctx = frame.get("resume")
    if not isinstance(ctx, dict) or frame.get("in_handler") or ctx.get("for") != frame.get("idx"):
        return {}
    return ctx


def make_scope(
    tx: Tx,
    frame_key: str,
    expr: str,
    *,
    prev: Any,
    result: Any = MISSING,
    results: bool = True,
    resume: bool = False,
    input_transform: bool = False,
    extra: dict | None = None,
) -> dict:
    """The JS globals for one evaluation; which keys exist follows the table of spec §3.1."""
    scope: dict[str, Any] = {
        "flow_input": flow_input(tx, frame_key),
        "previous_result": prev,
        "flow_env": flow_env(tx, frame_key),
    }
    if result is not MISSING:
        scope["result"] = result
    if results:
        scope["results"] = results_for(tx, frame_key, expr)
    if resume:
        ctx = resume_context(tx.frame(frame_key) or {})
        scope["resume"] = ctx.get("resume")
        scope["resumes"] = ctx.get("resumes", [])
        scope["approvers"] = ctx.get("approvers", [])
    if input_transform:
        scope["params"] = {}
        if "error" in expr:
            scope["error"] = error_magic(prev)
    if extra:
        scope.update(extra)
    return scope


def try_eval(tx: Tx, expr: str, scope: dict) -> tuple[bool, Any]:
    """(True, value) or (False, error message). Never raises."""
    try:
        return True, tx.evaluate(expr, scope)
    except Exception as exc:  # noqa: BLE001 - any evaluator failure is data
        return False, str(exc) or type(exc).__name__


def eval_transform(tx: Tx, transform: Any, scope_fn) -> tuple[bool, Any]:
    """Evaluate an InputTransform. Returns (True, value | MISSING) or (False, error result).

    A bare JSON value (e.g. `"timeout": 30`) is accepted as a static value (§1.4).
    `scope_fn(expr)` builds the scope lazily, only for javascript transforms.
    """
    if not isinstance(transform, dict) or "type" not in transform:
        return True, transform
    kind = transform.get("type")
    if kind == "static":
        return True, transform.get("value")
    if kind == "javascript":
        expr = transform.get("expr")
        expr = expr if isinstance(expr, str) else ""
        ok, value = try_eval(tx, expr, scope_fn(expr))
        return (True, value) if ok else (False, expression_error(expr, value))
    return True, MISSING


def eval_predicate(tx: Tx, expr: Any, scope: dict) -> tuple[bool, Any]:
    """(True, bool) or (False, error message); truthiness follows JavaScript."""
    text = expr if isinstance(expr, str) else ""
    ok, value = try_eval(tx, text, scope)
    return (True, js_truthy(value)) if ok else (False, value)


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
