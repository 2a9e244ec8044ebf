"""Run one script (python3 / deno / bash) in a subprocess with limits, like a Windmill worker.

Public interface:

* :func:`run_script` ``(language, content, args, *, timeout, env, memory_mb, output_limit,
  on_log=None, cancel=None, workdir_root=None, max_processes=64) -> ScriptResult``
* :class:`ScriptResult` ``(success, result, logs, duration)``
* :data:`LANGUAGES`, :func:`shutdown_warm_runner`

``run_script`` never raises for anything a script can do: a failure is ``success=False`` with the
Windmill error object ``{"error": {"name", "message", "stack"?, ...}}`` as ``result``.

Each script gets its own temporary job dir (removed afterwards, also its HOME and TMPDIR), a clean
environment (``PATH``, ``HOME``, ``LANG``, ``TMPDIR`` + the caller's ``env``; never the server's
own variables), its own session / process group, and limits:

* wall ``timeout`` -> SIGKILL of the whole group (and of everything in its cgroup), error
  ``Timeout`` / "Script exceeded timeout of N s"; ``cancel`` (a ``threading.Event``) does the same
  with ``Canceled``;
* memory: ``RLIMIT_AS`` for python3 and bash (-> "Script exceeded memory limit of N MB"); deno
  reserves huge virtual ranges, so it gets V8's ``--max-old-space-size`` plus, where writable, a
  memory cgroup;
* processes: a ``pids`` cgroup per job with ``pids.max = max_processes`` where cgroups are
  writable (measured here: cgroup v1, writable as root); otherwise a watchdog that counts the
  job's session in /proc. ``RLIMIT_NPROC`` is useless: it is per user and root ignores it. A job
  that hits the limit is killed with "Script exceeded process limit of N";
* ``RLIMIT_CPU`` (timeout + 1 s) and ``RLIMIT_FSIZE`` (:data:`FILE_SIZE_LIMIT`);
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

import atexit
import contextlib
import functools
import json
import math
import os
import re
import resource
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openflow_site.storable import loads_strict

__all__ = ["ScriptResult", "run_script", "LANGUAGES", "shutdown_warm_runner", "FILE_SIZE_LIMIT"]

LANGUAGES = ("python3", "deno", "bash")
HARNESS_DIR = Path(__file__).resolve().parent / "harness"
PY_HARNESS = HARNESS_DIR / "python_harness.py"
DENO_HARNESS = HARNESS_DIR / "deno_harness.ts"
RESULT_FILE = ".ofs_result.json"  # written by the harnesses; must match them
# A result is stored in the run state, the API and the live events: bound it before reading it.
DEFAULT_RESULT_LIMIT = 2_000_000
FILE_SIZE_LIMIT = 1024 * 1024 * 1024  # RLIMIT_FSIZE: largest file a script may write
STDERR_TAIL_LINES = 20
_POLL = 0.05  # supervision tick (timeout / cancel / watchdog), seconds


@dataclass
class ScriptResult:
    """Outcome of one script run. `result` is the JSON result, or ``{"error": {...}}`` on failure."""

    success: bool
    result: Any
    logs: str
    duration: float


def _error(name: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"name": name, "message": message, **extra}}


def _fmt_bytes(n: int) -> str:
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= size:
            value = n / size
            return f"{value:g} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{n} bytes"


# ------------------------------------------------------------------------------------------------
# Executables
# ------------------------------------------------------------------------------------------------

def _python_executable() -> str:
    return os.environ.get("OPENFLOW_SANDBOX_PYTHON") or sys.executable


@functools.cache
def _deno_executable() -> str | None:
    try:
        import deno  # the PyPI wheel ships the binary

        return deno.find_deno_bin()
    except Exception:  # noqa: BLE001 - fall back to PATH
        return shutil.which("deno")


def _bash_executable() -> str:
    return shutil.which("bash") or "/bin/bash"


@functools.cache
def _clean_path() -> str:
    dirs = [os.path.dirname(_python_executable())]
    deno = _deno_executable()
    if deno:
        dirs.append(os.path.dirname(deno))
    dirs += ["/usr/local/bin", "/usr/bin", "/bin"]
    return os.pathsep.join(dict.fromkeys(dirs))


# ------------------------------------------------------------------------------------------------
# cgroups (pids, memory): best effort, v1 or v2
# ------------------------------------------------------------------------------------------------

class _Cgroups:
    """Per-job cgroups under a private parent directory, if this process may create them."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.checked = False
        self.pids_root: Path | None = None
        self.memory_root: Path | None = None
        self.v2 = False

    def _probe(self, root: Path) -> Path | None:
        parent = root / f"openflow-sandbox-{os.getpid()}"
        try:
            parent.mkdir(exist_ok=True)
            probe = parent / "probe"
            probe.mkdir(exist_ok=True)
            probe.rmdir()
            return parent
        except OSError:
            return None

    def setup(self) -> None:
        with self.lock:
            if self.checked:
                return
            self.checked = True
            v1 = Path("/sys/fs/cgroup/pids")
            if v1.is_dir():
                self.pids_root = self._probe(v1)
                mem = Path("/sys/fs/cgroup/memory")
                if mem.is_dir():
                    self.memory_root = self._probe(mem)
            else:
                v2 = Path("/sys/fs/cgroup")
                controllers = (v2 / "cgroup.controllers")
                if controllers.exists() and "pids" in controllers.read_text():
                    root = self._probe(v2)
                    if root is not None:
                        with contextlib.suppress(OSError):
                            (root / "cgroup.subtree_control").write_text("+pids +memory")
                        self.v2 = True
                        self.pids_root = root
                        self.memory_root = root

    def create(self, job: str, max_processes: int, memory_bytes: int | None) -> list[Path]:
        """Create the job's cgroup(s); return the directories (empty if unavailable)."""
        self.setup()
        dirs: list[Path] = []
        if self.pids_root is not None:
            d = self.pids_root / job
            try:
                d.mkdir()
                (d / "pids.max").write_text(str(max_processes))
                dirs.append(d)
            except OSError:
                pass
        if memory_bytes is not None and self.memory_root is not None:
            d = self.memory_root / job
            try:
                d.mkdir(exist_ok=True)
                limit_file = "memory.max" if self.v2 else "memory.limit_in_bytes"
                (d / limit_file).write_text(str(memory_bytes))
                if not self.v2:
                    with contextlib.suppress(OSError):
                        (d / "memory.memsw.limit_in_bytes").write_text(str(memory_bytes))
                if d not in dirs:
                    dirs.append(d)
            except OSError:
                pass
        return dirs

    def adopt(self, dirs: list[Path], max_processes: int) -> list[Path]:
        """Take a spare's pids cgroup(s) (made by the fork server) as the job's: set the job's limit.

        Only directories directly under our own pids parent qualify. Returns them, or [] (the
        caller then creates per-job cgroups, which the child moves into; until then the spare's
        own cgroup keeps it at 1 process, so a failure here fails closed).
        """
        if not dirs or self.pids_root is None or any(d.parent != self.pids_root for d in dirs):
            return []
        try:
            for d in dirs:
                (d / "pids.max").write_text(str(max_processes))
        except OSError:
            return []
        return list(dirs)

    @staticmethod
    def procs(d: Path) -> list[int]:
        try:
            return [int(x) for x in (d / "cgroup.procs").read_text().split()]
        except (OSError, ValueError):
            return []

    @staticmethod
    def pids_limit_hit(d: Path) -> bool:
        try:
            for line in (d / "pids.events").read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "max" and int(value) > 0:
                    return True
        except (OSError, ValueError):
            pass
        return False

    @staticmethod
    def memory_limit_hit(d: Path) -> bool:
        for name in ("memory.events", "memory.oom_control"):
            try:
                text = (d / name).read_text()
            except OSError:
                continue
            for line in text.splitlines():
                key, _, value = line.partition(" ")
                if key in ("oom_kill", "oom") and value.strip().isdigit() and int(value) > 0:
                    return True
        return False

    def kill_and_remove(self, dirs: list[Path]) -> None:
        """SIGKILL everything still in the job's cgroups, then remove them."""
        for d in dirs:
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                pids = self.procs(d)
                if not pids:
                    break
                for pid in pids:
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        os.kill(pid, signal.SIGKILL)
                time.sleep(0.005)
            for _ in range(200):
                try:
                    d.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.005)  # exiting tasks may linger for a moment


    def remove_parents(self) -> None:
        """At exit: remove this process's (empty) parent cgroups."""
        for root in {self.pids_root, self.memory_root} - {None}:
            with contextlib.suppress(OSError):
                root.rmdir()


