"""Admin for the CRM, one module per concept."""

from contacts.admin import contacts, personas, segments

__all__ = ["contacts", "personas", "segments"]
