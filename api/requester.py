"""Who is asking: the anonymous device (keyed hash of X-Device-Token), the network (keyed hash of the IP
address), the signed-in account, and the pins they made. Shared by every view that needs them."""

from __future__ import annotations

from django.db.models import Q

from carto.errors import InvalidInput
from carto.services.privacy import keyed_hash

DEVICE_TOKEN_LENGTHS = (16, 200)


def device_hash(request) -> str:
    """The keyed hash of the X-Device-Token header ("" when absent); the token itself is never kept."""
    token = request.headers.get("X-Device-Token", "")
    if not token:
        return ""
    low, high = DEVICE_TOKEN_LENGTHS
    if not (low <= len(token) <= high):
        raise InvalidInput("invalid_device_token", f"X-Device-Token must be {low} to {high} characters.")
    return keyed_hash(token, purpose="device")


def ip_hash(request) -> str:
    return keyed_hash(request.META.get("REMOTE_ADDR", ""), purpose="ip")


def signed_in(request):
    return request.user if request.user.is_authenticated else None


def owned_by(request) -> Q | None:
    """Pins the requester made (same device token, or same signed-in author), or None for strangers."""
    clauses = Q()
    if device := device_hash(request):
        clauses |= Q(device_hash=device)
    if user := signed_in(request):
        clauses |= Q(author=user)
    return clauses or None
