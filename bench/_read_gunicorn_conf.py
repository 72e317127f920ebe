"""gunicorn hooks for the gated read benchmark (``gunicorn -c <this file>``).

Counts the SQL statements of each request through Django's ``connection.execute_wrappers``
(every ``cursor.execute``; BEGIN and COMMIT are not counted) and, for a request carrying
``X-Bench-Count: <label>``, appends ``<label> <status> <count>`` to ``$BENCH_QUERY_LOG``.
The load itself carries no such header, so the only cost under load is the counter.
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
    label = environ.get("HTTP_X_BENCH_COUNT")
    path = os.environ.get("BENCH_QUERY_LOG")
    if label and path:
        with open(path, "a") as log:
            log.write(f"{label} {str(resp.status).split()[0]} {_state['queries']}\n")
