"""Schedule privacy's beat tasks in django-celery-beat, where admins can edit them: re-drive
unfinished erasures every minute, delete expired data exports every hour."""

from django.db import migrations
from django.utils import timezone

REDRIVE = (
    "Privacy: re-drive unfinished erasures",
    "privacy.tasks.erasures_redrive",
    "Runs again the erasures left unfinished (Stripe out of reach, a worker killed) and "
    "scrubs what Stripe sent lately about erased readers. Safe to run at any time.",
)
CLEAN = (
    "Privacy: delete expired data exports",
    "privacy.tasks.exports_clean",
    "Deletes the zip files of readers' data exports older than PRIVACY_EXPORT_DAYS.",
)
RETENTION = (
    "Privacy: delete erased readers' payment records past their retention",
    "privacy.tasks.records_retention_end",
    "Deletes the invoices and payment records kept (without names) for erased readers once "
    "PRIVACY_PAYMENT_RECORDS_RETENTION_DAYS have passed.",
)


def _beat_changed(apps):
    apps.get_model("django_celery_beat", "PeriodicTasks").objects.update_or_create(
        ident=1, defaults={"last_update": timezone.now()}
    )


def schedule_create(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for (name, task, description), every, period, expires in (
        (REDRIVE, 1, "minutes", 60),
        (CLEAN, 1, "hours", 3600),
        (RETENTION, 1, "days", 86400),
    ):
        interval, _ = IntervalSchedule.objects.get_or_create(every=every, period=period)
        PeriodicTask.objects.update_or_create(
            name=name,
            defaults={
                "task": task,
                "interval": interval,
                "crontab": None,
                "expire_seconds": expires,
                "description": description,
                "enabled": True,
            },
        )
    _beat_changed(apps)


def schedule_delete(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name__in=[REDRIVE[0], CLEAN[0], RETENTION[0]]).delete()
    _beat_changed(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("privacy", "0001_exports_and_erasures"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule_create, schedule_delete)]
