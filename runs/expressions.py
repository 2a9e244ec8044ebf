"""JavaScript expressions (input transforms, predicates, iterators) evaluated like Windmill does.

Public interface:

* :func:`evaluate` ``(expr, scope, *, timeout=5.0, max_memory=64 MiB) -> JSON value``
* :func:`syntax_error` ``(expr) -> str | None`` (compile only, for flow validation)
* :class:`ExpressionError` -- the single exception type for every failure.

Engine: mini-racer (embedded V8). Facts this module is built around (see
``spec/stack-notes.md`` §3):

* one V8 context per **process**, created lazily under a lock (never at import time: the Celery
  parent imports this module and then forks; a context inherited through ``fork`` hangs forever),
  warmed up before use, and rebuilt after any timeout or out-of-memory;
* the context is hardened once: every intrinsic reachable from ``globalThis`` and ``globalThis``
  itself are frozen, and ``ArrayBuffer`` & co are deleted because their memory escapes
  ``max_memory``. User code is only ever compiled inside a fresh strict-mode ``new Function``,
  never at script top level, so nothing leaks from one evaluation to the next;
* the scope travels as **one JSON string** that V8 ``JSON.parse``-es (about 2x faster than an
  object literal), and the value comes back as a JSON string.

Windmill rules (spec §3.3): text that starts with a statement keyword or contains a ``;`` outside
quotes / backticks / comments is a function body (it needs an explicit ``return``, else the value
is ``null``); anything else is ``return (<expr>)``. ``undefined`` and functions become ``null``.
Text containing ``await`` is compiled as an ``async`` function and its promise is resolved under
the same timeout.

Differences from Windmill worth knowing:

* ``variable(path)`` and ``resource(path)`` exist (so expressions that mention them compile and
  run) but return ``null``: there is no variable / resource store yet. They are synchronous;
  ``await variable("x")`` works as well.
* ``results`` is a plain object built from what the caller passes (the engine passes the ids an
  expression refers to). Windmill's quirk where ``results['id']`` (single quotes) yields a pending
  promise that serialises as ``{}`` is not reproduced: it yields the value.
* There are no timers (``setTimeout`` throws): a promise still pending once the microtask queue
  has drained can never settle, so it fails at once instead of waiting for the timeout.
"""

from __future__ import annotations

import json
import math
import os
import queue
import re
import sys
import threading
import time
from typing import Any

import orjson

from openflow_site.storable import nul_message, nul_path

__all__ = ["ExpressionError", "evaluate", "syntax_error", "DEFAULT_TIMEOUT", "DEFAULT_MAX_MEMORY"]

DEFAULT_TIMEOUT = 5.0
DEFAULT_MAX_MEMORY = 64 * 1024 * 1024


class ExpressionError(Exception):
    """An expression could not be evaluated (syntax error, thrown error, timeout, memory limit)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# ---------------------------------------------------------------------------------------------
# Classification (Windmill spec §3.3)
# ---------------------------------------------------------------------------------------------

# Exactly Windmill's list, prefixes compared on the trimmed text. Note that "if", "for", "while",
# "switch", "try" and "return" carry no trailing space, so `format(x)` counts as a body, as there.
_BODY_PREFIXES = (
    "return", "const ", "let ", "var ", "if", "for", "while", "switch", "try", "throw ",
    "function ", "class ", "async ", "await ",
)

# Words without which user code cannot (short of obfuscation) leave work in the microtask queue.
# Their presence sends the evaluation down the slightly slower "drain" path (see _evaluate_js).
_ASYNC_HINTS = ("await", "async", "then", "Promise", "queueMicrotask", "import")


def _has_semicolon_outside_literals(text: str) -> bool:
    """True if `text` contains ``;`` outside '...', "...", `...`, // and /* */ comments."""
    if ";" not in text:  # the common case costs one C-level scan
        return False
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in "'\"`":
            i += 1
            while i < n and text[i] != c:
                i += 2 if text[i] == "\\" else 1
        elif c == "/" and i + 1 < n and text[i + 1] == "/":
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif c == "/" and i + 1 < n and text[i + 1] == "*":
            j = text.find("*/", i + 2)
            i = n if j < 0 else j + 1
        elif c == ";":
            return True
        i += 1
    return False


