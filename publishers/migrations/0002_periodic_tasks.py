"""Schedule the monthly close in django-celery-beat, where admins can see and edit it."""

from django.db import migrations
from django.utils import timezone

CLOSE = (
    "Publishers: close last month's statements (on the 1st)",
    "publishers.tasks.statements_close",
    "Closes the previous month into one statement per title (the pool of the month's net "
    "revenue, shared out reader by reader). Safe to run again: a closed month is not touched.",
)
MONTHLY = {
    "minute": "15",
    "hour": "2",
    "day_of_week": "*",
    "day_of_month": "1",
    "month_of_year": "*",
}


def _beat_changed(apps):
    apps.get_model("django_celery_beat", "PeriodicTasks").objects.update_or_create(
        ident=1, defaults={"last_update": timezone.now()}
    )


def schedule_create(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    monthly, _ = CrontabSchedule.objects.get_or_create(**MONTHLY, timezone="UTC")
    name, task, description = CLOSE
    PeriodicTask.objects.update_or_create(
        name=name,
        defaults={
            "task": task,
            "crontab": monthly,
            "interval": None,
            "expire_seconds": 6 * 3600,
            "description": description,
            "enabled": True,
        },
    )
    _beat_changed(apps)


def schedule_delete(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name=CLOSE[0]).delete()
    CrontabSchedule.objects.filter(**MONTHLY, periodictask__isnull=True).delete()
    _beat_changed(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("publishers", "0001_read_ledger_and_statements"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule_create, schedule_delete)]
