"""The Celery app: configuration comes from Django settings prefixed ``CELERY_``.

Database connections in a worker follow Django's rules, as in a web process: one is kept
across tasks for ``DB_CONN_MAX_AGE`` seconds (0, the default, closes it after every task),
checked before it is reused, and dropped after any task that did not succeed, since a task
stopped by its time limit mid-query leaves a connection nothing else can tell is broken.
Celery's own fixup would close it after every task (``CELERY_DB_REUSE_MAX`` turns that off).

A Redis broker goes through ``config.broker.RedisTransport``, whose close path survives the
broker going away (kombu's own crashes the worker then).

Everything a worker loads at start-up (Django, the apps, their tasks) lives as long as the
worker, so it is frozen out of the cyclic garbage collector (``gc.freeze``) before the pool
processes are forked and once the worker is ready. Left in, each full collection walks it all
again: under a burst of webhooks that was most of the main process's CPU. The pool processes
inherit the frozen heap, and share its memory pages with the main process for longer.
"""

import gc
import os
from typing import Any

from celery import Celery
from celery.signals import task_postrun, task_prerun, worker_before_create_process, worker_ready

from config.broker import redis_transport_install

redis_transport_install()

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("masthead")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_before_create_process.connect
@worker_ready.connect
def _heap_freeze(**kwargs: Any) -> None:
    gc.freeze()


def _in_worker(task: Any) -> bool:
    """Whether the task runs in a worker (not eagerly, inside a caller's connection)."""
    return task is not None and not getattr(task.request, "is_eager", False)


@task_prerun.connect
def _database_before_task(task: Any = None, **kwargs: Any) -> None:
    from django.db import close_old_connections

    if _in_worker(task):
        close_old_connections()  # too old: closed; kept: health-checked at its first use


@task_postrun.connect
def _database_after_task(task: Any = None, state: str | None = None, **kwargs: Any) -> None:
    from django.db import close_old_connections, connections

    if not _in_worker(task):
        return
    if state == "SUCCESS":
        close_old_connections()
    else:
        connections.close_all()
