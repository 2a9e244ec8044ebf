"""runs.expressions: Windmill expression rules on a hardened mini-racer context."""

from __future__ import annotations

import json
import multiprocessing
import threading
import time

import pytest

from runs import expressions
from runs.expressions import _NO_FAST_PATH, ExpressionError, _evaluate_js, _fast_path, evaluate, syntax_error

SCOPE = {
    "flow_input": {"name": "Ada", "n": 3, "list": [1, 2, 3], "nested": {"a": {"b": [10, {"c": "deep"}]}},
                   "nothing": None, "s": "text", "weird key": 1, "0": "zero"},
    "results": {"a": {"b": [{"c": 5}], "items": [{"id": 1}, {"id": 2}]}, "n": None, "s": "str", "arr": [1, 2]},
    "previous_result": {"x": 1, "y": [1, 2]},
    "flow_env": {"K": "v"},
    "params": {},
}


def ev(expr: str, **extra):
    return evaluate(expr, {**SCOPE, **extra})


# --- Windmill rules: expression vs function body -------------------------------------------------

@pytest.mark.parametrize(("expr", "expected"), [
    ("flow_input.n + 1", 4),
    ("`Hello ${flow_input.name}`", "Hello Ada"),
    ("flow_input.list.map(x => x * 2)", [2, 4, 6]),
    ("  flow_input.n  ", 3),
    ("({a: 1}).a", 1),
    ("return flow_input.n * 2", 6),
    ("const x = 2; return x * flow_input.n", 6),
    ("let r = []; for (const v of flow_input.list) r.push(v); return r", [1, 2, 3]),
    ("if (flow_input.n > 2) { return 'big' } else { return 'small' }", "big"),
    ("flow_input.n * 2;", None),  # a `;` makes it a body: no return -> null
    ("const x = 1", None),
    ("'a;b'", "a;b"),  # `;` inside quotes does not count
    ('"a;b" + `c;d`', "a;bc;d"),
    ("flow_input.n // trailing comment; still an expression", 3),
    ("flow_input.n /* a ; in a comment */ + 1", 4),
    ("let result = 5; return result", 5),  # a body may redeclare a scope name, as in Windmill
    ("function f(x) { return x + 1 } return f(1)", 2),
    ("try { throw new Error('x') } catch (e) { return e.message }", "x"),
    ("var x = 2; return x", 2),
    ("var x = 2", None),  # `var ` starts a body even without a `;`: no return -> null
    ("for (const v of flow_input.list) { if (v > 1) return v }", 2),
    ("while (true) { return 7 }", 7),
    ("switch (flow_input.n) { case 3: return 'three' }", "three"),
    ("class A { static v() { return flow_input.n } } return A.v()", 3),
    ("async function f() { return 2 } return await f()", 2),
])
def test_expression_rules(expr, expected):
    assert ev(expr) == expected


# Windmill compares prefixes on the trimmed text and "return", "if", "for", "while", "switch" and
# "try" carry no trailing space (spec §3.3): an identifier that merely begins with one of them
# turns the text into a function body, which has no `return` -> null.
@pytest.mark.parametrize(("expr", "name"), [
    ("trying.length", "trying"),
    ("format.length", "format"),
    ("iffy ? 1 : 2", "iffy"),
    ("forty + 2", "forty"),
    ("whiled.length", "whiled"),
    ("switched.length", "switched"),
    ("returned + 1", "returned"),
])
def test_keyword_prefix_without_space_makes_a_body(expr, name):
    assert evaluate(expr, {name: "abc"}) is None


# The other prefixes include a space, so identifiers beginning with those words stay expressions.
@pytest.mark.parametrize(("expr", "name"), [
    ("constant.length", "constant"),
    ("lettuce.length", "lettuce"),
    ("variance.length", "variance"),
    ("throwaway.length", "throwaway"),
    ("functional.length", "functional"),
    ("classy.length", "classy"),
    ("asyncy.length", "asyncy"),
    ("awaited.length", "awaited"),
])
def test_keyword_prefix_with_space_needs_the_space(expr, name):
    assert evaluate(expr, {name: "abc"}) == 3


def test_body_may_redeclare_a_scope_variable():
    assert evaluate("const result = previous_result.x + 1; return result", {"result": 7, "previous_result": {"x": 1}}) == 2


