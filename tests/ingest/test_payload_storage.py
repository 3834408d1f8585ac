"""Raw payloads are stored compressed, apart from profiles, and read back exactly as received."""

import json
import threading
import time
from datetime import date

import orjson
import pytest
import zstandard
from sqlalchemy import inspect, select, text

from webapp.extensions import db
from webapp.models import PayloadDictionary, ProfilePayload
from webapp.services import ProfileNotFound
from webapp.services.catalogue import profiles, raw_payloads
from webapp.services.ingestion.connectors import get_connector
from webapp.services.ingestion.payloads import (
    CURRENT_DICTIONARY,
    ORJSON_ZLIB,
    ORJSON_ZSTD_DICTIONARY,
    SHIPPED_DICTIONARIES,
    STDLIB_JSON_ZLIB,
    Dictionaries,
    PayloadError,
    dictionary_of,
    pack,
    pack_zlib,
    shipped_dictionary,
    unpack,
)

from ..factories import make_payload, video
from ..helpers import html_page, one


def exactly(value) -> str:
    """A value's JSON with keys in their order: equal only if order and values are."""
    return json.dumps(value, ensure_ascii=False)


def received_payload() -> dict:
    """A valid payload with its keys in an unusual order, unicode and 64-bit numbers."""
    payload = make_payload(
        username="zoë_🎵",
        user_pseudo="Zoë \u2028 ملاحظة",
        liked_videos=[
            {"shares": 1, "likes": 2, "video_id": 2**64 - 1, "comments": 0},
            video("v2", categories=["Musique"], hashtags=["#Fête", "#日本"]),
        ],
    )
    return dict(reversed(payload.items()))


@pytest.mark.parametrize(
    "payload, fmt",
    [
        (received_payload(), ORJSON_ZSTD_DICTIONARY),
        (
            {"z": [-(2**63), 2**63 - 1, 2**64 - 1, 0.5, None, True], "a": {"ü": "\x00"}},
            ORJSON_ZSTD_DICTIONARY,
        ),
        ({"b": 10**30, "a": [-(10**40)]}, STDLIB_JSON_ZLIB),  # past 64 bits
        ({}, ORJSON_ZSTD_DICTIONARY),
    ],
)
def test_a_payload_round_trips_exactly(payload, fmt):
    blob = pack(payload)
    assert blob[0] == fmt
    assert exactly(unpack(blob)) == exactly(payload)


def test_new_payloads_name_the_current_dictionary_in_their_header():
    blob = pack(received_payload())
    assert blob[:3] == bytes((ORJSON_ZSTD_DICTIONARY,)) + CURRENT_DICTIONARY.to_bytes(2, "big")
    assert dictionary_of(blob) == CURRENT_DICTIONARY
    assert dictionary_of(pack_zlib({})) is None


@pytest.mark.parametrize("payload", [received_payload(), {"b": 10**30}])
def test_older_formats_still_unpack(payload):
    blob = pack_zlib(payload)
    assert blob[0] in (ORJSON_ZLIB, STDLIB_JSON_ZLIB)
    assert exactly(unpack(blob)) == exactly(payload)


def test_the_dictionary_shrinks_a_platform_payload_to_a_sixth_of_its_json():
    # An account as the dictionary's training accounts were: its likes all of the catalogue's
    # first 20,000 videos, which the dictionary learnt (later weeks' videos compress less).
    payload = get_connector("tiktok").generate("42", date(2026, 6, 1))
    assert len(pack(payload)) < len(orjson.dumps(payload)) / 6
    assert len(pack(payload)) < len(pack_zlib(payload)) * 0.7


def test_an_unknown_format_or_dictionary_is_refused():
    with pytest.raises(PayloadError, match="unknown payload format 9"):
        unpack(bytes((9,)) + pack({})[1:])
    with pytest.raises(PayloadError, match="unknown compression dictionary 999"):
        unpack(bytes((ORJSON_ZSTD_DICTIONARY,)) + (999).to_bytes(2, "big") + pack({})[3:])


