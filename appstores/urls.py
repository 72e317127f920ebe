"""The app stores' API routes, under /api/v1/ (the stores' notification doors are in
config/urls.py, outside the API)."""

from django.urls import path

from appstores.api import AppleTransactionLinkApi, GooglePurchaseLinkApi

app_name = "appstores"
urlpatterns = [
    path("appstores/apple/transactions/", AppleTransactionLinkApi.as_view(), name="apple-link"),
    path("appstores/google/purchases/", GooglePurchaseLinkApi.as_view(), name="google-link"),
]
