"""Hostile JavaScript input transforms through the real engine path (issue 8, "Hostile input").

Each flow runs with ``runs.local.run_locally``, the orchestrator's real evaluator (V8 with the
settings' timeout and memory limit) and the real script sandbox. The hostile expression fails its
step with a clear error; then a healthy flow runs in the same process, on the same V8 context, and
sees nothing the hostile one tried to leave behind. tests/test_expressions.py covers the evaluator
on its own; this is about the step and the run.
"""

from __future__ import annotations

import time

import pytest

from runs import sandbox
from runs.local import run_locally
from runs.orchestrator import evaluate


@pytest.fixture(autouse=True)
def tight_limits(settings):
    settings.EXPRESSION_TIMEOUT = 0.5
    settings.EXPRESSION_MEMORY_MB = 64


def real_script(action: dict):
    outcome = sandbox.run_script(action["language"], action["content"], action.get("args") or {}, timeout=20,
                                 env={}, memory_mb=256, output_limit=100_000)
    return outcome.success, outcome.result


def flow_with(expr: str) -> dict:
    return {"summary": "hostile", "value": {"modules": [
        {"id": "a", "value": {"type": "rawscript", "language": "python3", "content": "def main(x):\n    return x\n",
                              "input_transforms": {"x": {"type": "javascript", "expr": expr}}}},
        {"id": "b", "value": {"type": "rawscript", "language": "python3", "content": "def main():\n    return 'b ran'\n",
                              "input_transforms": {}}},
    ]}}


HEALTHY = {"summary": "healthy", "value": {"modules": [
    {"id": "a", "value": {"type": "rawscript", "language": "python3", "content": "def main(x):\n    return x\n",
                          "input_transforms": {"x": {"type": "javascript", "expr": (
                              "({n: flow_input.n * 2, polluted: ({}).polluted ?? null, leak: typeof leak,"
                              " proto: Object.keys(Object.prototype).length, arr: [].evil ?? null})")}}}},
]}}


def run(flow: dict, n: int = 21) -> dict:
    return run_locally(flow, {"n": n}, evaluate=evaluate, run_script=real_script, sleep=lambda s: None)


def failed_step(view: dict) -> dict:
    assert view["status"] == "failure", view
    step = next(s for s in view["steps"] if s["key"] == "a")
    assert step["status"] == "failure"
    assert not any(s["key"] == "b" and s["status"] == "success" for s in view["steps"])
    return view["result"]["error"]


def assert_next_run_is_clean() -> None:
    view = run(HEALTHY)
    assert view["status"] == "success", view
    assert view["result"] == {"n": 42, "polluted": None, "leak": "undefined", "proto": 0, "arr": None}


def test_infinite_loop_times_out_the_step_and_the_next_run_is_fine():
    t0 = time.monotonic()
    error = failed_step(run(flow_with("(() => { while (true) {} })()")))
    assert time.monotonic() - t0 < 5
    assert "timed out after 0.5 s" in error["message"]
    assert_next_run_is_clean()


def test_heap_bomb_hits_the_memory_limit_and_the_next_run_is_fine():
    error = failed_step(run(flow_with("(() => { const a = []; while (true) a.push(new Array(1e5).fill(1.5)); })()")))
    assert "memory limit" in error["message"]
    assert_next_run_is_clean()


def test_string_bomb_fails_cleanly():
    error = failed_step(run(flow_with("(() => { let s = 'x'; while (true) s = s + s; })()")))
    assert error["message"]
    assert_next_run_is_clean()


@pytest.mark.parametrize("expr", [
    "new ArrayBuffer(2 ** 31)",
    "new Uint8Array(1e9)",
    "new SharedArrayBuffer(2 ** 30)",
    "new DataView(new ArrayBuffer(8))",
    "WebAssembly.Memory({initial: 60000})",
])
def test_array_buffer_bombs_are_unavailable(expr):
    error = failed_step(run(flow_with(expr)))
    assert "ReferenceError" in error["message"] or "not defined" in error["message"], error
    assert_next_run_is_clean()


@pytest.mark.parametrize("expr", [
    "Object.prototype.polluted = 1",
    "({}).__proto__.polluted = 1",
    "flow_input.__proto__.polluted = 1",
    "Object.defineProperty(Object.prototype, 'polluted', {value: 1})",
    "Object.setPrototypeOf(Object.prototype, {polluted: 1})",
    "Array.prototype.evil = 1",
    "Object.assign(Object.prototype, JSON.parse('{\"polluted\": 1}'))",
    "globalThis.leak = 1",
    "(0, eval)('var leak = 1')",
])
def test_prototype_pollution_fails_the_step_and_leaves_nothing(expr):
    error = failed_step(run(flow_with(expr)))
    assert "TypeError" in error["message"] or "Error" in error["message"], error
    assert_next_run_is_clean()


def test_json_proto_key_is_only_data():
    view = run(flow_with("JSON.parse('{\"__proto__\": {\"polluted\": 1}}').polluted ?? 'none'"))
    assert view["status"] == "success"
    assert view["steps"][0]["result"] == "none"
    assert_next_run_is_clean()


@pytest.mark.parametrize("expr", [
    "require('fs').readFileSync('/etc/passwd', 'utf8')",
    "process.env.SECRET_KEY",
    "fetch('http://127.0.0.1:6379/')",
    "Deno.readTextFileSync('/etc/passwd')",
    "new XMLHttpRequest()",
    "import('fs')",
    "Function('return process')().env",
    "(function(){ return this })().process.env",
    "globalThis.constructor.constructor('return require')()('child_process')",
])
def test_no_require_process_network_or_fs(expr):
    view = run(flow_with(expr))
    error = failed_step(view)
    assert error["message"]
    assert "root:" not in str(view)
    assert_next_run_is_clean()


def test_an_expression_cannot_read_another_runs_data():
    secret = {"summary": "s", "value": {"modules": [
        {"id": "a", "value": {"type": "identity"}},
    ]}}
    assert run(secret, n=1234567)["status"] == "success"
    view = run(flow_with("JSON.stringify(Object.getOwnPropertyNames(globalThis)).includes('1234567')"))
    assert view["status"] == "success"
    assert view["steps"][0]["result"] is False
