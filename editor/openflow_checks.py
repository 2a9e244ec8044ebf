"""Internals of ``editor.openflow``: error collection, traversal and the semantic checks.

Import the public names from ``editor.openflow``; this module exists to keep files small.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator, ValidationError
from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for

from editor.openflow_schema import FAILURE_MODULE_TYPES, KIND_DEFS, MODULE_TYPES, shallow_validator

#: Script languages this instance can run (sandbox: python3 / deno / bash subprocesses).
SUPPORTED_LANGUAGES: tuple[str, ...] = ("python3", "deno", "bash")

#: Languages Windmill knows but this instance cannot run: they get "not supported here"
#: instead of "unknown language".
WINDMILL_LANGUAGES: frozenset[str] = frozenset(
    {
        "deno",
        "bun",
        "python3",
        "go",
        "bash",
        "powershell",
        "postgresql",
        "mysql",
        "bigquery",
        "snowflake",
        "mssql",
        "oracledb",
        "graphql",
        "nativets",
        "php",
        "rust",
        "ansible",
        "csharp",
        "nu",
        "java",
        "ruby",
        "duckdb",
    }
)

#: Stop collecting after this many problems: a pathological 10 MB document could otherwise
#: produce millions of identical errors that no one reads.
MAX_ERRORS = 1000

#: ``results.ID``, ``results?.ID`` and ``results["ID"]`` -- exactly the forms Windmill rewrites
#: into awaited lookups (spec 3.2).  ``results['ID']`` and ``results[expr]`` are not rewritten
#: there (they yield a pending Promise), so they are not references.  The look-behind keeps
#: ``flow_input.results.x`` or ``myresults.x`` from matching.
_RESULTS_RE = re.compile(
    r"(?<![\w$.])results(?:\?\.|\.)([A-Za-z_$][\w$]*)"
    r"|(?<![\w$.])results\[\s*\"((?:[^\"\\\n])*)\"\s*\]"
)

CheckJs = Callable[[str], "str | None"]


@dataclass(frozen=True)
class FlowError:
    """One validation problem: ``path`` is a JSON pointer ("" = the whole document)."""

    path: str
    message: str

    def to_dict(self) -> dict[str, str]:
        """The API's error shape: ``{"path": ..., "message": ...}``."""
        return {"path": self.path, "message": self.message}


class _TooManyErrors(Exception):
    pass


class _Errors:
    """Ordered, de-duplicated error list with a hard cap."""

    def __init__(self, limit: int = MAX_ERRORS) -> None:
        self.items: dict[FlowError, None] = {}
        self.limit = limit

    def add(self, path: str, message: str) -> None:
        self.items[FlowError(path, message)] = None
        if len(self.items) >= self.limit:
            raise _TooManyErrors

    def result(self, truncated: bool = False) -> list[FlowError]:
        out = list(self.items)
        if truncated:
            out.append(FlowError("", f"too many problems; only the first {self.limit} are listed"))
        return out


# --------------------------------------------------------------------------------------------
# small helpers


def _esc(token: Any) -> str:
    """Escape one JSON-pointer reference token (RFC 6901)."""
    return str(token).replace("~", "~0").replace("/", "~1")


def _ptr(base: str, *tokens: Any) -> str:
    return base + "".join("/" + _esc(t) for t in tokens)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _short(value: Any, limit: int = 60) -> str:
    """A bounded rendering of a value for messages (never the whole 10 MB string)."""
    try:
        text = json.dumps(value, ensure_ascii=False, default=repr)
    except (RecursionError, ValueError, TypeError):
        text = repr(type(value))
    return text if len(text) <= limit else text[: limit - 1] + "…"


_ARTICLE = {
    "object": "an object",
    "array": "an array",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
    "null": "null",
}


