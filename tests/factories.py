from __future__ import annotations

from typing import Any

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password

from inbound.roles import assign_roles

STAFF_PASSWORD = "correct-horse-battery-staple"
_hashes: dict[str, str] = {}


def password_hash(password: str) -> str:
    """Hash each password once per run: PBKDF2 is slow by design."""
    if password not in _hashes:
        _hashes[password] = make_password(password)
    return _hashes[password]


class StaffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"staff{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@villaclara.example")
    first_name = "Staff"
    is_staff = True

    @factory.post_generation
    def password(self, create: bool, extracted: str | None, **kwargs: Any) -> None:
        self.password = password_hash(extracted or STAFF_PASSWORD)
        if create:
            self.save()

    @factory.post_generation
    def roles(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create and extracted:
            assign_roles(self, extracted)
