"""gunicorn hooks for the webhook ingress benchmark (``gunicorn -c <this file>``).

Counts the SQL statements each answered POST ran, through Django's
``connection.execute_wrappers`` (every ``cursor.execute``, savepoints included; BEGIN and
COMMIT are not statements Django executes through a cursor, so they are not counted), and
appends ``<status> <count>`` per request to ``$BENCH_QUERY_LOG``. Used alike for Masthead
and for the dj-stripe peer: it needs nothing but Django.
"""

import os

_state = {"queries": 0}


def _count(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
    _state["queries"] += 1
    return execute(sql, params, many, context)


def post_worker_init(worker):  # type: ignore[no-untyped-def]
    from django.db import connections

    connections["default"].execute_wrappers.append(_count)


def pre_request(worker, req):  # type: ignore[no-untyped-def]
    _state["queries"] = 0


def post_request(worker, req, environ, resp):  # type: ignore[no-untyped-def]
    path = os.environ.get("BENCH_QUERY_LOG")
    if path and req.method == "POST":
        with open(path, "a") as log:
            log.write(f"{str(resp.status).split()[0]} {_state['queries']}\n")
