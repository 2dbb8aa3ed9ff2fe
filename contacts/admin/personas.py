from __future__ import annotations

from django.contrib import admin

from contacts.models import Persona


@admin.register(Persona)
class PersonaAdmin(admin.ModelAdmin):
    list_display = ("name", "priority", "summary")
    search_fields = ("name",)
