"""Recording pins: validation of the domain rules, placement in territories, privacy blur, replay safety."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.contrib.gis.geos import Point
from django.db import IntegrityError, transaction
from django.utils import timezone

from carto.errors import Conflict, InvalidInput, NotAllowed
from carto.geo import to_storage
from carto.models import Actor, Pin, Territory, Theme
from carto.models.pins import TEXT_MAX_LENGTH
from carto.photos import photo_clean
from carto.roles import Action, can
from carto.services import abuse
from carto.services.pin_photos import photo_attach, photo_discard, photo_staged
from carto.services.privacy import blur_candidates
from carto.services.themes import StaleTheme, theme_by_slug, themes_forget
from carto.sql.pin_insert import pin_insert
from carto.sql.placement import Counting, pin_preflight
from carto.stats.map_version import map_version_bump
from carto.tasks import cluster_pin_job


@dataclass(frozen=True)
class PinResult:
    pin: Pin
    created: bool  # False when the same client_uuid was replayed with the same body


def clean_text(text: str) -> str:
    """Strip the text and refuse what PostgreSQL or a reader cannot take (NUL, lone surrogates, empty)."""
    if not isinstance(text, str):
        raise InvalidInput("invalid_text", "text must be a string", fields={"text": ["not a string"]})
    if "\x00" in text:
        raise InvalidInput(
            "invalid_text", "text must not contain NUL characters", fields={"text": ["NUL byte"]}
        )
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidInput(
            "invalid_text",
            "text contains invalid Unicode (lone surrogate)",
            fields={"text": ["invalid unicode"]},
        ) from exc
    text = text.strip()
    if not text:
        raise InvalidInput("invalid_text", "text must not be empty", fields={"text": ["empty"]})
    if len(text) > TEXT_MAX_LENGTH:
        raise InvalidInput(
            "invalid_text",
            f"text must be at most {TEXT_MAX_LENGTH} characters",
            fields={"text": ["too long"]},
        )
    return text


def request_fingerprint(payload: dict) -> str:
    """SHA-256 of the canonical JSON of what defines a pin (a replay must carry the same)."""
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _replayed(client_uuid: uuid.UUID, fingerprint: str, stored_fingerprint: str | None) -> PinResult:
    if stored_fingerprint != fingerprint:
        raise Conflict(
            "idempotency_key_reused",
            "This client_uuid was already used for a different pin; make a new UUID for a new pin.",
            fields={"client_uuid": [str(client_uuid)]},
        )
    return PinResult(Pin.objects.get(client_uuid=client_uuid), created=False)


def _replay(client_uuid: uuid.UUID, fingerprint: str) -> PinResult | None:
    existing = (
        Pin.objects.filter(client_uuid=client_uuid).values_list("request_fingerprint", flat=True).first()
    )
    if existing is None:
        return None
    return _replayed(client_uuid, fingerprint, existing)


def _territory_refs(refs: dict, placement, ept_id: int | None) -> dict[str, Territory]:
    ids = {"commune": placement.commune_id, "ept": ept_id, "arrondissement": placement.arrondissement_id,
           "qpv": placement.qpv_id}  # fmt: skip
    return {
        field: Territory(id=pk, kind=refs[pk][0], code=refs[pk][1], name=refs[pk][2])
        for field, pk in ids.items()
        if pk is not None and pk in refs
    }


class ReplayRace(Exception):
    """Two requests with one client_uuid at once: the second waited on the unique index, then failed.

    Raised out of pin_create's transaction (which PostgreSQL has aborted); pin_submit answers it as a replay.
    No savepoint is taken for this rare race: two round trips saved on every pin (bench/pins_write.py).
    """

    def __init__(self, client_uuid: uuid.UUID, fingerprint: str) -> None:
        super().__init__(str(client_uuid))
        self.client_uuid, self.fingerprint = client_uuid, fingerprint


def _validated(*, text: str, kind: str, theme: Theme, mediated_by: User | None, consent: bool | None) -> str:
    """The domain rules on what a pin says (before anything is read or written); returns the clean text."""
    text = clean_text(text)
    if kind not in Pin.Kind.values:
        raise InvalidInput("invalid_kind", "kind must be need or proposal", fields={"kind": [str(kind)]})
    if theme.parent_id is None:
        raise InvalidInput(
            "invalid_theme", "choose a theme, not a group of themes", fields={"theme": [theme.slug]}
        )
    if mediated_by is not None and consent is not True:
        raise InvalidInput(
            "consent_required",
            "a mediated pin needs the resident's consent",
            fields={"consent": ["required"]},
        )
    return text


def _counting(*, device_hash: str, ip_hash: str, anonymous: bool, now) -> Counting:
    """The throttle counters of a screened write, for the preflight to count in its round trip."""
    keys = abuse.pin_write_keys(device_hash=device_hash, ip_hash=ip_hash, anonymous=anonymous)
    start, previous = abuse.window_starts(now)
    return Counting(keys.keys, keys.area, keys.new_device, abuse.NEW_DEVICE_WINDOW, start, previous)


def _screened(
    *, pre, text: str, device_hash: str, ip_hash: str, signed_in: User | None, now
) -> tuple[str, str, float]:
    """Judge the throttles the preflight counted (device, network, commune) and choose the write's status:
    (status, reason, spam score)."""
    history = abuse.DeviceHistory(
        first_pin_at=pre.first_pin_at, pins=pre.device_pins, same_text=pre.device_same_text
    )
    fresh = abuse.throttle_writes(
        device_hash=device_hash,
        ip_hash=ip_hash,
        commune_id=pre.placement.commune_id,
        # The preflight counted the network's new-device key only for a new anonymous device.
        new_device=f"{abuse.NEW_DEVICE_KEY}{ip_hash}"[:100] in pre.hits,
        hits={key: abuse.Hits(*counts) for key, counts in pre.hits.items()},
        now=now,
    )
    score = abuse.spam_score(text, history=history)
    status, reason = abuse.initial_status(
        score=score, author=signed_in, history=history, network_new_device_pins=fresh
    )
    return status, reason, score


@transaction.atomic(savepoint=False)
def pin_create(
    *,
    client_uuid: uuid.UUID,
    kind: str,
    theme: Theme,
    text: str,
    location: Point,
    language: str = "",
    author: User | None = None,
    mediated_by: User | None = None,
    mediated_structure: Actor | None = None,
    consent: bool | None = None,
    device_hash: str = "",
    ip_hash: str = "",
    status: str = Pin.Status.RECEIVED,
    status_reason: str = "",
    spam_score: float = 0.0,
    screen: bool = False,
) -> PinResult:
    """Record a pin once per client_uuid, placed in its territories, with a blurred public location.

    With `screen`, the write is throttled (device, IP hash, commune) and its status comes from the
    spam score and the pre-moderation rules (carto.services.abuse) instead of `status`.
    Round trips: the preflight (replay, placement, blur, history, new id, theme check, throttle counters),
    then the INSERT with its clustering job; no savepoint (see ReplayRace). StaleTheme when `theme` is no
    longer the stored one (pin_submit reads it again).
    """
    text = _validated(text=text, kind=kind, theme=theme, mediated_by=mediated_by, consent=consent)
    exact = to_storage(location)
    fingerprint = request_fingerprint(
        {
            "kind": kind,
            "theme": theme.slug,
            "text": text,
            "x": round(exact.x, 1),
            "y": round(exact.y, 1),
            "mediated_by": mediated_by.pk if mediated_by else None,
        }
    )
    now = timezone.now()
    signed_in = author or mediated_by
    # One round trip for everything known or counted before the write (carto.sql.placement.pin_preflight).
    pre = pin_preflight(
        point=exact,
        client_uuid=client_uuid,
        theme=theme,
        device_hash=device_hash if screen else "",
        text=text,
        blur_candidates=blur_candidates(location=exact, meters=theme.blur_meters),
        counting=_counting(device_hash=device_hash, ip_hash=ip_hash, anonymous=signed_in is None, now=now)
        if screen
        else None,
        now=now,
    )
    if pre.replay_id is not None:
        return _replayed(client_uuid, fingerprint, pre.replay_fingerprint)
    placement = pre.placement
    if not placement.inside_metropole or placement.commune_id is None:
        raise InvalidInput(
            "outside_metropole",
            "This place is outside the Métropole du Grand Paris; carto only covers its 130 communes.",
            fields={"location": ["outside the Métropole du Grand Paris"]},
        )
    if not pre.theme_current:
        raise StaleTheme(theme.slug)
    if screen:
        # After the replay check on purpose: a client retrying the same pin is never throttled.
        status, status_reason, spam_score = _screened(
            pre=pre, text=text, device_hash=device_hash, ip_hash=ip_hash, signed_in=signed_in, now=now
        )
    pin = Pin(
        id=pre.new_id,
        client_uuid=client_uuid,
        request_fingerprint=fingerprint,
        kind=kind,
        theme=theme,
        text=text,
        language=language[:16],
        location=exact,
        public_location=pre.public_location or Point(exact.x, exact.y, srid=exact.srid),
        commune_id=placement.commune_id,
        ept_id=pre.ept_id,
        arrondissement_id=placement.arrondissement_id,
        qpv_id=placement.qpv_id,
        status=status,
        status_reason=status_reason,
        author=author,
        mediated_by=mediated_by,
        mediated_structure=mediated_structure,
        consent=consent,
        device_hash=device_hash,
        ip_hash=ip_hash,
        spam_score=spam_score,
    )
    # The territories' kind, code and name come with the preflight: the response needs no re-read.
    for field, territory in _territory_refs(pre.territories, placement, pre.ept_id).items():
        setattr(pin, field, territory)
    # Clustering reads other pins and takes tens of ms of CPU: a job for the worker, queued by the INSERT's
    # own statement, in this very transaction, so that a committed pin always gets clustered (once: the job
    # is idempotent) and a rolled-back pin never has a job.
    try:
        pin_insert(pin, job=cluster_pin_job(pre.new_id))
    except IntegrityError as exc:
        raise ReplayRace(client_uuid, fingerprint) from exc
    # The map aggregates (tile grid, hexbins) moved with the row (a trigger); cached tiles must change.
    map_version_bump()
    return PinResult(pin, created=True)


def pin_submit(
    *,
    client_uuid: uuid.UUID,
    kind: str,
    theme_slug: str,
    text: str,
    location: Point,
    language: str = "",
    author: User | None = None,
    device_hash: str = "",
    ip_hash: str = "",
    structure_source_id: str | None = None,
    consent: bool | None = None,
    photo: bytes | None = None,
) -> PinResult:
    """A resident's (or an aidant's) pin as sent by a client: screened, with its optional photo."""
    theme = _theme(theme_slug)
    mediated_by = None
    structure = None
    if structure_source_id is not None:
        if author is None or not can(author, Action.PIN_CREATE_MEDIATED):
            raise NotAllowed("not_an_aidant", "Only signed-in aidants may enter a pin on someone's behalf.")
        structure = Actor.objects.filter(source_id=structure_source_id).first()
        if structure is None:
            raise InvalidInput(
                "unknown_structure",
                "This structure does not exist.",
                fields={"mediated.structure": ["unknown"]},
            )
        mediated_by = author
    # Validate and re-encode the photo before anything is written: a bad photo writes nothing.
    clean = photo_clean(photo) if photo is not None else None
    for attempt in (1, 2):
        try:
            with photo_staged(clean) as photo_name, transaction.atomic(durable=True):
                result = pin_create(
                    client_uuid=client_uuid,
                    kind=kind,
                    theme=theme,
                    text=text,
                    location=location,
                    language=language,
                    author=None if mediated_by else author,
                    mediated_by=mediated_by,
                    mediated_structure=structure,
                    consent=consent if mediated_by else None,
                    device_hash=device_hash,
                    ip_hash=ip_hash,
                    screen=True,
                )
                if result.created and clean is not None:
                    photo_attach(pin=result.pin, clean=clean, name=photo_name)
                elif photo_name:
                    # A replay keeps the pin's original photos; the staged copy is not needed.
                    transaction.on_commit(lambda: photo_discard(photo_name), robust=True)
        except StaleTheme:
            # Another process changed the theme since this one kept it: nothing was written or counted;
            # read it again and write once more (twice in a row: it is being edited right now).
            if attempt == 2:
                raise Conflict(
                    "theme_changed", "This theme was just changed; please send the pin again."
                ) from None
            themes_forget()
            theme = _theme(theme_slug)
            continue
        except ReplayRace as race:
            # The other request committed this client_uuid first: answer as its replay (or a 409 if the body
            # differs); any other integrity error is re-raised as it was.
            replayed = _replay(race.client_uuid, race.fingerprint)
            if replayed is None:
                raise race.__cause__ from None
            return replayed
        return result
    raise AssertionError("unreachable")


def _theme(slug: str) -> Theme:
    theme = theme_by_slug(slug)
    if theme is None:
        raise InvalidInput("unknown_theme", "This theme does not exist.", fields={"theme": [str(slug)[:60]]})
    return theme
