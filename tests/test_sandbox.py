"""runs.sandbox: real subprocesses, no mocks."""

from __future__ import annotations

import os
import subprocess
import threading
import time

import pytest

from runs import sandbox
from runs.sandbox import ScriptResult, bash_parameters, run_script

MB = 1024 * 1024


@pytest.fixture(params=["warm", "cold"])
def python_mode(request, monkeypatch):
    """Run python tests on both the fork-server path and the cold interpreter path."""
    monkeypatch.setenv("OPENFLOW_SANDBOX_WARM", "1" if request.param == "warm" else "0")
    return request.param


@pytest.fixture
def root(tmp_path):
    return str(tmp_path / "sandbox")


def run(language, content, args=None, *, root=None, **kw) -> ScriptResult:
    options = {"timeout": 20, "env": {}, "memory_mb": 256, "output_limit": MB, "workdir_root": root}
    options.update(kw)
    return run_script(language, content, args or {}, **options)


def py(body: str) -> str:
    return body.strip("\n") + "\n"


# --- python: values, arguments ----------------------------------------------------------------------

def test_python_return_value(python_mode, root):
    r = run("python3", "def main():\n    return {'a': [1, 2.5, None, True], 'b': 'é'}\n", root=root)
    assert r.success, r
    assert r.result == {"a": [1, 2.5, None, True], "b": "é"}
    assert r.duration > 0


def test_python_argument_filtering_and_defaults(python_mode, root):
    src = py("""
def main(a, b=2, c=None, d: str = "dflt", *, k="kw"):
    return [a, b, c, d, k]
""")
    r = run("python3", src, {"a": 1, "b": None, "d": "given", "unknown": 9}, root=root)
    assert r.result == [1, 2, None, "given", "kw"]
    r = run("python3", src, {}, root=root)
    assert r.result == [None, 2, None, "dflt", "kw"]  # missing without default -> None


def test_python_kwargs_main_gets_everything(python_mode, root):
    r = run("python3", "def main(a, **rest):\n    return [a, rest]\n", {"a": 1, "x": 2, "y": None}, root=root)
    assert r.result == [1, {"x": 2, "y": None}]


def test_python_async_main(python_mode, root):
    src = py("""
import asyncio
async def main(n):
    await asyncio.sleep(0.01)
    return n * 2
""")
    assert run("python3", src, {"n": 21}, root=root).result == 42


def test_python_exception_error_object(python_mode, root):
    src = py("""
class Boom(Exception):
    pass

def main():
    e = Boom("it broke")
    e.code = 42
    raise e
""")
    r = run("python3", src, root=root)
    assert not r.success
    err = r.result["error"]
    assert err["name"] == "Boom"
    assert err["message"] == "it broke"
    assert "raise e" in err["stack"] and "main.py" in err["stack"]
    assert "python_harness" not in err["stack"]
    assert err["extra"] == {"code": 42}


def test_python_plain_exception_has_no_extra(python_mode, root):
    r = run("python3", "def main():\n    return 1 / 0\n", root=root)
    assert r.result["error"]["name"] == "ZeroDivisionError"
    assert "extra" not in r.result["error"]


def test_python_error_names_the_flow_step_it_failed_in(python_mode, root):
    r = run("python3", "def main():\n    return 1 / 0\n", env={"WM_FLOW_STEP_ID": "charge"}, root=root)
    assert r.result["error"]["step_id"] == "charge"
    # outside a flow there is no step to name
    assert "step_id" not in run("python3", "def main():\n    return 1 / 0\n", root=root).result["error"]


def test_python_syntax_error_and_missing_main(python_mode, root):
    r = run("python3", "def main(:\n", root=root)
    assert not r.success and r.result["error"]["name"] == "SyntaxError"
    r = run("python3", "x = 1\n", root=root)
    assert not r.success and "no main" in r.result["error"]["message"]


def test_python_non_json_result(python_mode, root):
    r = run("python3", "def main():\n    return {1, 2}\n", root=root)
    assert not r.success
    assert r.result["error"]["name"] == "SerializationError"
    assert "not JSON-serialisable" in r.result["error"]["message"]


