"""Run one script (python3 / deno / bash) in a subprocess with limits, like a Windmill worker.

Public interface:

* :func:`run_script` ``(language, content, args, *, timeout, env, memory_mb, output_limit,
  on_log=None, cancel=None, workdir_root=None, max_processes=64) -> ScriptResult``
* :class:`ScriptResult` ``(success, result, logs, duration)``
* :data:`LANGUAGES`, :func:`shutdown_warm_runner`

The package: this module (``run_script``: job files, the child process, its result), ``common``
(languages, paths, result type, executables), ``limits`` (cgroups, rlimits, confinement),
``jobdirs`` (the per-user sandbox root, job dirs, the sweep of dirs a killed worker left),
``supervise`` (pipes, logs, timeouts, limit enforcement) and ``warm`` (the python fork-server
client).

``run_script`` never raises for anything a script can do: a failure is ``success=False`` with the
Windmill error object ``{"error": {"name", "message", "stack"?, ...}}`` as ``result``.

Each script gets its own temporary job dir (removed afterwards, also its HOME and TMPDIR), a clean
environment (``PATH``, ``HOME``, ``LANG``, ``TMPDIR`` + the caller's ``env``; never the server's
own variables), its own session / process group, and limits:

* wall ``timeout`` -> SIGKILL of the whole group (and of everything in its cgroup), error
  ``Canceled`` / "Job canceled: duration > N by timeout" (reason, canceler ``timeout``: Windmill's
  shape); ``cancel`` (a ``threading.Event``) does the same with ``Canceled`` / "Job canceled";
* memory: ``RLIMIT_AS`` for python3 and bash (-> "Script exceeded memory limit of N MB"); deno
  reserves huge virtual ranges, so it gets V8's ``--max-old-space-size`` plus, where writable, a
  memory cgroup;
* processes: a ``pids`` cgroup per job with ``pids.max = max_processes`` where cgroups are
  writable (measured here: cgroup v1, writable as root); otherwise a watchdog that counts the
  job's session in /proc. ``RLIMIT_NPROC`` is useless: it is per user and root ignores it. A job
  that hits the limit is killed with "Script exceeded process limit of N";
* ``RLIMIT_CPU`` (timeout + 1 s) and ``RLIMIT_FSIZE`` (:data:`FILE_SIZE_LIMIT`);
* confinement, when the caller passes an ``isolation`` plan (the worker does, from
  ``SCRIPT_ISOLATION``): a private mount namespace with the server's var dir hidden and the
  project read-only, and no capabilities (``runs/harness/isolation.py``). Cold jobs apply it in
  their ``preexec_fn``; the python fork server applies it to itself once, so warm jobs inherit it;
* stdout + stderr are read line by line, handed to ``on_log`` as they arrive and capped at
  ``output_limit`` bytes ("Script output exceeded 1 MB").

Python runs through ``harness/python_harness.py``. By default a warm fork server per process
(started lazily; the harness preloaded) keeps one child forked *ahead*: already in its own
session and its own pids cgroup (``pids.max`` 1 until a job sets the real limit), the job path
(compile, exec, JSON) run once on a dummy script so its first-use costs are paid. A job is one
message to that child (request + stdout/stderr fds); the server reports the exit status and
forks the next spare while the caller finishes. This saves the 15-25 ms interpreter start and,
compared with forking at request time, the fork, the cgroup join and the first-compile costs
(6.2 -> 3.5 ms per trivial script measured, bench/bench_sandbox.py). Scripts that mention
``async``/``await``/``asyncio`` go to a second server with asyncio preloaded; the default one
stays lean because a bigger parent makes each child's exit slower. If the server is busy
(another thread) or broken, the cold path (a fresh ``python -I -u``) is used. Both paths share
the job dir, files, limits and supervision.
Set ``OPENFLOW_SANDBOX_WARM=0`` to disable the warm path; ``OPENFLOW_SANDBOX_PYTHON`` picks the
interpreter (default: this process's).

Deno runs ``harness/deno_harness.ts`` with ``deno run --no-prompt --no-remote``: ``--no-remote``
blocks ``http(s):`` imports (jsr/deno.land are unreachable here anyway) but not ``npm:`` imports,
which deno resolves from the npm registry into the private ``DENO_DIR`` (``<root>/deno-cache``,
kept between runs). Permissions: read/write the job dir and /tmp, environment access; no net,
no run, no ffi.

Bash gets its arguments positionally in the order of the ``name="$1"`` lines of the script (as
Windmill does); its result is ``./result.json`` if written, else the last line of stdout
(JSON-parsed if possible, else the string).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from openflow_site.storable import loads_strict
from runs.harness.isolation import IsolationUnavailable
from runs.sandbox.common import (
    DEFAULT_RESULT_LIMIT,
    DENO_HARNESS,
    FILE_SIZE_LIMIT,
    LANGUAGES,
    PY_HARNESS,
    RESULT_FILE,
    ScriptResult,
    bash_executable,
    clean_path,
    deno_executable,
    fmt_bytes,
    python_executable,
    script_error,
)
from runs.sandbox.jobdirs import default_root, make_job_dir
from runs.sandbox.limits import CGROUPS, job_plan, job_rlimits, make_preexec
from runs.sandbox.supervise import Logs, Outcome, kill_group, supervise
from runs.sandbox.warm import exit_poller, runner_for, shutdown_warm_runner, warm_enabled

__all__ = ["ScriptResult", "run_script", "LANGUAGES", "shutdown_warm_runner", "FILE_SIZE_LIMIT", "bash_parameters"]


_BASH_PARAM_RE = re.compile(r"""^\s*(?:local\s+|declare\s+|export\s+)?([A-Za-z_]\w*)=["']?\$\{?(\d+)""", re.M)


