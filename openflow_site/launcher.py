"""``./openflow up|test|bench|manage|worker``: run inside .venv by the bootstrap script ``openflow``.

``up`` starts Redis (embedded unless REDIS_URL is set), daphne and a Celery worker (with the
beat scheduler for timers' safety sweep) under one supervisor that restarts a crashed child and
stops every process group on Ctrl-C or SIGTERM, so nothing is left behind.
"""

from __future__ import annotations

import ctypes
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from openflow_site.embedded_redis import EmbeddedRedis, RedisStartError, check_redis_url, port_in_use

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def say(message: str) -> None:
    print(f"openflow: {message}", flush=True)


def die(message: str, code: int = 2) -> None:
    print(f"openflow: {message}", file=sys.stderr, flush=True)
    sys.exit(code)


def _die_with_parent() -> None:
    """In the child: get SIGTERM if the supervisor dies, so a kill -9 of it leaves no orphans."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


class Supervisor:
    """Start named children in their own process groups; restart crashes; stop them all together."""

    def __init__(self) -> None:
        self.children: dict[str, tuple[list[str], subprocess.Popen]] = {}
        self.restarts: dict[str, list[float]] = {}
        self.stopping = False

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> None:
        proc = subprocess.Popen(argv, env=env, cwd=ROOT, start_new_session=True, preexec_fn=_die_with_parent)
        self.children[name] = (argv, proc)
        self._env = env

    def stop(self) -> None:
        self.stopping = True
        for _, proc in self.children.values():
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + 15
        for _, proc in self.children.values():
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    def watch(self) -> int:
        while not self.stopping:
            time.sleep(0.5)
            for name, (argv, proc) in list(self.children.items()):
                code = proc.poll()
                if code is None or self.stopping:
                    continue
                recent = [t for t in self.restarts.get(name, []) if t > time.monotonic() - 60]
                if len(recent) >= 5:
                    say(f"{name} keeps crashing (exit code {code}); stopping everything")
                    self.stop()
                    return 1
                say(f"{name} exited with code {code}; restarting it")
                self.restarts[name] = [*recent, time.monotonic()]
                self.start(name, argv, self._env)
        return 0


def _start_redis(data_dir: Path, *, persist: bool, port: int) -> tuple[str, EmbeddedRedis | None]:
    url = os.environ.get("REDIS_URL")
    if url:
        problem = check_redis_url(url)
        if problem:
            die(problem)
        return url, None
    redis = EmbeddedRedis(port, data_dir, persist=persist)
    try:
        redis.start()
    except RedisStartError as exc:
        die(str(exc))
    return redis.url, redis


def _manage(*args: str, env: dict[str, str]) -> None:
    done = subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=env)
    if done.returncode != 0:
        die(f"manage.py {' '.join(args)} failed (exit code {done.returncode})")


def _ensure_admin(env: dict[str, str], var_dir: Path) -> str:
    """Create a first superuser 'admin' with a random password if there is no user; say how to log in."""
    password_file = var_dir / "admin-password.txt"
    code = (
        "from django.contrib.auth import get_user_model; U = get_user_model();"
        "import sys; sys.exit(0 if U.objects.exists() else 3)"
    )
    exists = subprocess.run([PY, "manage.py", "shell", "-c", code], cwd=ROOT, env=env).returncode == 0
    if not exists:
        password = secrets.token_urlsafe(12)
        create = (
            "from django.contrib.auth import get_user_model;"
            f"get_user_model().objects.create_superuser('admin', 'admin@localhost', {password!r})"
        )
        _manage("shell", "-c", create, env=env)
        password_file.write_text(password + "\n")
        password_file.chmod(0o600)
    if password_file.exists():
        return f"user admin, password {password_file.read_text().strip()} (kept in {password_file})"
    return "your existing user (create another with ./openflow manage createsuperuser)"


def wait_http(url: str, timeout: float) -> bool:
    """True once ``url`` answers (any status below 400), False after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return True
        except Exception:
            time.sleep(0.2)
    return False


def worker_argv(concurrency: int, *, beat: bool, var_dir: Path) -> list[str]:
    argv = [PY, "-m", "celery", "-A", "openflow_site", "worker", "-l", "INFO", "-c", str(concurrency),
            "--pool", "prefork", "--without-gossip", "--without-mingle"]
    if beat:
        argv += ["--beat", "--schedule", str(var_dir / "celerybeat-schedule")]
    return argv


