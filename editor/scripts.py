"""Infer a script's input JSON Schema from the signature of its ``main`` function.

* python3: ``def main(a: str, b: int = 2, c: list[str] | None = None)`` parsed with ``ast``;
* deno (TypeScript): ``export (async )?function main(a: string, b = 2, c?: number[])`` parsed
  with a small bracket-aware scanner (no TypeScript compiler needed);
* bash: ``name="$1"`` / ``name="${2:-default}"`` assignments, in positional order (all strings).

The result is ``{"$schema", "type": "object", "properties", "required", "order"}`` (``order``
is the parameter order, as Windmill's UI expects), or None when no ``main`` is found. Never
raises on user code.
"""

from __future__ import annotations

import ast
import json
import re
from typing import Any

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def infer_schema(language: str, content: str) -> dict[str, Any] | None:
    if not isinstance(content, str):
        return None
    try:
        if language == "python3":
            params = _python_params(content)
        elif language == "deno":
            params = _ts_params(content)
        elif language == "bash":
            params = _bash_params(content)
        else:
            return None
    except (RecursionError, ValueError, MemoryError):
        return None
    if params is None:
        return None
    return _object_schema(params)


def _object_schema(params: list[tuple[str, dict[str, Any], bool]]) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    required: list[str] = []
    for name, prop, is_required in params:
        properties[name] = prop
        if is_required:
            required.append(name)
    return {
        "$schema": SCHEMA_DIALECT,
        "type": "object",
        "properties": properties,
        "required": required,
        "order": list(properties),
    }


# --------------------------------------------------------------------------------------------
# python

_PY_SIMPLE = {
    "str": {"type": "string"},
    "int": {"type": "integer"},
    "float": {"type": "number"},
    "bool": {"type": "boolean"},
    "dict": {"type": "object"},
    "list": {"type": "array"},
    "tuple": {"type": "array"},
    "set": {"type": "array"},
    "bytes": {"type": "string", "contentEncoding": "base64"},
    "datetime": {"type": "string", "format": "date-time"},
    "date": {"type": "string", "format": "date"},
    "Any": {},
    "object": {},
    "None": {"type": "null"},
    "Dict": {"type": "object"},
    "List": {"type": "array"},
}


def _python_params(content: str) -> list[tuple[str, dict[str, Any], bool]] | None:
    try:
        tree = ast.parse(content)
    except SyntaxError:
        return None
    main = next(
        (
            node
            for node in tree.body
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == "main"
        ),
        None,
    )
    if main is None:
        return None
    args = main.args
    positional = args.posonlyargs + args.args
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    pairs = list(zip(positional, defaults, strict=True)) + list(zip(args.kwonlyargs, args.kw_defaults, strict=True))
    out = []
    for arg, default in pairs:
        prop, optional = _py_annotation(arg.annotation)
        has_default = default is not None
        if has_default:
            value, ok = _py_literal(default)
            if ok:
                if not prop:
                    prop = _type_of_value(value)
                prop = {**prop, "default": value}
        out.append((arg.arg, prop, not has_default and not optional))
    return out


def _py_literal(node: ast.expr) -> tuple[Any, bool]:
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None, False
    if isinstance(value, tuple | set):
        value = list(value)
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return None, False
    return value, True


def _py_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr  # typing.List, datetime.datetime
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value  # a string annotation: "str"
    if isinstance(node, ast.Constant) and node.value is None:
        return "None"
    return None


