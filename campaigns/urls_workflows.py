"""Workflows' staff pages, under /<lang>/staff/workflows/."""

from __future__ import annotations

from django.urls import path

from campaigns import views_workflows

app_name = "workflows_staff"

urlpatterns = [
    path("", views_workflows.workflow_list, name="list"),
    path("<int:pk>/", views_workflows.workflow_detail, name="workflow"),
    path("<int:pk>/activate/", views_workflows.workflow_activate_view, name="activate"),
    path("<int:pk>/pause/", views_workflows.workflow_pause_view, name="pause"),
    path("<int:pk>/resume/", views_workflows.workflow_resume_view, name="resume"),
    path("<int:pk>/enrol/", views_workflows.workflow_enrol_view, name="enrol"),
    path("<int:pk>/test/", views_workflows.workflow_test_view, name="test"),
    path(
        "enrollments/<int:pk>/remove/",
        views_workflows.enrollment_remove_view,
        name="enrollment_remove",
    ),
]