def test_python_hard_exit_is_an_execution_error(python_mode, root):
    r = run("python3", "import os, sys\ndef main():\n    print('bye', file=sys.stderr)\n    os._exit(3)\n", root=root)
    assert not r.success
    assert r.result["error"]["name"] == "ExecutionErr"
    assert "exited with code 3" in r.result["error"]["message"]
    assert "bye" in r.result["error"]["message"]


def test_python_sys_exit_is_an_error(python_mode, root):
    r = run("python3", "import sys\ndef main():\n    sys.exit(2)\n", root=root)
    assert not r.success and r.result["error"]["name"] == "SystemExit"


def test_python_logs_and_files(python_mode, root):
    src = py("""
import os, sys, tempfile
def main():
    print("to stdout")
    print("to stderr", file=sys.stderr)
    open("local.txt", "w").write("x")
    with open("/tmp/ofs-sandbox-test-%d" % os.getpid(), "w") as f:
        f.write("tmp is usable")
    os.remove(f.name)
    with tempfile.NamedTemporaryFile() as t:
        tdir = os.path.dirname(t.name)
    return [os.getcwd() == os.environ["HOME"], tdir == os.environ["TMPDIR"]]
""")
    r = run("python3", src, root=root)
    assert r.success, r
    assert r.result == [True, True]
    assert "to stdout\n" in r.logs and "to stderr\n" in r.logs


def test_job_dir_is_removed(python_mode, root):
    r = run("python3", "import os\ndef main():\n    return os.getcwd()\n", root=root)
    assert r.success
    assert r.result.startswith(root)
    assert not os.path.exists(r.result)


# --- environment hygiene ------------------------------------------------------------------------------

def test_environment_is_clean(python_mode, root, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "s3cret")
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@h/db")
    monkeypatch.setenv("REDIS_URL", "redis://h:6379/0")
    sandbox.shutdown_warm_runner()  # a fresh server, started while the secrets are set
    src = "import os\ndef main():\n    return dict(os.environ)\n"
    r = run("python3", src, env={"WM_WORKSPACE": "ws", "WM_JOB_ID": "j1"}, root=root)
    assert r.success, r
    env = r.result
    assert set(env) <= {"PATH", "HOME", "LANG", "TMPDIR", "WM_WORKSPACE", "WM_JOB_ID", "LC_CTYPE"}
    assert env["WM_WORKSPACE"] == "ws" and env["WM_JOB_ID"] == "j1"
    for name in ("SECRET_KEY", "DATABASE_URL", "REDIS_URL"):
        assert name not in env


def test_bash_environment_is_clean(root, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "s3cret")
    r = run("bash", 'echo "${SECRET_KEY:-none} $WM_X"\n', env={"WM_X": "y"}, root=root)
    assert r.result == "none y"


def test_deno_environment_is_clean(root, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "s3cret")
    src = "export function main() { return [Deno.env.get('SECRET_KEY') ?? null, Deno.env.get('WM_X')] }"
    r = run("deno", src, env={"WM_X": "y"}, root=root)
    assert r.success, r
    assert r.result == [None, "y"]


# --- limits -----------------------------------------------------------------------------------------------

def test_timeout_kills_the_group(python_mode, root):
    src = py("""
import subprocess, time
def main():
    subprocess.Popen(["sleep", "1000"])
    time.sleep(1000)
""")
    t0 = time.monotonic()
    r = run("python3", src, timeout=1, root=root)
    assert time.monotonic() - t0 < 3
    assert not r.success
    assert r.result["error"] == {"name": "Canceled", "message": "Job canceled: duration > 1 by timeout",
                                 "reason": "duration > 1", "canceler": "timeout"}
    time.sleep(0.2)
    assert "sleep 1000" not in subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout


def test_infinite_sleep_bash(root):
    t0 = time.monotonic()
    r = run("bash", "sleep infinity\n", timeout=0.5, root=root)
    assert time.monotonic() - t0 < 2
    assert r.result["error"]["name"] == "Canceled"
    assert r.result["error"]["message"] == "Job canceled: duration > 0.5 by timeout"


