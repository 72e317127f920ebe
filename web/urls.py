"""The reader's pages, at the root of the site."""

from django.contrib.sitemaps.views import sitemap
from django.urls import path

from core.converters import RowIdConverter  # noqa: F401  (registers the row_id converter)
from web import billing_views, credit_views, gift_link_views, gift_views, group_views, views
from web.seo import SITEMAPS, favicon, robots_txt

app_name = "web"
urlpatterns = [
    path("", views.home_page, name="home"),
    path("titles/", views.title_list_page, name="title-list"),
    path("titles/<slug:slug>/", views.title_page, name="title"),
    path("articles/<row_id:pk>/", views.article_page, name="article"),
    # The short address gift links carry (/a/<id>/?gift=<token>).
    path("a/<row_id:pk>/", gift_link_views.article_short_page, name="article-short"),
    path("articles/<row_id:pk>/gift/", gift_link_views.gift_link_submit, name="gift-link-give"),
    path("articles/<row_id:pk>/unlock/", credit_views.article_unlock_submit, name="article-unlock"),
    path("account/credits/buy/", credit_views.credits_buy_submit, name="credits-buy"),
    path("pricing/", views.pricing_page, name="pricing"),
    path("account/", views.account_page, name="account"),
    path("trial/", views.trial_start_submit, name="trial-start"),
    path("billing/subscribe/", billing_views.subscribe_submit, name="subscribe"),
    path("billing/manage/", billing_views.billing_manage_submit, name="manage-billing"),
    path("billing/switch/", billing_views.plan_switch_submit, name="switch-plan"),
    path("billing/welcome/", billing_views.checkout_success_page, name="checkout-success"),
    path("billing/cancelled/", billing_views.checkout_cancel_page, name="checkout-cancel"),
    path("offers/<str:code>/", billing_views.offer_page, name="offer"),
    path("gifts/", gift_views.gift_buy_page, name="gift-buy"),
    path("gifts/thanks/", gift_views.gift_thanks_page, name="gift-thanks"),
    path("gifts/redeem/", gift_views.gift_redeem_page, name="gift-redeem"),
    path("account/group/invite/", group_views.group_invite_submit, name="group-invite"),
    path(
        "account/group/members/<row_id:pk>/remove/",
        group_views.group_member_remove_submit,
        name="group-member-remove",
    ),
    path("account/group/leave/", group_views.group_leave_submit, name="group-leave"),
    path("groups/join/<str:token>/", group_views.group_join_page, name="group-join"),
    path("robots.txt", robots_txt, name="robots-txt"),
    path("sitemap.xml", sitemap, {"sitemaps": SITEMAPS}, name="sitemap"),
    path("favicon.ico", favicon, name="favicon"),
]
