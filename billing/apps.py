from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Billing (Stripe)"

    def ready(self) -> None:
        from billing.credit_packs import credits_kind_register

        credits_kind_register()