def bash_parameters(content: str) -> list[str]:
    """Parameter names of a bash script, ordered by position, from ``name="$N"`` lines."""
    found: dict[int, str] = {}
    for m in _BASH_PARAM_RE.finditer(content):
        found.setdefault(int(m.group(2)), m.group(1))
    return [found[i] for i in sorted(found) if i > 0]


def _bash_arg(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value)


def _deno_entry() -> str:
    return (
        'import * as script from "./main.ts";\n'
        f'import {{ run }} from {json.dumps(DENO_HARNESS.as_uri())};\n'
        "await run(script);\n"
    )


def _deno_cache_dir(root: str | None) -> str:
    # Under the caller's root if given; by default on disk (not in RAM) so npm packages persist.
    base = root or default_root("deno")
    return os.path.join(base, "deno-cache")


def run_script(
    language: str,
    content: str,
    args: dict[str, Any],
    *,
    timeout: float | None,
    env: dict[str, str],
    memory_mb: int,
    output_limit: int,
    on_log: Callable[[str], None] | None = None,
    cancel: threading.Event | None = None,
    workdir_root: str | None = None,
    max_processes: int = 64,
    result_limit: int = DEFAULT_RESULT_LIMIT,
    isolation: dict[str, Any] | None = None,
) -> ScriptResult:
    """Run `content` as a `language` script with `args` and return its :class:`ScriptResult`.

    `language`: ``python3``, ``deno`` or ``bash``. `timeout`: wall seconds or None. `env`: extra
    environment variables (e.g. ``WM_*``) on top of the clean base environment. `memory_mb`:
    memory limit. `output_limit`: cap in bytes on stdout + stderr. `on_log` receives the output
    line by line as it arrives (each piece ends with ``"\\n"`` except a final partial line).
    `cancel`: set it to kill the script. `workdir_root`: where job dirs (and the deno cache) live.
    `max_processes`: process cap for the job (cgroup or watchdog). `isolation`: the confinement
    plan ``{"hide": [dir], "readonly": [dir], "required": bool}`` (``runs/harness/isolation.py``);
    None runs the script unconfined.

    Never raises for a script's behaviour: errors come back as ``success=False`` results.
    """
    started = time.monotonic()
    if language not in LANGUAGES:
        return ScriptResult(False, script_error("ExecutionErr", f"unknown language {language!r}; supported: "
                                          + ", ".join(LANGUAGES)), "", 0.0)
    root = workdir_root or default_root(language)
    try:
        plan = job_plan(isolation, root, _deno_cache_dir(workdir_root))
    except IsolationUnavailable as e:
        return ScriptResult(False, script_error("ExecutionErr", e.strerror or str(e)), "", 0.0)
    try:
        job_dir = make_job_dir(root)
    except OSError as e:
        return ScriptResult(False, script_error("ExecutionErr", f"could not create the job dir under {root}: {e}"),
                            "", time.monotonic() - started)
    job_name = os.path.basename(job_dir) + "-" + uuid.uuid4().hex[:6]
    cgroup_dirs: list[Path] = []
    spare_leftovers: list[Path] = []  # a spare's cgroup we did not use: removed with the job's
    try:
        try:
            prepared = _prepare(language, content, args, job_dir, _deno_cache_dir(workdir_root), timeout,
                                env, memory_mb)
        except _PrepareError as e:
            return ScriptResult(False, e.result, "", time.monotonic() - started)
        argv, child_env, rlimits, extra_mem = prepared
        extra_mem_bytes = extra_mem * 1024 * 1024 if extra_mem else None
        logs = Logs(output_limit, on_log)
        stdout_r, stdout_w = os.pipe()
        stderr_r, stderr_w = os.pipe()
        pid: int | None = None
        poll_exit: Callable[[float], int | None] | None = None
        proc: subprocess.Popen[bytes] | None = None
        try:
            runner = runner_for(content) if language == "python3" and warm_enabled() else None
            if runner is not None and runner.lock.acquire(blocking=False):
                try:
                    spare = runner.take_spare(plan)
                    sock = None
                    if spare is not None:
                        # The spare's own cgroup becomes the job's (made and joined ahead of time);
                        # otherwise the child joins per-job ones as on the cold path.
                        cgroup_dirs = (CGROUPS.adopt(spare.cgroups, max_processes)
                                       or CGROUPS.create(job_name, max_processes, extra_mem_bytes))
                        spare_leftovers = [d for d in spare.cgroups if d not in cgroup_dirs]
                        request = {"job_dir": job_dir, "env": child_env, "rlimits": rlimits,
                                   "cgroup_procs": [str(d / "cgroup.procs") for d in cgroup_dirs]}
                        if runner.send(spare, request, stdout_w, stderr_w):
                            sock = runner.sock
                        else:
                            CGROUPS.kill_and_remove(cgroup_dirs)
                            cgroup_dirs = []
                    if sock is not None:
                        assert spare is not None
                        pid = spare.pid
                        os.close(stdout_w)
                        os.close(stderr_w)
                        stdout_w = stderr_w = -1
                        poll_exit = exit_poller(runner, pid)
                        outcome = supervise(
                            pid, poll_exit, {stdout_r: "stdout", stderr_r: "stderr"}, timeout=timeout,
                            cancel=cancel, logs=logs, cgroup_dirs=cgroup_dirs,
                            max_processes=max_processes, memory_mb=memory_mb)
                        if outcome.returncode is None:
                            runner.stop()  # lost track of the child: never reuse that server
                finally:
                    runner.lock.release()
            if pid is None:
                cgroup_dirs = CGROUPS.create(job_name, max_processes, extra_mem_bytes)
                cgroup_procs = [str(d / "cgroup.procs") for d in cgroup_dirs]
                try:
                    proc = subprocess.Popen(
                        argv, cwd=job_dir, env=child_env, stdin=subprocess.DEVNULL, stdout=stdout_w,
                        stderr=stderr_w, start_new_session=True, close_fds=True,
                        preexec_fn=make_preexec(rlimits, cgroup_procs, plan),  # noqa: PLW1509
                    )
                except (OSError, subprocess.SubprocessError) as e:  # SubprocessError: preexec_fn failed
                    return ScriptResult(False, script_error("ExecutionErr", f"could not start {language}: {e}"),
                                        "", time.monotonic() - started)
                finally:
                    os.close(stdout_w)
                    os.close(stderr_w)
                    stdout_w = stderr_w = -1
                pid = proc.pid
                popen = proc

                def poll_exit(wait: float) -> int | None:
                    try:
                        return popen.wait(wait) if wait else popen.poll()
                    except subprocess.TimeoutExpired:
                        return None

                outcome = supervise(
                    pid, poll_exit, {stdout_r: "stdout", stderr_r: "stderr"}, timeout=timeout,
                    cancel=cancel, logs=logs, cgroup_dirs=cgroup_dirs, max_processes=max_processes,
                    memory_mb=memory_mb)
        finally:
            for fd in (stdout_r, stderr_r, stdout_w, stderr_w):
                if fd >= 0:
                    with contextlib.suppress(OSError):
                        os.close(fd)
            if pid is not None:
                kill_group(pid)  # stragglers (daemonised children) die with the job
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()
        success, result = _interpret(language, job_dir, outcome, memory_mb, result_limit)
        return ScriptResult(success, result, outcome.logs, time.monotonic() - started)
    finally:
        CGROUPS.kill_and_remove(cgroup_dirs + spare_leftovers)
        shutil.rmtree(job_dir, ignore_errors=True)


