"""Masthead's Celery worker, as ``celery -A config worker``, that also counts the SQL
statements each task ran (for the webhook ingress benchmark only).

    python bench/_ingress_worker.py [celery worker options...]

Each pool process wraps its database connection with ``connection.execute_wrappers``
(every ``cursor.execute``; BEGIN and COMMIT are not counted) and appends
``<task name> <count>`` per finished task to ``$BENCH_QUERY_LOG``. The app's code is
untouched: the counting lives in these signal receivers.
"""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from celery.signals import task_postrun, task_prerun, worker_process_init

from config.celery import app

_state = {"queries": 0}


def _count(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
    _state["queries"] += 1
    return execute(sql, params, many, context)


@worker_process_init.connect
def _wrap(**kwargs: object) -> None:
    from django.db import connections

    connections["default"].execute_wrappers.append(_count)


@task_prerun.connect
def _reset(**kwargs: object) -> None:
    _state["queries"] = 0


@task_postrun.connect
def _record(task: object = None, state: object = None, **kwargs: object) -> None:
    path = os.environ.get("BENCH_QUERY_LOG")
    if path:
        with open(path, "a") as log:
            log.write(f"{getattr(task, 'name', '?')} {state} {_state['queries']}\n")


if __name__ == "__main__":
    app.worker_main(["worker", *sys.argv[1:]])