def _django_settings():
    """Load the settings, turning a bad environment value into one clear line instead of a traceback."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openflow_site.settings")
    import django
    from django.core.exceptions import ImproperlyConfigured

    try:
        django.setup()
    except ImproperlyConfigured as exc:
        die(f"configuration error: {exc}")
    from django.conf import settings

    return settings


def cmd_up() -> int:
    s = _django_settings()
    from runs.harness.isolation import make_undumpable

    make_undumpable()  # this supervisor's environment holds the secrets it hands to daphne and the worker

    host = os.environ.get("OPENFLOW_HOST", "127.0.0.1")
    port = int(os.environ.get("OPENFLOW_PORT", "8000"))
    if port_in_use(host, port):
        die(f"port {port} on {host} is already in use. Stop the other server or choose another port: "
            f"OPENFLOW_PORT={port + 1} ./openflow up")
    var_dir = Path(s.VAR_DIR)
    redis_url, redis = _start_redis(Path(s.EMBEDDED_REDIS_DIR), persist=True, port=s.EMBEDDED_REDIS_PORT)
    env = {**os.environ, "REDIS_URL": redis_url, "PYTHONUNBUFFERED": "1"}
    sup = Supervisor()
    try:
        _manage("migrate", "--noinput", "-v", "0", env=env)
        login = _ensure_admin(env, var_dir)
        sup.start("web", [PY, "-m", "daphne", "-b", host, "-p", str(port), "openflow_site.asgi:application"], env)
        sup.start("worker", worker_argv(s.WORKER_CONCURRENCY, beat=True, var_dir=var_dir), env)
        url = f"http://{host}:{port}/"
        if not wait_http(url + "login/", 30):
            say("the web server did not answer within 30 s; see the output above")
            sup.stop()
            return 1
        print("\n" + "=" * 64, flush=True)
        say(f"OpenFlow Studio is running at {url}")
        say(f"log in as {login}")
        say("database: " + ("SQLite in var/" if "sqlite" in s.DATABASES["default"]["ENGINE"] else "PostgreSQL")
            + "; redis: " + ("embedded" if redis else redis_url))
        say("press Ctrl-C to stop")
        print("=" * 64 + "\n", flush=True)

        def _stop(signum, frame):
            say("stopping…")
            sup.stop()

        signal.signal(signal.SIGINT, _stop)
        signal.signal(signal.SIGTERM, _stop)
        code = sup.watch()
    finally:
        sup.stop()
        if redis:
            redis.stop()
    say("stopped")
    return code


def cmd_test(args: list[str]) -> int:
    """Every test: ruff, the front-end unit tests, then pytest (unit, integration, WebSocket, browser)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    # Checked before anything is started, so a missing browser leaves no Redis behind.
    if not Path(env.get("OPENFLOW_CHROMIUM", "/usr/bin/chromium")).exists() and not env.get("OPENFLOW_SKIP_BROWSER"):
        die("the browser tests need Chromium: apt-get install -y chromium (or set OPENFLOW_CHROMIUM=/path/to/chromium)")
    tmp = Path(tempfile.mkdtemp(prefix="openflow-test-"))
    env.setdefault("OPENFLOW_VAR_DIR", str(tmp / "var"))
    redis = None
    if not env.get("REDIS_URL"):
        port = int(env.get("OPENFLOW_TEST_REDIS_PORT", "6391"))
        redis = EmbeddedRedis(port, tmp / "redis", persist=False)
        try:
            redis.start()
        except RedisStartError as exc:
            die(str(exc))
        env["REDIS_URL"] = redis.url
    elif problem := check_redis_url(env["REDIS_URL"]):
        die(problem)
    code = 0
    try:
        say("ruff check")
        code |= subprocess.run([PY, "-m", "ruff", "check", "."], cwd=ROOT, env=env).returncode
        frontend = ROOT / "editor" / "frontend"
        if (frontend / "package.json").exists() and not env.get("OPENFLOW_SKIP_FRONTEND"):
            if subprocess.run(["npm", "--version"], capture_output=True).returncode != 0:
                die("the front-end tests need Node.js 20+ and npm (or set OPENFLOW_SKIP_FRONTEND=1)")
            lock = frontend / "package-lock.json"
            stamp = frontend / "node_modules" / ".openflow-lock"
            if not stamp.exists() or stamp.read_bytes() != lock.read_bytes():
                say("npm ci (front end)")
                if subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=frontend).returncode != 0:
                    die("npm ci failed")
                stamp.write_bytes(lock.read_bytes())
            say("front-end unit tests (vitest)")
            code |= subprocess.run(["npm", "test", "--silent"], cwd=frontend, env=env).returncode
        say("pytest")
        code |= subprocess.run([PY, "-m", "pytest", *args], cwd=ROOT, env=env).returncode
    finally:
        if redis:
            redis.stop()
    return code


def cmd_worker(args: list[str]) -> int:
    """Run one more Celery worker against the configured database and Redis (scale-out)."""
    s = _django_settings()
    os.execv(PY, worker_argv(s.WORKER_CONCURRENCY, beat=False, var_dir=Path(s.VAR_DIR)) + args)
    return 0


def main(argv: list[str]) -> int:
    command, rest = (argv[0], argv[1:]) if argv else ("help", [])
    if command == "up":
        return cmd_up()
    if command == "test":
        return cmd_test(rest)
    if command == "manage":
        return subprocess.run([PY, "manage.py", *rest], cwd=ROOT).returncode
    if command == "worker":
        return cmd_worker(rest)
    if command == "bench":
        return subprocess.run([PY, "-m", "bench", *rest], cwd=ROOT).returncode
    die(f"unknown command {command!r}")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