class _PrepareError(Exception):
    def __init__(self, result: dict[str, Any]) -> None:
        super().__init__(result["error"]["message"])
        self.result = result


def _prepare(
    language: str, content: str, args: dict[str, Any], job_dir: str, deno_dir: str,
    timeout: float | None, env: dict[str, str], memory_mb: int,
) -> tuple[list[str], dict[str, str], dict[str, int], int | None]:
    """Write the job files; return argv, environment, rlimits and the cgroup memory limit (MB)."""
    tmp_dir = os.path.join(job_dir, "tmp")
    os.mkdir(tmp_dir)
    child_env = {"PATH": clean_path(), "HOME": job_dir, "LANG": "C.UTF-8", "TMPDIR": tmp_dir}
    child_env.update({str(k): str(v) for k, v in (env or {}).items()})
    rlimits = job_rlimits(language, timeout, memory_mb)
    try:
        args_text = json.dumps(args if args is not None else {})
    except (TypeError, ValueError) as e:
        raise _PrepareError(script_error("ExecutionErr", f"arguments are not JSON-serialisable: {e}")) from e
    with open(os.path.join(job_dir, "args.json"), "w", encoding="utf-8") as f:
        f.write(args_text)
    if language == "python3":
        Path(job_dir, "main.py").write_text(content, encoding="utf-8")
        return [python_executable(), "-I", "-u", str(PY_HARNESS), job_dir], child_env, rlimits, None
    if language == "deno":
        deno = deno_executable()
        if deno is None:
            raise _PrepareError(script_error("ExecutionErr", "deno is not installed"))
        Path(job_dir, "main.ts").write_text(content, encoding="utf-8")
        Path(job_dir, "__ofs_entry.ts").write_text(_deno_entry(), encoding="utf-8")
        os.makedirs(deno_dir, exist_ok=True)
        # Emit cache off and --no-code-cache: every job's main.ts / entry has a new path, so their
        # transpiled output and V8 code cache entries were written to DENO_DIR (on disk) on every run
        # and never read again (one gen/ file per job, growing forever; measured no slower without).
        child_env.update({"DENO_DIR": deno_dir, "DENO_NO_UPDATE_CHECK": "1", "NO_COLOR": "1",
                          "DENO_NO_PROMPT": "1", "DENO_EMIT_CACHE_MODE": "disable"})
        allowed = f"{job_dir},/tmp"
        argv = [
            deno, "run", "--no-prompt", "--no-remote", "--no-config", "--no-lock", "--no-code-cache",
            f"--allow-read={allowed},{DENO_HARNESS}", f"--allow-write={allowed}", "--allow-env",
            f"--v8-flags=--max-old-space-size={max(memory_mb, 16)}",
            os.path.join(job_dir, "__ofs_entry.ts"),
        ]
        # V8 stops at its heap limit; the cgroup (where available) also bounds ArrayBuffers and
        # deno's own memory. Allow some room above the heap for the runtime itself.
        return argv, child_env, rlimits, memory_mb + 128
    # bash
    Path(job_dir, "main.sh").write_text(content, encoding="utf-8")
    positional = [_bash_arg(args.get(name)) for name in bash_parameters(content)]
    return [bash_executable(), os.path.join(job_dir, "main.sh"), *positional], child_env, rlimits, None