def _py_annotation(node: ast.expr | None) -> tuple[dict[str, Any], bool]:
    """(JSON Schema, optional?) of an annotation."""
    if node is None:
        return {}, False
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            node = ast.parse(node.value, mode="eval").body
        except SyntaxError:
            return {}, False
    # X | None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        members = _flatten_union(node)
        return _py_union(members)
    if isinstance(node, ast.Subscript):
        base = _py_name(node.value)
        inner = node.slice
        items = list(inner.elts) if isinstance(inner, ast.Tuple) else [inner]
        if base == "Optional":
            schema, _ = _py_annotation(items[0])
            return schema, True
        if base == "Union":
            return _py_union(items)
        if base == "Literal":
            values = [v for v in (_py_literal(i) for i in items) if v[1]]
            return {"enum": [v for v, _ in values]}, False
        if base in ("list", "List", "set", "Set", "tuple", "Tuple", "Sequence", "Iterable"):
            schema: dict[str, Any] = {"type": "array"}
            if len(items) == 1 or base not in ("tuple", "Tuple"):
                item_schema, _ = _py_annotation(items[0])
                if item_schema:
                    schema["items"] = item_schema
            return schema, False
        if base in ("dict", "Dict", "Mapping"):
            return {"type": "object"}, False
        if base == "Annotated":
            return _py_annotation(items[0])
        return {}, False
    name = _py_name(node)
    if name in _PY_SIMPLE:
        return dict(_PY_SIMPLE[name]), False
    return {}, False


def _flatten_union(node: ast.expr) -> list[ast.expr]:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _flatten_union(node.left) + _flatten_union(node.right)
    return [node]


def _py_union(members: list[ast.expr]) -> tuple[dict[str, Any], bool]:
    optional = any(_py_name(m) == "None" for m in members)
    rest = [m for m in members if _py_name(m) != "None"]
    schemas = [_py_annotation(m)[0] for m in rest]
    if len(schemas) == 1:
        return schemas[0], optional
    if schemas and all(schemas):
        return {"anyOf": schemas}, optional
    return {}, optional


def _type_of_value(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"type": "boolean"}
    if isinstance(value, int):
        return {"type": "integer"}
    if isinstance(value, float):
        return {"type": "number"}
    if isinstance(value, str):
        return {"type": "string"}
    if isinstance(value, list):
        return {"type": "array"}
    if isinstance(value, dict):
        return {"type": "object"}
    return {}


# --------------------------------------------------------------------------------------------
# deno / TypeScript

_TS_MAIN_RE = re.compile(r"export\s+(?:default\s+)?(?:async\s+)?function\s*\*?\s*main\s*(?:<[^>(]*>)?\s*\(")
_OPEN = {"(": ")", "[": "]", "{": "}", "<": ">"}


def _ts_params(content: str) -> list[tuple[str, dict[str, Any], bool]] | None:
    match = _TS_MAIN_RE.search(content)
    if match is None:
        return None
    params_src = _balanced(content, match.end())
    if params_src is None:
        return None
    out = []
    for raw in _split_top_level(params_src, ","):
        raw = raw.strip()
        if not raw or raw.startswith("..."):
            continue
        annotation, default = None, None
        head, default = _split_once_top_level(raw, "=")
        name_part, annotation = _split_once_top_level(head, ":")
        name = name_part.strip()
        optional = name.endswith("?")
        name = name.rstrip("?").strip()
        if not re.fullmatch(r"[A-Za-z_$][\w$]*", name):
            continue  # a destructuring pattern: no single name to offer
        prop = _ts_type(annotation.strip()) if annotation else {}
        if default is not None:
            value, ok = _ts_literal(default.strip())
            if ok:
                if not prop:
                    prop = _type_of_value(value)
                prop = {**prop, "default": value}
        out.append((name, prop, default is None and not optional))
    return out


def _balanced(text: str, start: int) -> str | None:
    """Text from ``start`` (just after an opening parenthesis) up to its matching ')'."""
    depth, i, quote = 1, start, None
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 2
                continue
            if ch == quote:
                quote = None
        elif ch in "\"'`":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth == 0:
                return text[start:i]
        i += 1
    return None


def _split_top_level(text: str, sep: str) -> list[str]:
    parts, depth, quote, current = [], 0, None, []
    i = 0
    while i < len(text):
        ch = text[i]
        if quote:
            current.append(ch)
            if ch == "\\" and i + 1 < len(text):
                current.append(text[i + 1])
                i += 2
                continue
            if ch == quote:
                quote = None
        elif ch in "\"'`":
            quote = ch
            current.append(ch)
        elif ch in "([{<":
            depth += 1
            current.append(ch)
        elif ch in ")]}>" and not (ch == ">" and i > 0 and text[i - 1] == "="):
            depth = max(0, depth - 1)
            current.append(ch)
        elif ch == sep and depth == 0 and not (sep == "=" and text[i + 1 : i + 2] in ("=", ">")):
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    parts.append("".join(current))
    return parts


