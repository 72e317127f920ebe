from django.apps import AppConfig


class GiftsConfig(AppConfig):
    name = "gifts"
    verbose_name = "Gift memberships"

    def ready(self) -> None:
        from billing.one_time import payment_kind_register
        from gifts.services import gift_fulfil, gift_refund

        payment_kind_register("gift", fulfil=gift_fulfil, refund=gift_refund)
