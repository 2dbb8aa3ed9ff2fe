"""Workflows' staff pages, under /<lang>/staff/workflows/."""

from __future__ import annotations

from django.urls import path

from workflows import views

app_name = "workflows_staff"

urlpatterns = [
    path("", views.workflow_list, name="list"),
    path("<int:pk>/", views.workflow_detail, name="workflow"),
    path("<int:pk>/activate/", views.workflow_activate_view, name="activate"),
    path("<int:pk>/pause/", views.workflow_pause_view, name="pause"),
    path("<int:pk>/resume/", views.workflow_resume_view, name="resume"),
    path("<int:pk>/enrol/", views.workflow_enrol_view, name="enrol"),
    path("<int:pk>/test/", views.workflow_test_view, name="test"),
    path(
        "enrollments/<int:pk>/remove/",
        views.enrollment_remove_view,
        name="enrollment_remove",
    ),
]
