from django.apps import AppConfig


class AppstoresConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "appstores"
    verbose_name = "App-store subscriptions"
