"""Answers that are the same for everyone and change only when reference data is loaded again."""

from __future__ import annotations

import hashlib

from django.utils.cache import get_conditional_response
from django.utils.http import quote_etag

# Territories change only on `load_all`: an hour in the browser's cache, then a revalidation that costs a 304.
REFERENCE_MAX_AGE = 3600


class PublicCacheMixin:
    """A public, cacheable GET answer: `Cache-Control: public, max-age`, an ETag of its bytes, and a 304 when
    the client already holds them (a slow network keeps the outlines it downloaded)."""

    cache_max_age = REFERENCE_MAX_AGE

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if request.method not in ("GET", "HEAD") or response.status_code != 200:
            return response
        response.render()
        response["ETag"] = quote_etag(hashlib.blake2b(response.content, digest_size=12).hexdigest())
        response["Cache-Control"] = f"public, max-age={self.cache_max_age}"
        return get_conditional_response(request, etag=response["ETag"], response=response)