def _split_once_top_level(text: str, sep: str) -> tuple[str, str | None]:
    parts = _split_top_level(text, sep)
    if len(parts) == 1:
        return parts[0], None
    return parts[0], sep.join(parts[1:])


_TS_SIMPLE = {
    "string": {"type": "string"},
    "number": {"type": "number"},
    "bigint": {"type": "integer"},
    "boolean": {"type": "boolean"},
    "object": {"type": "object"},
    "Date": {"type": "string", "format": "date-time"},
    "any": {},
    "unknown": {},
}


def _ts_type(t: str) -> dict[str, Any]:
    t = t.strip()
    union = [p.strip() for p in _split_top_level(t, "|") if p.strip()]
    if len(union) > 1:
        members = [u for u in union if u not in ("undefined", "null")]
        literals = [_ts_literal(u) for u in members]
        if members and all(ok and isinstance(v, str) for v, ok in literals):
            return {"type": "string", "enum": [v for v, _ in literals]}
        if len(members) == 1:
            return _ts_type(members[0])
        return {}
    if t in _TS_SIMPLE:
        return dict(_TS_SIMPLE[t])
    if t.endswith("[]"):
        items = _ts_type(t[:-2])
        return {"type": "array", **({"items": items} if items else {})}
    m = re.fullmatch(r"Array\s*<(.*)>", t, re.S)
    if m:
        items = _ts_type(m.group(1))
        return {"type": "array", **({"items": items} if items else {})}
    if t.startswith("{") or re.match(r"Record\s*<", t):
        return {"type": "object"}
    value, ok = _ts_literal(t)
    if ok and isinstance(value, str):
        return {"type": "string", "enum": [value]}
    return {}


def _ts_literal(text: str) -> tuple[Any, bool]:
    text = text.strip()
    if not text:
        return None, False
    if text[0] == "'" and text[-1] == "'" and len(text) >= 2:
        inner = text[1:-1].replace('\\"', '"').replace('"', '\\"').replace("\\'", "'")
        text = f'"{inner}"'
    elif text[0] == "`" and text[-1] == "`" and "${" not in text and len(text) >= 2:
        text = json.dumps(text[1:-1])
    try:
        return json.loads(text), True
    except (ValueError, RecursionError):
        pass
    # object/array literals with unquoted keys or single quotes: {a: 1, 'b': 'x'}
    candidate = re.sub(r"'((?:[^'\\]|\\.)*)'", lambda m: json.dumps(m.group(1)), text)
    candidate = re.sub(r"([{,]\s*)([A-Za-z_$][\w$]*)\s*:", r'\1"\2":', candidate)
    candidate = re.sub(r",\s*([}\]])", r"\1", candidate)
    try:
        return json.loads(candidate), True
    except (ValueError, RecursionError):
        return None, False


# --------------------------------------------------------------------------------------------
# bash

_BASH_ARG_RE = re.compile(
    r"""^\s*(?:(?:local|declare|readonly|export)\s+)?([A-Za-z_][A-Za-z0-9_]*)="""
    r"""(?:"\$(?:(\d+)|\{(\d+)(?::?-([^}"]*))?\})"|\$(?:(\d+)|\{(\d+)(?::?-([^}\s]*))?\}))\s*(?:#.*)?$""",
    re.M,
)


def _bash_params(content: str) -> list[tuple[str, dict[str, Any], bool]] | None:
    found: dict[int, tuple[str, dict[str, Any], bool]] = {}
    for m in _BASH_ARG_RE.finditer(content):
        name = m.group(1)
        index = next(int(g) for g in (m.group(2), m.group(3), m.group(5), m.group(6)) if g)
        default = m.group(4) if m.group(3) else m.group(7)
        if index == 0 or index in found:
            continue
        prop: dict[str, Any] = {"type": "string"}
        if default is not None:
            prop["default"] = default
        found[index] = (name, prop, default is None)
    return [found[i] for i in sorted(found)]
