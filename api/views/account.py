"""Personal data rights for a signed-in user: a one-time export link, the export, account deletion."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import authenticate, logout
from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from api.authentication import token_expired, token_expires_at
from api.security import security_event
from carto.errors import NotAllowed
from carto.services.accounts import account_delete, account_export_redeem, export_link_token
from carto.services.privacy import keyed_hash

_ERROR = inline_serializer(
    "AccountError",
    {
        "error": inline_serializer(
            "AccountErrorBody", {"code": serializers.CharField(), "message": serializers.CharField()}
        )
    },
)


class AccountDeleteInput(serializers.Serializer):
    """The password again (a stolen session or token alone cannot delete an account), and what to do with pins."""

    password = serializers.CharField(max_length=200, trim_whitespace=False)
    pins = serializers.ChoiceField(choices=["anonymise", "delete"], default="anonymise")

    def validate(self, attrs):
        if unknown := set(self.initial_data) - set(self.fields):
            raise serializers.ValidationError({name[:60]: ["unknown field"] for name in sorted(unknown)[:20]})
        return attrs


class AccountAPIView(APIView):
    permission_classes = [IsAuthenticated]


class AccountExportLinkView(AccountAPIView):
    """A link to download one's own data: works once, for this account only, for a few minutes."""

    @extend_schema(
        responses={
            200: inline_serializer(
                "AccountExportLink", {"url": serializers.URLField(), "expires_in": serializers.IntegerField()}
            ),
            401: _ERROR,
            403: _ERROR,
        }
    )
    def get(self, request):
        token = export_link_token(request.user)
        url = request.build_absolute_uri(reverse("account-export-download", args=[token]))
        security_event("export_link_issued", user=keyed_hash(str(request.user.pk), purpose="user")[:16])
        return Response({"url": url, "expires_in": settings.CARTO_EXPORT_LINK_SECONDS})


class AccountExportDownloadView(AccountAPIView):
    """The export itself, as JSON, once."""

    @extend_schema(
        operation_id="account_export_download",
        responses={200: OpenApiResponse(description="Everything carto holds about the signed-in account.")},
    )
    def get(self, request, token: str):
        data = account_export_redeem(user=request.user, token=token)
        security_event("export_downloaded", user=keyed_hash(str(request.user.pk), purpose="user")[:16])
        return Response(data, headers={"Content-Disposition": 'attachment; filename="carto-export.json"'})


class AccountDeleteView(AccountAPIView):
    """Delete one's account: personal fields blanked, pins anonymised (default) or deleted."""

    @extend_schema(
        request=AccountDeleteInput,
        responses={
            200: inline_serializer(
                "AccountDeleted",
                {
                    "deleted": serializers.BooleanField(),
                    "pins_anonymised": serializers.IntegerField(),
                    "pins_deleted": serializers.IntegerField(),
                },
            ),
            400: _ERROR,
            401: _ERROR,
            403: _ERROR,
        },
    )
    def post(self, request):
        data = AccountDeleteInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = request.user
        # Through authenticate(): a wrong password counts towards the login lock-out.
        again = authenticate(
            request._request, username=user.get_username(), password=data.validated_data["password"]
        )
        if again is None or again.pk != user.pk:
            raise NotAllowed("wrong_password", "The password is not right.")
        user_hash = keyed_hash(str(user.pk), purpose="user")[:16]
        summary = account_delete(user, pins=data.validated_data["pins"])
        logout(request._request)
        security_event("account_deleted", user=user_hash, pins=data.validated_data["pins"])
        return Response(
            {
                "deleted": True,
                "pins_anonymised": summary.pins_anonymised,
                "pins_deleted": summary.pins_deleted,
            }
        )


class ObtainExpiringToken(ObtainAuthToken):
    """POST username and password: the user's token, a new one when the former has expired, and when it
    expires."""

    @extend_schema(
        responses={
            200: inline_serializer(
                "ExpiringToken", {"token": serializers.CharField(), "expires_at": serializers.DateTimeField()}
            )
        }
    )
    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = serializer.validated_data["user"]
        token, _ = Token.objects.get_or_create(user=user)
        if token_expired(token):
            token.delete()
            token = Token.objects.create(user=user)
        return Response({"token": token.key, "expires_at": token_expires_at(token)})
