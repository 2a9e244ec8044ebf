"""Confine a script process before it runs: private mounts that hide the server's files, no privileges.

Standard library only: used both by the worker (``runs.sandbox``, in the ``preexec_fn`` of a cold
job) and by ``python_harness.py`` (the warm fork server loads it by path and confines itself once,
so every child it forks starts confined).

:func:`confine` ``(plan)`` runs in the job's own process (cold) or in the fork server (warm), after
cgroups and rlimits are set and before any script starts. ``plan`` is JSON (it crosses to the fork
server):
``{"hide": [dir, ...], "readonly": [dir, ...], "required": bool}``.

1. A mount namespace of its own: ``unshare(CLONE_NEWNS)`` as root; otherwise a user namespace too
   (``CLONE_NEWUSER``, the process's own uid/gid mapped to themselves), which an unprivileged
   process may create. Mount propagation is made private first, so nothing reaches the host.
2. Each ``readonly`` dir is bind-mounted read-only over itself (the project: no script rewrites
   the worker's code), each ``hide`` dir gets an empty, read-only tmpfs of mode 000 over it (the
   server's var dir: secret key, SQLite database, Redis data).
3. Every capability goes: the bounding set, the ambient set, then effective / permitted /
   inheritable, plus ``no_new_privs``. A root script is then a uid-0 process with no privileges:
   it can't undo the mounts, can't read a privileged process's ``/proc/<pid>/environ`` or
   ``/proc/<pid>/fd`` (the kernel's ptrace check wants CAP_SYS_PTRACE or a superset of the
   target's capabilities) and an ``execve`` of a setuid binary or as root regains nothing.

Why not a separate uid: the interpreter often lives where another uid can't read it (pyenv under
/root here), and a non-root worker can't switch uids at all; namespaces work in both cases.

If the kernel refuses a namespace (e.g. user namespaces disabled) :func:`confine` raises
:class:`IsolationUnavailable` when ``required``, else it still drops the privileges and returns
False, so the caller can report that the files are not hidden.
"""

from __future__ import annotations

import ctypes
import os

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 24, 38, 47, 4
_LINUX_CAPABILITY_VERSION_3 = 0x20080522

# Loaded once at import: the preexec_fn of a cold job runs between fork and exec, where loading a
# library or importing a module is unsafe; calling a prepared foreign function is a plain syscall.
_libc = ctypes.CDLL(None, use_errno=True)
try:
    _libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
    _libc.unshare.argtypes = [ctypes.c_int]
    _libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    _libc.capset  # noqa: B018 - resolved now, not in a preexec_fn
    LINUX = True
except AttributeError:  # not Linux: nothing to confine with (confine() reports it, the rest no-ops)
    LINUX = False


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


def _last_cap() -> int:
    try:
        with open("/proc/sys/kernel/cap_last_cap") as f:
            return int(f.read())
    except (OSError, ValueError):
        return 63


_LAST_CAP = _last_cap()
_HEADER = _CapHeader(_LINUX_CAPABILITY_VERSION_3, 0)
_NO_CAPS = (_CapData * 2)()


class IsolationUnavailable(OSError):
    """The kernel refused the namespaces the plan asks for (and the plan says they are required)."""


def _check(rc: int, what: str) -> None:
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _enter_namespaces() -> None:
    if not LINUX:
        raise OSError(38, "namespaces need Linux")  # ENOSYS
    uid, gid = os.getuid(), os.getgid()
    if os.geteuid() == 0:
        _check(_libc.unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)")
        return
    _check(_libc.unshare(CLONE_NEWUSER | CLONE_NEWNS), "unshare(CLONE_NEWUSER|CLONE_NEWNS)")
    # An unprivileged process may map exactly its own ids, and only after giving up setgroups.
    for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
        with open(f"/proc/self/{name}", "w") as f:
            f.write(text)


def _mount(source: bytes | None, target: str, fstype: bytes | None, flags: int, data: bytes | None) -> None:
    _check(_libc.mount(source, target.encode(), fstype, flags, data), f"mount {target}")


def _apply_mounts(plan: dict) -> None:
    _mount(None, "/", None, MS_REC | MS_PRIVATE, None)  # first: nothing below may propagate out
    for path in plan.get("readonly") or []:
        if os.path.isdir(path):
            _mount(path.encode(), path, None, MS_BIND | MS_REC, None)
            _mount(None, path, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, None)
    for path in plan.get("hide") or []:
        if os.path.isdir(path):
            _mount(b"none", path, b"tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, b"size=4k,mode=000")


def drop_privileges() -> None:
    """Give up every capability for good (bounding, ambient, effective, permitted, inheritable)."""
    if not LINUX:
        return
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(PR_SET_NO_NEW_PRIVS)")
    _libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)  # EINVAL on old kernels: nothing to clear
    for cap in range(_LAST_CAP + 1):
        # EPERM means CAP_SETPCAP is gone already (an unprivileged process): its bounding set
        # can't grant anything at exec anyway, with no_new_privs and no file capabilities in play.
        _libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)
    _check(_libc.capset(ctypes.byref(_HEADER), _NO_CAPS), "capset")


def confine(plan: dict | None) -> bool:
    """Apply ``plan`` to this process (see the module docstring). True if the mounts are in place.

    Privileges are always dropped, even when the namespaces were refused; with ``plan["required"]``
    a refusal raises :class:`IsolationUnavailable` instead.
    """
    if not plan:
        return False
    hidden = True
    try:
        _enter_namespaces()
        _apply_mounts(plan)
    except OSError as e:
        if plan.get("required"):
            raise IsolationUnavailable(e.errno or 0, f"script isolation is required but unavailable: {e}") from e
        hidden = False
    drop_privileges()
    return hidden


PR_SET_DUMPABLE = 4


def make_undumpable() -> None:
    """Close this server process's /proc files (environ, fd, mem) to other processes of its uid.

    For a worker or daphne whose scripts could not be confined (no namespaces available), the
    secrets in its environment would otherwise be one ``open("/proc/<pid>/environ")`` away.
    Children that ``execve`` become dumpable again (their environment is the clean one).
    """
    if not LINUX:
        return
    _libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)


def _probe(plan_json: str) -> int:
    """``python isolation.py --probe PLAN``: confine a throwaway process, say what went wrong."""
    import json

    try:
        confine({**json.loads(plan_json), "required": True})
    except OSError as e:
        print(e)
        return 1
    return 0


if __name__ == "__main__":
    import sys

    if len(sys.argv) == 3 and sys.argv[1] == "--probe":
        sys.exit(_probe(sys.argv[2]))
    sys.exit("usage: isolation.py --probe PLAN_JSON")
