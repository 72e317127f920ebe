"""Schedule the app stores' beat tasks in django-celery-beat, where admins can edit them:
re-drive the store notifications left pending every minute, reconcile store subscriptions
nightly."""

from django.db import migrations
from django.utils import timezone

REDRIVE = (
    "App stores: re-queue store notifications left pending",
    "appstores.tasks.store_notifications_redrive",
    "Queues again the stored Apple and Google notifications never applied (broker down) or "
    "stuck processing (a worker killed mid-task). Safe to run at any time.",
)
RECONCILE = (
    "App stores: reconcile store subscriptions (nightly)",
    "appstores.tasks.appstores_reconcile",
    "Asks Apple and Google again about every store subscription giving access (or lately) "
    "and applies what they say; logs what changed. Safe to run at any time.",
)
NIGHTLY = {
    "minute": "45",
    "hour": "3",
    "day_of_week": "*",
    "day_of_month": "*",
    "month_of_year": "*",
}


def _beat_changed(apps):
    """Tell a running beat (DatabaseScheduler) to reload its schedule."""
    apps.get_model("django_celery_beat", "PeriodicTasks").objects.update_or_create(
        ident=1, defaults={"last_update": timezone.now()}
    )


def schedule_create(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_minute, _ = IntervalSchedule.objects.get_or_create(every=1, period="minutes")
    name, task, description = REDRIVE
    PeriodicTask.objects.update_or_create(
        name=name,
        defaults={
            "task": task,
            "interval": every_minute,
            "crontab": None,
            "expire_seconds": 60,
            "description": description,
            "enabled": True,
        },
    )
    nightly, _ = CrontabSchedule.objects.get_or_create(**NIGHTLY, timezone="UTC")
    name, task, description = RECONCILE
    PeriodicTask.objects.update_or_create(
        name=name,
        defaults={
            "task": task,
            "crontab": nightly,
            "interval": None,
            "expire_seconds": 3600,
            "description": description,
            "enabled": True,
        },
    )
    _beat_changed(apps)


def schedule_delete(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name__in=[REDRIVE[0], RECONCILE[0]]).delete()
    IntervalSchedule.objects.filter(every=1, period="minutes", periodictask__isnull=True).delete()
    CrontabSchedule.objects.filter(**NIGHTLY, periodictask__isnull=True).delete()
    _beat_changed(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("appstores", "0001_store_subscriptions"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule_create, schedule_delete)]
