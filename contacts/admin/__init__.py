"""Admin for the CRM, one module per concept."""

from contacts.admin import contacts, imports, personas, segments

__all__ = ["contacts", "imports", "personas", "segments"]
