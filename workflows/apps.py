from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkflowsConfig(AppConfig):
    name = "workflows"
    verbose_name = _("Automated workflows")

    def ready(self) -> None:
        # Interactions enrol contacts in workflows (workflows.triggers); a saved workflow makes
        # this process read the triggers again.
        from django.db.models.signals import post_delete, post_save

        from contacts.signals import touchpoint_recorded
        from workflows import triggers
        from workflows.models import Workflow

        touchpoint_recorded.connect(triggers.touchpoint_enrol, dispatch_uid="workflows.triggers")
        forget = triggers.touchpoint_triggers_forget
        post_save.connect(forget, sender=Workflow, dispatch_uid="workflows.triggers.saved")
        post_delete.connect(forget, sender=Workflow, dispatch_uid="workflows.triggers.deleted")
