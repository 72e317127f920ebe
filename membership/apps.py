from django.apps import AppConfig


class MembershipConfig(AppConfig):
    name = "membership"
    verbose_name = "Catalogue and membership"

    def ready(self) -> None:
        from membership import receivers  # noqa: F401 (connects signal receivers)