@pytest.mark.parametrize(("expr", "expected"), [
    ("undefined", None),
    ("() => 1", None),
    ("Symbol('x')", None),
    ("null", None),
    ("[1, undefined, () => 1]", [1, None, None]),
    ("({a: undefined, b: 1})", {"b": 1}),
    ("1.5", 1.5),
    ("'\u2028'", "\u2028"),
    ("new Date(0).toISOString()", "1970-01-01T00:00:00.000Z"),
    ("Math.max(...flow_input.list)", 3),
    ("JSON.stringify({a: 1})", '{"a":1}'),
    ("[3, 1, 2].sort()", [1, 2, 3]),
])
def test_result_is_json(expr, expected):
    assert ev(expr) == expected


def test_await_and_async_bodies():
    assert ev("return await Promise.resolve(flow_input.n)") == 3
    assert ev("(await Promise.resolve(2)) * 2") == 4
    assert ev("await Promise.resolve(1)") is None  # starts with `await `: a body without return
    assert ev("Promise.resolve(5)") == 5  # the promise is resolved, as an async body would
    assert ev("return Promise.all([1, Promise.resolve(2)])") == [1, 2]
    assert ev("return (async () => { await null; await null; return 9 })()") == 9
    assert ev("return await variable('u/x/secret')") is None
    assert ev("variable('u/x/secret')") is None
    assert ev("resource('u/x/r')") is None


def test_rejected_promise_is_an_error():
    with pytest.raises(ExpressionError, match="RangeError: nope"):
        ev("return await Promise.reject(new RangeError('nope'))")


def test_promise_that_never_settles_fails_fast():
    t0 = time.monotonic()
    with pytest.raises(ExpressionError, match="never settles"):
        ev("return await new Promise(() => {})")
    assert time.monotonic() - t0 < 1


def test_scope_keys_become_variables():
    scope = {"iter": {"index": 2, "value": "v"}, "all_iters": [1, 2], "result": 1, "resume": {"ok": True},
             "resumes": [], "approvers": ["bob"], "error": {"name": "E"}}
    assert evaluate("[iter.index, all_iters.length, result, resume.ok, approvers[0], error.name, resumes]", scope) \
        == [2, 2, 1, True, "bob", "E", []]


def test_missing_variable_is_a_reference_error():
    with pytest.raises(ExpressionError, match="ReferenceError: result is not defined"):
        evaluate("result + 1", {"flow_input": {}})


def test_scope_may_override_variable_helper():
    with pytest.raises(ExpressionError, match="TypeError"):
        evaluate("variable('x')", {"variable": 5})


def test_invalid_scope_name_is_rejected():
    with pytest.raises(ExpressionError, match="invalid scope variable name"):
        evaluate("1", {"not-an-identifier": 1})


def test_dynamic_access_to_scope_via_arguments_and_eval():
    # names absent from the text are not passed, except when the text reaches them dynamically
    assert evaluate("arguments[0].n", {"flow_input": {"n": 1}}) == 1
    assert evaluate("eval('flow' + '_input').n", {"flow_input": {"n": 2}}) == 2


# --- errors ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("expr", "message"), [
    ("throw new TypeError('boom')", "TypeError: boom"),
    ("throw new RangeError(flow_input.name)", "RangeError: Ada"),  # `throw ` starts a body
    ("flow_input.missing.x", "TypeError: Cannot read properties of undefined (reading 'x')"),
    ("throw 'plain string'", "Uncaught plain string"),
    ("nope()", "ReferenceError: nope is not defined"),
    ("1 +", "SyntaxError"),
    ("return )", "SyntaxError"),
    ("10n ** 2n", "TypeError: Do not know how to serialize a BigInt"),
    ("'x'.repeat(2 ** 30)", "RangeError"),
    ("(function f() { return f() })()", "RangeError: Maximum call stack size exceeded"),
    ("}); globalThis.x = 1; (function() {", "SyntaxError"),
])
def test_errors(expr, message):
    with pytest.raises(ExpressionError) as info:
        ev(expr)
    assert message in str(info.value)


def test_non_string_expression():
    with pytest.raises(ExpressionError, match="must be a string"):
        evaluate(3, {})  # type: ignore[arg-type]


def test_scope_must_be_json():
    with pytest.raises(ExpressionError, match="JSON"):
        evaluate("x.length", {"x": {1, 2}})


def test_nan_in_the_scope_arrives_as_null_like_json_stringify():
    assert evaluate("x === null", {"x": float("nan")}) is True


