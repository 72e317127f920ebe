"""Re-driving stored rows: each row queued once, in order; a broker outage stops the run
without an error, and what was not queued waits for the next run."""

import logging

from kombu.exceptions import OperationalError

from core.redrive import rows_requeue


class Task:
    """A task whose broker goes down after ``up_for`` messages."""

    def __init__(self, up_for: int) -> None:
        self.up_for, self.sent = up_for, list[int]()

    def delay(self, row_id: int) -> None:
        if len(self.sent) >= self.up_for:
            raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
        self.sent.append(row_id)


def test_every_row_is_queued_once_in_order(caplog):
    task = Task(up_for=10)
    with caplog.at_level(logging.INFO, logger="core.redrive"):
        queued = rows_requeue(task=task, row_ids=[3, 1, 2], what="outbox emails")

    assert (queued, task.sent) == (3, [3, 1, 2])
    assert "Re-queued 3 outbox emails left pending" in caplog.text


def test_a_broker_outage_stops_the_run_and_says_how_many_rows_wait(caplog):
    task = Task(up_for=2)
    with caplog.at_level(logging.INFO, logger="core.redrive"):
        queued = rows_requeue(task=task, row_ids=[5, 6, 7, 8], what="Stripe events")

    assert (queued, task.sent) == (2, [5, 6])
    assert "Broker unavailable; 2 Stripe events wait for the next run" in caplog.text


def test_nothing_to_queue_logs_nothing(caplog):
    with caplog.at_level(logging.INFO, logger="core.redrive"):
        assert rows_requeue(task=Task(up_for=0), row_ids=[], what="Stripe events") == 0
    assert caplog.text == ""