def _is_function_body(expr: str) -> bool:
    stripped = expr.strip()
    return stripped.startswith(_BODY_PREFIXES) or _has_semicolon_outside_literals(stripped)


# ---------------------------------------------------------------------------------------------
# Fast path (no V8) for plain property paths
# ---------------------------------------------------------------------------------------------

_IDENT = r"[A-Za-z_$][A-Za-z0-9_$]*"
_SEGMENT = r"\." + _IDENT + r"""|\[(?:\d+|"[^"\\\n]*"|'[^'\\\n]*')\]"""
_PATH_RE = re.compile("(" + _IDENT + ")((?:" + _SEGMENT + ")*)")
_SEGMENT_RE = re.compile(r"\.(" + _IDENT + r""")|\[(\d+)\]|\["([^"\\\n]*)"\]|\['([^'\\\n]*)'\]""")
_CANONICAL_INDEX_RE = re.compile(r"0|[1-9][0-9]*")

# Properties every JSON object inherits from Object.prototype: a missing own key with one of these
# names is *not* undefined in JS, so such lookups go to V8.
_OBJECT_PROTO_NAMES = frozenset({
    "constructor", "hasOwnProperty", "isPrototypeOf", "propertyIsEnumerable", "toLocaleString",
    "toString", "valueOf", "__proto__", "__defineGetter__", "__defineSetter__", "__lookupGetter__",
    "__lookupSetter__",
})

_MISSING = object()  # JS `undefined` during the walk
_NO_FAST_PATH = object()


def _fast_path(expr: str, scope: dict[str, Any]) -> Any:
    """Resolve `root(.key|[n]|["key"])*` without V8, or return _NO_FAST_PATH.

    Answers are those V8 would give for JSON data, with one deliberate Windmill rule: a path rooted
    at ``results`` yields ``null`` when a key is missing or an intermediate value is ``null``
    (Windmill resolves those with a JSON-path query; plain JS would throw a TypeError).
    Anything else that is not a plain own-property lookup on JSON (``.length``, prototype names,
    properties of strings / numbers, access on ``null`` outside ``results``) goes to V8.
    """
    m = _PATH_RE.fullmatch(expr)
    if m is None:
        return _NO_FAST_PATH
    root, rest = m.group(1), m.group(2)
    if root not in scope:
        return _NO_FAST_PATH
    value = scope[root]
    lenient = root == "results"
    if rest:
        for seg in _SEGMENT_RE.finditer(rest):
            name, index, dq, sq = seg.groups()
            key = name if name is not None else index if index is not None else dq if dq is not None else sq
            if key == "length":
                return _NO_FAST_PATH
            if value is _MISSING or value is None:
                if lenient:
                    return None
                return _NO_FAST_PATH  # JS throws a TypeError: let V8 word it
            if isinstance(value, dict):
                if key in value:
                    value = value[key]
                elif key in _OBJECT_PROTO_NAMES:
                    return _NO_FAST_PATH
                else:
                    value = _MISSING
            elif isinstance(value, list):
                if _CANONICAL_INDEX_RE.fullmatch(key) is None:
                    return _NO_FAST_PATH  # array methods and properties
                i = int(key)
                value = value[i] if i < len(value) else _MISSING
            else:
                return _NO_FAST_PATH  # string / number / boolean properties
    if value is _MISSING:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return _NO_FAST_PATH  # not JSON; let the V8 path report it
    return value


# ---------------------------------------------------------------------------------------------
# The V8 context
# ---------------------------------------------------------------------------------------------