def test_scope_with_integers_beyond_64_bits_still_evaluates():
    assert evaluate("x.big > 1e29 && x.small === 1", {"x": {"big": 10**30, "small": 1}}) is True


# --- isolation and hardening -----------------------------------------------------------------------

@pytest.mark.parametrize("expr", [
    "typeof require", "typeof process", "typeof fetch", "typeof Deno", "typeof XMLHttpRequest",
    "typeof ArrayBuffer", "typeof SharedArrayBuffer", "typeof DataView", "typeof WebAssembly",
    "typeof Atomics", "typeof Uint8Array", "typeof Float64Array", "typeof BigInt64Array",
    "typeof queueMicrotask",
])
def test_no_escape_hatches(expr):
    assert ev(expr) == "undefined"


def test_require_and_io_fail():
    for expr in ["require('fs')", "process.env", "fetch('http://example.com')", "new Uint8Array(1e9)",
                 "import('fs')"]:
        with pytest.raises(ExpressionError):
            ev(expr)


def test_timers_fail_clearly():
    with pytest.raises(ExpressionError, match="timers are not available"):
        ev("setTimeout(() => 1, 10)")


def test_globals_and_intrinsics_are_frozen():
    for expr in ["globalThis.leak = 1", "Array.prototype.evil = 1", "Object.prototype.x = 1",
                 "Math.max = () => 0", "JSON.parse = null"]:
        with pytest.raises(ExpressionError, match="TypeError"):
            ev(expr)
    assert ev("typeof globalThis.leak") == "undefined"
    assert ev("[].evil") is None
    assert ev("Math.max(1, 2)") == 2


def test_sloppy_global_assignment_is_impossible():
    with pytest.raises(ExpressionError, match="ReferenceError|TypeError"):
        ev("leaked = 5")
    with pytest.raises(ExpressionError):
        ev("(0, eval)('var leaked2 = 1'); return 1")
    assert ev("typeof leaked2") == "undefined"


def test_mutating_scope_does_not_leak_between_evaluations():
    scope = {"flow_input": {"a": [1]}}
    assert evaluate("flow_input.a.push(2); flow_input.b = 1; return flow_input", scope) == {"a": [1, 2], "b": 1}
    assert evaluate("flow_input.a.length + (flow_input.b === undefined ? 0 : 100)", scope) == 1
    assert scope == {"flow_input": {"a": [1]}}


def test_timeout_then_fresh_context():
    t0 = time.monotonic()
    with pytest.raises(ExpressionError, match=r"expression timed out after 0.3 s"):
        evaluate("while (true) {}", {}, timeout=0.3)
    assert time.monotonic() - t0 < 1.5
    assert ev("flow_input.n * 2") == 6
    assert ev("typeof globalThis.leak") == "undefined"


def test_timeout_inside_microtask_loop():
    t0 = time.monotonic()
    with pytest.raises(ExpressionError, match="timed out"):
        evaluate("return (async () => { await null; while (true) {} })()", {}, timeout=0.3)
    assert time.monotonic() - t0 < 2
    assert ev("1 + 1") == 2


def test_memory_limit_then_fresh_context():
    t0 = time.monotonic()
    with pytest.raises(ExpressionError, match="memory limit"):
        evaluate("const a = []; while (true) a.push(new Array(1e5).fill(1.5))", {}, max_memory=64 * 1024 * 1024)
    assert time.monotonic() - t0 < 5
    assert ev("[1, 2].map(x => x + 1)") == [2, 3]


def test_context_is_rebuilt_in_a_forked_child():
    ev("1")  # make sure the parent has a live context
    ctx = multiprocessing.get_context("fork")
    q = ctx.Queue()

    def child(q):
        try:
            q.put(evaluate("flow_input.n + 1", {"flow_input": {"n": 41}}))
        except Exception as e:  # noqa: BLE001
            q.put(repr(e))

    p = ctx.Process(target=child, args=(q,))
    p.start()
    p.join(20)
    assert p.exitcode == 0
    assert q.get(timeout=1) == 42


def test_threads_share_the_context_safely():
    errors: list[str] = []

    def work(k):
        for i in range(30):
            if evaluate("flow_input.k * 100 + flow_input.i", {"flow_input": {"k": k, "i": i}}) != k * 100 + i:
                errors.append(f"{k}/{i}")

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


# --- syntax_error ------------------------------------------------------------------------------------