def test_memory_hog(python_mode, root):
    src = "def main():\n    x = bytearray(1024 * 1024 * 1024)\n    return len(x)\n"
    r = run("python3", src, memory_mb=256, root=root)
    assert not r.success
    assert r.result["error"]["name"] == "MemoryLimitExceeded"
    assert r.result["error"]["message"] == "Script exceeded memory limit of 256 MB"


def test_memory_hog_gradual(python_mode, root):
    src = "def main():\n    xs = []\n    while True:\n        xs.append('x' * 10_000_000)\n"
    t0 = time.monotonic()
    r = run("python3", src, memory_mb=200, root=root)
    assert time.monotonic() - t0 < 10
    assert r.result["error"]["name"] == "MemoryLimitExceeded"


def test_huge_output_is_capped(python_mode, root):
    # would print ~1 GB; stopped at 1 MB
    src = py("""
import sys
def main():
    line = "x" * 1023 + "\\n"
    for _ in range(1024 * 1024):
        sys.stdout.write(line)
""")
    t0 = time.monotonic()
    r = run("python3", src, output_limit=MB, timeout=60, root=root)
    assert time.monotonic() - t0 < 10
    assert not r.success
    assert r.result["error"] == {"name": "OutputLimitExceeded", "message": "Script output exceeded 1 MB"}
    assert len(r.logs.encode()) <= MB


def test_huge_output_without_newlines(root):
    r = run("bash", "head -c 100000000 /dev/zero | tr '\\0' x\n", output_limit=64 * 1024, root=root)
    assert r.result["error"]["name"] == "OutputLimitExceeded"
    assert len(r.logs) <= 64 * 1024


def test_fork_bomb_is_bounded_and_killed(root):
    t0 = time.monotonic()
    r = run("bash", ":(){ :|:& };:\nsleep 100\n", timeout=20, max_processes=32, root=root)
    elapsed = time.monotonic() - t0
    assert not r.success
    assert r.result["error"]["name"] in ("ProcessLimitExceeded", "Canceled", "Timeout")
    assert elapsed < 20
    time.sleep(0.3)
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert ps.count("main.sh") == 0


def test_python_fork_bomb(python_mode, root):
    src = py("""
import os, time
def main():
    while True:
        try:
            os.fork()
        except OSError:
            time.sleep(0.01)
""")
    t0 = time.monotonic()
    r = run("python3", src, timeout=20, max_processes=16, root=root)
    assert not r.success
    assert r.result["error"]["name"] in ("ProcessLimitExceeded", "Canceled", "Timeout")
    assert time.monotonic() - t0 < 20


def test_cancel_kills_the_script(python_mode, root):
    cancel = threading.Event()
    threading.Timer(0.5, cancel.set).start()
    t0 = time.monotonic()
    r = run("python3", "import time\ndef main():\n    time.sleep(1000)\n", cancel=cancel, root=root)
    assert time.monotonic() - t0 < 3
    assert not r.success
    assert r.result["error"]["name"] == "Canceled"


def test_no_timeout_means_no_limit(root):
    r = run("bash", "sleep 0.3; echo done\n", timeout=None, root=root)
    assert r.success and r.result == "done"


# --- streaming --------------------------------------------------------------------------------------------

def test_logs_stream_while_running(python_mode, root):
    seen: list[tuple[float, str]] = []
    src = py("""
import time
def main():
    print("first")
    time.sleep(0.5)
    print("second")
    return 1
""")
    t0 = time.monotonic()
    r = run("python3", src, on_log=lambda line: seen.append((time.monotonic() - t0, line)), root=root)
    end = time.monotonic() - t0
    assert r.success
    assert [line for _, line in seen] == ["first\n", "second\n"]
    assert seen[0][0] < end - 0.3  # delivered well before the script ended
    assert r.logs == "first\nsecond\n"


def test_bash_logs_stream(root):
    seen: list[float] = []
    t0 = time.monotonic()
    run("bash", "echo one\nsleep 0.5\necho two\n", on_log=lambda line: seen.append(time.monotonic() - t0), root=root)
    assert len(seen) == 2 and seen[1] - seen[0] > 0.3


def test_broken_log_callback_does_not_break_the_run(root):
    def bad(line):
        raise RuntimeError("sink down")

    r = run("bash", "echo hi\necho 5\n", on_log=bad, root=root)
    assert r.success and r.result == 5


