"""The warm path for python3: the client side of ``harness/python_harness.py --serve``, a fork
server per worker process that keeps one sandboxed child forked ahead (see the package docstring)."""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runs.sandbox.common import PY_HARNESS, clean_path, python_executable
from runs.sandbox.limits import CGROUPS


class WarmRunner:
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
        self.pending: list[Spare] = []  # spares announced while we were waiting for a status
        self.plan: dict[str, Any] | None = None  # the confinement the server applied to itself

    def _start(self, plan: dict[str, Any] | None) -> None:
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        env = {"PATH": clean_path(), "LANG": "C.UTF-8", "HOME": tempfile.gettempdir()}
        CGROUPS.setup()
        self.cgroup_parent = CGROUPS.pids_root
        try:
            self.proc = subprocess.Popen(
                [python_executable(), "-I", "-u", str(PY_HARNESS), "--serve", str(child.fileno()),
                 self.flavour, str(self.cgroup_parent or ""), json.dumps(plan) if plan else ""],
                pass_fds=(child.fileno(),), env=env, stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                close_fds=True,
            )
        finally:
            child.close()
        self.sock = parent
        self.pid_owner = os.getpid()
        self.plan = plan

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
                    CGROUPS.kill_and_remove(leftovers)
        self.proc, self.sock = None, None

    def take_spare(self, plan: dict[str, Any] | None = None) -> Spare | None:
        """The server's next spare child (starting the server if needed), or None if it is broken.

        The server confines itself (``plan``) once when it starts; its spares inherit that.
        """
        if self.proc is not None and (self.pid_owner != os.getpid() or self.proc.poll() is not None
                                      or self.cgroup_parent != CGROUPS.pids_root or self.plan != plan):
            # Inherited through fork (the socket is shared with the parent), dead, making its
            # spares' cgroups where we no longer look, or confining them differently: start over.
            if self.pid_owner != os.getpid():
                self.proc, self.sock, self.pending = None, None, []
            else:
                self.stop()
        if self.proc is None:
            self._start(plan)
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
            self.pending.append(Spare(int(message["spare"]), socket.socket(fileno=fds[0]),
                                       [Path(d) for d in message.get("cgroups") or []]))
        else:
            for fd in fds:
                os.close(fd)
        return message

    def send(self, spare: Spare, request: dict[str, Any], stdout_w: int, stderr_w: int) -> bool:
        """Hand the job to the spare. False if that failed (the server is then stopped)."""
        try:
            with spare.channel:
                socket.send_fds(spare.channel, [json.dumps(request).encode()], [stdout_w, stderr_w])
        except (OSError, ValueError):
            self.stop()
            return False
        return True


@dataclass
class Spare:
    """A child the fork server made ahead of time, waiting for one job on `channel`."""

    pid: int
    channel: socket.socket
    cgroups: list[Path]  # its pids cgroup (pids.max 1 until we set the job's limit), if any


WARM = WarmRunner("lean")
WARM_ASYNC = WarmRunner("async")  # started on first use only

# An async main needs asyncio (~20-100 ms to import in a child), a sync one is faster from a
# server without it (smaller parent: cheaper fork and, above all, cheaper exit). Any of these
# words sends the script to the server that has asyncio preloaded; a miss only costs time.
_ASYNC_HINT_RE = re.compile(r"\b(?:async|await|asyncio)\b")


def runner_for(content: str) -> WarmRunner:
    return WARM_ASYNC if _ASYNC_HINT_RE.search(content) else WARM


def shutdown_warm_runner() -> None:
    """Stop this process's python fork servers (they are restarted on demand)."""
    for runner in (WARM, WARM_ASYNC):
        with runner.lock:
            runner.stop()


# Before CGROUPS.remove_parents (atexit runs in reverse order): the servers' idle spares sit in
# cgroups under our parent dirs, which can only be removed once those are gone.
atexit.register(shutdown_warm_runner)


def warm_enabled() -> bool:
    return os.environ.get("OPENFLOW_SANDBOX_WARM", "1") not in ("0", "false", "no", "")


def exit_poller(runner: WarmRunner, pid: int) -> Callable[[float], int | None]:
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
