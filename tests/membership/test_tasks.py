"""Membership's Celery tasks: scheduled by beat rows, retried on mail errors, and run by a
real worker process against the test database and broker."""

import re
from datetime import timedelta
from smtplib import SMTPServerDisconnected
from unittest import mock

import pytest
import time_machine
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from config.celery import app as celery_app
from membership import tasks
from membership.models import OutboxMessage, Trial, TrialEvent, TrialStatus
from tests.membership.conftest import mail_failing

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)


def test_beat_rows_schedule_the_two_sweeps_by_registered_task_names():
    schedule = {task.task: task for task in PeriodicTask.objects.filter(enabled=True)}

    reminders = schedule["membership.tasks.trial_reminders_send"]
    closing = schedule["membership.tasks.trials_close"]
    assert (reminders.interval.every, reminders.interval.period) == (1, "hours")
    outbox = schedule["membership.tasks.outbox_redrive"]
    assert (outbox.interval.every, outbox.interval.period) == (1, "minutes")
    assert (closing.interval.every, closing.interval.period) == (5, "minutes")
    assert reminders.name.startswith("Trials: ")
    assert {reminders.task, closing.task, outbox.task} <= set(celery_app.tasks)


@pytest.mark.usefixtures("retries_inline")
def test_a_refused_email_is_retried_alone_and_sent_once(
    trial_ending, caplog, django_capture_on_commit_callbacks
):
    first, second = trial_ending(timezone.now() + DAY), trial_ending(timezone.now() + DAY)

    with (
        mail_failing(SMTPServerDisconnected("connection lost")),  # the first send fails
        caplog.at_level("INFO"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        tasks.trial_reminder_emails_send.delay(trial_ids=[first.pk, second.pk])

    assert sorted(m.to[0] for m in mail.outbox) == sorted([first.user.email, second.user.email])
    rows = {row.object_ref: row for row in OutboxMessage.objects.all()}
    assert (rows[f"trial:{first.pk}"].status, rows[f"trial:{first.pk}"].attempts) == ("sent", 2)
    assert (rows[f"trial:{second.pk}"].status, rows[f"trial:{second.pk}"].attempts) == ("sent", 1)
    assert "SMTPServerDisconnected" in rows[f"trial:{first.pk}"].last_error
    assert "will retry" in caplog.text
    assert f"Sent email trial_reminder for trial:{first.pk} (reminder)" in caplog.text
    assert TrialEvent.objects.filter(kind=TrialEvent.Kind.REMINDED).count() == 2


@pytest.mark.usefixtures("retries_inline")
def test_a_mail_server_that_stays_down_leaves_the_email_for_the_redrive(
    trial_ending, django_capture_on_commit_callbacks, settings
):
    trial = trial_ending(timezone.now() + DAY)
    down = mock.patch.object(EmailBackend, "send_messages", side_effect=ConnectionRefusedError)

    with down as send, django_capture_on_commit_callbacks(execute=True):
        tasks.trial_reminder_emails_send.delay(trial_ids=[trial.pk])

    assert send.call_count == tasks.outbox_message_send.max_retries + 1
    row = OutboxMessage.objects.get()
    assert (row.status, row.attempts, row.lease_until) == ("pending", send.call_count, None)
    trial.refresh_from_db()
    assert trial.reminder_sent_at is not None  # the fact is recorded; its email waits
    assert mail.outbox == []

    later = timezone.now() + timedelta(seconds=settings.OUTBOX_REDRIVE_AFTER + 1)
    with time_machine.travel(later), django_capture_on_commit_callbacks(execute=True):
        assert tasks.trial_reminders_send.delay().get() == 0  # the sweep records nothing new
        assert tasks.outbox_redrive.delay().get() == 1  # as beat sends it every minute

    assert [m.to for m in mail.outbox] == [[trial.user.email]]
    assert OutboxMessage.objects.get().status == "sent"


@pytest.mark.celery_worker(env={"MEMBERSHIP_BATCH_SIZE": "2"})
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_sends_reminders_and_closes_ended_trials(celery_worker_process, trial_ending):
    now = timezone.now()
    ending = [trial_ending(now + 2 * DAY) for _ in range(3)]
    ended = trial_ending(now - timedelta(hours=1))

    tasks.trial_reminders_send.delay()
    tasks.trials_close.delay()

    def done() -> bool:
        reminded = Trial.objects.filter(reminder_sent_at__isnull=False).count()
        closed = Trial.objects.filter(ended_email_sent_at__isnull=False).count()
        return (reminded, closed) == (3, 1) and len(celery_worker_process.emails()) == 4

    celery_worker_process.wait_for(done, what="3 reminders and 1 trial-ended email")
    sent = {message["To"]: message for message in celery_worker_process.emails()}
    assert set(sent) == {trial.user.email for trial in [*ending, ended]}
    assert sent[ended.user.email]["Subject"] == "Your Masthead free trial has ended"
    assert sent[ending[0].user.email]["Subject"] == "Your Masthead free trial ends in 2 days"
    parts = [part.get_content_type() for part in sent[ending[0].user.email].walk()]
    assert parts == ["multipart/alternative", "text/plain", "text/html"]
    assert Trial.objects.get(pk=ended.pk).status == TrialStatus.ENDED
    log = celery_worker_process.log()
    assert f"Recorded trial reminder for trial {ending[0].pk} to user {ending[0].user.pk}" in log
    assert f"Sent email trial_reminder for trial:{ending[0].pk} (reminder)" in log
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {"sent"}
    assert "Queued 3 trial reminders" in log
    batches = re.findall(r"Task membership\.tasks\.trial_reminder_emails_send\[\S+\] received", log)
    assert len(batches) == 2  # MEMBERSHIP_BATCH_SIZE=2 in the worker
