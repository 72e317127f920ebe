"""Schedule the trial sweeps in django-celery-beat, where admins can edit them.

Beat reads these rows (DatabaseScheduler); settings define no beat_schedule, which would
overwrite admin edits at every start.
"""

from django.db import migrations
from django.utils import timezone

# (name shown in the admin, task, every, period, expire after seconds, description)
SWEEPS = [
    (
        "Trials: send the reminder emails (3 days before the end)",
        "membership.tasks.trial_reminders_send",
        1,
        "hours",
        3600,
        "Emails every reader whose free trial ends within TRIAL_REMINDER_DAYS, once. "
        "Readers with a live subscription are skipped. Safe to run at any time.",
    ),
    (
        "Trials: close ended trials and send the 'trial ended' emails",
        "membership.tasks.trials_close",
        5,
        "minutes",
        300,
        "Marks ended the trials whose end has passed and emails each reader the plans, once. "
        "Access does not wait for this task: it ends at the trial's end by itself.",
    ),
]


def _beat_changed(apps):
    """Tell a running beat (DatabaseScheduler) to reload its schedule."""
    apps.get_model("django_celery_beat", "PeriodicTasks").objects.update_or_create(
        ident=1, defaults={"last_update": timezone.now()}
    )


def schedule_create(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, every, period, expire_seconds, description in SWEEPS:
        interval, _ = IntervalSchedule.objects.get_or_create(every=every, period=period)
        PeriodicTask.objects.update_or_create(
            name=name,
            defaults={
                "task": task,
                "interval": interval,
                "expire_seconds": expire_seconds,
                "description": description,
                "enabled": True,
            },
        )
    _beat_changed(apps)


def schedule_delete(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name__in=[sweep[0] for sweep in SWEEPS]).delete()
    for _, _, every, period, _, _ in SWEEPS:
        IntervalSchedule.objects.filter(
            every=every, period=period, periodictask__isnull=True
        ).delete()
    _beat_changed(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("membership", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule_create, schedule_delete)]
