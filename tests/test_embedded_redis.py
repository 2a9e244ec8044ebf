"""The Redis the app starts itself: loopback only, password-protected, password never on a command line."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import redis

from openflow_site.embedded_redis import EmbeddedRedis, free_port

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def server(tmp_path):
    embedded = EmbeddedRedis(free_port(), tmp_path / "redis", persist=False)
    embedded.start()
    try:
        yield embedded
    finally:
        embedded.stop()


def test_embedded_redis_refuses_clients_without_the_password(server):
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(host="127.0.0.1", port=server.port).ping()
    assert redis.Redis.from_url(server.url).ping() is True
    assert server.url.startswith("redis://:") and server.password in server.url


def test_password_is_kept_private_and_survives_a_restart(server, tmp_path):
    assert server.process is not None
    cmdline = Path(f"/proc/{server.process.pid}/cmdline").read_bytes()
    assert server.password.encode() not in cmdline
    assert server.password.encode() not in Path(f"/proc/{server.process.pid}/environ").read_bytes()
    for name in ("password", "redis.conf"):
        assert stat.S_IMODE((tmp_path / "redis" / name).stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "redis").stat().st_mode) == 0o700
    again = EmbeddedRedis(server.port, tmp_path / "redis", persist=False)
    assert again.password == server.password


def test_settings_default_redis_url_carries_the_embedded_password(tmp_path):
    var = tmp_path / "var"
    EmbeddedRedis(free_port(), var / "redis")  # writes the password, as ./openflow up does
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "OPENFLOW_REDIS_PORT")}
    env.update(OPENFLOW_VAR_DIR=str(var), DJANGO_SETTINGS_MODULE="openflow_site.settings")
    done = subprocess.run([sys.executable, "-c", "from django.conf import settings; print(settings.REDIS_URL)"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    password = (var / "redis" / "password").read_text()
    assert done.stdout.strip() == f"redis://:{password}@127.0.0.1:6390/0"
