"""A staff member's own account pages, included under /<lang>/staff/account/."""

from __future__ import annotations

from django.urls import path

from inbound import views_account

app_name = "staff_account"

urlpatterns = [
    path("two-factor/", views_account.two_factor, name="two-factor"),
    path("api-tokens/", views_account.api_tokens, name="api-tokens"),
]
