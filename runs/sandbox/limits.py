"""Limits applied to a job's processes: per-job cgroups (pids, memory; v1 or v2, best effort),
the /proc fallback that counts a session's processes, the rlimits set in the child and its
confinement (``runs/harness/isolation.py``: private mounts, no capabilities)."""

from __future__ import annotations

import atexit
import contextlib
import functools
import json
import logging
import math
import os
import resource
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from runs.harness import isolation
from runs.sandbox.common import FILE_SIZE_LIMIT

log = logging.getLogger(__name__)


class Cgroups:
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


CGROUPS = Cgroups()
atexit.register(CGROUPS.remove_parents)


def session_members(sid: int) -> list[int]:
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


def job_rlimits(language: str, timeout: float | None, memory_mb: int) -> dict[str, int]:
    limits = {"RLIMIT_FSIZE": FILE_SIZE_LIMIT, "RLIMIT_CORE": 0}
    if timeout is not None:
        # CPU seconds, a backstop behind the wall clock (which also catches sleeping scripts).
        limits["RLIMIT_CPU"] = int(math.ceil(timeout)) + 1
    if language in ("python3", "bash"):
        limits["RLIMIT_AS"] = memory_mb * 1024 * 1024
    return limits


def make_preexec(rlimits: dict[str, int], cgroup_procs: list[str],
                 plan: dict | None = None) -> Callable[[], None]:
    # Runs in the forked child before exec. Only plain syscalls: no imports, no locks.
    items = [(getattr(resource, name), value) for name, value in rlimits.items()]

    def preexec() -> None:
        pid = str(os.getpid())
        for path in cgroup_procs:
            with open(path, "w") as f:
                f.write(pid)
        for which, value in items:
            resource.setrlimit(which, (value, value))
        isolation.confine(plan)  # last: joining cgroups and lowering rlimits need no privilege after it

    return preexec


def job_plan(isolation_plan: dict | None, *keep_writable: str) -> dict | None:
    """The confinement plan for a job whose files live under `keep_writable` dirs.

    A hidden or read-only dir that contains one of them is left out (a test may put the var dir
    and the job dirs under one temporary root). Where the kernel refuses the namespaces, the
    plan shrinks to dropping privileges (with a warning once), unless it is ``required``: then
    :class:`isolation.IsolationUnavailable` is raised with the kernel's reason.
    """
    if not isolation_plan:
        return None
    key = (json.dumps(isolation_plan, sort_keys=True), keep_writable)
    if (cached := _PLANS.get(key)) is None:
        cached = _PLANS[key] = _job_plan(isolation_plan, keep_writable)
    return dict(cached)


_PLANS: dict[tuple[str, tuple[str, ...]], dict] = {}  # realpath() of every dir costs ~0.1 ms per job


def _job_plan(isolation_plan: dict, keep_writable: tuple[str, ...]) -> dict:
    kept = [os.path.realpath(p) for p in keep_writable]

    def allowed(path: str) -> bool:
        real = os.path.realpath(path)
        return not any(k == real or k.startswith(real.rstrip(os.sep) + os.sep) for k in kept)

    plan = {"hide": [p for p in isolation_plan.get("hide") or [] if allowed(p)],
            "readonly": [p for p in isolation_plan.get("readonly") or [] if allowed(p)],
            "required": bool(isolation_plan.get("required"))}
    problem = isolation_problem()
    if problem is not None:
        if plan["required"]:
            raise isolation.IsolationUnavailable(0, f"script isolation is required (SCRIPT_ISOLATION=required) "
                                                    f"but unavailable here: {problem}")
        plan["hide"], plan["readonly"] = [], []
    return plan


@functools.cache
def isolation_problem() -> str | None:
    """Why this kernel won't confine a job (tried once per process in a throwaway child), or None."""
    probe = {"hide": [], "readonly": [], "required": True}
    try:
        out = subprocess.run([sys.executable, "-I", isolation.__file__, "--probe", json.dumps(probe)],
                             capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL,
                             env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")})
    except (OSError, subprocess.SubprocessError) as e:
        problem: str | None = f"the probe did not run: {e}"
    else:
        problem = None if out.returncode == 0 else (out.stdout.strip() or out.stderr.strip()
                                                    or f"probe exited with {out.returncode}")
    if problem is not None:
        log.warning("Scripts run without a private mount namespace (the var dir is not hidden from them): %s",
                    problem)
    return problem
