"""The trial sweeps: a reminder three days before the end and a "trial ended" email, each
sent once, never to a subscribed reader, in batches over any number of trials."""

from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
import time_machine
from django.core import mail
from django.db import connection, transaction

from membership import tasks
from membership.models import (
    EntitlementSource,
    OutboxMessage,
    OutboxStatus,
    Trial,
    TrialEvent,
    TrialKind,
    TrialStatus,
)
from membership.services import trials_end
from membership.services.trial_sweeps import _ended_emails_due
from tests.factories import EntitlementFactory, PlanFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def clock():  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    """Run a sweep and the email tasks it queues on commit (inline, as tasks are eager)."""

    def run(sweep, **kwargs):  # type: ignore[no-untyped-def]
        with django_capture_on_commit_callbacks(execute=True):
            return sweep(**kwargs)

    return run


def subscribe(user, *, ends_at=NOW + timedelta(days=30)) -> None:  # type: ignore[no-untyped-def]
    EntitlementFactory(user=user, source=EntitlementSource.SUBSCRIPTION, ends_at=ends_at)


def test_reminder_goes_out_once_even_when_the_sweep_runs_twice(trial_ending, run_on_commit):
    trial = trial_ending(NOW + timedelta(days=2))

    assert run_on_commit(tasks.trial_reminders_send) == 1
    assert run_on_commit(tasks.trial_reminders_send) == 0

    assert [message.to for message in mail.outbox] == [[trial.user.email]]
    trial.refresh_from_db()
    assert trial.reminder_sent_at == NOW
    assert list(
        trial.events.filter(kind=TrialEvent.Kind.REMINDED).values_list("at", flat=True)
    ) == [NOW]


def test_duplicated_reminder_tasks_send_one_email(trial_ending, django_capture_on_commit_callbacks):
    trial = trial_ending(NOW + timedelta(days=2))

    with django_capture_on_commit_callbacks(execute=True):
        tasks.trial_reminder_emails_send.delay(trial_ids=[trial.pk])
        tasks.trial_reminder_emails_send.delay(trial_ids=[trial.pk])

    assert len(mail.outbox) == 1
    assert OutboxMessage.objects.get().status == OutboxStatus.SENT


def test_reminder_waits_for_the_last_three_days_and_skips_ended_trials(
    trial_ending, run_on_commit, clock
):
    later = trial_ending(NOW + timedelta(days=3, seconds=1))
    trial_ending(NOW - timedelta(seconds=1))  # ended, not yet closed: no reminder

    assert run_on_commit(tasks.trial_reminders_send) == 0

    clock.shift(timedelta(seconds=1))
    assert run_on_commit(tasks.trial_reminders_send) == 1
    assert mail.outbox[0].to == [later.user.email]


def test_reminder_email_has_the_end_date_days_left_and_plans_in_text_and_html(
    trial_ending, run_on_commit, settings
):
    settings.SITE_URL = "https://masthead.example"
    trial_ending(NOW + timedelta(days=2, hours=1))

    run_on_commit(tasks.trial_reminders_send)

    (message,) = mail.outbox
    assert message.subject == "Your Masthead free trial ends in 3 days"
    assert "Tuesday 3 March 2026 at 10:00 UTC" in message.body
    assert "https://masthead.example/pricing/" in message.body
    assert "<" not in message.body
    ((html, mimetype),) = message.alternatives
    assert mimetype == "text/html"
    assert "Tuesday 3 March 2026 at 10:00 UTC" in html
    assert 'href="https://masthead.example/pricing/"' in html


def test_reminder_is_not_sent_to_a_subscribed_reader(trial_ending, run_on_commit):
    subscribed = trial_ending(NOW + timedelta(days=1))
    subscribe(subscribed.user)
    lapsed = trial_ending(NOW + timedelta(days=1))
    subscribe(lapsed.user, ends_at=NOW - timedelta(days=1))

    assert run_on_commit(tasks.trial_reminders_send) == 1

    assert [message.to for message in mail.outbox] == [[lapsed.user.email]]
    subscribed.refresh_from_db()
    assert subscribed.reminder_sent_at is None


def test_card_trials_are_left_to_billing_for_the_reminder(trial_ending, run_on_commit):
    trial_ending(NOW + timedelta(days=1), kind=TrialKind.CARD)

    assert run_on_commit(tasks.trial_reminders_send) == 0

    assert mail.outbox == []


def test_reminder_is_checked_again_when_sent(trial_ending, django_capture_on_commit_callbacks):
    trial = trial_ending(NOW + timedelta(days=1))
    with django_capture_on_commit_callbacks() as queued:
        tasks.trial_reminders_send()
    subscribe(trial.user)  # the reader subscribes before the email task runs

    for callback in queued:
        callback()

    assert mail.outbox == []


