from django.apps import AppConfig


class WebConfig(AppConfig):
    """The reader's pages: server-rendered templates over membership's services."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "web"
    verbose_name = "Reader pages"
