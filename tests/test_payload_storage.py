"""Raw payloads are stored compressed and read back exactly as received."""

import html
import json
import re

import orjson
import pytest
from sqlalchemy import text

from webapp.extensions import db
from webapp.models import Profile
from webapp.services.connectors import get_connector
from webapp.services.payloads import ORJSON_ZLIB, STDLIB_JSON_ZLIB, pack, unpack

from .factories import make_payload, video


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
        (received_payload(), ORJSON_ZLIB),
        ({"z": [-(2**63), 2**63 - 1, 2**64 - 1, 0.5, None, True], "a": {"ü": "\x00"}}, ORJSON_ZLIB),
        ({"b": 10**30, "a": [-(10**40)]}, STDLIB_JSON_ZLIB),  # past 64 bits
        ({}, ORJSON_ZLIB),
    ],
)
def test_a_payload_round_trips_exactly(payload, fmt):
    blob = pack(payload)
    assert blob[0] == fmt
    assert exactly(unpack(blob)) == exactly(payload)


def test_the_stored_bytes_are_much_smaller_than_the_json():
    payload = get_connector("tiktok").generate("42")
    assert len(pack(payload)) < len(orjson.dumps(payload)) / 2


def test_an_unknown_format_is_refused():
    with pytest.raises(ValueError, match="unknown payload format 9"):
        unpack(bytes((9,)) + pack({})[1:])


def test_storage_writes_compressed_bytes_that_read_back_as_received(app, client, runner):
    payload = received_payload()
    response = client.post(
        "/api/v1/profiles",
        data=orjson.dumps({"platform": "tiktok", "payload": payload}),  # keeps the key order
        content_type="application/json",
    )
    assert response.status_code == 201, response.get_json()
    profile_id = response.get_json()["profile"]["id"]
    with app.app_context():
        stored = db.session.scalar(
            text("SELECT raw_payload FROM profiles WHERE id = :id"), {"id": profile_id}
        )
        assert isinstance(stored, bytes) and stored[0] == ORJSON_ZLIB
        assert len(stored) < len(orjson.dumps(payload))
        assert exactly(unpack(stored)) == exactly(payload)
        assert exactly(db.session.get(Profile, profile_id).raw_payload) == exactly(payload)

    shown = json.dumps(payload, indent=2, ensure_ascii=False)
    page = client.get(f"/profiles/{profile_id}").get_data(as_text=True)
    (raw_json,) = re.findall(r'<pre class="payload" id="raw-payload">(.*?)</pre>', page, re.S)
    assert html.unescape(raw_json) == shown
    result = runner.invoke(args=["listfull"])
    assert result.exit_code == 0, result.output
    assert shown in result.stdout
    api = client.get(f"/api/v1/profiles/{profile_id}").get_json()
    assert api["username"] == payload["username"]
    assert [v["video_id"] for v in api["liked_videos"]] == [str(2**64 - 1), "v2"]