def _signal_name(returncode: int) -> str:
    try:
        return signal.Signals(-returncode).name
    except ValueError:
        return f"signal {-returncode}"


def _crash_error(language: str, outcome: Outcome, memory_mb: int, timeout_hint: str = "") -> dict[str, Any]:
    rc = outcome.returncode
    tail = "\n".join(outcome.stderr_tail or [])
    interpreter = "python3" if language == "python3" else language
    if rc is not None and rc < 0:
        if rc == -signal.SIGXCPU:
            return script_error("Timeout", "Script exceeded its CPU time limit" + timeout_hint)
        what = f"{interpreter} was killed by {_signal_name(rc)}"
    else:
        what = f"{interpreter} exited with code {rc}"
    lowered = tail.lower()
    if "out of memory" in lowered or "memoryerror" in lowered or "heap limit" in lowered \
            or "cannot allocate memory" in lowered:
        return script_error("MemoryLimitExceeded", f"Script exceeded memory limit of {memory_mb} MB",
                      stack=tail or None)
    message = what + (f"\n{tail}" if tail else "")
    return script_error("ExecutionErr", message)


def _too_large(path: str, limit: int) -> dict[str, Any] | None:
    """The ResultTooLarge error when the file at ``path`` is over ``limit`` bytes (without reading it)."""
    try:
        size = os.stat(path).st_size
    except OSError:
        return None
    if size <= limit:
        return None
    return script_error("ResultTooLarge", f"Script result is {fmt_bytes(size)}, over the limit of {fmt_bytes(limit)}")


