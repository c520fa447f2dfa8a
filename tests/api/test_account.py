"""Personal data rights: the one-time export link, account deletion, the retention purge."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import User
from django.core import signing
from django.core.management import call_command
from django.utils import timezone
from rest_framework.authtoken.models import Token

from carto.models import Pin, PinCluster, Support
from carto.services.accounts import EXPORT_SALT, account_delete, retention_purge
from carto.services.supports import pin_support
from tests.factories import BELLEVILLE, BONDY, make_pin
from tests.jobs import run_queued_jobs

PASSWORD = "correct horse battery staple"


def export_url(client) -> str:
    response = client.get("/api/account/export/")
    assert response.status_code == 200
    return response.json()["url"].replace("http://testserver", "")


def test_export_needs_a_signed_in_user(client, db):
    assert client.get("/api/account/export/").status_code in (401, 403)
    assert client.post("/api/account/delete/", {"password": "x"}).status_code in (401, 403)


def test_export_link_gives_only_my_own_data_once(client, resident, aidant):
    mine = make_pin(*BELLEVILLE, author=resident, text="Mon besoin à moi")
    make_pin(*BONDY, author=aidant, text="Le besoin de quelqu'un d'autre")
    pin_support(pin_id=mine.pk, user=resident)
    client.force_login(resident)
    url = export_url(client)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    data = response.json()
    assert data["account"]["username"] == "resident"
    assert [p["text"] for p in data["pins"]] == ["Mon besoin à moi"]
    assert data["supports"] == [{"pin": mine.pk, "created_at": data["supports"][0]["created_at"]}]
    assert "quelqu'un d'autre" not in response.content.decode()
    again = client.get(url)
    assert again.status_code == 410 and again.json()["error"]["code"] == "link_used"


def test_someone_elses_export_link_is_not_found(client, resident, aidant):
    client.force_login(resident)
    url = export_url(client)
    client.force_login(aidant)
    assert client.get(url).status_code == 404
    client.force_login(resident)
    assert client.get(url).status_code == 200  # still unused: the stranger's attempt did not spend it


def test_an_expired_or_forged_export_link_is_refused(client, resident, settings):
    client.force_login(resident)
    url = export_url(client)
    settings.CARTO_EXPORT_LINK_SECONDS = -1
    assert client.get(url).status_code == 410
    forged = signing.dumps({"u": resident.pk, "n": "x"}, salt="another-salt")
    assert client.get(f"/api/account/export/{forged}/").status_code == 404
    assert EXPORT_SALT != "another-salt"


def test_delete_with_anonymise_keeps_the_pins_without_anything_personal(client, resident):
    pin = make_pin(author=resident, device_hash="d" * 64, ip_hash="i" * 64)
    Token.objects.create(user=resident)
    client.force_login(resident)
    response = client.post("/api/account/delete/", {"password": PASSWORD, "pins": "anonymise"})
    assert response.status_code == 200, response.content
    assert response.json() == {"deleted": True, "pins_anonymised": 1, "pins_deleted": 0}
    pin.refresh_from_db()
    assert pin.author is None and pin.device_hash == "" and pin.ip_hash == ""
    assert pin.location.equals(pin.public_location)
    user = User.objects.get(pk=resident.pk)
    assert user.username.startswith("deleted-") and not user.is_active and not user.has_usable_password()
    assert user.email == "" and not user.groups.exists()
    assert not Token.objects.filter(user=user).exists()
    assert client.get("/api/account/export/").status_code in (401, 403)  # signed out


def test_delete_with_delete_removes_the_pins_and_supports(client, resident, aidant):
    make_pin(author=resident)
    other = make_pin(author=aidant)
    pin_support(pin_id=other.pk, user=resident)
    client.force_login(resident)
    response = client.post("/api/account/delete/", {"password": PASSWORD, "pins": "delete"})
    assert response.json()["pins_deleted"] == 1
    assert list(Pin.objects.values_list("pk", flat=True)) == [other.pk]
    assert not Support.objects.exists()
    other.refresh_from_db()
    assert other.support_count == 0


def test_a_deleted_pin_leaves_no_text_count_or_place_in_its_cluster(client, resident, aidant):
    mine = make_pin(
        *BELLEVILLE, author=resident, text="Pas d'imprimante pour mes papiers CAF, Mme Diallo au 3e"
    )
    theirs = make_pin(*BONDY, author=aidant, text="Nulle part pour imprimer mes papiers de la CAF")
    run_queued_jobs()
    cluster = PinCluster.objects.get(pin=mine).cluster
    assert PinCluster.objects.get(pin=theirs).cluster == cluster, "the same need: one cluster"
    client.force_login(resident)
    assert client.post("/api/account/delete/", {"password": PASSWORD, "pins": "delete"}).status_code == 200
    cluster.refresh_from_db()
    assert (cluster.pin_count, cluster.territory_count, cluster.label) == (1, 1, theirs.text)
    body = client.get(f"/api/clusters/{cluster.pk}/").content.decode()
    assert "Diallo" not in body and mine.commune.name not in body


@pytest.mark.parametrize(
    "body",
    [
        {"password": "wrong"},
        {},
        {"password": PASSWORD, "pins": "keep"},
        {"password": PASSWORD, "is_staff": True},
    ],
)
def test_delete_refuses_a_wrong_password_bad_choice_or_extra_field(client, resident, body):
    client.force_login(resident)
    response = client.post("/api/account/delete/", body, content_type="application/json")
    assert response.status_code in (400, 403)
    assert User.objects.get(pk=resident.pk).is_active


def test_account_delete_is_one_transaction(resident, monkeypatch):
    make_pin(author=resident)

    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(User, "set_unusable_password", fail)
    with pytest.raises(RuntimeError):
        account_delete(resident, pins="delete")
    assert Pin.objects.filter(author=resident).count() == 1


def test_retention_purges_exact_locations_of_long_closed_pins_and_old_ip_hashes(db, settings):
    settings.CARTO_RETENTION_DAYS = 365
    settings.CARTO_IP_HASH_RETENTION_DAYS = 30
    now = timezone.now()
    old_resolved = make_pin(status=Pin.Status.RESOLVED, ip_hash="a" * 64)
    new_resolved = make_pin(status=Pin.Status.RESOLVED, ip_hash="b" * 64)
    old_open = make_pin(status=Pin.Status.RECEIVED, ip_hash="c" * 64)
    Pin.objects.filter(pk__in=[old_resolved.pk, old_open.pk]).update(
        updated_at=now - dt.timedelta(days=400), created_at=now - dt.timedelta(days=400)
    )
    summary = retention_purge(now=now)
    assert summary.locations_purged == 1 and summary.ip_hashes_blanked == 2
    for pin in (old_resolved, new_resolved, old_open):
        pin.refresh_from_db()
    assert old_resolved.location.equals(old_resolved.public_location)
    assert not new_resolved.location.equals(new_resolved.public_location)
    assert not old_open.location.equals(old_open.public_location)  # still being worked on
    assert (old_resolved.ip_hash, new_resolved.ip_hash, old_open.ip_hash) == ("", "b" * 64, "")
    assert retention_purge(now=now).locations_purged == 0  # idempotent


def test_purge_retention_command_reports_its_counts(db, capsys):
    call_command("purge_retention")
    assert "exact locations purged" in capsys.readouterr().out


def test_create_api_key_prints_a_key_that_works_once_shown(db, capsys):
    from carto.models import ApiKey

    call_command("create_api_key", "Association Belleville")
    raw = capsys.readouterr().out.strip()
    key = ApiKey.objects.matching(raw)
    assert key is not None and key.name == "Association Belleville"
    assert raw not in key.key_hash


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/account/export/", "/api/account/delete/"])
def test_anonymous_or_bad_token_account_requests_are_401_with_a_challenge(client, path):
    anonymous = client.post(path) if path.endswith("delete/") else client.get(path)
    assert anonymous.status_code == 401 and "error" in anonymous.json()
    assert anonymous["WWW-Authenticate"].startswith("Token")
    bad = client.get(path, HTTP_AUTHORIZATION="Token not-a-real-token")
    assert bad.status_code == 401


def test_deleting_an_account_that_supported_a_pin_bumps_the_map_version(
    resident, aidant, django_capture_on_commit_callbacks
):
    from carto.stats.map_version import map_version

    with django_capture_on_commit_callbacks(
        execute=True
    ):  # bumped: a fresh sequence's first nextval shows none
        other = make_pin(*BONDY, author=aidant)
        pin_support(pin_id=other.pk, user=resident)
    before = map_version()
    with django_capture_on_commit_callbacks(execute=True):
        account_delete(resident, pins="anonymise")  # no pin of theirs: only their support leaves
    other.refresh_from_db()
    assert other.support_count == 0
    assert map_version() > before  # cached tiles and statistics do not keep the old support count
