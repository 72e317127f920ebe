"""The gifts API's routes, under /api/v1/."""

from django.urls import path

from gifts.api import GiftBuyApi, GiftRedeemApi, GiftTermsApi

app_name = "gifts"
urlpatterns = [
    path("gifts/", GiftBuyApi.as_view(), name="buy"),
    path("gifts/<str:code>/", GiftTermsApi.as_view(), name="terms"),
    path("gifts/<str:code>/redeem/", GiftRedeemApi.as_view(), name="redeem"),
]