def test_a_lost_reminder_task_is_queued_again_by_the_next_sweep(
    trial_ending, run_on_commit, django_capture_on_commit_callbacks
):
    trial = trial_ending(NOW + timedelta(days=1))
    with django_capture_on_commit_callbacks(execute=False):  # the broker loses the message
        tasks.trial_reminders_send()

    assert run_on_commit(tasks.trial_reminders_send) == 1

    assert [message.to for message in mail.outbox] == [[trial.user.email]]


def test_no_email_for_a_deleted_or_deactivated_account(trial_ending, run_on_commit, clock):
    deleted = trial_ending(NOW + timedelta(days=1))
    deleted.user.delete()
    deactivated = trial_ending(NOW + timedelta(days=1), user=UserFactory(is_active=False))

    assert run_on_commit(tasks.trial_reminders_send) == 0
    clock.shift(timedelta(days=2))
    assert run_on_commit(tasks.trials_close) == 2

    assert mail.outbox == []
    assert set(Trial.objects.values_list("pk", "status")) == {
        (deleted.pk, TrialStatus.ENDED),
        (deactivated.pk, TrialStatus.ENDED),
    }


def test_close_marks_ended_trials_ended_and_emails_once(trial_ending, run_on_commit):
    PlanFactory(name="Monthly", monthly_amount=999, yearly_amount=9999)
    PlanFactory(name="Retired", is_active=False)
    ended = trial_ending(NOW)
    running = trial_ending(NOW + timedelta(seconds=1))

    assert run_on_commit(tasks.trials_close) == 1
    assert run_on_commit(tasks.trials_close) == 0

    ended.refresh_from_db()
    running.refresh_from_db()
    assert (ended.status, ended.ended_at, ended.ended_email_sent_at) == ("ended", NOW, NOW)
    assert running.status == TrialStatus.ACTIVE
    assert ended.events.filter(kind=TrialEvent.Kind.ENDED).count() == 1
    (message,) = mail.outbox
    assert message.to == [ended.user.email]
    assert message.subject == "Your Masthead free trial has ended"
    assert "Monthly: £9.99 a month, or £99.99 a year" in message.body
    assert "Retired" not in message.body
    ((html, mimetype),) = message.alternatives
    assert mimetype == "text/html"
    assert "<strong>Monthly</strong>: £9.99 a month, or £99.99 a year" in html


def test_close_ends_a_subscribed_readers_trial_without_email(trial_ending, run_on_commit):
    trial = trial_ending(NOW - timedelta(hours=1))
    subscribe(trial.user)

    assert run_on_commit(tasks.trials_close) == 1

    trial.refresh_from_db()
    assert trial.status == TrialStatus.ENDED
    assert trial.ended_email_sent_at is None
    assert mail.outbox == []


def test_trials_end_moves_only_active_trials_and_records_each_once(trial_ending):
    trial = trial_ending(NOW)

    assert trials_end(trial_ids=[trial.pk]) == [trial.pk]
    assert trials_end(trial_ids=[trial.pk]) == []

    (event,) = trial.events.filter(kind=TrialEvent.Kind.ENDED)
    assert event.data == {"ends_at": trial.ends_at.isoformat()}


def test_the_trial_ended_sweep_reads_its_batches_through_an_index(trial_ending):
    """Each batch of the "trial ended" sweep is found through the partial index of trials
    whose email is pending, not by scanning every trial (bench/trial_sweep.py: 100k due
    trials took 17.5 s with the scan and each batch re-read all of them)."""
    trial_ending(NOW - timedelta(days=1))
    batch = (
        _ended_emails_due(NOW).filter(pk__gt=0).order_by("pk").values_list("pk", flat=True)[:500]
    )
    if connection.vendor == "postgresql":  # a handful of rows: make a scan the last resort
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            plan = batch.explain()
    else:
        plan = batch.explain()

    assert "trial_ended_email_pending" in plan


def test_sweeps_work_in_batches_over_more_trials_than_a_batch(
    trial_ending, run_on_commit, settings
):
    settings.MEMBERSHIP_BATCH_SIZE = 2
    ending = [trial_ending(NOW + timedelta(days=1)) for _ in range(5)]
    ended = [trial_ending(NOW - timedelta(minutes=1)) for _ in range(3)]

    with mock.patch.object(
        tasks.trial_reminder_emails_send, "delay", wraps=tasks.trial_reminder_emails_send.delay
    ) as reminder_batches:
        assert run_on_commit(tasks.trial_reminders_send) == 5
    with mock.patch.object(
        tasks.trial_ended_emails_send, "delay", wraps=tasks.trial_ended_emails_send.delay
    ) as ended_batches:
        assert run_on_commit(tasks.trials_close) == 3

    assert [len(c.kwargs["trial_ids"]) for c in reminder_batches.call_args_list] == [2, 2, 1]
    assert [len(c.kwargs["trial_ids"]) for c in ended_batches.call_args_list] == [2, 1]
    assert sorted(m.to[0] for m in mail.outbox) == sorted(t.user.email for t in ending + ended)
    assert not Trial.objects.filter(status=TrialStatus.ACTIVE, ends_at__lte=NOW).exists()
