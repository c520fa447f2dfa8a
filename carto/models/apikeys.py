"""Credentials that are not passwords: Open311 API keys and single-use download links."""

from __future__ import annotations

import hashlib
import secrets

from django.db import models

API_KEY_BYTES = 32


def api_key_hash(raw: str) -> str:
    """SHA-256 of a raw key: keys are long random strings, so a plain digest is enough (no salt needed)."""
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


class ApiKeyQuerySet(models.QuerySet):
    def matching(self, raw: str) -> ApiKey | None:
        """The active key whose hash matches `raw`, or None (the raw key is never stored)."""
        if not raw or len(raw) > 200:
            return None
        return self.filter(key_hash=api_key_hash(raw), active=True).first()


class ApiKey(models.Model):
    """A key given to a city back-office or an association's tool to POST Open311 requests."""

    name = models.CharField(max_length=100)
    # Only the hash is kept; the key is shown once, by `manage.py create_api_key`.
    key_hash = models.CharField(max_length=64, unique=True)
    # The first characters, so an operator can tell keys apart without being able to use them.
    prefix = models.CharField(max_length=8)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @classmethod
    def issue(cls, *, name: str) -> tuple[ApiKey, str]:
        """Create an active key; returns the row and the raw key (shown once, never stored)."""
        raw = secrets.token_urlsafe(API_KEY_BYTES)
        return cls.objects.create(name=name, key_hash=api_key_hash(raw), prefix=raw[:8]), raw


class UsedLink(models.Model):
    """A single-use signed link that was spent: the unique nonce makes a second download fail."""

    purpose = models.CharField(max_length=40)
    nonce = models.CharField(max_length=64)
    used_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            # Two concurrent downloads of one link: the database lets exactly one insert through.
            models.UniqueConstraint(fields=["purpose", "nonce"], name="used_link_once"),
        ]

    def __str__(self) -> str:
        return f"{self.purpose} link used at {self.used_at:%Y-%m-%d %H:%M}"
