"""The public form API: another institutional site shows one of our forms with its own markup
and sends the answers as JSON.

`GET /api/v1/forms/<slug>/` gives the form's definition in one language (`?lang=`, else the
browser's `Accept-Language`): fields, the data-protection notice and a token.
`POST /api/v1/forms/<slug>/submissions/` takes `{"token", "values", "utm", "website"}` and goes
through the same protections as the form's page, cheapest first, storing nothing on any error:
rate limit per hashed IP (429, the page's budget), size (413), the sender's origin (403), JSON
only (415: a cross-site browser cannot send JSON without a CORS preflight, which only the form's
listed sites pass), the token (bound to the form, 24 hours), the honeypot (answers like success),
then the very form class the page uses (`form_class_for`: the same rules and messages), and
`submission_create` (idempotent: a repeat within the window answers 200 instead of 201).

No account, no session, no cookie: `authentication_classes = []`, so DRF's CSRF enforcement
(which only guards session authentication) has nothing to guard. CORS headers are added by
django-cors-headers for the form's listed sites only (conversion.embedding). Files cannot be sent
as JSON: a form with a required file field answers 400 and its definition says
`"submittable": false`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest
from django.utils import translation
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
)
from rest_framework import status
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.parsers import JSONParser
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from contacts.models import ConsentRecord
from conversion import services
from conversion.embedding import (
    FormTokenExpired,
    FormTokenInvalid,
    form_token_check,
    origin_allowed,
)
from conversion.forms import (
    STARTED_FIELD,
    UTM_FIELDS,
    CitizenForm,
    consent_purposes_ticked,
    form_class_for,
    form_published,
)
from conversion.models import Form, FormField
from conversion.serializers import (
    FormDefinitionSerializer,
    FormProblemSerializer,
    SubmissionErrorsSerializer,
    SubmissionReceivedSerializer,
    SubmissionRequestSerializer,
    form_definition,
)
from conversion.tracking import submission_visitor_key
from inbound.lib.errors import DomainError
from inbound.lib.ratelimit import rate_limit_counted, rate_limit_hit

TAG = "forms (public)"
DEFINITION_RATE_PER_MINUTE = 120
NON_FIELD = api_settings.NON_FIELD_ERRORS_KEY

LANG_PARAMETER = OpenApiParameter(
    "lang",
    str,
    enum=[code for code, _name in settings.LANGUAGES],
    description="The citizen's language for labels and messages; without it, Accept-Language.",
)
TOKEN_EXAMPLE = "form:3:1a2b3c:Kx9…"  # noqa: S105 -- a made-up example for the schema
DEFINITION_EXAMPLE = {
    "slug": "boletin-movilidad",
    "language": "es",
    "title": "Suscríbete al boletín de movilidad",
    "intro": "Cortes de tráfico, obras y nuevas líneas de autobús: una vez a la semana.",
    "submit_label": "Suscribirme",
    "fields": [
        {
            "key": "email",
            "kind": "email",
            "value_type": "text",
            "label": "Correo electrónico",
            "help": "",
            "required": True,
            "choices": [],
            "max_length": 254,
        },
        {
            "key": "temas",
            "kind": "topics",
            "value_type": "list",
            "label": "Temas que te interesan",
            "help": "",
            "required": False,
            "choices": [{"value": "movilidad", "label": "Movilidad"}],
            "max_length": None,
        },
        {
            "key": "boletin",
            "kind": "consent",
            "value_type": "boolean",
            "label": "Quiero recibir el boletín de movilidad por correo electrónico.",
            "help": "",
            "required": False,
            "choices": [],
            "max_length": None,
        },
    ],
    "utm_fields": ["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"],
    "privacy": {
        "controller": "Ayuntamiento de Villaclara del Río",
        "purpose": "Enviarte el boletín de movilidad y los temas que elijas.",
        "legal_basis": "Consentimiento",
        "rights": "Puedes acceder, rectificar y suprimir tus datos…",
        "preferences_url": "https://www.villaclara.example/es/preferencias/",
        "privacy_policy_url": "https://www.villaclara.example/es/privacidad/",
    },
    "token": TOKEN_EXAMPLE,
    "min_fill_seconds": 3,
    "submittable": True,
    "submit_url": "https://www.villaclara.example/api/v1/forms/boletin-movilidad/submissions/",
}
SUBMISSION_EXAMPLE = {
    "token": TOKEN_EXAMPLE,
    "values": {"email": "lucia@correo.example", "temas": ["movilidad"], "boletin": True},
    "utm": {"utm_source": "sede", "utm_medium": "embed"},
    "website": "",
}


def _problem(detail: str, code: int) -> Response:
    response = Response({"detail": detail}, status=code)
    if code == status.HTTP_429_TOO_MANY_REQUESTS:
        response["Retry-After"] = "60"  # the rate limits count per minute
    return response


def _errors(errors: Mapping[str, Any]) -> Response:
    return Response({"errors": errors}, status=status.HTTP_400_BAD_REQUEST)


def _language(request: HttpRequest) -> tuple[str, bool]:
    """(language, understood): `?lang=` if given, else the browser's; Spanish by default."""
    codes = [code for code, _name in settings.LANGUAGES]
    asked = request.GET.get("lang")
    if asked is not None:
        return (asked, True) if asked in codes else (settings.LANGUAGE_CODE, False)
    return translation.get_language_from_request(request, check_path=False), True