def _describe(err: ValidationError, path: str, noun: str) -> tuple[str, str]:
    """Turn a jsonschema error into (pointer, readable message) without dumping the instance."""
    if err.validator in ("anyOf", "oneOf") and err.context:
        # Report the alternative that came closest instead of "not valid under any of ...".
        inner = best_match(err.context)
        if inner is not None:
            err = inner
            path = _ptr(path, *err.relative_path)
    kind = err.validator
    value = err.validator_value
    inst = err.instance
    if kind == "required":
        # jsonschema reports one error per missing name; its message quotes the name.
        missing = [k for k in value if isinstance(inst, dict) and k not in inst]
        name = missing[0] if len(missing) == 1 else None
        if name is None:
            m = re.match(r"^'(.*)' is a required property$", err.message)
            name = m.group(1) if m else ", ".join(map(str, missing))
        return _ptr(path, name), f"missing required {noun} '{name}'"
    if kind == "type":
        wanted = value if isinstance(value, list) else [value]
        expected = " or ".join(_ARTICLE.get(t, t) for t in wanted)
        return path, f"expected {expected}, got {_json_type(inst)}"
    if kind == "enum":
        options = ", ".join(_short(v) for v in value)
        return path, f"must be one of {options} (got {_short(inst)})"
    if kind == "const":
        return path, f"must be {_short(value)} (got {_short(inst)})"
    if kind == "minimum":
        return path, f"must be >= {value} (got {_short(inst)})"
    if kind == "maximum":
        return path, f"must be <= {value} (got {_short(inst)})"
    if kind == "pattern":
        if path.endswith("/id"):
            return path, (
                f"module id must be a non-empty string of letters, digits, '_' and '-' (got {_short(inst)})"
            )
        return path, f"does not match the pattern {value!r} (got {_short(inst)})"
    message = err.message
    return path, message if len(message) <= 200 else message[:199] + "…"


def _schema_errors(
    errs: _Errors, validator: Draft202012Validator, instance: Any, base: str, noun: str = "field"
) -> None:
    for err in validator.iter_errors(instance):
        path, message = _describe(err, _ptr(base, *err.absolute_path), noun)
        errs.add(path, message)


def _check_embedded_schema(errs: _Errors, schema: Any, base: str) -> None:
    """``schema`` must itself be a JSON Schema (Draft 2020-12 unless it names another draft)."""
    if not isinstance(schema, dict):
        return  # the structural schema already reported the wrong type
    try:
        cls = validator_for(schema, default=Draft202012Validator)
        meta = cls(cls.META_SCHEMA)
        for err in meta.iter_errors(schema):
            path, message = _describe(err, _ptr(base, *err.absolute_path), "keyword")
            errs.add(path, f"not a valid JSON Schema: {message}")
    except RecursionError:
        errs.add(base, "not a valid JSON Schema: nested too deeply to check")


# --------------------------------------------------------------------------------------------
# traversal


@dataclass(frozen=True, slots=True)
class _Node:
    pointer: str
    module: Any
    #: Position: one ``(list label, index)`` per level.  Labels: "modules", "failure_module",
    #: "preprocessor_module" at the top, then "body" (loops), "default" (branchone) or the
    #: branch index (int).  Two positions compare structurally to decide "runs before".
    chain: tuple[tuple[Any, int], ...]
    ancestors: tuple[str, ...]


def _child_lists(pointer: str, module: Any) -> list[tuple[Any, str, list[Any]]]:
    """Nested module lists of a container module: ``(label, list pointer, list)``."""
    if not isinstance(module, dict):
        return []
    value = module.get("value")
    if not isinstance(value, dict):
        return []
    kind = value.get("type")
    vptr = pointer + "/value"
    out: list[tuple[Any, str, list[Any]]] = []
    if kind in ("forloopflow", "whileloopflow"):
        if isinstance(value.get("modules"), list):
            out.append(("body", vptr + "/modules", value["modules"]))
    elif kind in ("branchone", "branchall"):
        branches = value.get("branches")
        if isinstance(branches, list):
            for i, branch in enumerate(branches):
                if isinstance(branch, dict) and isinstance(branch.get("modules"), list):
                    out.append((i, f"{vptr}/branches/{i}/modules", branch["modules"]))
        if kind == "branchone" and isinstance(value.get("default"), list):
            out.append(("default", vptr + "/default", value["default"]))
    return out