_CGROUPS = _Cgroups()
atexit.register(_CGROUPS.remove_parents)


def _session_members(sid: int) -> list[int]:
    """Pids whose session id is `sid` (fallback process accounting without cgroups)."""
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        # fields after the ")" of comm: state ppid pgrp session ...
        fields = stat[stat.rfind(b")") + 2:].split()
        if len(fields) > 3 and int(fields[3]) == sid:
            members.append(int(entry))
    return members


# ------------------------------------------------------------------------------------------------
# Child process setup
# ------------------------------------------------------------------------------------------------

def _rlimits(language: str, timeout: float | None, memory_mb: int) -> dict[str, int]:
    limits = {"RLIMIT_FSIZE": FILE_SIZE_LIMIT, "RLIMIT_CORE": 0}
    if timeout is not None:
        # CPU seconds, a backstop behind the wall clock (which also catches sleeping scripts).
        limits["RLIMIT_CPU"] = int(math.ceil(timeout)) + 1
    if language in ("python3", "bash"):
        limits["RLIMIT_AS"] = memory_mb * 1024 * 1024
    return limits


def _make_preexec(rlimits: dict[str, int], cgroup_procs: list[str]) -> Callable[[], None]:
    # Runs in the forked child before exec. Only plain syscalls: no imports, no locks.
    items = [(getattr(resource, name), value) for name, value in rlimits.items()]

    def preexec() -> None:
        pid = str(os.getpid())
        for path in cgroup_procs:
            with open(path, "w") as f:
                f.write(pid)
        for which, value in items:
            resource.setrlimit(which, (value, value))

    return preexec


