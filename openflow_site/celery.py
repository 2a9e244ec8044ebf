"""The Celery application: broker = REDIS_URL, configuration from Django settings (CELERY_*)."""

from __future__ import annotations

import os

from celery import Celery
from celery.signals import task_postrun, task_prerun, worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openflow_site.settings")

app = Celery("openflow")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["runs"])


@task_prerun.connect
@task_postrun.connect
def _connection_hygiene(**_: object) -> None:
    """Django's request rule for tasks: drop a connection that broke or outlived CONN_MAX_AGE."""
    from django.db import close_old_connections

    close_old_connections()


@worker_init.connect
def _undumpable(**_: object) -> None:
    """Scripts that could not be confined must not read the secrets in our /proc/<pid>/environ."""
    from runs.harness.isolation import make_undumpable

    make_undumpable()