def _walk(flow_value: Any, prefix: str) -> Iterator[_Node]:
    """Every module (dict or not) in execution order, pre-order, without recursion."""
    if not isinstance(flow_value, dict):
        return
    roots: list[_Node] = []
    if "preprocessor_module" in flow_value and flow_value["preprocessor_module"] is not None:
        roots.append(
            _Node(
                prefix + "/preprocessor_module",
                flow_value["preprocessor_module"],
                (("preprocessor_module", 0),),
                (),
            )
        )
    modules = flow_value.get("modules")
    if isinstance(modules, list):
        roots.extend(_Node(f"{prefix}/modules/{i}", m, (("modules", i),), ()) for i, m in enumerate(modules))
    if "failure_module" in flow_value and flow_value["failure_module"] is not None:
        roots.append(
            _Node(prefix + "/failure_module", flow_value["failure_module"], (("failure_module", 0),), ())
        )
    stack = roots[::-1]
    while stack:
        node = stack.pop()
        yield node
        children = _child_lists(node.pointer, node.module)
        if not children:
            continue
        mid = node.module.get("id")
        ancestors = node.ancestors + (mid,) if isinstance(mid, str) else node.ancestors
        batch = [
            _Node(f"{list_ptr}/{i}", child, node.chain + ((label, i),), ancestors)
            for label, list_ptr, items in children
            for i, child in enumerate(items)
        ]
        stack.extend(reversed(batch))


def iter_modules(
    flow_value: Any, prefix: str = "/value"
) -> Iterator[tuple[str, dict[str, Any], tuple[str, ...]]]:
    """Yield ``(json_pointer, module, enclosing_container_ids)`` for every module at every depth.

    Order is execution order (preprocessor, modules with container bodies pre-order, branches
    in order then branchone's default, failure module last).  Pointers start with ``prefix``
    ("/value" by default) so they address the whole OpenFlow object like ``FlowError`` paths.
    Non-object entries are skipped; malformed input yields nothing rather than raising.
    """
    for node in _walk(flow_value, prefix):
        if isinstance(node.module, dict):
            yield node.pointer, node.module, node.ancestors


def referenced_result_ids(expr: Any) -> set[str]:
    """Step ids an expression reads through ``results.X``, ``results?.X`` or ``results["X"]``."""
    if not isinstance(expr, str):
        return set()
    return {m.group(1) if m.group(1) is not None else m.group(2) for m in _RESULTS_RE.finditer(expr)}


# --------------------------------------------------------------------------------------------
# validation


# How an expression may see ``results``:
#   "before": steps that run before the site, plus enclosing containers (input transforms,
#             skip_if, timeout, iterator, parallelism, branch predicates);
#   "after":  additionally the step itself and its own body (stop_after_if: it runs once the
#             step has finished);
#   "none":   ``results`` is not in scope at all (sleep, retry_if, skip_expr, suspend groups).
_BEFORE, _AFTER, _NONE = "before", "after", "none"


@dataclass(frozen=True, slots=True)
class _Expr:
    pointer: str
    text: str
    mode: str
    node: _Node | None
    where: str