# ------------------------------------------------------------------------------------------------
# Warm runner (python fork server)
# ------------------------------------------------------------------------------------------------

class _WarmRunner:
    """A long-lived ``python_harness.py --serve`` process that keeps one child forked ahead.

    The server forks a spare child (new session, harness and its imports loaded) *before* it is
    needed and hands us a socket to it; a job is then one message straight to that child (the
    JSON request plus the stdout/stderr pipe ends). The server reaps the child, reports its exit
    status on our socket and forks the next spare while we finish the job, so neither the fork
    nor the server's wake-up is on the job's path. Limits, cgroups, env and cwd are still applied
    by the child when the job arrives, exactly as before.
    """

    def __init__(self, flavour: str = "lean") -> None:
        self.flavour = flavour
        self.lock = threading.Lock()
        self.proc: subprocess.Popen[bytes] | None = None
        self.sock: socket.socket | None = None
        self.pid_owner = 0
        self.cgroup_parent: Path | None = None  # where the server makes the spares' pids cgroups
        self.pending: list[_Spare] = []  # spares announced while we were waiting for a status

    def _start(self) -> None:
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        env = {"PATH": _clean_path(), "LANG": "C.UTF-8", "HOME": tempfile.gettempdir()}
        _CGROUPS.setup()
        self.cgroup_parent = _CGROUPS.pids_root
        try:
            self.proc = subprocess.Popen(
                [_python_executable(), "-I", "-u", str(PY_HARNESS), "--serve", str(child.fileno()),
                 self.flavour, str(self.cgroup_parent or "")],
                pass_fds=(child.fileno(),), env=env, stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                close_fds=True,
            )
        finally:
            child.close()
        self.sock = parent
        self.pid_owner = os.getpid()

    def stop(self) -> None:
        # Closing our socket also ends an idle spare (EOF on its channel, which only we hold).
        for spare in self.pending:
            with contextlib.suppress(OSError):
                spare.channel.close()
        self.pending = []
        if self.sock is not None:
            with contextlib.suppress(OSError):
                self.sock.close()
        if self.proc is not None and self.pid_owner == os.getpid():
            with contextlib.suppress(OSError):
                self.proc.kill()
            with contextlib.suppress(Exception):
                self.proc.wait(timeout=2)
            # A spare the server made but we never took (or a server killed mid-way) leaves its
            # cgroup behind; the spare itself exits on EOF, or is killed here.
            if self.cgroup_parent is not None:
                with contextlib.suppress(OSError):
                    leftovers = list(self.cgroup_parent.glob(f"spare-{self.flavour}-*"))
                    _CGROUPS.kill_and_remove(leftovers)
        self.proc, self.sock = None, None

    def take_spare(self) -> _Spare | None:
        """The server's next spare child (starting the server if needed), or None if it is broken."""
        if self.proc is not None and (self.pid_owner != os.getpid() or self.proc.poll() is not None
                                      or self.cgroup_parent != _CGROUPS.pids_root):
            # Inherited through fork (the socket is shared with the parent), dead, or making its
            # spares' cgroups where we no longer look: start over.
            if self.pid_owner != os.getpid():
                self.proc, self.sock, self.pending = None, None, []
            else:
                self.stop()
        if self.proc is None:
            self._start()
        assert self.sock is not None
        try:
            self.sock.settimeout(10)
            while not self.pending:
                if self.receive() is None:  # (a status of a job we gave up on is skipped)
                    raise OSError("fork server closed its socket")
            self.sock.settimeout(None)
            return self.pending.pop(0)
        except (OSError, ValueError):
            self.stop()
            return None

    def receive(self) -> dict[str, Any] | None:
        """One message from the server (None at EOF); a spare goes to `pending`."""
        assert self.sock is not None
        data, fds, _flags, _addr = socket.recv_fds(self.sock, 65536, 1)
        if not data:
            for fd in fds:
                os.close(fd)
            return None
        message: dict[str, Any] = json.loads(data)
        if "spare" in message and len(fds) == 1:
            self.pending.append(_Spare(int(message["spare"]), socket.socket(fileno=fds[0]),
                                       [Path(d) for d in message.get("cgroups") or []]))
        else:
            for fd in fds:
                os.close(fd)
        return message

    def send(self, spare: _Spare, request: dict[str, Any], stdout_w: int, stderr_w: int) -> bool:
        """Hand the job to the spare. False if that failed (the server is then stopped)."""
        try:
            with spare.channel:
                socket.send_fds(spare.channel, [json.dumps(request).encode()], [stdout_w, stderr_w])
        except (OSError, ValueError):
            self.stop()
            return False
        return True