def _invalid_text(payload: Any) -> bool:
    """Whether any key or string holds what cannot be stored as UTF-8 (lone surrogates, which
    JSON's \\u escapes can carry). Walked without recursion: JSON nests deep."""
    pending = [payload]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
    return False


class _PublicFormView(APIView):
    """No account and no cookie; answers in the citizen's language; never cached."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    # Limited per hashed address with the form page's own budget (in the views), not by the
    # staff API's throttle.
    throttle_classes: list[Any] = []
    renderer_classes = [JSONRenderer]
    parser_classes = [JSONParser]
    language: str
    language_understood: bool

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        self.language, self.language_understood = _language(request)
        with translation.override(self.language):
            return super().dispatch(request, *args, **kwargs)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if not self.language_understood:
            codes = ", ".join(code for code, _name in settings.LANGUAGES)
            message = _("Unknown language: use one of %(codes)s.") % {"codes": codes}
            raise ValidationError({"errors": {"lang": [message]}})

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Content-Language"] = self.language
        patch_vary_headers(response, ("Accept-Language",))
        # A definition carries a fresh token; a submission's answer is about one citizen.
        add_never_cache_headers(response)
        return response


@extend_schema(tags=[TAG], parameters=[LANG_PARAMETER])
class FormDefinitionView(_PublicFormView):
    """A published form, to show on another site with its own markup."""

    @extend_schema(
        operation_id="form_definition",
        responses={
            200: FormDefinitionSerializer,
            404: OpenApiResponse(
                FormProblemSerializer, description="No published form by that slug."
            ),
            429: OpenApiResponse(FormProblemSerializer, description="Too many requests."),
        },
        examples=[
            OpenApiExample("Newsletter form", value=DEFINITION_EXAMPLE, response_only=True),
        ],
    )
    def get(self, request: Request, slug: str) -> Response:
        if rate_limit_hit(
            request=request._request,
            scope="conversion.definition",
            limit=DEFINITION_RATE_PER_MINUTE,
            period=60,
        ):
            return _problem(_("Too many requests: wait a minute."), 429)
        definition = form_published(slug)
        form_class = form_class_for(definition, language=self.language)
        data = form_definition(definition, form_class, language=self.language)
        return Response(FormDefinitionSerializer(data).data)


SUBMISSION_RESPONSES = {
    201: OpenApiResponse(SubmissionReceivedSerializer, description="Stored."),
    200: OpenApiResponse(
        SubmissionReceivedSerializer,
        description="The same answers were already received moments ago: counted once.",
    ),
    400: OpenApiResponse(
        SubmissionErrorsSerializer,
        description="Nothing stored: messages by field in the citizen's language.",
        examples=[
            OpenApiExample(
                "Missing e-mail",
                value={"errors": {"email": ["Este campo es obligatorio."]}},
            ),
            OpenApiExample(
                "Expired token",
                value={"errors": {"token": ["El formulario ha caducado: cárgalo de nuevo."]}},
            ),
        ],
    ),
    403: OpenApiResponse(
        FormProblemSerializer, description="Sent from a site the form does not list."
    ),
    404: OpenApiResponse(FormProblemSerializer, description="No published form by that slug."),
    413: OpenApiResponse(FormProblemSerializer, description="The body is too large."),
    415: OpenApiResponse(FormProblemSerializer, description="Not application/json."),
    429: OpenApiResponse(
        FormProblemSerializer, description="Too many submissions from this client."
    ),
}


@extend_schema(tags=[TAG], parameters=[LANG_PARAMETER])
class FormSubmissionView(_PublicFormView):
    """A citizen's answers to a published form."""

    @extend_schema(
        operation_id="form_submission_create",
        request=SubmissionRequestSerializer,
        responses=SUBMISSION_RESPONSES,
        examples=[
            OpenApiExample("Answers", value=SUBMISSION_EXAMPLE, request_only=True),
            OpenApiExample(
                "Received",
                value={"status": "received", "message": "¡Gracias! Te hemos enviado un correo."},
                response_only=True,
                status_codes=["201"],
            ),
        ],
    )
    def post(self, request: Request, slug: str) -> Response:
        django_request = request._request
        limit = int(getattr(settings, "CONVERSION_RATE_LIMIT_PER_MINUTE", 20))
        if rate_limit_hit(
            request=django_request, scope="conversion.submit", limit=limit, period=60
        ):
            return _problem(
                _(
                    "We have received many forms from your connection in a short time. Please "
                    "wait a minute and send it again."
                ),
                429,
            )
        definition = form_published(slug)
        if _content_length(django_request) > int(settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0):
            return _problem(_("What you sent is larger than we can accept."), 413)
        if not origin_allowed(django_request, definition, required=False):
            return _problem(_("This form cannot be sent from this site."), 403)
        try:
            payload = request.data  # UnsupportedMediaType (415) goes to DRF's handler
        except (ParseError, RecursionError):
            return _errors({NON_FIELD: [_("The body is not valid JSON.")]})
        if not isinstance(payload, dict) or _invalid_text(payload):
            return _errors({NON_FIELD: [_("Send a JSON object with the form's answers.")]})
        envelope = SubmissionRequestSerializer(data=payload)
        if not envelope.is_valid():
            return _errors(envelope.errors)
        sent = envelope.validated_data
        try:
            form_token_check(definition, sent["token"])
        except FormTokenExpired:
            return _errors({"token": [_("The form has expired: load it again and send it.")]})
        except FormTokenInvalid:
            return _errors({"token": [_("This is not a token of this form: load it again.")]})
        # A token is counted like a client: one token sent from many addresses is bounded too.
        token_key = hashlib.sha256(str(sent["token"]).encode()).hexdigest()[:32]
        if rate_limit_counted(key=token_key, scope="conversion.token", limit=limit, period=60):
            return _problem(
                _(
                    "We have received many forms from your connection in a short time. Please "
                    "wait a minute and send it again."
                ),
                429,
            )
        if sent["website"].strip():
            return _received(definition, created=True)  # a bot: looks like success, stores nothing

        form_class = form_class_for(definition, language=self.language)
        data, errors = _form_data(form_class, sent["values"], sent["utm"])
        if errors:
            return _errors(errors)
        form = form_class({**data, STARTED_FIELD: sent["token"]})
        if not form.is_valid():
            return _errors(_form_errors(form))
        try:
            _submission, created = services.submission_create(
                form=definition,
                cleaned=form.cleaned_data,
                files={},
                language=self.language,
                page=django_request.path,
                referrer=django_request.headers.get("Referer", "")[:500],
                visitor_key=submission_visitor_key(
                    django_request,
                    tracking_granted=(
                        ConsentRecord.Purpose.TRACKING in consent_purposes_ticked(form)
                    ),
                ),
            )
        except DjangoValidationError as error:
            return _errors({NON_FIELD: error.messages})
        except DomainError as error:
            return _errors({NON_FIELD: [str(error.message)]})
        return _received(definition, created=created)


