"""OpenFlow (Windmill's JSON workflow format): validation and traversal helpers.

No Django here: the API, the engine, the import/export commands and the tests all use this module.

Public interface
----------------
* ``FlowError(path, message)`` -- one problem; ``path`` is a JSON pointer into the OpenFlow object.
* ``validate_flow(flow, *, check_js=None, known_scripts=None, known_flows=None)`` -- every
  problem at once (structure, then semantics); never raises, whatever the input.
* ``validate_args(schema, args)`` -- run arguments against the flow's ``schema``.
* ``iter_modules(flow_value)`` -- ``(pointer, module, enclosing container ids)`` at every depth.
* ``referenced_result_ids(expr)`` -- ids named by ``results.X`` / ``results?.X`` / ``results["X"]``.
* ``runnability_errors(flow)`` -- what validates but cannot run here (AI agent steps).
* ``OPENFLOW_SCHEMA`` / ``openflow_schema()`` -- the full JSON Schema (see ``openflow_schema``).

Structure is checked node by node (each module against the schema of its own kind) by an
iterative walk, so deeply nested flows neither overflow the stack nor produce the unreadable
"is not valid under any of the given schemas" errors of a oneOf.  Semantic checks (unique ids,
``results.X`` visibility, JS syntax, languages, paths, retry, embedded JSON Schemas; they live in
``editor.openflow_checks``) follow the
execution semantics in ``spec/openflow-semantics.md``.
"""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from jsonschema.validators import validator_for

from editor.openflow_checks import (
    MAX_ERRORS,
    SUPPORTED_LANGUAGES,
    WINDMILL_LANGUAGES,
    CheckJs,
    FlowError,
    _check_embedded_schema,
    _Errors,
    _json_type,
    _schema_errors,
    _TooManyErrors,
    _Validator,
    iter_modules,
    referenced_result_ids,
)
from editor.openflow_schema import MODULE_TYPES, OPENFLOW_SCHEMA, openflow_schema

__all__ = [
    "MAX_ERRORS",
    "FlowError",
    "MODULE_TYPES",
    "OPENFLOW_SCHEMA",
    "SUPPORTED_LANGUAGES",
    "WINDMILL_LANGUAGES",
    "iter_modules",
    "openflow_schema",
    "referenced_result_ids",
    "runnability_errors",
    "validate_args",
    "validate_flow",
]


def validate_flow(
    flow: Any,
    *,
    check_js: CheckJs | None = None,
    known_scripts: set[str] | None = None,
    known_flows: set[str] | None = None,
) -> list[FlowError]:
    """Return every problem of an OpenFlow object (empty list = valid). Never raises.

    ``check_js(expr)`` returns a syntax-error message or None; it is called for every
    JavaScript expression (input transforms, iterator, branch predicates, skip_if,
    stop_after_if, sleep, timeout, parallelism, retry_if, skip_expr, suspend groups).
    ``known_scripts`` / ``known_flows``, when given, are the paths that exist in this
    instance; ``script`` / ``flow`` steps must name one of them.  The input is never mutated.
    """
    v = _Validator(check_js, known_scripts, known_flows)
    truncated = False
    try:
        v.run(flow)
    except _TooManyErrors:
        truncated = True
    except RecursionError:
        v.errs.items[FlowError("", "document is nested too deeply to validate")] = None
    except Exception as exc:  # last resort: the contract is "never raises"
        v.errs.items[FlowError("", f"internal validation error: {type(exc).__name__}: {exc}")] = None
    return v.errs.result(truncated)


def validate_args(schema: dict[str, Any] | None, args: Any) -> list[FlowError]:
    """Validate run arguments against the flow's ``schema``; errors are under ``/args``.

    Args must be a JSON object.  A flow without a schema accepts any object.  An invalid
    schema is reported under ``/schema`` rather than raising.
    """
    if not isinstance(args, dict):
        return [FlowError("/args", f"args must be a JSON object, got {_json_type(args)}")]
    if schema is None:
        return []
    errs = _Errors()
    try:
        if not isinstance(schema, dict):
            errs.add("/schema", f"the flow schema must be an object, got {_json_type(schema)}")
            return errs.result()
        cls = validator_for(schema, default=Draft202012Validator)
        try:
            cls.check_schema(schema)
        except SchemaError:
            _check_embedded_schema(errs, schema, "/schema")
            return errs.result()
        _schema_errors(errs, cls(schema), args, "/args", noun="argument")
    except _TooManyErrors:
        return errs.result(truncated=True)
    except RecursionError:
        errs.items[FlowError("/args", "arguments are nested too deeply to validate")] = None
    except Exception as exc:
        errs.items[FlowError("/schema", f"could not validate arguments: {type(exc).__name__}: {exc}")] = None
    return errs.result()


def runnability_errors(flow: Any) -> list[FlowError]:
    """Problems that do not make a flow invalid but stop it from running here.

    Today that is AI agent steps (``aiagent``): accepted so Windmill exports import unchanged,
    but this executor has no AI runtime.
    """
    out: list[FlowError] = []
    value = flow.get("value") if isinstance(flow, dict) else None
    for pointer, module, _ in iter_modules(value):
        mvalue = module.get("value")
        if isinstance(mvalue, dict) and mvalue.get("type") == "aiagent":
            out.append(
                FlowError(pointer + "/value/type", "AI agent steps are not supported by this executor")
            )
    return out