@dataclass
class _Spare:
    """A child the fork server made ahead of time, waiting for one job on `channel`."""

    pid: int
    channel: socket.socket
    cgroups: list[Path]  # its pids cgroup (pids.max 1 until we set the job's limit), if any


_WARM = _WarmRunner("lean")
_WARM_ASYNC = _WarmRunner("async")  # started on first use only

# An async main needs asyncio (~20-100 ms to import in a child), a sync one is faster from a
# server without it (smaller parent: cheaper fork and, above all, cheaper exit). Any of these
# words sends the script to the server that has asyncio preloaded; a miss only costs time.
_ASYNC_HINT_RE = re.compile(r"\b(?:async|await|asyncio)\b")


def _warm_runner_for(content: str) -> _WarmRunner:
    return _WARM_ASYNC if _ASYNC_HINT_RE.search(content) else _WARM


def shutdown_warm_runner() -> None:
    """Stop this process's python fork servers (they are restarted on demand)."""
    for runner in (_WARM, _WARM_ASYNC):
        with runner.lock:
            runner.stop()


# Before _CGROUPS.remove_parents (atexit runs in reverse order): the servers' idle spares sit in
# cgroups under our parent dirs, which can only be removed once those are gone.
atexit.register(shutdown_warm_runner)


def _warm_enabled() -> bool:
    return os.environ.get("OPENFLOW_SANDBOX_WARM", "1") not in ("0", "false", "no", "")