# Runs once per context, at script top level (our code only). Defines one lexical binding,
# `__ofs`, which is not a property of the (frozen) global object.
_BOOTSTRAP_JS = r"""
const __ofs = (function () {
  'use strict';
  const G = globalThis;
  // ArrayBuffer-backed memory lives outside the V8 heap, so max_memory would not bound it.
  for (const name of Object.getOwnPropertyNames(G)) {
    if (/^(?:Big)?(?:Int|Uint|Float)(?:8|16|32|64)(?:Clamped)?Array$/.test(name)) delete G[name];
  }
  for (const name of ['ArrayBuffer', 'SharedArrayBuffer', 'DataView', 'WebAssembly', 'Atomics',
                      'queueMicrotask', 'FinalizationRegistry', 'WeakRef']) {
    delete G[name];
  }
  // mini-racer's setTimeout shim needs SharedArrayBuffer (gone) and would not be bounded by our
  // timeout anyway; its globals are `var`s (not deletable), so make them fail clearly.
  const noTimers = function () { throw new Error('timers are not available in expressions'); };
  for (const name of ['setTimeout', 'clearTimeout', '__timer_manager']) {
    if (name in G) G[name] = name === '__timer_manager' ? undefined : noTimers;
  }

  const AsyncFunction = Object.getPrototypeOf(async function () {}).constructor;
  const stringify = JSON.stringify;
  const hasOwn = (o, k) => Object.prototype.hasOwnProperty.call(o, k);
  const parse = JSON.parse;
  const toJson = (v) => {
    const s = stringify(v === undefined ? null : v);
    return s === undefined ? 'null' : s;  // functions, symbols
  };
  const describe = (e) => {
    try {
      if (e !== null && typeof e === 'object' && 'message' in e) {
        return (e.name ? String(e.name) : 'Error') + ': ' + String(e.message);
      }
      return 'Uncaught ' + String(e);
    } catch (e2) {
      return 'Error: unprintable thrown value';
    }
  };
  const helpers = {
    variable: function variable(path) { return null; },
    resource: function resource(path) { return null; },
  };
  Object.freeze(helpers.variable); Object.freeze(helpers.resource);

  // Compile user text into a fresh strict function taking the scope names as parameters.
  // A body is first parsed on its own (so it cannot close the wrapper's braces), then nested in a
  // wrapper so that it may redeclare scope names (`const result = ...`), as Windmill allows.
  const compile = (code, isBody, isAsync, names) => {
    if (!isBody) {
      const Ctor = isAsync ? AsyncFunction : Function;
      return new Ctor(...names, '"use strict";\nreturn (\n' + code + '\n);');
    }
    if (isAsync) { new AsyncFunction('"use strict";\n' + code + '\n'); } else { new Function('"use strict";\n' + code + '\n'); }
    return new Function(...names, '"use strict";\nreturn (' + (isAsync ? 'async ' : '') +
                        'function () {\n' + code + '\n})();');
  };

  let settled = null;  // outcome of the last async evaluation, read by take()
  // `ctxArg` is the scope as an object literal, or as a JSON string when it holds a "__proto__"
  // key (which a literal would turn into a prototype instead of an own property).
  const run = (code, isBody, isAsync, drain, names, ctxArg) => {
    let value;
    try {
      const ctx = typeof ctxArg === 'string' ? parse(ctxArg) : ctxArg;
      const args = names.map((n) => (hasOwn(ctx, n) ? ctx[n] : helpers[n]));
      value = compile(code, isBody, isAsync, names)(...args);
      if (!drain) return 'V' + toJson(value);
    } catch (e) {
      return 'E' + describe(e);
    }
    settled = null;
    if (value !== null && (typeof value === 'object' || typeof value === 'function') &&
        typeof value.then === 'function') {
      Promise.resolve(value).then(
        (v) => { try { settled = 'V' + toJson(v); } catch (e) { settled = 'E' + describe(e); } },
        (e) => { settled = 'E' + describe(e); });
      return 'P';
    }
    try { return 'V' + toJson(value); } catch (e) { return 'E' + describe(e); }
  };
  // Called as a separate task: V8 drains the microtask queue between tasks, so by the time this
  // runs every promise that can settle has settled.
  const take = () => { const s = settled; settled = null; return s === null ? 'P' : s; };
  const check = (code, isBody, isAsync, names) => {
    try { compile(code, isBody, isAsync, names); return ''; } catch (e) { return describe(e); }
  };

  // Freeze every intrinsic reachable from globalThis, then globalThis itself.
  const seen = new Set();
  const freeze = (o) => {
    if (o === null || (typeof o !== 'object' && typeof o !== 'function') || seen.has(o)) return;
    seen.add(o);
    Object.freeze(o);
    for (const k of Reflect.ownKeys(o)) {
      const d = Object.getOwnPropertyDescriptor(o, k);
      if (!d) continue;
      if ('value' in d) freeze(d.value);
      if (d.get) freeze(d.get);
      if (d.set) freeze(d.set);
    }
    freeze(Object.getPrototypeOf(o));
  };
  freeze(Object.getPrototypeOf(function* () {}));
  freeze(Object.getPrototypeOf(async function () {}));
  freeze(Object.getPrototypeOf(async function* () {}));
  freeze(G);
  return Object.freeze({ run, take, check });
})();
'ready'
"""

