"""A real running stack for integration and browser tests: daphne + a Celery worker (+ beat).

The processes use the test database pytest-django created (a file for SQLite, ``test_<name>`` for
PostgreSQL) and the Redis of REDIS_URL. Tests that use it must commit their data, so they take
the ``transactional_db`` fixture (``live_stack`` pulls it in).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from openflow_site.embedded_redis import free_port
from openflow_site.launcher import wait_http

ROOT = Path(__file__).resolve().parent.parent


def database_url(settings_dict: dict) -> str:
    engine = settings_dict["ENGINE"]
    if engine.endswith("sqlite3"):
        return f"sqlite:///{settings_dict['NAME']}"
    user = quote(settings_dict.get("USER") or "")
    password = quote(settings_dict.get("PASSWORD") or "")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{auth}{host}:{port}/{settings_dict['NAME']}"


@dataclass
class LiveStack:
    url: str
    env: dict[str, str]
    log_dir: Path
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)

    def start_worker(self, name: str = "worker", concurrency: int = 2, beat: bool = True) -> subprocess.Popen:
        argv = [sys.executable, "-m", "celery", "-A", "openflow_site", "worker", "-l", "INFO",
                "-c", str(concurrency), "--pool", "prefork", "--without-gossip", "--without-mingle",
                "-n", f"{name}@%h"]
        if beat:
            argv += ["--beat", "--schedule", str(self.log_dir / f"beat-{name}")]
        log = open(self.log_dir / f"{name}.log", "ab")
        proc = subprocess.Popen(argv, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        self.procs[name] = proc
        self._wait_worker(name)
        return proc

    def _wait_worker(self, name: str, timeout: float = 30) -> None:
        path = self.log_dir / f"{name}.log"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if b" ready." in path.read_bytes():
                return
            if self.procs[name].poll() is not None:
                raise RuntimeError(f"worker {name} died at start:\n{path.read_text()[-3000:]}")
            time.sleep(0.1)
        raise RuntimeError(f"worker {name} not ready in {timeout} s:\n{path.read_text()[-3000:]}")

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        proc = self.procs.pop(name)
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        proc.wait(30)

    def stop(self) -> None:
        for name in list(self.procs):
            proc = self.procs[name]
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for name in list(self.procs):
            try:
                self.procs[name].wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.procs[name].pid, signal.SIGKILL)
        self.procs.clear()

    def logs(self, name: str) -> str:
        return (self.log_dir / f"{name}.log").read_text(errors="replace")


def start_stack(settings_dict: dict, redis_url: str, log_dir: Path, **extra_env: str) -> LiveStack:
    log_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url(settings_dict),
        "REDIS_URL": redis_url,
        "PYTHONUNBUFFERED": "1",
        "STEP_STALE_SECONDS": "4",
        "STEP_HEARTBEAT_SECONDS": "1",
        "SWEEP_INTERVAL_SECONDS": "1",
        **extra_env,
    }
    stack = LiveStack(f"http://127.0.0.1:{port}", env, log_dir)
    subprocess.run([sys.executable, "-m", "celery", "-A", "openflow_site", "purge", "-f"], cwd=ROOT, env=env,
                   capture_output=True)
    web_log = open(log_dir / "web.log", "ab")
    stack.procs["web"] = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "openflow_site.asgi:application"],
        cwd=ROOT, env=env, stdout=web_log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        stack.start_worker()
    except BaseException:
        stack.stop()  # a worker that can't start must not leave daphne running after the tests
        raise
    if wait_http(stack.url + "/login/", 30):
        return stack
    stack.stop()
    raise RuntimeError("daphne did not come up:\n" + (log_dir / "web.log").read_text()[-3000:])
