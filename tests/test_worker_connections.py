"""A Celery worker keeps its database connection across tasks by Django's rules
(``DB_CONN_MAX_AGE``) and drops it after a task that did not succeed."""

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import connection

from config.celery import _database_after_task, _database_before_task

pytestmark = pytest.mark.django_db(transaction=True)


def worker_task(*, eager: bool = False) -> Any:
    return SimpleNamespace(request=SimpleNamespace(is_eager=eager))


@pytest.fixture
def kept_connections() -> Iterator[None]:
    connection.settings_dict["CONN_MAX_AGE"] = 600
    connection.close()  # the next one is opened with the age
    yield
    connection.settings_dict["CONN_MAX_AGE"] = 0
    connection.close()


def opened() -> object:
    connection.ensure_connection()
    return connection.connection


def test_a_kept_connection_serves_the_next_task(kept_connections: None) -> None:
    first = opened()
    _database_before_task(task=worker_task())
    _database_after_task(task=worker_task(), state="SUCCESS")
    _database_before_task(task=worker_task())

    assert opened() is first


def test_a_failed_task_drops_the_connection(kept_connections: None) -> None:
    first = opened()
    _database_after_task(task=worker_task(), state="FAILURE")

    assert connection.connection is None
    assert opened() is not first


def test_without_a_max_age_every_task_gets_a_fresh_connection() -> None:
    first = opened()
    _database_after_task(task=worker_task(), state="SUCCESS")

    assert connection.connection is None
    assert opened() is not first


def test_an_eager_task_leaves_the_callers_connection_alone() -> None:
    first = opened()
    _database_after_task(task=worker_task(eager=True), state="FAILURE")

    assert connection.connection is first
