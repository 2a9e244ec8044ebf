"""A tiny test evaluator for the JS ∩ Python expression subset, so engine tests need no V8.

Supports: attribute access over objects (`flow_input.x`, `results.a.b`), indexing, `.length`,
literals, arithmetic and comparisons, `===`/`!==`, `&&`/`||`/`!`, `true/false/null/undefined`,
an optional leading `return`. A missing property is `undefined` (-> None); reading a property of
null raises, like JavaScript. Any error raises, as the real evaluator does.
"""

from __future__ import annotations

import re
from typing import Any

_STRING = re.compile(r"(\"(?:\\.|[^\"\\])*\"|'(?:\\.|[^'\\])*')")
_WORDS = {"true": "True", "false": "False", "null": "None", "undefined": "None"}


class JSObject:
    __slots__ = ("_d",)

    def __init__(self, d: dict):
        object.__setattr__(self, "_d", d)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return wrap(self._d.get(name))

    def __getitem__(self, key: Any) -> Any:
        return wrap(self._d.get(key))

    def __eq__(self, other: Any) -> bool:
        return unwrap(self) == unwrap(other)

    def __bool__(self) -> bool:
        return True

    def __contains__(self, key: Any) -> bool:
        return key in self._d


class JSArray:
    __slots__ = ("_l",)

    def __init__(self, items: list):
        object.__setattr__(self, "_l", items)

    @property
    def length(self) -> int:
        return len(self._l)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return None

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, int) and 0 <= index < len(self._l):
            return wrap(self._l[index])
        return None

    def __eq__(self, other: Any) -> bool:
        return unwrap(self) == unwrap(other)

    def __bool__(self) -> bool:
        return True

    def __iter__(self):
        return (wrap(x) for x in self._l)

    def __len__(self) -> int:
        return len(self._l)


def wrap(value: Any) -> Any:
    if isinstance(value, dict):
        return JSObject(value)
    if isinstance(value, list):
        return JSArray(value)
    return value


def unwrap(value: Any) -> Any:
    if isinstance(value, JSObject):
        return {k: unwrap(v) for k, v in value._d.items()}
    if isinstance(value, JSArray):
        return [unwrap(v) for v in value._l]
    if isinstance(value, dict):
        return {k: unwrap(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [unwrap(v) for v in value]
    return value


def _translate_code(code: str) -> str:
    code = code.replace("===", "==").replace("!==", "!=").replace("?.", ".")
    code = code.replace("&&", " and ").replace("||", " or ")
    code = re.sub(r"!(?!=)", " not ", code)
    return re.sub(r"\b(true|false|null|undefined)\b", lambda m: _WORDS[m.group(1)], code)


def translate(expr: str) -> str:
    text = expr.strip()
    if text.startswith("return "):
        text = text[len("return "):]
    text = text.rstrip(";").strip()
    parts = _STRING.split(text)
    return "".join(p if i % 2 else _translate_code(p) for i, p in enumerate(parts))


_BUILTINS = {"len": len, "str": str, "int": int, "float": float, "abs": abs, "min": min, "max": max,
             "sum": sum, "list": list, "round": round, "isinstance": isinstance}


def evaluate(expr: str, scope: dict) -> Any:
    """The injected evaluator used by the engine tests."""
    names = {k: wrap(v) for k, v in scope.items()}
    return unwrap(eval(translate(expr), {"__builtins__": _BUILTINS}, names))  # noqa: S307 - test helper


class Recorder:
    """An evaluator that records every (expr, scope) it receives."""

    def __init__(self, inner=evaluate):
        self.inner = inner
        self.calls: list[tuple[str, dict]] = []

    def __call__(self, expr: str, scope: dict) -> Any:
        self.calls.append((expr, scope))
        return self.inner(expr, scope)

    def scopes_for(self, expr: str) -> list[dict]:
        return [scope for e, scope in self.calls if e == expr]
