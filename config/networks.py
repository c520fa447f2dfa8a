"""Address ranges named in the environment, parsed once for the settings and for api.requester."""

from __future__ import annotations

import ipaddress

from django.core.exceptions import ImproperlyConfigured

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def trusted_networks(values: list[str] | tuple[str, ...]) -> list[Network]:
    """CARTO_TRUSTED_PROXIES as networks ("127.0.0.1", "10.0.0.0/8"); a bad value stops the start."""
    try:
        return [ipaddress.ip_network(value.strip(), strict=False) for value in values if value.strip()]
    except ValueError as exc:
        raise ImproperlyConfigured(f"CARTO_TRUSTED_PROXIES: {exc}") from None