def test_syntax_error():
    assert syntax_error("flow_input.x + 1") is None
    assert syntax_error("return await variable('x')") is None
    assert syntax_error("let flow_input = 1; return flow_input") is None
    assert syntax_error("undefined_name.x") is None  # not a syntax error
    assert syntax_error("while (true) {}") is None  # compiled, never run
    msg = syntax_error("flow_input.x +")
    assert msg is not None and msg.startswith("SyntaxError")
    assert syntax_error("return )").startswith("SyntaxError")
    assert syntax_error("}); (function(){").startswith("SyntaxError")
    assert syntax_error(5) is not None  # type: ignore[arg-type]


# --- fast path -----------------------------------------------------------------------------------------

FAST_CASES = [
    "flow_input", "flow_input.name", "flow_input.n", 'flow_input["name"]', "flow_input['name']",
    "flow_input.missing", 'flow_input["missing"]', "flow_input.nested.a.b[0]", "flow_input.nested.a.b[1].c",
    "flow_input.nested.a.b[5]", "flow_input.list[0]", "flow_input.list[3]", 'flow_input["weird key"]',
    "flow_input[0]", 'flow_input["0"]', "flow_input.nothing", "flow_input.nested.missing",
    "results", "results.a", "results.a.b[0].c", "results.a.b[0]", "results.a.items[1].id", "results.missing",
    "results.a.b[0].missing", "results.a.b[9]", "results.n", "results.arr[1]", "results['a']",
    "previous_result", "previous_result.x", "previous_result.y[1]", "previous_result.zz",
    "flow_env.K", "params", "flow_input.list['0']",
]

# cases the fast path must hand over to V8
V8_CASES = [
    "flow_input.list.length", "results.a.items.length", "flow_input.s.length", "flow_input.s[0]",
    "flow_input.constructor", "flow_input.__proto__", "flow_input.toString", "flow_input.list.map",
    "flow_input.missing.x", "flow_input.nothing.x", "flow_input.n.x", "results.s[0]",
    "flow_input?.name", "unknown_name", "flow_input.list[01]",
]


@pytest.mark.parametrize("expr", FAST_CASES)
def test_fast_path_matches_v8(expr):
    fast = _fast_path(expr, SCOPE)
    assert fast is not _NO_FAST_PATH, expr
    assert fast == _evaluate_js(expr, SCOPE, 5.0, 64 << 20)
    assert fast == evaluate(expr, SCOPE)


@pytest.mark.parametrize("expr", V8_CASES)
def test_fast_path_defers_to_v8(expr):
    assert _fast_path(expr, SCOPE) is _NO_FAST_PATH


def test_results_paths_are_lenient_like_windmill():
    # Windmill resolves results.ID.path with a JSON-path query: a missing link or a null gives
    # null where plain JS would throw a TypeError.
    assert evaluate("results.missing.deeper", SCOPE) is None
    assert evaluate("results.n.x", SCOPE) is None
    assert evaluate("results.a.missing.d.e", SCOPE) is None
    # a primitive in the middle of a results path is left to V8 (JS semantics)
    with pytest.raises(ExpressionError, match="TypeError"):
        evaluate("results.a.b[0].c.d.e", SCOPE)


def test_fast_path_on_json_round_tripped_scope():
    # Fast-path answers equal what V8 returns after a JSON round trip.
    scope = json.loads(json.dumps(SCOPE))
    for expr in FAST_CASES:
        assert json.dumps(evaluate(expr, scope), sort_keys=True) == \
            json.dumps(_evaluate_js(expr, scope, 5.0, 64 << 20), sort_keys=True), expr


def test_fast_path_is_fast():
    t0 = time.perf_counter()
    for _ in range(1000):
        evaluate("results.a.b[0].c", SCOPE)
    assert (time.perf_counter() - t0) / 1000 < 0.0005


def test_no_context_created_at_import():
    # The Celery parent imports this module and then forks: nothing may start V8 at import.
    import subprocess
    import sys

    code = ("import runs.expressions as e, threading; "
            "assert e._V8_STATE.mr is None; assert threading.active_count() == 1; print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=expressions.__file__.rsplit("/runs/", 1)[0])
    assert out.stdout.strip() == "ok", out.stderr


def test_value_with_a_nul_character_is_an_error_naming_where():
    with pytest.raises(ExpressionError, match=r"NUL character .*found at /a/1"):
        evaluate("({a: ['x', 'y' + String.fromCharCode(0)]})", {})
