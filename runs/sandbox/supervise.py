"""Supervising a running job: pump its stdout/stderr into logs (streamed, capped), enforce the
wall timeout, cancel, output and process limits, and collect how it ended."""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runs.sandbox.common import STDERR_TAIL_LINES, fmt_bytes, script_error, timeout_error
from runs.sandbox.limits import CGROUPS, session_members

_POLL = 0.05  # supervision tick (timeout / cancel / watchdog), seconds


@dataclass
class Outcome:
    returncode: int | None = None
    limit: dict[str, Any] | None = None  # the error of a limit we enforced, if any
    stderr_tail: deque[str] | None = None
    stdout_last: str = ""
    logs: str = ""


class Logs:
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


def kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def supervise(
    pid: int,
    poll_exit: Callable[[float], int | None],
    fds: dict[int, str],
    *,
    timeout: float | None,
    cancel: threading.Event | None,
    logs: Logs,
    cgroup_dirs: list[Path],
    max_processes: int,
    memory_mb: int,
) -> Outcome:
    """Pump the pipes until the child exits and they close; enforce the limits on the way."""
    outcome = Outcome()
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
        kill_group(pid)
        for d in cgroup_dirs:
            for p in CGROUPS.procs(d):
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
                kill(script_error("OutputLimitExceeded", f"Script output exceeded {fmt_bytes(logs.limit)}"))
            elif deadline is not None and now >= deadline:
                kill(timeout_error(timeout))
            elif cancel is not None and cancel.is_set():
                kill(script_error("Canceled", "Job canceled", reason="canceled", canceler=None))
            elif now >= next_watch:
                next_watch = now + 0.1
                if pids_dir is not None:
                    if CGROUPS.pids_limit_hit(pids_dir):
                        kill(script_error("ProcessLimitExceeded",
                                    f"Script exceeded process limit of {max_processes}"))
                elif outcome.returncode is None and len(session_members(pid)) > max_processes:
                    kill(script_error("ProcessLimitExceeded", f"Script exceeded process limit of {max_processes}"))
        if outcome.returncode is not None:
            if not open_fds:
                break
            # Background processes may hold the pipes open after the main process exited:
            # they belong to the job, so give them a moment, then kill the group.
            if exit_seen_at is not None and now - exit_seen_at > 0.5 and not killed:
                kill_group(pid)
                for d in cgroup_dirs:
                    for p in CGROUPS.procs(d):
                        with contextlib.suppress(ProcessLookupError, PermissionError):
                            os.kill(p, signal.SIGKILL)
                killed = True
            if exit_seen_at is not None and now - exit_seen_at > 5:
                break
    sel.close()
    logs.close()
    if mem_dir is not None and outcome.limit is None and CGROUPS.memory_limit_hit(mem_dir):
        outcome.limit = script_error("MemoryLimitExceeded", f"Script exceeded memory limit of {memory_mb} MB")
    outcome.stderr_tail = logs.stderr_tail
    outcome.stdout_last = logs.last_stdout_line
    outcome.logs = logs.text
    return outcome
