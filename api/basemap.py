"""The operator's street basemap: one local PMTiles file (CARTO_BASEMAP_PMTILES) read by the page in byte ranges.

The PMTiles client in the browser asks for the header and directories, then each tile, as `Range: bytes=a-b`
requests on this one URL: no tile server. Django serves no ranges; whitenoise's StaticFile does, but only for
its static files, and answers 416 to a one-byte range (`bytes=0-0`) and accepts `bytes=--5`. Hence this small
parser of a single byte range (RFC 9110 §14), tested with hostile headers in tests/api/test_basemap.py.
"""

from __future__ import annotations

import os
import re
from email.utils import formatdate

from django.conf import settings
from django.http import JsonResponse, StreamingHttpResponse
from django.utils.cache import get_conditional_response

from api.errors import allowed_methods, error_body
from api.tiles import json_errors
from carto.errors import DomainError

CONTENT_TYPE = "application/vnd.pmtiles"
# The file changes only when the operator runs `make basemap` again; the ETag then changes with it and the
# PMTiles client, which compares ETags between its requests, starts over.
MAX_AGE = 86400
CHUNK = 64 * 1024
# One range of the bytes unit (case-insensitive, RFC 9110 §14.1); several ranges are ignored (§14.2 allows it).
_RANGE = re.compile(r"bytes=(\d*)-(\d*)", re.IGNORECASE | re.ASCII)
# Past 18 digits a position is beyond any file: compared as such, never handed to int() (4,300-digit limit).
_HUGE = 10**18


class Unsatisfiable(Exception):
    """The range starts past the end of the file (or asks for the last 0 bytes): a 416."""


def byte_range(header: str, size: int) -> tuple[int, int] | None:
    """The first and last byte (inclusive) a Range header asks of a file of `size` bytes; None to send it whole."""
    match = _RANGE.fullmatch(header.strip())
    if match is None:
        return None  # another unit, several ranges, garbage: ignored, the whole file is the answer
    first, last = (_number(digits) if digits else None for digits in match.groups())
    if first is None:
        if last is None:
            return None  # "bytes=-"
        if last == 0 or size == 0:
            raise Unsatisfiable
        return max(size - last, 0), size - 1  # the last `last` bytes, or the whole file if it is shorter
    if last is not None and last < first:
        return None  # an invalid range: ignored (§14.1.1)
    if first >= size:
        raise Unsatisfiable
    return first, size - 1 if last is None else min(last, size - 1)


def _number(digits: str) -> int:
    digits = digits.lstrip("0") or "0"
    return int(digits) if len(digits) <= 18 else _HUGE


def _read(path: str, start: int, length: int):
    """The file's bytes from `start`, `length` of them, a chunk at a time: never the whole file in memory."""
    with open(path, "rb") as file:
        file.seek(start)
        while length > 0:
            chunk = file.read(min(CHUNK, length))
            if not chunk:
                return
            length -= len(chunk)
            yield chunk


@allowed_methods("GET", "HEAD")
@json_errors
def basemap_view(request):
    """GET/HEAD /api/basemap.pmtiles: the whole file, or one byte range of it (206), cacheable and streamed."""
    path = settings.CARTO_BASEMAP_PMTILES
    try:
        stat = os.stat(path) if path else None
    except OSError:
        stat = None
    if stat is None or not os.path.isfile(path):
        raise DomainError("no_basemap", "No street basemap is configured on this server.", status=404)
    size = stat.st_size
    etag = f'"{stat.st_mtime_ns:x}-{size:x}"'
    last_modified = int(stat.st_mtime)
    headers = {
        "Accept-Ranges": "bytes",
        "ETag": etag,
        "Last-Modified": formatdate(last_modified, usegmt=True),
        "Cache-Control": f"public, max-age={MAX_AGE}",
        "Content-Type": CONTENT_TYPE,
    }
    conditional = get_conditional_response(request, etag=etag, last_modified=last_modified)
    if conditional is not None and conditional.status_code == 412:  # If-Match or If-Unmodified-Since
        return JsonResponse(error_body("precondition_failed", "The basemap file has changed."), status=412)
    if conditional is not None:  # 304: If-None-Match or If-Modified-Since
        for name in ("ETag", "Last-Modified", "Cache-Control", "Accept-Ranges"):
            conditional[name] = headers[name]
        return conditional
    wanted = request.headers.get("Range")
    # If-Range: the client holds part of a former file; only the same file may be sent in ranges.
    if_range = request.headers.get("If-Range")
    if wanted and if_range and if_range not in (etag, headers["Last-Modified"]):
        wanted = None
    try:
        bounds = byte_range(wanted, size) if wanted else None
    except Unsatisfiable:
        # The one error shape, as every refusal: the PMTiles client reads the status and Content-Range only.
        response = JsonResponse(
            error_body("range_not_satisfiable", f"The range starts past the end of the file ({size} bytes)."),
            status=416,
        )
        for name in ("Accept-Ranges", "ETag", "Last-Modified"):
            response[name] = headers[name]
        response["Content-Range"] = f"bytes */{size}"
        return response
    start, end = bounds if bounds else (0, size - 1)
    length = end - start + 1
    body = _read(path, start, length) if request.method == "GET" else iter(())
    response = StreamingHttpResponse(body, status=206 if bounds else 200, headers=headers)
    response["Content-Length"] = str(length)
    if bounds:
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    return response