# ------------------------------------------------------------------------------------------------
# Language specifics
# ------------------------------------------------------------------------------------------------

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


# ------------------------------------------------------------------------------------------------
# Supervision
# ------------------------------------------------------------------------------------------------

@dataclass
class _Outcome:
    returncode: int | None = None
    limit: dict[str, Any] | None = None  # the error of a limit we enforced, if any
    stderr_tail: deque[str] | None = None
    stdout_last: str = ""
    logs: str = ""


class _Logs:
    """Line splitting, streaming and the output cap for both pipes."""

    def __init__(self, limit: int, on_log: Callable[[str], None] | None) -> None:
        self.limit = limit
        self.on_log = on_log
        self.parts: list[str] = []
        self.size = 0
        self.exceeded = False
        self.partial: dict[str, bytes] = {"stdout": b"", "stderr": b""}
        self.stderr_tail: deque[str] = deque(maxlen=STDERR_TAIL_LINES)
        self.last_stdout_line = ""

    def _emit(self, name: str, line: bytes) -> None:
        text = line.decode("utf-8", errors="replace")
        if name == "stderr":
            self.stderr_tail.append(text.rstrip("\n"))
        elif text.strip():
            self.last_stdout_line = text.rstrip("\n")
        if self.exceeded:
            return
        room = self.limit - self.size
        if len(line) > room:
            self.exceeded = True
            text = line[:max(room, 0)].decode("utf-8", errors="ignore")
            if not text:
                return
        self.size += len(line)
        self.parts.append(text)
        if self.on_log is not None:
            try:
                self.on_log(text)
            except Exception:  # noqa: BLE001 - a broken log sink must not break the run
                pass

    def feed(self, name: str, data: bytes) -> None:
        buf = self.partial[name] + data
        *lines, rest = buf.split(b"\n")
        for line in lines:
            self._emit(name, line + b"\n")
        # a single enormous line without newline must still count against the cap
        if len(rest) > self.limit:
            self._emit(name, rest)
            rest = b""
        self.partial[name] = rest

    def close(self) -> None:
        for name in ("stdout", "stderr"):
            if self.partial[name]:
                self._emit(name, self.partial[name])
                self.partial[name] = b""

    @property
    def text(self) -> str:
        return "".join(self.parts)


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def _supervise(
    pid: int,
    poll_exit: Callable[[float], int | None],
    fds: dict[int, str],
    *,
    timeout: float | None,
    cancel: threading.Event | None,
    logs: _Logs,
    cgroup_dirs: list[Path],
    max_processes: int,
    memory_mb: int,
) -> _Outcome:
    """Pump the pipes until the child exits and they close; enforce the limits on the way."""
    outcome = _Outcome()
    started = time.monotonic()
    deadline = None if timeout is None else started + timeout
    sel = selectors.DefaultSelector()
    for fd, name in fds.items():
        os.set_blocking(fd, False)
        sel.register(fd, selectors.EVENT_READ, name)
    pids_dir = next((d for d in cgroup_dirs if (d / "pids.max").exists()), None)
    mem_dir = next((d for d in cgroup_dirs if (d / "memory.limit_in_bytes").exists()
                    or (d / "memory.max").exists()), None)
    next_watch = started
    killed = False

    def kill(limit: dict[str, Any]) -> None:
        nonlocal killed
        if outcome.limit is None:
            outcome.limit = limit
        _kill_group(pid)
        for d in cgroup_dirs:
            for p in _CGROUPS.procs(d):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(p, signal.SIGKILL)
        killed = True

    open_fds = set(fds)
    exit_seen_at: float | None = None
    while True:
        if open_fds:
            for key, _ in sel.select(_POLL):
                fd = key.fd
                try:
                    data = os.read(fd, 65536)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                if data:
                    logs.feed(key.data, data)
                else:
                    sel.unregister(fd)
                    open_fds.discard(fd)
        if outcome.returncode is None:
            outcome.returncode = poll_exit(0 if open_fds else _POLL)
            if outcome.returncode is not None and exit_seen_at is None:
                exit_seen_at = time.monotonic()
        now = time.monotonic()
        if not killed:
            if logs.exceeded:
                kill(_error("OutputLimitExceeded", f"Script output exceeded {_fmt_bytes(logs.limit)}"))
            elif deadline is not None and now >= deadline:
                kill(_error("Timeout", f"Script exceeded timeout of {timeout:g} s"))
            elif cancel is not None and cancel.is_set():
                kill(_error("Canceled", "Job canceled", reason="canceled", canceler=None))
            elif now >= next_watch:
                next_watch = now + 0.1
                if pids_dir is not None:
                    if _CGROUPS.pids_limit_hit(pids_dir):
                        kill(_error("ProcessLimitExceeded",
                                    f"Script exceeded process limit of {max_processes}"))
                elif outcome.returncode is None and len(_session_members(pid)) > max_processes:
                    kill(_error("ProcessLimitExceeded", f"Script exceeded process limit of {max_processes}"))
        if outcome.returncode is not None:
            if not open_fds:
                break
            # Background processes may hold the pipes open after the main process exited:
            # they belong to the job, so give them a moment, then kill the group.
            if exit_seen_at is not None and now - exit_seen_at > 0.5 and not killed:
                _kill_group(pid)
                for d in cgroup_dirs:
                    for p in _CGROUPS.procs(d):
                        with contextlib.suppress(ProcessLookupError, PermissionError):
                            os.kill(p, signal.SIGKILL)
                killed = True
            if exit_seen_at is not None and now - exit_seen_at > 5:
                break
    sel.close()
    logs.close()
    if mem_dir is not None and outcome.limit is None and _CGROUPS.memory_limit_hit(mem_dir):
        outcome.limit = _error("MemoryLimitExceeded", f"Script exceeded memory limit of {memory_mb} MB")
    outcome.stderr_tail = logs.stderr_tail
    outcome.stdout_last = logs.last_stdout_line
    outcome.logs = logs.text
    return outcome


