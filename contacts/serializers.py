"""API shapes of the CRM. Validation of contact data stays in contacts.validation/services."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from contacts.models import Contact, Segment, Topic, Touchpoint
from contacts.services import KIND_STAGES

MAX_TOUCHPOINTS_PER_REQUEST = 1000


class ContactSerializer(serializers.ModelSerializer):
    tags = serializers.SlugRelatedField(many=True, read_only=True, slug_field="name")

    class Meta:
        model = Contact
        fields = (
            "id", "email", "first_name", "last_name", "phone", "language", "postal_code",
            "district", "birth_year", "source", "lifecycle", "email_status", "tags",
            "properties", "persona", "created_at", "updated_at", "last_activity_at", "version",
        )
        read_only_fields = fields


class ContactWriteSerializer(serializers.Serializer):
    """What the API may write; values are checked by the services (contact_upsert/update)."""

    email = serializers.CharField(max_length=254, required=False)
    first_name = serializers.CharField(required=False, allow_blank=True)
    last_name = serializers.CharField(required=False, allow_blank=True)
    phone = serializers.CharField(required=False, allow_blank=True)
    language = serializers.CharField(required=False, allow_blank=True)
    postal_code = serializers.CharField(required=False, allow_blank=True)
    district = serializers.CharField(required=False, allow_blank=True)
    birth_year = serializers.IntegerField(required=False, allow_null=True)
    properties = serializers.DictField(required=False)
    tags = serializers.ListField(
        child=serializers.CharField(max_length=64), required=False,
        help_text=_("Tags to add (creation only)."),
    )
    version = serializers.IntegerField(
        required=False,
        help_text=_("The version you read: an update based on an older one is refused (409)."),
    )


class TopicSerializer(serializers.ModelSerializer):
    class Meta:
        model = Topic
        fields = ("id", "slug", "name", "description", "is_public", "order")


class SegmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Segment
        fields = ("id", "name", "description", "kind", "rules", "created_at", "updated_at")


class SegmentCountSerializer(serializers.Serializer):
    count = serializers.IntegerField()


class ContactCountsSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="Contacts that are not erased.")
    by_lifecycle = serializers.DictField(child=serializers.IntegerField())
    by_email_status = serializers.DictField(child=serializers.IntegerField())
    by_language = serializers.DictField(child=serializers.IntegerField())


class TouchpointInSerializer(serializers.Serializer):
    kind = serializers.CharField(max_length=40)
    stage = serializers.ChoiceField(choices=Touchpoint.Stage.choices, required=False)
    contact_email = serializers.EmailField(required=False)
    contact_id = serializers.IntegerField(required=False)
    visitor_key = serializers.CharField(max_length=64, required=False, allow_blank=True)
    occurred_at = serializers.DateTimeField(required=False)
    properties = serializers.DictField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "contact_email" in attrs and "contact_id" in attrs:
            raise serializers.ValidationError(_("Give contact_email or contact_id, not both."))
        if not attrs.get("stage") and attrs["kind"] not in KIND_STAGES:
            raise serializers.ValidationError(
                {"stage": _("Unknown touchpoint kind: give its stage.")}
            )
        return attrs


class TouchpointsRecordedSerializer(serializers.Serializer):
    recorded = serializers.IntegerField()