def _interpret(language: str, job_dir: str, outcome: Outcome, memory_mb: int,
               result_limit: int = DEFAULT_RESULT_LIMIT) -> tuple[bool, Any]:
    """Turn the exit status, result files and output into (success, result)."""
    if outcome.limit is not None:
        return False, outcome.limit
    if language in ("python3", "deno"):
        path = os.path.join(job_dir, RESULT_FILE)
        if (too_large := _too_large(path, result_limit)) is not None:
            return False, too_large
        try:
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
        except (OSError, ValueError):
            return False, _crash_error(language, outcome, memory_mb)
        success = bool(data.get("success"))
        result = data.get("result")
        if not success and isinstance(result, dict) and isinstance(result.get("error"), dict) \
                and result["error"].get("name") == "MemoryError":
            return False, script_error("MemoryLimitExceeded", f"Script exceeded memory limit of {memory_mb} MB",
                                 stack=result["error"].get("stack"))
        return success, result
    # bash
    if outcome.returncode != 0:
        return False, _crash_error("bash", outcome, memory_mb)
    path = os.path.join(job_dir, "result.json")
    if os.path.exists(path):
        if (too_large := _too_large(path, result_limit)) is not None:
            return False, too_large
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except OSError as e:
            return False, script_error("ExecutionErr", f"could not read result.json: {e}")
        try:
            return True, loads_strict(text)  # NaN is text, as in Windmill
        except ValueError:
            return True, text.strip()
    line = outcome.stdout_last.strip()
    if not line:
        return True, None
    try:
        return True, loads_strict(line)
    except ValueError:
        return True, line