# --- deno ----------------------------------------------------------------------------------------------------

def test_deno_typed_params_and_defaults(root):
    src = """
type Opts = { retries: number };
export async function main(name: string, count: number = 3, opts?: Opts, flag: boolean = false) {
  console.log(`hello ${name}`);
  return { name, count, opts: opts ?? null, flag };
}
"""
    r = run("deno", src, {"name": "ada", "count": None, "opts": {"retries": 1}, "extra": 1}, root=root)
    assert r.success, r
    assert r.result == {"name": "ada", "count": 3, "opts": {"retries": 1}, "flag": False}
    assert "hello ada" in r.logs


def test_deno_sync_main_arrow_and_destructuring(root):
    assert run("deno", "export function main(a: number, b: number) { return a + b }", {"a": 1, "b": 2},
               root=root).result == 3
    assert run("deno", "export const main = async (x: number) => x * 2;", {"x": 4}, root=root).result == 8
    src = "export function main({ a, b = 5 }: { a: number; b?: number }) { return [a, b] }"
    assert run("deno", src, {"a": 1}, root=root).result == [1, 5]
    assert run("deno", "export function main() {}", root=root).result is None


def test_deno_thrown_error(root):
    r = run("deno", "export function main() { throw new RangeError('too far') }", root=root)
    assert not r.success
    err = r.result["error"]
    assert err["name"] == "RangeError" and err["message"] == "too far"
    assert "main.ts" in err["stack"]
    assert "step_id" not in err


def test_deno_error_names_the_flow_step_it_failed_in(root):
    r = run("deno", "export function main() { throw new Error('no') }", env={"WM_FLOW_STEP_ID": "ship"}, root=root)
    assert r.result["error"]["step_id"] == "ship"


def test_deno_permissions_are_minimal(root):
    src = """
export async function main() {
  const out: Record<string, string> = {};
  for (const [k, f] of Object.entries({
    net: () => fetch("http://127.0.0.1:65000/"),
    run: () => new Deno.Command("ls").output(),
    readEtc: () => Deno.readTextFile("/etc/passwd"),
  })) {
    try { await f(); out[k] = "allowed"; } catch (e) { out[k] = (e as Error).name; }
  }
  await Deno.writeTextFile("/tmp/ofs-deno-test.txt", "ok");
  await Deno.remove("/tmp/ofs-deno-test.txt");
  await Deno.writeTextFile("local.txt", "ok");
  return out;
}
"""
    r = run("deno", src, root=root)
    assert r.success, r
    assert r.result == {"net": "NotCapable", "run": "NotCapable", "readEtc": "NotCapable"}


def test_deno_timeout_and_syntax_error(root):
    r = run("deno", "export async function main() { while (true) {} }", timeout=2, root=root)
    assert r.result["error"]["canceler"] == "timeout"
    r = run("deno", "export function main( { return 1 }", root=root)
    assert not r.success
    assert r.result["error"]["name"] == "ExecutionErr"
    assert "exited with code" in r.result["error"]["message"]


def test_deno_memory_limit(root):
    src = "export function main() { const a = []; while (true) a.push(new Array(1e6).fill(1.5)); }"
    r = run("deno", src, memory_mb=128, timeout=30, root=root)
    assert not r.success
    assert r.result["error"]["name"] == "MemoryLimitExceeded"


def test_deno_non_json_result(root):
    r = run("deno", "export function main() { return 10n }", root=root)
    assert not r.success and r.result["error"]["name"] == "SerializationError"


# --- bash ------------------------------------------------------------------------------------------------------

def test_bash_parameters_parsing():
    src = 'msg="$1"\ncount="${2:-5}"\nlocal_only=x\nflag=$3\n'
    assert bash_parameters(src) == ["msg", "count", "flag"]


def test_bash_positional_args_and_last_line(root):
    src = 'name="$1"\ncount="$2"\nobj="$3"\necho "log line"\necho "$name-$count-$obj"\n'
    r = run("bash", src, {"count": 3, "name": "bob", "obj": {"a": 1}}, root=root)
    assert r.success
    assert r.result == 'bob-3-{"a": 1}'
    r = run("bash", 'x="$1"\necho "[$x, 2]"\n', {"x": 1}, root=root)
    assert r.result == [1, 2]  # JSON-parsed when it parses