def _store(client, payload) -> int:
    response = client.post(
        "/api/v1/profiles",
        data=orjson.dumps({"platform": "tiktok", "payload": payload}),  # keeps the key order
        content_type="application/json",
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()["profile"]["id"]


def _shown(client, runner, profile_id) -> tuple[str, str]:
    """The raw payload as the profile page shows it, and toker listfull's output."""
    raw_json = one(html_page(client.get(f"/profiles/{profile_id}")), "pre.payload#raw-payload")
    result = runner.invoke(args=["listfull"])
    assert result.exit_code == 0, result.output
    return raw_json.get_text(), result.stdout


def _set_blob(app, profile_id, blob) -> None:
    with app.app_context():
        db.session.execute(
            text("UPDATE profile_payloads SET payload = :blob WHERE profile_id = :id"),
            {"blob": blob, "id": profile_id},
        )
        db.session.commit()


def test_storage_writes_compressed_bytes_apart_that_read_back_as_received(app, client, runner):
    payload = received_payload()
    profile_id = _store(client, payload)
    with app.app_context():
        assert "raw_payload" not in {c["name"] for c in inspect(db.engine).get_columns("profiles")}
        stored = db.session.scalar(
            text("SELECT payload FROM profile_payloads WHERE profile_id = :id"), {"id": profile_id}
        )
        assert isinstance(stored, bytes) and stored[0] == ORJSON_ZSTD_DICTIONARY
        assert len(stored) < len(orjson.dumps(payload))
        assert exactly(unpack(stored)) == exactly(payload)
        assert exactly(raw_payloads.payload_of(profile_id)) == exactly(payload)

    shown = json.dumps(payload, indent=2, ensure_ascii=False)
    page, listfull = _shown(client, runner, profile_id)
    assert page == shown
    assert shown in listfull
    api = client.get(f"/api/v1/profiles/{profile_id}").get_json()
    assert api["username"] == payload["username"]
    assert [v["video_id"] for v in api["liked_videos"]] == [str(2**64 - 1), "v2"]


def test_a_resync_replaces_the_payload_and_a_delete_removes_it(app, client):
    payload = received_payload()
    profile_id = _store(client, payload)
    changed = dict(payload, username="renamed")
    response = client.post(
        "/api/v1/profiles",
        data=orjson.dumps({"platform": "tiktok", "payload": changed}),
        content_type="application/json",
    )
    assert response.status_code == 200
    with app.app_context():
        assert exactly(raw_payloads.payload_of(profile_id)) == exactly(changed)
        assert db.session.scalar(select(text("count(*)")).select_from(ProfilePayload)) == 1
        assert profiles.delete_profile(profile_id)
        assert db.session.scalar(select(text("count(*)")).select_from(ProfilePayload)) == 0


def test_a_row_in_an_older_format_is_still_shown_exactly(app, client, runner):
    payload = received_payload()
    profile_id = _store(client, payload)
    _set_blob(app, profile_id, pack_zlib(payload))  # as migration 0007 wrote it
    page, listfull = _shown(client, runner, profile_id)
    shown = json.dumps(payload, indent=2, ensure_ascii=False)
    assert page == shown
    assert shown in listfull


def test_the_database_holds_the_dictionaries_its_rows_name(app):
    with app.app_context():
        rows = db.session.execute(
            select(PayloadDictionary.id, PayloadDictionary.data).order_by(PayloadDictionary.id)
        ).all()
    assert [(pk, data) for pk, data in rows] == [
        (pk, shipped_dictionary(pk)) for pk in sorted(SHIPPED_DICTIONARIES)
    ]
    assert CURRENT_DICTIONARY in SHIPPED_DICTIONARIES


def test_a_row_packed_with_an_earlier_dictionary_is_still_shown_exactly(app, client, runner):
    """New payloads use the current dictionary; rows written with an earlier one keep it."""
    payload = received_payload()
    profile_id = _store(client, payload)
    earlier = min(SHIPPED_DICTIONARIES)
    assert earlier != CURRENT_DICTIONARY
    blob = pack(payload, earlier)
    assert dictionary_of(blob) == earlier and dictionary_of(pack(payload)) == CURRENT_DICTIONARY
    _set_blob(app, profile_id, blob)
    page, listfull = _shown(client, runner, profile_id)
    shown = json.dumps(payload, indent=2, ensure_ascii=False)
    assert page == shown
    assert shown in listfull


def test_a_dictionary_the_code_does_not_ship_is_read_from_the_database(app, client, runner):
    payload = received_payload()
    profile_id = _store(client, payload)
    samples = [orjson.dumps(get_connector("x").generate(str(n))) for n in range(200)]
    trained = zstandard.train_dictionary(16_384, samples)
    frame = zstandard.ZstdCompressor(dict_data=trained).compress(orjson.dumps(payload))
    with app.app_context():
        db.session.add(PayloadDictionary(id=4242, name="tests", data=trained.as_bytes()))
        db.session.commit()
    blob = bytes((ORJSON_ZSTD_DICTIONARY,)) + (4242).to_bytes(2, "big") + frame
    _set_blob(app, profile_id, blob)
    with pytest.raises(PayloadError):
        unpack(blob)  # the code alone does not know it
    page, _listfull = _shown(client, runner, profile_id)
    assert page == json.dumps(payload, indent=2, ensure_ascii=False)


def test_a_dictionary_is_read_once_by_one_thread_while_the_others_wait():
    """A worker's first profile pages arrive together: one thread reads the dictionary (4 MiB)
    from the database, the others wait for it rather than read it too."""
    reads = []

    def load(dictionary_id):
        reads.append(dictionary_id)
        time.sleep(0.05)  # the other threads ask meanwhile
        return shipped_dictionary(CURRENT_DICTIONARY)

    known = Dictionaries()
    found = []
    threads = [
        threading.Thread(target=lambda: found.append(known.get(CURRENT_DICTIONARY, load)))
        for _ in range(6)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert reads == [CURRENT_DICTIONARY]
    assert len(found) == 6 and all(d is found[0] for d in found)
    assert unpack(pack(received_payload()), lambda _id: found[0]) == received_payload()
    assert known.get(4343, lambda _id: None) is None  # an id the database does not hold


def test_an_unknown_dictionary_names_the_profile(app, client, runner):
    profile_id = _store(client, received_payload())
    blob = pack(received_payload())
    _set_blob(app, profile_id, blob[:1] + (4343).to_bytes(2, "big") + blob[3:])
    with app.app_context(), pytest.raises(PayloadError) as raised:
        raw_payloads.payload_of(profile_id)
    assert str(raised.value) == (
        f"the raw payload of profile {profile_id}: unknown compression dictionary 4343"
    )
    result = runner.invoke(args=["listfull"])
    assert result.exit_code != 0
    assert f"profile {profile_id}" in str(result.exception)


def test_a_payload_missing_because_its_profile_was_deleted_is_a_profile_not_found(app, client):
    payload = received_payload()
    profile_id = _store(client, payload)
    with app.app_context():
        db.session.execute(
            text("DELETE FROM profile_payloads WHERE profile_id = :id"), {"id": profile_id}
        )
        with pytest.raises(PayloadError, match=f"profile {profile_id} has no stored raw payload"):
            raw_payloads.payload_of(profile_id)  # the profile is there: the store is broken
        db.session.rollback()
        assert profiles.delete_profile(profile_id)
        with pytest.raises(ProfileNotFound):
            raw_payloads.payload_of(profile_id)


def test_a_delete_between_a_profile_and_its_payload_being_read_is_no_server_error(
    app, client, monkeypatch
):
    """Another request deletes the profile after this one read its row and before it read
    its payload (PostgreSQL's statements each see the latest commit): a profile's page and
    API answer 404. A write's answer never reads the payload back: it shows what it stored."""
    profile_id = _store(client, received_payload())

    def deleted_meanwhile(pk, session=None):
        raise ProfileNotFound(pk)

    monkeypatch.setattr(raw_payloads, "payload_of", deleted_meanwhile)
    response = client.post(
        "/api/v1/profiles",
        data=orjson.dumps({"platform": "tiktok", "payload": received_payload()}),
        content_type="application/json",
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["profile"]["id"] == profile_id
    assert client.get(f"/api/v1/profiles/{profile_id}").status_code == 404
    assert client.get(f"/profiles/{profile_id}").status_code == 404


def test_a_writes_answer_shows_the_profile_as_a_later_read_does(client):
    """A connect or a stored payload answers with the profile as it stored it, without
    reading it back: the same body as the profile's GET right after, for a
    new profile and a re-sync (unknown fields, Unicode and the payload's key order included)."""
    for expected in (201, 200):
        response = client.post(
            "/api/v1/profiles",
            data=orjson.dumps({"platform": "tiktok", "payload": received_payload()}),
            content_type="application/json",
        )
        assert response.status_code == expected, response.get_json()
        answered = response.get_json()["profile"]
        read = client.get(response.headers["Location"])
        assert read.status_code == 200
        _same_answer(answered, read.get_json())
        assert answered["sync_count"] == 202 - expected  # 201: the first sync, 200: the second
    for expected in (201, 200):
        response = client.post("/api/v1/connect", json={"platform": "x", "user_id": "answer42"})
        assert response.status_code == expected, response.get_json()
        read = client.get(response.headers["Location"])
        _same_answer(response.get_json()["profile"], read.get_json())


def _same_answer(answered: dict, read: dict) -> None:
    """Equal answers: the same fields and values, the payload's videos byte for byte (their
    key order as received; PostgreSQL's JSONB orders the keys of the top lists its own way)."""
    assert answered == read
    assert list(answered) == list(read)
    for field in ("liked_videos", "shared_videos"):
        assert exactly(answered[field]) == exactly(read[field])
