"""Pin photos: stored only after validation, under a random name, never left behind by a rolled-back write."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction

from carto.errors import NotAllowed
from carto.models import Pin, PinPhoto
from carto.photos import CleanPhoto, photo_clean, random_photo_name
from carto.roles import Action, can

logger = logging.getLogger(__name__)

MAX_PHOTOS_PER_PIN = 4


def photo_url(name: str) -> str:
    """The public URL of a stored photo (its name is random, so it reveals nothing)."""
    return f"{settings.MEDIA_URL}{name}"


def photo_may_be_served(*, name: str, user) -> bool:
    """May the stored file `name` ("photos/….jpg") be sent to `user`?

    Only while a pin names it and that pin is not hidden: a moderator hides a pin for what its photo shows
    (a face, a name on a door), and its URL, once public, must stop working with it (and the file of a
    deleted pin before cleanup_media removes it). Moderators still see it, to decide on a restore; a
    pre-moderated (pending) pin's URL was never published and its author's page shows it.
    """
    # By file name (indexed, migration 0021).
    status = PinPhoto.objects.filter(file=name).values_list("pin__status", flat=True).first()
    if status is None:
        return False
    return status != Pin.Status.HIDDEN or can(user, Action.PIN_RESTORE)


def photo_discard(name: str) -> None:
    """Delete a stored file; a failure is logged (by type only) and never hides the original error."""
    try:
        default_storage.delete(name)
    except OSError as exc:
        logger.warning("could not delete a staged photo: %s", type(exc).__name__)


@contextlib.contextmanager
def photo_staged(clean: CleanPhoto | None) -> Iterator[str]:
    """Write a cleaned photo to storage for the duration of a block; delete it if the block fails.

    Wrap the whole transaction with this (outside `transaction.atomic`): the file exists before the
    row that names it commits, and a rolled-back pin or photo row never leaves an orphan file.
    """
    if clean is None:
        yield ""
        return
    name = default_storage.save(f"photos/{random_photo_name(clean.extension)}", ContentFile(clean.content))
    try:
        yield name
    except BaseException:
        # The error may come after the commit (an after-commit hook, a dropped connection): delete the file
        # only when no committed row names it. If the database cannot say, keep it: an orphan is removed
        # by `cleanup_media`, a pin whose photo is gone is broken for good.
        if _unreferenced(name):
            photo_discard(name)
        raise


def _unreferenced(name: str) -> bool:
    try:
        return not PinPhoto.objects.filter(file=name).exists()
    except Exception:  # noqa: BLE001 (any database failure means "cannot tell")
        logger.warning("kept a staged photo: the database could not say whether a row names it")
        return False


def photo_attach(*, pin: Pin, clean: CleanPhoto, name: str) -> PinPhoto:
    """Record an already-staged photo on a pin (inside the caller's transaction)."""
    return PinPhoto.objects.create(
        pin=pin,
        file=name,
        content_type=clean.content_type,
        width=clean.width,
        height=clean.height,
        size=len(clean.content),
    )


def pin_photo_add(*, pin: Pin, data: bytes) -> PinPhoto:
    """Add a photo to an existing pin: validated and re-encoded first, then stored, then recorded."""
    clean = photo_clean(data)
    with photo_staged(clean) as name, transaction.atomic(durable=True):
        # Lock the pin so that two uploads at once cannot both pass the per-pin limit.
        locked = Pin.objects.select_for_update().get(pk=pin.pk)
        if locked.photos.count() >= MAX_PHOTOS_PER_PIN:
            raise NotAllowed("too_many_photos", f"A pin has at most {MAX_PHOTOS_PER_PIN} photos.", status=400)
        return photo_attach(pin=locked, clean=clean, name=name)
