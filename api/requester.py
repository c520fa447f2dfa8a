"""Who is asking: the anonymous device (keyed hash of X-Device-Token), the network (keyed hash of the IP
address), the signed-in account, and the pins they made. Shared by every view that needs them."""

from __future__ import annotations

import functools
import ipaddress

from django.conf import settings
from django.db.models import Q

from carto.errors import InvalidInput
from carto.services.privacy import keyed_hash
from config.networks import Network, trusted_networks

DEVICE_TOKEN_LENGTHS = (16, 200)


def device_hash(request) -> str:
    """The keyed hash of the X-Device-Token header ("" when absent); the token itself is never kept."""
    token = request.headers.get("X-Device-Token", "")
    # The answer now depends on the header: api.security keeps it out of shared caches (DRF wraps the request).
    getattr(request, "_request", request).device_token_read = bool(token)
    if not token:
        return ""
    low, high = DEVICE_TOKEN_LENGTHS
    if not (low <= len(token) <= high):
        raise InvalidInput("invalid_device_token", f"X-Device-Token must be {low} to {high} characters.")
    return keyed_hash(token, purpose="device")


# One IPv6 subscriber gets a whole /64 (RFC 6177): counted by its address, one connection could be any
# number of networks, each with its own budget, and three of them hid any pin with three reports.
IPV6_NETWORK_PREFIX = 64


def ip_hash(request) -> str:
    """The keyed hash of the client's network (its IPv4 address, or its IPv6 /64)."""
    return keyed_hash(client_network(request), purpose="ip")


def client_network(request) -> str:
    address = client_ip(request)
    parsed = _address(address)
    if isinstance(parsed, ipaddress.IPv6Address):
        return str(ipaddress.ip_network(f"{parsed}/{IPV6_NETWORK_PREFIX}", strict=False))
    return address


def client_ip(request) -> str:
    """The client's address: REMOTE_ADDR, or, when that is a trusted proxy (CARTO_TRUSTED_PROXIES), the last
    address of X-Forwarded-For that no trusted proxy added (entries before it are the client's own word)."""
    remote = request.META.get("REMOTE_ADDR", "") if request is not None else ""
    trusted = _trusted(tuple(settings.CARTO_TRUSTED_PROXIES))
    if not trusted or not _is_trusted(_address(remote), trusted):
        return _plain(remote)
    for entry in reversed(request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")):
        address = _address(entry.strip())
        if address is None:
            break  # garbage in the chain: believe nothing before it
        if not _is_trusted(address, trusted):
            return str(address)
    return _plain(remote)


@functools.lru_cache(maxsize=8)
def _trusted(values: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(trusted_networks(values))


def _is_trusted(address, trusted: tuple) -> bool:
    return address is not None and any(address in network for network in trusted)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address in `text` (an IPv4-mapped IPv6 address as its IPv4 one), or None."""
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _plain(text: str) -> str:
    address = _address(text)
    return text if address is None else str(address)


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
