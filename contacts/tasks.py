"""Celery discovers `contacts.tasks`; the tasks live beside the service they wrap."""

from contacts import tasks_rights

__all__ = ["tasks_rights"]
