"""`manage.py check --deploy` passes with the production environment documented in
docs/reliability.md ("Production settings"), and fails loudly when part of it is missing."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": secrets.token_urlsafe(64),
    "ALLOWED_HOSTS": "openflow.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://openflow.example.com",
    "SECURE_SSL_REDIRECT": "true",
    "SESSION_COOKIE_SECURE": "true",
    "CSRF_COOKIE_SECURE": "true",
    "SECURE_HSTS_SECONDS": "31536000",
    "BEHIND_TLS_PROXY": "true",
}


def check_deploy(tmp_path, **env: str) -> subprocess.CompletedProcess:
    # The browser tests set DJANGO_ALLOW_ASYNC_UNSAFE in this process; production never has it.
    base = {k: v for k, v in os.environ.items() if k not in PRODUCTION_ENV and k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env={**base, "OPENFLOW_VAR_DIR": str(tmp_path), **env}, capture_output=True, text=True,
        timeout=120,
    )


def test_check_deploy_passes_with_the_documented_production_env(tmp_path):
    done = check_deploy(tmp_path, **PRODUCTION_ENV)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


def test_the_documented_env_is_the_one_in_docs_reliability(tmp_path):
    doc = (ROOT / "docs" / "reliability.md").read_text()
    for name in PRODUCTION_ENV:
        assert f"`{name}" in doc, name


def test_check_deploy_fails_without_secure_cookies(tmp_path):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k not in ("SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE")}
    done = check_deploy(tmp_path, **env)
    assert done.returncode != 0
    assert "security.W012" in done.stderr + done.stdout


def test_check_deploy_fails_with_a_weak_secret_key(tmp_path):
    done = check_deploy(tmp_path, **{**PRODUCTION_ENV, "SECRET_KEY": "short"})
    assert done.returncode != 0
    assert "security.W009" in done.stderr + done.stdout


def test_check_deploy_fails_with_async_unsafe_set(tmp_path):
    done = check_deploy(tmp_path, **PRODUCTION_ENV, DJANGO_ALLOW_ASYNC_UNSAFE="true")
    assert done.returncode != 0
    assert "async.E001" in done.stderr + done.stdout


def test_check_deploy_fails_with_debug_on(tmp_path):
    done = check_deploy(tmp_path, **{**PRODUCTION_ENV, "DEBUG": "true"})
    assert done.returncode != 0
    assert "security.W018" in done.stderr + done.stdout
