"""Staff pages about citizen personas, under /<lang>/staff/personas/."""

from __future__ import annotations

from django.urls import path

from contacts import views_personas

app_name = "contacts_personas"

urlpatterns = [
    path("", views_personas.persona_list, name="persona-list"),
    path("<int:pk>/", views_personas.persona_detail, name="persona-detail"),
]