def _content_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _received(definition: Form, *, created: bool) -> Response:
    return Response(
        {"status": "received", "message": definition.success_message},
        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
    )


def _form_data(
    form_class: type[CitizenForm], values: Mapping[str, Any], utm: Mapping[str, str]
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """JSON answers as the form reads posted data, or the errors that stop them by key.

    Each value must have the shape its field takes (text, true/false, a list of choices), so
    that no field ever sees a type it was not built for.
    """
    data: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for key, model_field in form_class.form_fields.items():
        if model_field.kind == FormField.Kind.FILE and (model_field.required or key in values):
            errors[key] = [_("Files cannot be sent here: use the form's own page to attach them.")]
    for key, value in values.items():
        if key in errors:
            continue
        if key not in form_class.form_fields:
            errors[key] = [_("This form has no such field.")]
            continue
        field = form_class.base_fields[key]
        if isinstance(field, forms.BooleanField):
            if not isinstance(value, bool):
                errors[key] = [_("Send true or false.")]
                continue
        elif isinstance(field, forms.MultipleChoiceField):
            value = [value] if isinstance(value, str) else value
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                errors[key] = [_("Send a list of the chosen values.")]
                continue
        elif value is None:
            value = ""
        elif isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        elif not isinstance(value, str):
            errors[key] = [_("Send this answer as text.")]
            continue
        data[key] = value
    unknown = sorted(set(utm) - set(UTM_FIELDS))
    if unknown:
        errors["utm"] = [
            _("Unknown campaign keys: %(keys)s. Use %(allowed)s.")
            % {"keys": ", ".join(unknown)[:200], "allowed": ", ".join(UTM_FIELDS)}
        ]
    data.update({name: text for name, text in utm.items() if name in form_class.base_fields})
    return data, errors


def _form_errors(form: CitizenForm) -> dict[str, list[str]]:
    """The form's errors by key, as strings in the active language."""
    return {
        (NON_FIELD if key == "__all__" else key): [str(message) for message in messages]
        for key, messages in form.errors.items()
    }
