"""Celery discovers `contacts.tasks`; the tasks live beside the service they wrap."""

from contacts import tasks_imports, tasks_personas, tasks_rights

__all__ = ["tasks_imports", "tasks_personas", "tasks_rights"]