# Scope names used when checking syntax without a scope (they matter only for collisions).
_DEFAULT_NAMES = (
    "flow_input", "results", "previous_result", "result", "resume", "resumes", "approvers",
    "params", "flow_env", "error", "all_iters", "iter", "variable", "resource",
)

_JS_RESERVED = frozenset(
    "break case catch class const continue debugger default delete do else enum export extends "
    "false finally for function if import in instanceof new null return super switch this throw "
    "true try typeof var void while with yield let static implements interface package private "
    "protected public await arguments eval".split()
)
_IDENT_RE = re.compile(_IDENT)


class _V8:
    """The process's single hardened V8 context plus the bookkeeping around it."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.mr: Any = None
        self.pid = 0
        self.memory_limit: int | None = None
        self.direct = False  # submit tasks to the DLL directly (see eval)

    def eval(self, code: str, timeout: float) -> Any:
        """Evaluate our own wrapper code with a wall-clock timeout. Call with lock held.

        mini-racer's public ``eval(timeout_sec=)`` hops through its asyncio thread and
        ``asyncio.wait_for``: about 2x the cost of the V8 work itself here. When the internals it
        is built on are present (checked at context creation), submit the task straight to the
        DLL and wait on the result queue ourselves; on timeout cancel the task, which terminates
        the running JS.
        """
        from py_mini_racer import JSTimeoutException

        if not self.direct:
            return self.mr.eval(code, timeout_sec=timeout)
        ctx = self.mr._ctx
        handle = ctx._python_to_value_handle(code)
        task_id = ctx._dll.mr_eval(ctx._ctx, handle.raw, 0)  # 0 = "uncancelable" result queue
        results = ctx._non_cancelable_mr_task_results_queue
        try:
            raw_result = results.get(timeout=timeout)
        except queue.Empty:
            ctx._dll.mr_cancel_task(ctx._ctx, task_id)
            try:
                results.get(timeout=0.2)  # the termination report; none if stuck in microtasks
            except queue.Empty:
                pass
            del handle
            raise JSTimeoutException() from None
        del handle
        return ctx._value_handle_to_python(raw_result)

    def get(self) -> Any:
        """Return the live MiniRacer, creating and hardening it if needed. Call with lock held."""
        if self.mr is not None and self.pid == os.getpid():
            return self.mr
        if self.mr is not None:
            # Inherited through fork: its event-loop thread does not exist here, and closing or
            # even garbage-collecting it would hang. Keep it referenced forever instead.
            _ORPHANS.append(self.mr)
            self.mr = None
        from py_mini_racer import MiniRacer  # imported lazily: 66 ms, and only workers need it

        mr = MiniRacer()
        mr.eval("1")  # warm-up before anything else touches V8 (see stack-notes: thread crash)
        mr.eval(_BOOTSTRAP_JS)
        self.mr, self.pid, self.memory_limit = mr, os.getpid(), None
        ctx = getattr(mr, "_ctx", None)
        self.direct = all(
            hasattr(x, a) for x, a in (
                (ctx, "_python_to_value_handle"), (ctx, "_value_handle_to_python"), (ctx, "_dll"),
                (ctx, "_ctx"), (ctx, "_non_cancelable_mr_task_results_queue"),
            )
        )
        return mr

    def discard(self) -> None:
        """Drop the context (after a timeout / OOM); the next call builds a fresh one."""
        mr, self.mr = self.mr, None
        if mr is None or self.pid != os.getpid():
            return
        # Closing an isolate that is stuck in a microtask loop makes mini-racer report the
        # cancelled tasks to a loop that is already closed ("Event loop is closed", printed as an
        # unraisable exception). That is expected here: silence just that, just during close.
        previous_hook = sys.unraisablehook

        def hook(unraisable: Any) -> None:
            if not (isinstance(unraisable.exc_value, RuntimeError)
                    and "Event loop is closed" in str(unraisable.exc_value)):
                previous_hook(unraisable)

        sys.unraisablehook = hook
        try:
            mr.close()  # also stops a microtask loop that a timeout could not interrupt
        except Exception:  # noqa: BLE001 - best effort, the context is gone either way
            pass
        finally:
            sys.unraisablehook = previous_hook


_ORPHANS: list[Any] = []
_V8_STATE = _V8()


def _after_fork_in_child() -> None:
    # The parent's lock may have been held by another thread at fork time.
    _V8_STATE.lock = threading.RLock()


os.register_at_fork(after_in_child=_after_fork_in_child)


def _scope_names(scope: dict[str, Any], expr: str) -> list[str]:
    """The scope names to pass to V8: those whose name occurs in the text.

    A name that does not occur in the text cannot be referenced by it, so serialising and
    parsing its value (often the bulk of the scope) is wasted work -- unless the text reaches
    variables dynamically (direct ``eval``, ``arguments``), in which case everything is passed.
    """
    for name in scope:
        if not isinstance(name, str) or _IDENT_RE.fullmatch(name) is None or name in _JS_RESERVED:
            raise ExpressionError(f"invalid scope variable name {name!r}")
    if "eval" in expr or "arguments" in expr:
        names = list(scope)
    else:
        names = [name for name in scope if name in expr]
    for helper in ("variable", "resource"):
        if helper not in scope and helper in expr:
            names.append(helper)
    return names


_ENCODER = json.JSONEncoder(allow_nan=False, separators=(",", ":"))


def _encode_scope(scope: dict[str, Any]) -> str:
    """The scope as compact JSON. orjson does it ~10x faster than the standard library (13 vs 170 us
    for the benchmark's 10 KB scope); it writes NaN / Infinity as null, as JSON.stringify would.
    What it refuses (integers beyond 64 bits, non-string keys, non-JSON types) goes to the standard
    encoder, which either handles it or raises."""
    try:
        return orjson.dumps(scope).decode()
    except TypeError:
        return _ENCODER.encode(scope)


def _js_bool(flag: bool) -> str:
    return "true" if flag else "false"


def _decode(tagged: str) -> Any:
    if tagged[0] == "V":
        value = orjson.loads(tagged[1:])
        # JSON.stringify writes U+0000 as \u0000; the database could not store such a value.
        if "\\u0000" in tagged and (where := nul_path(value)) is not None:
            raise ExpressionError(f"the expression's value can't be stored: {nul_message(where)}")
        return value
    raise ExpressionError(tagged[1:])


def _evaluate_js(expr: str, scope: dict[str, Any], timeout: float, max_memory: int) -> Any:
    from py_mini_racer import JSOOMException, JSTimeoutException

    is_async = "await" in expr
    drain = any(h in expr for h in _ASYNC_HINTS)
    names = _scope_names(scope, expr)
    try:
        ctx_json = _encode_scope(scope if len(names) >= len(scope) else {n: scope[n] for n in names if n in scope})
    except (TypeError, ValueError) as e:
        raise ExpressionError(f"scope is not JSON-serialisable: {e}") from e
    # Strict JSON is a valid JS literal, and measured here it is cheaper than a JSON string that
    # V8 parses (no second escaping pass in Python). Every argument is a JSON literal, so user
    # text is data here: it is compiled only inside run(), by `new Function`.
    ctx_literal = json.dumps(ctx_json) if '"__proto__"' in ctx_json else ctx_json
    source = (
        f"__ofs.run({json.dumps(expr)},{_js_bool(_is_function_body(expr))},{_js_bool(is_async)},"
        f"{_js_bool(drain)},{json.dumps(names)},{ctx_literal})"
    )
    state = _V8_STATE
    with state.lock:
        mr = state.get()
        if state.memory_limit != max_memory:
            mr.set_hard_memory_limit(max_memory)  # sticky on the isolate
            state.memory_limit = max_memory
        started = time.monotonic()
        try:
            out = state.eval(source, timeout)
            if out == "P":
                # A promise: its continuations run as microtasks after that task; this second task
                # queues behind them. A timeout here means a microtask never ends, which V8's
                # termination does not reach: discard() closes the isolate.
                remaining = max(timeout - (time.monotonic() - started), 0.001)
                out = state.eval("__ofs.take()", remaining)
                if out == "P":
                    raise ExpressionError(
                        "expression returned a promise that never settles (no timers or I/O exist here)"
                    )
        except JSTimeoutException:
            state.discard()
            raise ExpressionError(f"expression timed out after {timeout:g} s") from None
        except JSOOMException:
            state.discard()
            raise ExpressionError(
                f"expression exceeded the memory limit of {max_memory // (1024 * 1024)} MiB"
            ) from None
        except ExpressionError:
            raise
        except Exception as e:  # noqa: BLE001 - anything else from V8 is an expression failure
            state.discard()
            raise ExpressionError(f"expression failed: {e}") from None
        if mr.was_hard_memory_limit_reached():
            state.discard()
    if not isinstance(out, str) or not out:
        raise ExpressionError(f"unexpected result from the JS engine: {out!r}")
    return _decode(out)


def evaluate(
    expr: str,
    scope: dict[str, Any],
    *,
    timeout: float = DEFAULT_TIMEOUT,
    max_memory: int = DEFAULT_MAX_MEMORY,
) -> Any:
    """Evaluate a Windmill-style JavaScript expression and return its value as JSON data.

    `scope` maps variable names (``flow_input``, ``results``, ``previous_result``, ``result``,
    ``iter``, ... -- whatever the caller passes) to JSON values; each key becomes a variable the
    expression sees. ``variable(path)`` and ``resource(path)`` are also defined and return
    ``null`` (no variable store yet) unless the scope provides its own.

    Plain paths (``flow_input.x``, ``results.a.b[0]``, bare scope names) are answered without V8;
    such answers may share structure with `scope`, so treat the result as read-only.

    Raises :class:`ExpressionError` for a syntax error, a thrown error (``"TypeError: ..."``), a
    timeout (``"expression timed out after 5 s"``), the memory limit, or a result that is not
    JSON-serialisable (e.g. a BigInt). Safe to call from several threads (calls are serialised)
    and after ``fork`` (each process builds its own context on first use).
    """
    if not isinstance(expr, str):
        raise ExpressionError(f"expression must be a string, not {type(expr).__name__}")
    stripped = expr.strip()
    value = _fast_path(stripped, scope)
    if value is not _NO_FAST_PATH:
        return value
    return _evaluate_js(expr, scope, timeout, max_memory)


def syntax_error(expr: str) -> str | None:
    """Compile `expr` by the same rules as :func:`evaluate` without running it.

    Returns a readable message (``"SyntaxError: Unexpected token ')'"``) or ``None`` if it
    compiles. Undefined variables are not syntax errors (they fail at run time).
    """
    if not isinstance(expr, str):
        return f"expression must be a string, not {type(expr).__name__}"
    source = (
        f"__ofs.check({json.dumps(expr)},{_js_bool(_is_function_body(expr))},"
        f"{_js_bool('await' in expr)},{json.dumps(list(_DEFAULT_NAMES))})"
    )
    state = _V8_STATE
    with state.lock:
        try:
            state.get()
            out = state.eval(source, DEFAULT_TIMEOUT)
        except Exception as e:  # noqa: BLE001 - a pathological parse; report, keep going
            state.discard()
            return f"could not compile expression: {e}"
    return out or None
