"""Exporting the filtered profile list as CSV and JSON, safe to open in a spreadsheet."""

import csv
import io

import pytest

from webapp.services.catalogue.export import safe_cell
from webapp.services.ingestion.onboarding import submit_payload

from ..factories import make_payload, video


@pytest.fixture
def population(app):
    with app.app_context():
        for user_id, username, followers, cats in [
            ("1", '=HYPERLINK("http://evil")', 30, ["Music"]),
            ("2", "+plus", 20, ["Music"]),
            ("3", "-minus", 10, ["Gaming"]),
            ("4", "@at", 40, ["Music"]),
            ("5", "plain", 50, ["Music"]),
        ]:
            payload = make_payload(
                user_id=user_id,
                username=username,
                followers_count=followers,
                liked_videos=[video(f"v{user_id}", categories=cats)],
                shared_videos=[],
            )
            assert submit_payload("tiktok", payload).accepted


def _csv(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_csv_export_has_every_match_in_order_with_formulas_escaped(client, population):
    response = client.get(
        "/api/v1/profiles/export?format=csv&interest=Music:0.5&sort=followers&order=desc"
    )
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert 'filename="toker-profiles.csv"' in response.headers["Content-Disposition"]
    rows = _csv(response)
    assert [r["username"] for r in rows] == [
        "plain",
        "'@at",
        '\'=HYPERLINK("http://evil")',
        "'+plus",
    ]
    assert [int(r["followers_count"]) for r in rows] == [50, 40, 30, 20]
    assert rows[0]["dominant_interest"] == "Music"


def test_json_export_is_the_same_list(client, population):
    response = client.get("/api/v1/profiles/export?format=json&sort=followers&order=asc")
    assert response.mimetype == "application/json"
    items = response.get_json()
    assert [i["username"] for i in items] == [
        "-minus",
        "+plus",
        '=HYPERLINK("http://evil")',
        "@at",
        "plain",
    ]
    # JSON is data, not a spreadsheet: values stay as they are.
    assert items[0]["followers_count"] == 10


def test_export_covers_every_page_not_just_one(client, app):
    with app.app_context():
        for i in range(130):
            payload = make_payload(user_id=f"u{i}", username=f"user{i}", shared_videos=[])
            assert submit_payload("x", payload).accepted
    assert len(_csv(client.get("/api/v1/profiles/export?format=csv"))) == 130
    assert len(client.get("/api/v1/profiles/export?format=json&q=user1").get_json()) == 41


@pytest.mark.parametrize(
    "query, loc",
    [("format=xml", "format"), ("platform=myspace", "platform"), ("interest=Nope", "interest")],
)
def test_bad_export_parameters_are_400_problems(client, query, loc):
    response = client.get(f"/api/v1/profiles/export?{query}")
    assert response.status_code == 400
    assert response.get_json()["errors"][0]["loc"] == loc


@pytest.mark.parametrize(
    "value, expected",
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("safe", "safe"),
        (12, 12),
        (None, None),
    ],
)
def test_safe_cell(value, expected):
    assert safe_cell(value) == expected


def test_profiles_page_links_the_export_with_its_filters(client, population):
    html = client.get("/profiles?platform=tiktok&interest=Music:0.5&q=a").get_data(as_text=True)
    assert "/api/v1/profiles/export?format=csv" in html
    assert "platform=tiktok" in html and "interest=Music:0.5" in html
