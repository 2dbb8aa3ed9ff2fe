"""The CRM's staff API: contacts, topics, segments and bulk touchpoints.

Thin views: a serializer checks the shape, a service or selector does the work, and every
read or change of a citizen's data is written to the audit log. Listing contacts (all of them,
or a segment's members) takes personal data away in bulk, so it needs the export permission,
as the exports do; without it (Analysts) the counts answer: `contacts/count/` and
`segments/<id>/count/`.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Count, QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from contacts.models import Contact, Segment, Topic, Touchpoint
from contacts.segments import segment_count, segment_members
from contacts.serializers import (
    MAX_TOUCHPOINTS_PER_REQUEST,
    ContactCountsSerializer,
    ContactSerializer,
    ContactWriteSerializer,
    SegmentCountSerializer,
    SegmentSerializer,
    TopicSerializer,
    TouchpointInSerializer,
    TouchpointsRecordedSerializer,
)
from contacts.services import TouchpointIn, contact_update, contact_upsert, touchpoints_record_bulk
from inbound.audit import audit_record

EXPORT_PERMISSION = "contacts.export_contact"
ACTIONS = {"GET": "view", "HEAD": "view", "OPTIONS": "view", "POST": "add", "PUT": "change",
           "PATCH": "change", "DELETE": "delete"}


class ModelPermission(BasePermission):
    """Staff holding the model permission for the method: view to read, add/change to write,
    plus the view's `extra_permissions` for an action.

    The roles grant these (inbound.roles): Analysts read contacts and segments, never write,
    and never list contacts in bulk (that is an export: the export permission).
    """

    def has_permission(self, request: Request, view: Any) -> bool:
        user: Any = request.user
        if not (user and user.is_authenticated and user.is_staff):
            return False
        meta = view.permission_model._meta
        needed = [f"{meta.app_label}.{ACTIONS.get(request.method or '', 'delete')}_"
                  f"{meta.model_name}"]
        needed += getattr(view, "extra_permissions", {}).get(getattr(view, "action", None), [])
        return bool(user.has_perms(needed))


def _field_errors(error: DjangoValidationError, field: str = "detail") -> Any:
    return error.message_dict if hasattr(error, "error_dict") else {field: error.messages}


class ContactViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Citizens' contact records. Creating an existing email updates it (200, not 201).

    Listing them takes personal data away in bulk, so it needs the export permission;
    reading one contact needs only the view permission.
    """

    permission_classes = [ModelPermission]
    permission_model = Contact
    extra_permissions = {"list": [EXPORT_PERMISSION]}
    serializer_class = ContactSerializer

    def get_queryset(self) -> QuerySet[Contact]:
        return (
            Contact.objects.filter(anonymised_at__isnull=True)
            .prefetch_related("tags")
            .order_by("-created_at", "-id")
        )

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response = super().list(request, *args, **kwargs)
        ids = [row["id"] for row in response.data["results"]]
        audit_record(action="contacts_listed", actor=request.user, request=request._request,
                     detail={"contact_ids": ids, "via": "api"})
        return response

    @extend_schema(responses=ContactCountsSerializer)
    @action(detail=False, methods=["get"])
    def count(self, request: Request) -> Response:
        """How many contacts there are, by lifecycle stage, e-mail status and language: figures
        with no one in them, for anyone who may view contacts."""
        contacts = Contact.objects.filter(anonymised_at__isnull=True)

        def by(field: str) -> dict[str, int]:
            rows = contacts.order_by().values_list(field).annotate(n=Count("id"))
            return {str(value or ""): n for value, n in rows}

        data = {
            "count": contacts.count(),
            "by_lifecycle": by("lifecycle"),
            "by_email_status": by("email_status"),
            "by_language": by("language"),
        }
        return Response(ContactCountsSerializer(data).data)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        contact = self.get_object()
        audit_record(action="contact_viewed", actor=request.user, obj=contact,
                     request=request._request, detail={"via": "api"})
        return Response(ContactSerializer(contact).data)

    @extend_schema(request=ContactWriteSerializer, responses={200: ContactSerializer,
                                                              201: ContactSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        payload = ContactWriteSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        if not data.get("email"):
            raise serializers.ValidationError({"email": [_("Enter an email address.")]})
        try:
            contact, created = contact_upsert(
                email=data.pop("email"),
                properties=data.pop("properties", None),
                tags=data.pop("tags", ()),
                data={k: v for k, v in data.items() if k != "version"},
                source=Contact.Source.API,
                respect_tombstones=True,
            )
        except DjangoValidationError as error:
            # Only the email check raises without naming a field.
            raise serializers.ValidationError(_field_errors(error, "email")) from None
        audit_record(action="contact_created" if created else "contact_changed",
                     actor=request.user, obj=contact, request=request._request,
                     detail={"via": "api", "fields": sorted(payload.validated_data)})
        contact = self.get_queryset().get(pk=contact.pk)
        return Response(ContactSerializer(contact).data,
                        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(request=ContactWriteSerializer, responses=ContactSerializer)
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        contact = self.get_object()
        payload = ContactWriteSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        if "email" in data and data["email"].strip().lower() != (contact.email or ""):
            raise serializers.ValidationError(
                {"email": [_("The email cannot be changed through the API.")]}
            )
        if "tags" in data:
            raise serializers.ValidationError({"tags": [_("Tags are only set on creation.")]})
        version = data.pop("version", contact.version)
        try:
            contact = contact_update(contact=contact, data=data, expected_version=version,
                                     actor=request.user, request=request._request)
        except DjangoValidationError as error:
            raise serializers.ValidationError(_field_errors(error)) from None
        return Response(ContactSerializer(self.get_queryset().get(pk=contact.pk)).data)


class TopicViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The topics citizens can follow."""

    permission_classes = [ModelPermission]
    permission_model = Topic
    serializer_class = TopicSerializer
    queryset = Topic.objects.order_by("order", "slug")


class SegmentViewSet(viewsets.ReadOnlyModelViewSet):
    """Segments; their members and counts are computed now, in one query each. Anyone who
    reads segments gets the count; the members are personal data in bulk (export)."""

    permission_classes = [ModelPermission]
    permission_model = Segment
    extra_permissions = {"members": ["contacts.view_contact", EXPORT_PERMISSION]}
    serializer_class = SegmentSerializer
    queryset = Segment.objects.order_by("name")

    @extend_schema(responses=SegmentCountSerializer)
    @action(detail=True, methods=["get"])
    def count(self, request: Request, pk: str | None = None) -> Response:
        return Response({"count": segment_count(segment=self.get_object())})

    @extend_schema(responses=ContactSerializer(many=True))
    @action(detail=True, methods=["get"])
    def members(self, request: Request, pk: str | None = None) -> Response:
        segment = self.get_object()
        members = segment_members(segment=segment).prefetch_related("tags").order_by("-id")
        page = self.paginate_queryset(members)
        rows = page if page is not None else list(members)
        audit_record(action="segment_members_viewed", actor=request.user, obj=segment,
                     request=request._request,
                     detail={"contact_ids": [c.pk for c in rows], "via": "api"})
        data = ContactSerializer(rows, many=True).data
        return self.get_paginated_response(data) if page is not None else Response(data)


class TouchpointBulkView(APIView):
    """Record up to 1,000 touchpoints at once: all of them, or none if any row is wrong."""

    permission_classes = [ModelPermission]
    permission_model = Touchpoint

    @extend_schema(request=TouchpointInSerializer(many=True),
                   responses={201: TouchpointsRecordedSerializer})
    def post(self, request: Request) -> Response:
        rows = request.data
        if not isinstance(rows, list) or not rows:
            raise serializers.ValidationError(
                {"detail": _("Send a non-empty list of touchpoints.")}
            )
        if len(rows) > MAX_TOUCHPOINTS_PER_REQUEST:
            raise serializers.ValidationError({"detail": _(
                "Send at most %(max)s touchpoints per request."
            ) % {"max": MAX_TOUCHPOINTS_PER_REQUEST}})
        payload = TouchpointInSerializer(data=rows, many=True)
        by_email: dict[str, int] = {}
        if not payload.is_valid():
            found: Any = payload.errors  # a list per row, or {row: errors} in newer DRF
            pairs = found.items() if isinstance(found, dict) else enumerate(found)
            errors = {str(i): e for i, e in pairs if e}
        else:
            by_email, missing_ids = self._contacts(payload.validated_data)
            errors = self._unknown_contacts(payload.validated_data, by_email, missing_ids)
        if errors:
            return Response(
                {"detail": _("Nothing was recorded: %(n)s rows have errors.") % {"n": len(errors)},
                 "rows": errors},
                status=status.HTTP_400_BAD_REQUEST,
            )
        recorded = touchpoints_record_bulk(rows=[
            TouchpointIn(
                kind=row["kind"],
                stage=row.get("stage", ""),
                contact_id=row.get("contact_id") or by_email.get(row.get("contact_email", "")
                                                                 .lower()),
                visitor_key=row.get("visitor_key", ""),
                occurred_at=row.get("occurred_at"),
                properties=row.get("properties") or {},
            )
            for row in payload.validated_data
        ])
        audit_record(action="touchpoints_recorded", actor=request.user, request=request._request,
                     detail={"count": recorded, "via": "api"})
        return Response({"recorded": recorded}, status=status.HTTP_201_CREATED)

    @staticmethod
    def _contacts(rows: list[dict[str, Any]]) -> tuple[dict[str, int], set[int]]:
        emails = {row["contact_email"].lower() for row in rows if row.get("contact_email")}
        ids = {row["contact_id"] for row in rows if row.get("contact_id")}
        live = Contact.objects.filter(anonymised_at__isnull=True)
        by_email = {str(email): pk for email, pk in
                    live.filter(email__in=emails).values_list("email", "pk")}
        known_ids = set(live.filter(pk__in=ids).values_list("pk", flat=True))
        return by_email, ids - known_ids

    @staticmethod
    def _unknown_contacts(
        rows: list[dict[str, Any]], by_email: dict[str, int], missing_ids: set[int]
    ) -> dict[str, Any]:
        errors: dict[str, Any] = {}
        for index, row in enumerate(rows):
            email = row.get("contact_email", "").lower()
            if email and email not in by_email:
                errors[str(index)] = {"contact_email": [_("No contact has this email.")]}
            elif row.get("contact_id") in missing_ids:
                errors[str(index)] = {"contact_id": [_("No contact has this id.")]}
        return errors
