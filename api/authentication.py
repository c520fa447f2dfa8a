"""API tokens that expire: an aidant signs in on a shared computer (a médiathèque, a centre social), and a
token left in its browser or a script must not sign anyone in forever."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token


def token_expires_at(token: Token) -> dt.datetime:
    return token.created + dt.timedelta(seconds=settings.CARTO_TOKEN_MAX_AGE_SECONDS)


def token_expired(token: Token) -> bool:
    return token_expires_at(token) <= timezone.now()


class ExpiringTokenAuthentication(TokenAuthentication):
    """DRF's token authentication, refusing (and deleting) a token older than CARTO_TOKEN_MAX_AGE_SECONDS."""

    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        if token_expired(token):
            token.delete()
            raise exceptions.AuthenticationFailed("This token has expired: sign in again for a new one.")
        return user, token
