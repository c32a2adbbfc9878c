"""Pieces every API viewset shares: how domain errors become responses, the role
permissions, the scoped-viewset base and the throttled token endpoint.

Visibility itself is not decided here: every viewset's `get_queryset()` applies the
model's `visible_to(user)`, so an invisible object is a 404 before any permission runs;
the permissions below only decide what a user may do with what they can see.
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, status
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import Throttled
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from crm import throttle
from crm.errors import DomainError, EditConflict
from crm.forms import ERR_THROTTLED

ERR_READ_ONLY_ROLE = _("Your role can read the archive but not change it.")
ERR_NOT_EDITABLE = _("You may not change this record.")
ERR_NOT_VERIFIER = _("Only client service or an admin can verify facts.")
ERR_ADMIN_ONLY = _("Only an admin can change this configuration.")


def exception_handler(exc, context):
    """DRF's handler, plus: an edit conflict is a 409 naming the fields someone else
    changed; any other domain error is a 400 keyed by its field."""
    if isinstance(exc, EditConflict):
        return Response({"detail": str(exc.message), "fields": exc.fields}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, DomainError):
        key = exc.field or api_settings.NON_FIELD_ERRORS_KEY
        return Response({key: [str(exc.message)]}, status=status.HTTP_400_BAD_REQUEST)
    return drf_exception_handler(exc, context)


def is_editable(user, obj) -> bool:
    """The model's own write rule (`editable_by`) applied to one object."""
    return type(obj).objects.editable_by(user).filter(pk=obj.pk).exists()


class ArchivePermission(permissions.IsAuthenticated):
    """Reads: whatever the scoped queryset holds. Writes: not for read-only roles, and
    only on objects the model's `editable_by` rule lets the user change (403 for a
    visible object the user may only read)."""

    def has_permission(self, request, view):
        if not super().has_permission(request, view):
            return False
        if request.method not in permissions.SAFE_METHODS and not request.user.writes_archive:
            self.message = ERR_READ_ONLY_ROLE
            return False
        return True

    def has_object_permission(self, request, view, obj):
        if request.method in permissions.SAFE_METHODS:
            return True
        self.message = ERR_NOT_EDITABLE
        return is_editable(request.user, obj)


class VerifierPermission(ArchivePermission):
    """Verifying a fact is client service's (and an admin's) job. Checked on the object,
    so an invisible object stays a 404 rather than a 403."""

    message = ERR_NOT_VERIFIER

    def has_object_permission(self, request, view, obj):
        self.message = ERR_NOT_VERIFIER
        return request.user.edits_all_customers and super().has_object_permission(request, view, obj)


class AdminWritesPermission(permissions.IsAuthenticated):
    """Company-wide configuration: every signed-in user reads it, admins change it."""

    message = ERR_ADMIN_ONLY

    def has_permission(self, request, view):
        if not super().has_permission(request, view):
            return False
        return request.method in permissions.SAFE_METHODS or request.user.is_admin_role


class InputOutputAutoSchema(AutoSchema):
    """Documents a viewset's `input_serializer_class` as the request body of its
    create and update, and `serializer_class` (the output) as every response."""

    def get_request_serializer(self):
        input_class = getattr(self.view, "input_serializer_class", None)
        if input_class is not None and getattr(self.view, "action", None) in ("create", "update", "partial_update"):
            return input_class
        return super().get_request_serializer()


class ScopedViewSetMixin:
    """Base of every API viewset: domain errors become field-keyed responses, whatever
    the project's EXCEPTION_HANDLER setting says; writes are documented with the input
    serializer (`input_serializer_class`), responses with the output one."""

    permission_classes = [ArchivePermission]
    schema = InputOutputAutoSchema()

    def get_exception_handler(self):
        return exception_handler


class ThrottledObtainAuthToken(ObtainAuthToken):
    """POST username and password, get the API token; failed attempts count against the
    same limit as the sign-in page, so the API is no way around it."""

    @extend_schema(operation_id="auth_token_create")
    def post(self, request, *args, **kwargs):
        username = str(request.data.get("username", ""))
        address = request.META.get("REMOTE_ADDR", "")
        if throttle.is_blocked(username, address):
            raise Throttled(detail=ERR_THROTTLED)
        serializer = self.get_serializer(data=request.data)
        if not serializer.is_valid():
            throttle.record_failure(username, address)
            return Response(serializer.errors, status=status.HTTP_400_BAD_REQUEST)
        throttle.reset(username, address)
        token, _created = Token.objects.get_or_create(user=serializer.validated_data["user"])
        return Response({"token": token.key})

    def get_exception_handler(self):
        return exception_handler
