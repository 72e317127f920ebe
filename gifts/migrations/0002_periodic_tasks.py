"""Schedule the gifts' beat tasks in django-celery-beat (editable in the admin): recipients'
codes every minute, "your gift ends in a week" hourly."""

from django.db import migrations
from django.utils import timezone

TASKS = (
    (
        "Gifts: email codes to recipients when their day comes",
        "gifts.tasks.gift_recipient_emails",
        "Records the email of each paid gift whose sending time has come (once per gift).",
        1,
    ),
    (
        "Gifts: remind readers a week before their gift ends",
        "gifts.tasks.gift_ending_reminders",
        "Records one reminder per redeemed gift ending within seven days, offering a plan.",
        60,
    ),
)


def _beat_changed(apps):
    apps.get_model("django_celery_beat", "PeriodicTasks").objects.update_or_create(
        ident=1, defaults={"last_update": timezone.now()}
    )


def schedule_create(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, description, minutes in TASKS:
        every, _ = IntervalSchedule.objects.get_or_create(every=minutes, period="minutes")
        PeriodicTask.objects.update_or_create(
            name=name,
            defaults={
                "task": task,
                "interval": every,
                "crontab": None,
                "expire_seconds": 60 * minutes,
                "description": description,
                "enabled": True,
            },
        )
    _beat_changed(apps)


def schedule_delete(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name__in=[t[0] for t in TASKS]).delete()
    _beat_changed(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("gifts", "0001_gift_memberships"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule_create, schedule_delete)]