def test_bash_nan_and_infinity_are_text_not_numbers(root):
    assert run("bash", "echo NaN\n", root=root).result == "NaN"
    assert run("bash", "echo '[1, Infinity]' > result.json\n", root=root).result == "[1, Infinity]"


def test_bash_result_json_file(root):
    r = run("bash", "echo noise\necho '{\"ok\": true}' > result.json\n", root=root)
    assert r.result == {"ok": True}


def test_bash_nonzero_exit(root):
    r = run("bash", "echo partial\necho 'something failed' >&2\nexit 4\n", root=root)
    assert not r.success
    err = r.result["error"]
    assert err["name"] == "ExecutionErr"
    assert err["message"].startswith("bash exited with code 4")
    assert "something failed" in err["message"]
    assert "partial" in r.logs


def test_bash_no_output_is_null(root):
    assert run("bash", "true\n", root=root).result is None


# --- misc ------------------------------------------------------------------------------------------------------

def test_unknown_language():
    r = run_script("cobol", "DISPLAY 'x'", {}, timeout=1, env={}, memory_mb=64, output_limit=MB)
    assert not r.success
    assert r.result["error"]["name"] == "ExecutionErr"
    assert "unknown language 'cobol'" in r.result["error"]["message"]


def test_unserialisable_args(root):
    r = run("python3", "def main(x):\n    return x\n", {"x": object()}, root=root)
    assert not r.success and "JSON" in r.result["error"]["message"]


def test_warm_runner_survives_and_restarts(root, monkeypatch):
    monkeypatch.setenv("OPENFLOW_SANDBOX_WARM", "1")
    assert run("python3", "def main():\n    return 1\n", root=root).result == 1
    sandbox.shutdown_warm_runner()
    assert run("python3", "def main():\n    return 2\n", root=root).result == 2
    # kill the server behind its back: the next run falls back / restarts transparently
    with sandbox.warm.WARM.lock:
        if sandbox.warm.WARM.proc is not None:
            sandbox.warm.WARM.proc.kill()
            sandbox.warm.WARM.proc.wait()
    assert run("python3", "def main():\n    return 3\n", root=root).result == 3


def test_warm_children_get_distinct_random_state(root, monkeypatch):
    monkeypatch.setenv("OPENFLOW_SANDBOX_WARM", "1")
    src = "import random\ndef main():\n    return random.random()\n"
    values = {run("python3", src, root=root).result for _ in range(3)}
    assert len(values) == 3


def test_concurrent_runs_from_threads(root):
    results: list[ScriptResult] = []

    def work(i):
        results.append(run("python3", "def main(i):\n    return i\n", {"i": i}, root=root))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.result for r in results) == list(range(6))


def test_warm_python_is_fast(root, monkeypatch):
    monkeypatch.setenv("OPENFLOW_SANDBOX_WARM", "1")
    run("python3", "def main():\n    return 0\n")
    t0 = time.monotonic()
    for i in range(10):
        assert run("python3", "def main(i):\n    return i\n", {"i": i}).result == i
    assert (time.monotonic() - t0) / 10 < 0.05


def test_fork_bomb_without_cgroups_uses_the_watchdog(root, monkeypatch):
    sandbox.limits.CGROUPS.setup()
    monkeypatch.setattr(sandbox.limits.CGROUPS, "pids_root", None)
    monkeypatch.setattr(sandbox.limits.CGROUPS, "memory_root", None)
    t0 = time.monotonic()
    r = run("bash", "for i in $(seq 100); do sleep 30 & done\nwait\n", timeout=20, max_processes=20, root=root)
    assert r.result["error"]["name"] == "ProcessLimitExceeded"
    assert time.monotonic() - t0 < 5
    time.sleep(0.2)
    assert "sleep 30" not in subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout


def test_deno_default_root(monkeypatch):
    r = run_script("deno", "export function main(x: number) { return x }", {"x": 5}, timeout=20, env={},
                   memory_mb=256, output_limit=MB)
    assert r.success and r.result == 5
