"""What every part of the sandbox shares: languages, harness paths, limits, the result type,
error objects and the executables a job may run (found once per process)."""

from __future__ import annotations

import functools
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LANGUAGES = ("python3", "deno", "bash")
HARNESS_DIR = Path(__file__).resolve().parent.parent / "harness"
PY_HARNESS = HARNESS_DIR / "python_harness.py"
DENO_HARNESS = HARNESS_DIR / "deno_harness.ts"
RESULT_FILE = ".ofs_result.json"  # written by the harnesses; must match them
# A result is stored in the run state, the API and the live events: bound it before reading it.
DEFAULT_RESULT_LIMIT = 2_000_000
FILE_SIZE_LIMIT = 1024 * 1024 * 1024  # RLIMIT_FSIZE: largest file a script may write
STDERR_TAIL_LINES = 20


@dataclass
class ScriptResult:
    """Outcome of one script run. `result` is the JSON result, or ``{"error": {...}}`` on failure."""

    success: bool
    result: Any
    logs: str
    duration: float


def script_error(name: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"name": name, "message": message, **extra}}


def timeout_error(timeout: float) -> dict[str, Any]:
    """A step over its wall timeout is canceled by "timeout", in Windmill's Canceled shape (spec 5.1)."""
    reason = f"duration > {timeout:g}"
    return script_error("Canceled", f"Job canceled: {reason} by timeout", reason=reason, canceler="timeout")


def fmt_bytes(n: int) -> str:
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= size:
            value = n / size
            return f"{value:g} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{n} bytes"


def python_executable() -> str:
    return os.environ.get("OPENFLOW_SANDBOX_PYTHON") or sys.executable


@functools.cache
def deno_executable() -> str | None:
    try:
        import deno  # the PyPI wheel ships the binary

        return deno.find_deno_bin()
    except Exception:  # noqa: BLE001 - fall back to PATH
        return shutil.which("deno")


def bash_executable() -> str:
    return shutil.which("bash") or "/bin/bash"


@functools.cache
def clean_path() -> str:
    dirs = [os.path.dirname(python_executable())]
    deno = deno_executable()
    if deno:
        dirs.append(os.path.dirname(deno))
    dirs += ["/usr/local/bin", "/usr/bin", "/bin"]
    return os.pathsep.join(dict.fromkeys(dirs))
