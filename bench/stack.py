"""Start (and always stop) what the bench needs: Redis, a database, daphne and Celery workers.

Nothing is shared with a running ``./openflow up``: a throwaway SQLite file and an embedded Redis on a
free port, unless DATABASE_URL / REDIS_URL point elsewhere (then those are used as they are).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from openflow_site.embedded_redis import free_port
from openflow_site.launcher import wait_http

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


@dataclass
class Stack:
    tmp: Path
    env: dict[str, str]
    url: str = ""
    redis: object | None = None
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)

    # ---- lifecycle -------------------------------------------------------------------------
    @classmethod
    def prepare(cls) -> Stack:
        """Pick DB + Redis, export them to this process's environment (before django.setup())."""
        tmp = Path(tempfile.mkdtemp(prefix="openflow-bench-"))
        var = tmp / "var"
        var.mkdir()
        env = dict(os.environ)
        env["OPENFLOW_VAR_DIR"] = str(var)
        env.setdefault("DATABASE_URL", f"sqlite:///{var / 'bench.sqlite3'}")
        env["PYTHONUNBUFFERED"] = "1"
        env.setdefault("LOG_LEVEL", "WARNING")
        stack = cls(tmp, env)
        if not env.get("REDIS_URL"):
            from openflow_site.embedded_redis import EmbeddedRedis

            redis = EmbeddedRedis(free_port(), tmp / "redis", persist=False)
            redis.start()
            stack.redis = redis
            env["REDIS_URL"] = redis.url
        os.environ.update({k: env[k] for k in ("OPENFLOW_VAR_DIR", "DATABASE_URL", "REDIS_URL", "LOG_LEVEL")})
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openflow_site.settings")
        return stack

    def migrate(self) -> None:
        subprocess.run([PY, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=self.env, check=True)
        subprocess.run([PY, "-m", "celery", "-A", "openflow_site", "purge", "-f"], cwd=ROOT, env=self.env,
                       capture_output=True)

    def start_web(self) -> None:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self._spawn("web", [PY, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "openflow_site.asgi:application"])
        if not wait_http(self.url + "/login/", 30):
            raise RuntimeError("daphne did not come up:\n" + self.log("web")[-3000:])

    def start_workers(self, concurrency: int, extra: list[str] | None = None) -> None:
        """One worker with ``concurrency`` pool processes, launched exactly as ``./openflow up`` does."""
        from openflow_site.launcher import worker_argv

        self.stop_workers()
        name = f"worker-c{concurrency}"
        argv = worker_argv(concurrency, beat=False, var_dir=self.tmp) + [
            "-n", f"bench-{uuid.uuid4().hex[:6]}@%h", "-I", "bench.hop", *(extra or [])]
        self._spawn(name, argv)
        self._wait_consuming(name, concurrency)

    def _wait_consuming(self, name: str, concurrency: int, timeout: float = 40) -> None:
        """Ready = every pool process has run a task (so V8, Django and the fork server are warm)."""
        from bench.hop import hop
        from openflow_site.redis_client import redis_connection

        deadline = time.monotonic() + timeout
        key = f"bench:ready:{uuid.uuid4().hex}"
        for _ in range(concurrency * 4):
            hop.apply_async((0, key))
        got = 0
        while got < concurrency * 4:
            if self.procs[name].poll() is not None:
                raise RuntimeError(f"{name} died at start:\n{self.log(name)[-3000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} not consuming after {timeout} s:\n{self.log(name)[-3000:]}")
            if redis_connection().blpop(key, timeout=1):
                got += 1

    def _spawn(self, name: str, argv: list[str]) -> None:
        log = open(self.tmp / f"{name}.log", "ab")  # noqa: SIM115 - the child owns it
        self.procs[name] = subprocess.Popen(argv, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)

    def log(self, name: str) -> str:
        path = self.tmp / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop_workers(self) -> None:
        for name in [n for n in self.procs if n.startswith("worker")]:
            self._stop(name)

    def _stop(self, name: str) -> None:
        proc = self.procs.pop(name)
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                return
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

    def stop(self) -> None:
        for name in list(self.procs):
            self._stop(name)
        if self.redis is not None:
            self.redis.stop()