class _Validator:
    def __init__(
        self,
        check_js: CheckJs | None,
        known_scripts: set[str] | None,
        known_flows: set[str] | None,
    ) -> None:
        self.errs = _Errors()
        self.check_js = check_js
        self.known_scripts = known_scripts
        self.known_flows = known_flows
        self.exprs: list[_Expr] = []
        self.ids: dict[str, list[_Node]] = {}
        self.by_chain: dict[tuple[tuple[Any, int], ...], _Node] = {}

    # -- entry ---------------------------------------------------------------------------------
    def run(self, flow: Any) -> None:
        if not isinstance(flow, dict):
            self.errs.add("", f"an OpenFlow must be a JSON object, got {_json_type(flow)}")
            return
        _schema_errors(self.errs, shallow_validator("OpenFlow"), flow, "")
        if flow.get("schema") is not None:
            _check_embedded_schema(self.errs, flow["schema"], "/schema")
        value = flow.get("value")
        if not isinstance(value, dict):
            return
        skip_expr = value.get("skip_expr")
        if isinstance(skip_expr, str):
            self.exprs.append(_Expr("/value/skip_expr", skip_expr, _NONE, None, "the flow's skip_expr"))
        for node in _walk(value, "/value"):
            self.by_chain[node.chain] = node
            self.check_module(node)
        self.check_duplicates()
        self.check_expressions()
        early = value.get("early_return")
        if isinstance(early, str) and early and early not in self.ids:
            self.errs.add("/value/early_return", f"early_return names step '{early}', which does not exist")

    # -- per module -----------------------------------------------------------------------------
    def check_module(self, node: _Node) -> None:
        m, ptr = node.module, node.pointer
        if not isinstance(m, dict):
            self.errs.add(ptr, f"expected a flow module object, got {_json_type(m)}")
            return
        _schema_errors(self.errs, shallow_validator("FlowModule"), m, ptr)
        mid = m.get("id")
        if isinstance(mid, str) and mid:
            self.ids.setdefault(mid, []).append(node)

        self.module_expressions(node, m)

        value = m.get("value")
        if not isinstance(value, dict):
            return  # wrong type / missing already reported by the FlowModule schema
        vptr = ptr + "/value"
        kind = value.get("type")
        expected = ", ".join(MODULE_TYPES)
        if "type" not in value:
            self.errs.add(vptr + "/type", f"missing module type; expected one of {expected}")
            return
        if not isinstance(kind, str) or kind not in KIND_DEFS:
            self.errs.add(vptr + "/type", f"unknown module type {_short(kind)}; expected one of {expected}")
            return
        if node.chain == (("failure_module", 0),) and kind not in FAILURE_MODULE_TYPES:
            allowed = " or ".join(FAILURE_MODULE_TYPES)
            self.errs.add(
                vptr + "/type",
                f"the error handler (failure_module) must be a {allowed} step, not {_short(kind)}",
            )
        _schema_errors(self.errs, shallow_validator(KIND_DEFS[kind]), value, vptr)
        self.value_checks(node, kind, value, vptr)

    def module_expressions(self, node: _Node, m: dict[str, Any]) -> None:
        ptr = node.pointer
        for key in ("stop_after_if", "stop_after_all_iters_if"):
            block = m.get(key)
            if isinstance(block, dict) and isinstance(block.get("expr"), str):
                self.exprs.append(_Expr(f"{ptr}/{key}/expr", block["expr"], _AFTER, node, key))
        skip_if = m.get("skip_if")
        if isinstance(skip_if, dict) and isinstance(skip_if.get("expr"), str):
            self.exprs.append(_Expr(ptr + "/skip_if/expr", skip_if["expr"], _BEFORE, node, "skip_if"))
        self.transform(node, m.get("sleep"), ptr + "/sleep", _NONE, "sleep", static=self._sleep_value)
        if isinstance(m.get("timeout"), dict):
            self.transform(node, m["timeout"], ptr + "/timeout", _BEFORE, "timeout", static=self._int_value)
        retry = m.get("retry")
        if isinstance(retry, dict):
            retry_if = retry.get("retry_if")
            if isinstance(retry_if, dict) and isinstance(retry_if.get("expr"), str):
                self.exprs.append(
                    _Expr(ptr + "/retry/retry_if/expr", retry_if["expr"], _NONE, node, "retry_if")
                )
            exp = retry.get("exponential")
            if isinstance(exp, dict):
                attempts, seconds = exp.get("attempts", 0), exp.get("seconds", 0)
                if _is_int(attempts) and attempts > 0 and _is_int(seconds) and seconds == 0:
                    # Windmill refuses to save this: a base of 0 means immediate retries.
                    self.errs.add(
                        ptr + "/retry/exponential/seconds",
                        "exponential retry with attempts > 0 needs seconds > 0 (a base of 0 retries immediately)",
                    )
        suspend = m.get("suspend")
        if isinstance(suspend, dict):
            self.transform(
                node,
                suspend.get("user_groups_required"),
                ptr + "/suspend/user_groups_required",
                _NONE,
                "suspend.user_groups_required",
            )
            form = suspend.get("resume_form")
            if isinstance(form, dict) and form.get("schema") is not None:
                _check_embedded_schema(self.errs, form["schema"], ptr + "/suspend/resume_form/schema")

    def value_checks(self, node: _Node, kind: str, value: dict[str, Any], vptr: str) -> None:
        transforms = value.get("input_transforms")
        if isinstance(transforms, dict):
            for key, tr in transforms.items():
                self.transform(node, tr, _ptr(vptr + "/input_transforms", key), _BEFORE, f"input '{key}'")
        if kind == "rawscript":
            lang = value.get("language")
            if isinstance(lang, str) and lang not in SUPPORTED_LANGUAGES:
                supported = ", ".join(SUPPORTED_LANGUAGES)
                if lang in WINDMILL_LANGUAGES:
                    msg = f"language '{lang}' is not supported here; supported: {supported}"
                else:
                    msg = f"unknown language {_short(lang)}; supported: {supported}"
                self.errs.add(vptr + "/language", msg)
        elif kind in ("script", "flow"):
            self.check_path(kind, value.get("path"), vptr + "/path")
        elif kind == "forloopflow":
            self.transform(
                node, value.get("iterator"), vptr + "/iterator", _BEFORE, "iterator", static=self._array_value
            )
        elif kind == "branchone":
            branches = value.get("branches")
            if isinstance(branches, list):
                for i, branch in enumerate(branches):
                    if isinstance(branch, dict) and isinstance(branch.get("expr"), str):
                        self.exprs.append(
                            _Expr(
                                f"{vptr}/branches/{i}/expr", branch["expr"], _BEFORE, node, "branch predicate"
                            )
                        )
        if kind in ("forloopflow", "whileloopflow") and isinstance(value.get("parallelism"), dict):
            self.transform(
                node,
                value["parallelism"],
                vptr + "/parallelism",
                _BEFORE,
                "parallelism",
                static=self._u16_value,
            )

    def transform(
        self,
        node: _Node,
        tr: Any,
        ptr: str,
        mode: str,
        where: str,
        static: Callable[[Any, str], None] | None = None,
    ) -> None:
        """Collect a javascript transform's expression, or check a static value's shape."""
        if not isinstance(tr, dict):
            return
        if tr.get("type") == "javascript" and isinstance(tr.get("expr"), str):
            self.exprs.append(_Expr(ptr + "/expr", tr["expr"], mode, node, where))
        elif tr.get("type") == "static" and static is not None and tr.get("value") is not None:
            static(tr["value"], ptr + "/value")

    def _sleep_value(self, v: Any, ptr: str) -> None:
        if isinstance(v, bool) or not isinstance(v, int | float) or v < 0:
            self.errs.add(ptr, f"sleep must be a non-negative number of seconds (got {_short(v)})")

    def _int_value(self, v: Any, ptr: str) -> None:
        if not _is_int(v):
            self.errs.add(ptr, f"expected an integer number of seconds (got {_short(v)})")

    def _u16_value(self, v: Any, ptr: str) -> None:
        if not _is_int(v) or not 0 <= v <= 65535:
            self.errs.add(ptr, f"parallelism must be an integer between 0 and 65535 (got {_short(v)})")

    def _array_value(self, v: Any, ptr: str) -> None:
        if not isinstance(v, list):
            self.errs.add(ptr, f"a static iterator must be an array (got {_json_type(v)})")

    def check_path(self, kind: str, path: Any, ptr: str) -> None:
        if not isinstance(path, str):
            return
        noun = "script" if kind == "script" else "flow"
        if not path:
            self.errs.add(ptr, f"no {noun} selected: the path is empty")
        elif path.startswith("hub/"):
            self.errs.add(ptr, f"hub {noun}s are not available offline; import the {noun} into this instance")
        elif not path.startswith(("u/", "f/", "g/")):
            self.errs.add(ptr, f"{noun} path must start with u/, f/ or g/ (got {_short(path)})")
        else:
            known = self.known_scripts if kind == "script" else self.known_flows
            if known is not None and path not in known:
                self.errs.add(ptr, f"no {noun} at path '{path}' in this instance")

    # -- whole-flow checks ---------------------------------------------------------------------
    def check_duplicates(self) -> None:
        for mid, nodes in self.ids.items():
            if len(nodes) < 2:
                continue
            for node in nodes:
                others = ", ".join(n.pointer for n in nodes if n is not node)
                self.errs.add(node.pointer + "/id", f"duplicate module id '{mid}' (also used at {others})")

    def check_expressions(self) -> None:
        for ex in self.exprs:
            if self.check_js is not None:
                try:
                    problem = self.check_js(ex.text)
                except Exception as exc:  # an injected checker must not break validation
                    problem = f"could not be checked ({type(exc).__name__}: {exc})"
                if problem:
                    self.errs.add(ex.pointer, f"JavaScript syntax error in {ex.where}: {problem}")
            for rid in sorted(referenced_result_ids(ex.text)):
                if ex.mode == _NONE:
                    self.errs.add(
                        ex.pointer,
                        f"results.{rid}: `results` is not available in {ex.where}; "
                        "use `result` / `previous_result` or `flow_input`",
                    )
                    continue
                problem = self.reference_problem(rid, ex)
                if problem:
                    self.errs.add(ex.pointer, f"results.{rid}: {problem}")

    def reference_problem(self, rid: str, ex: _Expr) -> str | None:
        defs = self.ids.get(rid)
        if not defs:
            return f"there is no step with id '{rid}' in this flow"
        assert ex.node is not None
        reasons = [self.visibility(ex.node.chain, d.chain, ex.mode, rid) for d in defs]
        if any(r is None for r in reasons):
            return None
        return reasons[0]

    def visibility(
        self, site: tuple[tuple[Any, int], ...], target: tuple[tuple[Any, int], ...], mode: str, rid: str
    ) -> str | None:
        """None if ``target`` has run (or encloses ``site``) when the site's expression is evaluated."""
        top_s, top_t = site[0][0], target[0][0]
        if top_s != top_t:
            if top_s == "failure_module" or top_t == "preprocessor_module":
                return None  # the error handler sees every step; the preprocessor runs first
            if top_t == "failure_module":
                return f"step '{rid}' is in the error handler, which only runs after a failure"
            return f"step '{rid}' has not run yet: the preprocessor runs before every other step"
        k, n = 0, min(len(site), len(target))
        while k < n and site[k] == target[k]:
            k += 1
        if k == len(site) and k == len(target):
            if mode == _AFTER:
                return None
            return f"a step cannot read its own result here ('{rid}' has not finished yet)"
        if k == len(target):
            return None  # an enclosing container: visible inside its body
        if k == len(site):
            if mode == _AFTER:
                return None
            return f"step '{rid}' is inside this step and has not run yet"
        (label_s, idx_s), (label_t, idx_t) = site[k], target[k]
        if label_s == label_t:
            if idx_t < idx_s:
                return None
            return f"step '{rid}' runs after this expression is evaluated"
        container = self.by_chain.get(site[:k])
        cvalue = container.module.get("value") if container and isinstance(container.module, dict) else None
        if (
            isinstance(cvalue, dict)
            and cvalue.get("type") == "branchall"
            and cvalue.get("parallel") is False
            and isinstance(label_s, int)
            and isinstance(label_t, int)
            and label_t < label_s
        ):
            return None  # sequential branchall: earlier branches have finished
        return f"step '{rid}' is in another branch, which does not run before this one"


def _is_int(v: Any) -> bool:
    return (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer())
