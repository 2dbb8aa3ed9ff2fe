"""Every user-facing string of ours has a Spanish translation shipped."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from inbound.lib.translations import project_messages, template_messages, untranslated


def test_every_template_and_code_string_has_a_spanish_translation() -> None:
    missing = untranslated(Path(settings.BASE_DIR), "es")
    report = "\n".join(f"  {where[0]}: {msgid!r}" for (_ctx, msgid, _pl), where in missing)
    assert not missing, (
        f"{len(missing)} strings have no Spanish translation in "
        f"locale/es/LC_MESSAGES/django.po (run `make messages`):\n{report}"
    )


def test_extraction_sees_translate_and_blocktranslate_in_templates() -> None:
    source = (
        '{% load i18n %}{% translate "Home" %}'
        "{% blocktranslate with name=x %}Hello {{ name }}{% endblocktranslate %}"
        '{% translate "May" context "month" %}'
    )
    found = set(template_messages(source))
    assert ("", "Home", "") in found
    assert ("", "Hello %(name)s", "") in found
    assert ("month", "May", "") in found


def test_extraction_finds_the_strings_of_this_project() -> None:
    messages = {msgid for (_ctx, msgid, _pl) in project_messages(Path(settings.BASE_DIR))}
    assert "Skip to main content" in messages  # templates/base.html
    assert "Accessibility statement" in messages
    assert "audit log" in messages  # a model's verbose_name_plural


def test_extraction_finds_plurals_whose_count_is_a_variable() -> None:
    from inbound.lib.translations import python_messages

    source = (
        'ngettext("%(count)d item.", "%(count)d items.", count)\n'
        'npgettext("admin", "One form", "%(n)d forms", len(rows))\n'
        "gettext(variable)\n"
    )
    found = set(python_messages(source))
    assert ("", "%(count)d item.", "%(count)d items.") in found
    assert ("admin", "One form", "%(n)d forms") in found
    assert len(found) == 2