# ------------------------------------------------------------------------------------------------
# Entry point
# ------------------------------------------------------------------------------------------------

def _default_root(language: str) -> str:
    # Job dirs are small and short-lived: on a tmpfs, creating and removing them costs ~0.1 ms
    # instead of several ms on the disk-backed /tmp measured here (about 9 vs 16 ms per warm job).
    # Not for deno: it treats every path under /dev as a device needing --allow-all.
    shm = "/dev/shm"
    if language != "deno" and os.path.isdir(shm) and os.access(shm, os.W_OK):
        return os.path.join(shm, "openflow-sandbox")
    return os.path.join(tempfile.gettempdir(), "openflow-sandbox")


def _deno_cache_dir(root: str | None) -> str:
    # Under the caller's root if given; by default on disk (not in RAM) so npm packages persist.
    base = root or os.path.join(tempfile.gettempdir(), "openflow-sandbox")
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
) -> ScriptResult:
    """Run `content` as a `language` script with `args` and return its :class:`ScriptResult`.

    `language`: ``python3``, ``deno`` or ``bash``. `timeout`: wall seconds or None. `env`: extra
    environment variables (e.g. ``WM_*``) on top of the clean base environment. `memory_mb`:
    memory limit. `output_limit`: cap in bytes on stdout + stderr. `on_log` receives the output
    line by line as it arrives (each piece ends with ``"\\n"`` except a final partial line).
    `cancel`: set it to kill the script. `workdir_root`: where job dirs (and the deno cache) live.
    `max_processes`: process cap for the job (cgroup or watchdog).

    Never raises for a script's behaviour: errors come back as ``success=False`` results.
    """
    started = time.monotonic()
    if language not in LANGUAGES:
        return ScriptResult(False, _error("ExecutionErr", f"unknown language {language!r}; supported: "
                                          + ", ".join(LANGUAGES)), "", 0.0)
    root = workdir_root or _default_root(language)
    os.makedirs(root, exist_ok=True)
    job_dir = tempfile.mkdtemp(prefix="job-", dir=root)
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
        logs = _Logs(output_limit, on_log)
        stdout_r, stdout_w = os.pipe()
        stderr_r, stderr_w = os.pipe()
        pid: int | None = None
        poll_exit: Callable[[float], int | None] | None = None
        proc: subprocess.Popen[bytes] | None = None
        try:
            runner = _warm_runner_for(content) if language == "python3" and _warm_enabled() else None
            if runner is not None and runner.lock.acquire(blocking=False):
                try:
                    spare = runner.take_spare()
                    sock = None
                    if spare is not None:
                        # The spare's own cgroup becomes the job's (made and joined ahead of time);
                        # otherwise the child joins per-job ones as on the cold path.
                        cgroup_dirs = (_CGROUPS.adopt(spare.cgroups, max_processes)
                                       or _CGROUPS.create(job_name, max_processes, extra_mem_bytes))
                        spare_leftovers = [d for d in spare.cgroups if d not in cgroup_dirs]
                        request = {"job_dir": job_dir, "env": child_env, "rlimits": rlimits,
                                   "cgroup_procs": [str(d / "cgroup.procs") for d in cgroup_dirs]}
                        if runner.send(spare, request, stdout_w, stderr_w):
                            sock = runner.sock
                        else:
                            _CGROUPS.kill_and_remove(cgroup_dirs)
                            cgroup_dirs = []
                    if sock is not None:
                        assert spare is not None
                        pid = spare.pid
                        os.close(stdout_w)
                        os.close(stderr_w)
                        stdout_w = stderr_w = -1
                        poll_exit = _warm_poller(runner, pid)
                        outcome = _supervise(
                            pid, poll_exit, {stdout_r: "stdout", stderr_r: "stderr"}, timeout=timeout,
                            cancel=cancel, logs=logs, cgroup_dirs=cgroup_dirs,
                            max_processes=max_processes, memory_mb=memory_mb)
                        if outcome.returncode is None:
                            runner.stop()  # lost track of the child: never reuse that server
                finally:
                    runner.lock.release()
            if pid is None:
                cgroup_dirs = _CGROUPS.create(job_name, max_processes, extra_mem_bytes)
                cgroup_procs = [str(d / "cgroup.procs") for d in cgroup_dirs]
                try:
                    proc = subprocess.Popen(
                        argv, cwd=job_dir, env=child_env, stdin=subprocess.DEVNULL, stdout=stdout_w,
                        stderr=stderr_w, start_new_session=True, close_fds=True,
                        preexec_fn=_make_preexec(rlimits, cgroup_procs),  # noqa: PLW1509
                    )
                except OSError as e:
                    return ScriptResult(False, _error("ExecutionErr", f"could not start {language}: {e}"),
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

                outcome = _supervise(
                    pid, poll_exit, {stdout_r: "stdout", stderr_r: "stderr"}, timeout=timeout,
                    cancel=cancel, logs=logs, cgroup_dirs=cgroup_dirs, max_processes=max_processes,
                    memory_mb=memory_mb)
        finally:
            for fd in (stdout_r, stderr_r, stdout_w, stderr_w):
                if fd >= 0:
                    with contextlib.suppress(OSError):
                        os.close(fd)
            if pid is not None:
                _kill_group(pid)  # stragglers (daemonised children) die with the job
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()
        success, result = _interpret(language, job_dir, outcome, memory_mb, result_limit)
        return ScriptResult(success, result, outcome.logs, time.monotonic() - started)
    finally:
        _CGROUPS.kill_and_remove(cgroup_dirs + spare_leftovers)
        shutil.rmtree(job_dir, ignore_errors=True)


def _warm_poller(runner: _WarmRunner, pid: int) -> Callable[[float], int | None]:
    """Exit status of warm child `pid` from the server's messages, waiting up to `wait` s.

    The server forks the next spare while this job runs, so its ``{"spare"}`` message may come
    first: it is kept for the next job, not lost.
    """
    sock = runner.sock
    assert sock is not None

    def poll(wait: float) -> int | None:
        deadline = time.monotonic() + wait
        while True:
            sock.settimeout(max(deadline - time.monotonic(), 0.0))
            try:
                message = runner.receive()
            except (BlockingIOError, TimeoutError):
                return None
            except (OSError, ValueError):
                return -signal.SIGKILL  # server gone; the child is gone with its session kill
            finally:
                sock.settimeout(None)
            if message is None:
                return -signal.SIGKILL
            if message.get("pid") == pid and "status" in message:
                return int(message["status"])

    return poll


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
    child_env = {"PATH": _clean_path(), "HOME": job_dir, "LANG": "C.UTF-8", "TMPDIR": tmp_dir}
    child_env.update({str(k): str(v) for k, v in (env or {}).items()})
    rlimits = _rlimits(language, timeout, memory_mb)
    try:
        args_text = json.dumps(args if args is not None else {})
    except (TypeError, ValueError) as e:
        raise _PrepareError(_error("ExecutionErr", f"arguments are not JSON-serialisable: {e}")) from e
    with open(os.path.join(job_dir, "args.json"), "w", encoding="utf-8") as f:
        f.write(args_text)
    if language == "python3":
        Path(job_dir, "main.py").write_text(content, encoding="utf-8")
        return [_python_executable(), "-I", "-u", str(PY_HARNESS), job_dir], child_env, rlimits, None
    if language == "deno":
        deno = _deno_executable()
        if deno is None:
            raise _PrepareError(_error("ExecutionErr", "deno is not installed"))
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
    return [_bash_executable(), os.path.join(job_dir, "main.sh"), *positional], child_env, rlimits, None


def _signal_name(returncode: int) -> str:
    try:
        return signal.Signals(-returncode).name
    except ValueError:
        return f"signal {-returncode}"


def _crash_error(language: str, outcome: _Outcome, memory_mb: int, timeout_hint: str = "") -> dict[str, Any]:
    rc = outcome.returncode
    tail = "\n".join(outcome.stderr_tail or [])
    interpreter = "python3" if language == "python3" else language
    if rc is not None and rc < 0:
        if rc == -signal.SIGXCPU:
            return _error("Timeout", "Script exceeded its CPU time limit" + timeout_hint)
        what = f"{interpreter} was killed by {_signal_name(rc)}"
    else:
        what = f"{interpreter} exited with code {rc}"
    lowered = tail.lower()
    if "out of memory" in lowered or "memoryerror" in lowered or "heap limit" in lowered \
            or "cannot allocate memory" in lowered:
        return _error("MemoryLimitExceeded", f"Script exceeded memory limit of {memory_mb} MB",
                      stack=tail or None)
    message = what + (f"\n{tail}" if tail else "")
    return _error("ExecutionErr", message)


def _too_large(path: str, limit: int) -> dict[str, Any] | None:
    """The ResultTooLarge error when the file at ``path`` is over ``limit`` bytes (without reading it)."""
    try:
        size = os.stat(path).st_size
    except OSError:
        return None
    if size <= limit:
        return None
    return _error("ResultTooLarge", f"Script result is {_fmt_bytes(size)}, over the limit of {_fmt_bytes(limit)}")


def _interpret(language: str, job_dir: str, outcome: _Outcome, memory_mb: int,
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
            return False, _error("MemoryLimitExceeded", f"Script exceeded memory limit of {memory_mb} MB",
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
            return False, _error("ExecutionErr", f"could not read result.json: {e}")
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
