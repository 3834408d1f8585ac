"""Shortlists through the JSON API: making, renaming and deleting lists, adding profiles in
bulk (all or none), each member's note, tags and status, filters, what changed since a member
was added, roles, located validation errors, 404s and the audit log."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, select

from webapp.extensions import db
from webapp.models import AuditEvent, ListMember, ProfileSnapshot, Shortlist
from webapp.services.accounts import users
from webapp.services.catalogue import profiles
from webapp.services.ingestion import onboarding

from ..factories import add_snapshot, make_payload, make_token, make_user
from ..helpers import assert_problem, store_profile

LISTS = "/api/v1/lists"


def make_list(client, name="Gaming brief", description="") -> dict:
    response = client.post(LISTS, json={"name": name, "description": description})
    assert response.status_code == 201, response.text
    return response.get_json()


def members_of(app, list_id: int) -> list[tuple]:
    """(profile id, note, tags, status) of each member, read in the database."""
    with app.app_context():
        rows = db.session.scalars(
            select(ListMember).where(ListMember.list_id == list_id).order_by(ListMember.profile_id)
        )
        return [(m.profile_id, m.note, list(m.tags), m.status) for m in rows]


def audit_trail(app) -> list[tuple[str, str, str, str]]:
    """(action, actor, target, via) of every list event, oldest first."""
    with app.app_context():
        rows = db.session.execute(
            select(AuditEvent.action, AuditEvent.actor, AuditEvent.target, AuditEvent.via)
            .where(AuditEvent.action.like("list-%"))
            .order_by(AuditEvent.id)
        )
        return [tuple(row) for row in rows]


@pytest.fixture
def two_profiles(app) -> tuple[int, int]:
    return (
        store_profile(app, user_id="first", username="first_user"),
        store_profile(app, user_id="second", username="second_user"),
    )


# --- lists -------------------------------------------------------------------------------------


def test_an_analyst_makes_renames_describes_and_deletes_a_list(app, client_as):
    analyst = client_as("analyst", "ana")

    response = analyst.post(LISTS, json={"name": "  Gaming   brief ", "description": " Q1 "})

    assert response.status_code == 201
    made = response.get_json()
    assert response.headers["Location"].endswith(f"{LISTS}/{made['id']}")
    assert made["name"] == "Gaming brief" and made["description"] == "Q1"
    assert made["member_count"] == 0
    assert made["created_by"]["name"] == "ana" and made["created_by"]["id"] >= 1
    read = analyst.get(f"{LISTS}/{made['id']}").get_json()
    assert read == {**made, "members": [], "page": 1, "per_page": 50, "total": 0}

    renamed = analyst.patch(f"{LISTS}/{made['id']}", json={"name": "TikTok gaming"})
    assert renamed.status_code == 200
    assert renamed.get_json()["name"] == "TikTok gaming"
    assert renamed.get_json()["description"] == "Q1", "a field left out stays"
    described = analyst.patch(f"{LISTS}/{made['id']}", json={"description": "10k-500k"})
    assert described.get_json()["name"] == "TikTok gaming"
    assert described.get_json()["description"] == "10k-500k"

    assert analyst.delete(f"{LISTS}/{made['id']}").status_code == 204
    assert analyst.get(f"{LISTS}/{made['id']}").status_code == 404
    assert analyst.get(LISTS).get_json()["total"] == 0
    assert audit_trail(app) == [
        ("list-created", "ana", f"list {made['id']}", "api"),
        ("list-updated", "ana", f"list {made['id']}", "api"),
        ("list-updated", "ana", f"list {made['id']}", "api"),
        ("list-deleted", "ana", f"list {made['id']}", "api"),
    ]


def test_the_lists_come_by_name_with_their_member_counts(client, two_profiles):
    zoo = make_list(client, "Zoo")
    make_list(client, "Alpha")
    client.post(f"{LISTS}/{zoo['id']}/members", json={"profile_ids": list(two_profiles)})

    found = client.get(LISTS).get_json()

    assert [(item["name"], item["member_count"]) for item in found["items"]] == [
        ("Alpha", 0),
        ("Zoo", 2),
    ]
    assert found["total"] == 2 and found["page"] == 1
    second = client.get(f"{LISTS}?per_page=1&page=2").get_json()
    assert [item["name"] for item in second["items"]] == ["Zoo"]


def test_a_name_is_unique(client):
    first = make_list(client, "Brief")
    other = make_list(client, "Other")

    again = client.post(LISTS, json={"name": " Brief "})
    renamed = client.patch(f"{LISTS}/{other['id']}", json={"name": "Brief"})

    assert_problem(again, 409, "name")
    assert_problem(renamed, 409, "name")
    assert client.get(f"{LISTS}/{other['id']}").get_json()["name"] == "Other"
    # Renaming a list to its own name changes nothing and is no conflict.
    assert client.patch(f"{LISTS}/{first['id']}", json={"name": "Brief"}).status_code == 200


def test_the_creator_s_name_outlives_the_user(app, client, client_as):
    made = make_list(client_as("analyst", "leaver"))
    with app.app_context():
        users.delete_user(users.get_user("leaver"))

    found = client.get(f"{LISTS}/{made['id']}").get_json()

    assert found["created_by"] == {"id": None, "name": "leaver"}


# --- roles -------------------------------------------------------------------------------------


def test_a_viewer_reads_lists_and_may_change_none(app, client, client_as, two_profiles):
    made = make_list(client)
    first, second = two_profiles
    client.post(f"{LISTS}/{made['id']}/members", json={"profile_ids": [first]})
    viewer = client_as("viewer")
    before = (members_of(app, made["id"]), audit_trail(app))

    assert viewer.get(LISTS).status_code == 200
    assert viewer.get(f"{LISTS}/{made['id']}").get_json()["member_count"] == 1
    refused = [
        viewer.post(LISTS, json={"name": "Mine"}),
        viewer.patch(f"{LISTS}/{made['id']}", json={"name": "Mine"}),
        viewer.delete(f"{LISTS}/{made['id']}"),
        viewer.post(f"{LISTS}/{made['id']}/members", json={"profile_ids": [second]}),
        viewer.patch(f"{LISTS}/{made['id']}/members/{first}", json={"status": "agreed"}),
        viewer.delete(f"{LISTS}/{made['id']}/members/{first}"),
    ]

    for response in refused:
        assert_problem(response, 403)
    assert (members_of(app, made["id"]), audit_trail(app)) == before
    assert client.get(f"{LISTS}/{made['id']}").get_json()["name"] == "Gaming brief"


# --- validation and 404s -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "body, loc",
    [
        ({}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": 5}, "name"),
        ({"name": None}, "name"),
        ({"name": "ok", "description": ["no"]}, "description"),
        ({"name": "ok", "description": "d" * 2001}, "description"),
        # PostgreSQL cannot store a NUL character in text: refused where it is, on both.
        ({"name": "a\x00b"}, "name"),
        ({"name": "ok", "description": "\x00"}, "description"),
    ],
)
def test_a_bad_list_is_refused_where_it_is_wrong(app, client, body, loc):
    assert_problem(client.post(LISTS, json=body), 422, loc)
    with app.app_context():
        assert db.session.scalars(select(Shortlist)).all() == []


@pytest.mark.parametrize(
    "body, loc",
    [
        ({"status": "maybe"}, "status"),
        ({"status": None}, "status"),
        ({"tags": "vip"}, "tags"),
        ({"tags": ["ok", "a,b"]}, "tags[1]"),
        ({"tags": ["ok", "  "]}, "tags[1]"),
        ({"tags": ["x" * 33]}, "tags[0]"),
        ({"tags": [7]}, "tags[0]"),
        ({"tags": [f"t{i}" for i in range(21)]}, "tags"),
        ({"note": 1}, "note"),
        ({"note": "n" * 2001}, "note"),
        ({"note": "a\x00"}, "note"),
        ({"tags": ["ok", "\x00"]}, "tags[1]"),
    ],
)
def test_a_bad_member_change_is_refused_where_it_is_wrong(app, client, two_profiles, body, loc):
    made = make_list(client)
    first = two_profiles[0]
    client.post(f"{LISTS}/{made['id']}/members", json={"profile_ids": [first]})

    response = client.patch(f"{LISTS}/{made['id']}/members/{first}", json=body)

    assert_problem(response, 422, loc)
    assert members_of(app, made["id"]) == [(first, "", [], "candidate")]


@pytest.mark.parametrize(
    "body, loc",
    [
        ({}, "profile_ids"),
        ({"profile_ids": []}, "profile_ids"),
        ({"profile_ids": "1"}, "profile_ids"),
        ({"profile_ids": [1, "2"]}, "profile_ids[1]"),
        ({"profile_ids": [1, True]}, "profile_ids[1]"),
        ({"profile_ids": [0]}, "profile_ids[0]"),
    ],
)
def test_a_bad_list_of_profiles_is_refused_where_it_is_wrong(app, client, two_profiles, body, loc):
    made = make_list(client)

    assert_problem(client.post(f"{LISTS}/{made['id']}/members", json=body), 422, loc)
    assert members_of(app, made["id"]) == []


@pytest.mark.parametrize(
    "query, loc",
    [
        ("status=maybe", "status"),
        ("tag=a,b", "tag"),
        (f"tag={'x' * 33}", "tag"),
        ("tag=a%00b", "tag"),
    ],
)
def test_a_bad_filter_is_refused_by_name(client, query, loc):
    made = make_list(client)
    assert_problem(client.get(f"{LISTS}/{made['id']}?{query}"), 400, loc)


def test_unknown_lists_and_members_are_404s(client, two_profiles):
    made = make_list(client)
    first, second = two_profiles
    client.post(f"{LISTS}/{made['id']}/members", json={"profile_ids": [first]})
    missing = made["id"] + 1
    answers = [
        client.get(f"{LISTS}/{missing}"),
        client.get(f"{LISTS}/{2**31}"),
        client.patch(f"{LISTS}/{missing}", json={"name": "x"}),
        client.delete(f"{LISTS}/{missing}"),
        client.post(f"{LISTS}/{missing}/members", json={"profile_ids": [first]}),
        client.patch(f"{LISTS}/{missing}/members/{first}", json={"note": "x"}),
        client.delete(f"{LISTS}/{missing}/members/{first}"),
        # The profile is stored, but not on this list.
        client.patch(f"{LISTS}/{made['id']}/members/{second}", json={"note": "x"}),
        client.delete(f"{LISTS}/{made['id']}/members/{second}"),
        client.delete(f"{LISTS}/{made['id']}/members/{10**30}"),
    ]

    for response in answers:
        assert_problem(response, 404)
    assert client.get(f"{LISTS}/{made['id']}").get_json()["member_count"] == 1


# --- members -----------------------------------------------------------------------------------


def test_a_bulk_add_with_an_unknown_id_adds_nothing_and_names_each_unknown_id(
    app, client, two_profiles
):
    made = make_list(client)
    first, second = two_profiles

    response = client.post(
        f"{LISTS}/{made['id']}/members", json={"profile_ids": [first, 999, second, 2**31 - 1]}
    )

    body = assert_problem(response, 422, "profile_ids[1]", "profile_ids[3]")
    assert [error["loc"] for error in body["errors"]] == ["profile_ids[1]", "profile_ids[3]"]
    assert "999" in body["detail"]
    assert members_of(app, made["id"]) == []
    assert [event[0] for event in audit_trail(app)] == ["list-created"]


def test_a_bulk_add_keeps_members_already_there_as_they_are(app, client, two_profiles):
    made = make_list(client)
    first, second = two_profiles
    url = f"{LISTS}/{made['id']}/members"
    client.post(url, json={"profile_ids": [first]})
    client.patch(f"{url}/{first}", json={"note": "keen", "status": "contacted"})

    response = client.post(url, json={"profile_ids": [second, first, second]})

    assert response.status_code == 200
    assert response.get_json() == {"added": [second], "already": [first], "member_count": 2}
    assert members_of(app, made["id"]) == [
        (first, "keen", [], "contacted"),
        (second, "", [], "candidate"),
    ]


def test_a_member_s_note_tags_and_status_change_and_filter_the_list(app, client_as, two_profiles):
    analyst = client_as("analyst", "ana")
    made = make_list(analyst)
    first, second = two_profiles
    url = f"{LISTS}/{made['id']}/members"
    analyst.post(url, json={"profile_ids": [first, second]})

    response = analyst.patch(
        f"{url}/{first}",
        json={"note": " Replied on Monday ", "tags": ["VIP", " gaming  league", "vip"]},
    )
    analyst.patch(f"{url}/{first}", json={"status": "in talks"})
    analyst.patch(f"{url}/{second}", json={"tags": ["gaming league"]})

    assert response.status_code == 200
    member = response.get_json()
    assert member["profile_id"] == first and member["username"] == "first_user"
    assert (member["note"], member["tags"], member["status"]) == (
        "Replied on Monday",
        ["vip", "gaming league"],
        "candidate",
    )
    assert members_of(app, made["id"]) == [
        (first, "Replied on Monday", ["vip", "gaming league"], "in talks"),
        (second, "", ["gaming league"], "candidate"),
    ]

    def shown(query: str) -> list[int]:
        found = analyst.get(f"{LISTS}/{made['id']}?{query}").get_json()
        assert found["member_count"] == 2, "the count is the whole list's"
        return [m["profile_id"] for m in found["members"]]

    assert shown("") == [first, second]
    assert shown("status=in+talks") == [first]
    assert shown("status=candidate") == [second]
    assert shown("status=agreed") == []
    assert shown("tag=Gaming+League") == [first, second]
    assert shown("tag=vip") == [first]
    assert shown("tag=vip&status=candidate") == []
    assert [event[0] for event in audit_trail(app)] == [
        "list-created",
        "list-members-added",
        "list-member-updated",
        "list-member-updated",
        "list-member-updated",
    ]


def test_a_change_that_changes_nothing_is_not_audited(app, client, two_profiles):
    made = make_list(client)
    first = two_profiles[0]
    client.post(f"{LISTS}/{made['id']}/members", json={"profile_ids": [first]})
    client.patch(f"{LISTS}/{made['id']}/members/{first}", json={"status": "agreed"})

    again = client.patch(f"{LISTS}/{made['id']}/members/{first}", json={"status": "agreed"})

    assert again.status_code == 200
    assert [event[0] for event in audit_trail(app)].count("list-member-updated") == 1


def test_a_removed_member_leaves_the_list_and_the_profile_stays(app, client, two_profiles):
    made = make_list(client)
    first, second = two_profiles
    client.post(f"{LISTS}/{made['id']}/members", json={"profile_ids": [first, second]})

    assert client.delete(f"{LISTS}/{made['id']}/members/{first}").status_code == 204

    assert members_of(app, made["id"]) == [(second, "", [], "candidate")]
    assert client.get(f"/api/v1/profiles/{first}").status_code == 200
    assert audit_trail(app)[-1] == ("list-member-removed", "admin", f"list {made['id']}", "api")


def test_a_deleted_profile_leaves_every_list_and_a_deleted_list_its_members(
    app, client, two_profiles
):
    one, other = make_list(client, "One"), make_list(client, "Other")
    first, second = two_profiles
    for made in (one, other):
        client.post(f"{LISTS}/{made['id']}/members", json={"profile_ids": [first, second]})

    assert client.delete(f"/api/v1/profiles/{first}").status_code == 204
    assert client.delete(f"{LISTS}/{other['id']}").status_code == 204

    assert members_of(app, one["id"]) == [(second, "", [], "candidate")]
    assert members_of(app, other["id"]) == []
    with app.app_context():
        assert profiles.get_profile(second) is not None


# --- what changed since a member was added -----------------------------------------------------


def test_changes_since_added_compare_the_latest_snapshot_with_the_one_at_adding(
    app, client, two_profiles
):
    """Added when its latest snapshot had 1,000 followers, 2 % engagement and only Music; now
    1,500 followers, 1 %, Music 0.6 and Gaming 0.8: +500 (+50 %), -0.01 (-50 %), and the
    interest vectors' cosine 0.6, a drift of 0.4. A snapshot inserted later but taken earlier
    is not the latest."""
    made = make_list(client)
    pk = two_profiles[0]
    at_adding = add_snapshot(app, pk, datetime(2027, 1, 1, tzinfo=UTC), 1000, 0.02, Music=1.0)
    client.post(f"{LISTS}/{made['id']}/members", json={"profile_ids": [pk]})
    add_snapshot(app, pk, datetime(2027, 2, 1, tzinfo=UTC), 1500, 0.01, Music=0.6, Gaming=0.8)
    add_snapshot(app, pk, datetime(2026, 6, 1, tzinfo=UTC), 1, 0.5, Dance=1.0)

    member = client.get(f"{LISTS}/{made['id']}").get_json()["members"][0]
    changes = member["changes"]

    with app.app_context():
        stored = db.session.get(ListMember, (made["id"], pk))
        assert stored.snapshot_id == at_adding
    assert changes["since"].startswith("2027-01-01")
    assert changes["latest"].startswith("2027-02-01")
    assert changes["followers_count"] == {"from": 1000, "to": 1500, "change": 500, "relative": 0.5}
    rate = changes["engagement_rate"]
    assert (rate["from"], rate["to"]) == (0.02, 0.01)
    assert rate["change"] == pytest.approx(-0.01)
    assert rate["relative"] == pytest.approx(-0.5)
    assert changes["interest_drift"] == pytest.approx(0.4)


def test_a_member_added_at_its_latest_snapshot_has_not_changed(app, client, two_profiles):
    made = make_list(client)
    pk = two_profiles[0]
    add_snapshot(app, pk, datetime(2027, 1, 1, tzinfo=UTC), 0, 0.0, Music=0.5, Gaming=0.5)
    client.post(f"{LISTS}/{made['id']}/members", json={"profile_ids": [pk]})

    changes = client.get(f"{LISTS}/{made['id']}").get_json()["members"][0]["changes"]

    assert changes["followers_count"] == {"from": 0, "to": 0, "change": 0, "relative": None}
    assert changes["interest_drift"] == 0


def test_without_the_snapshot_it_was_added_with_a_member_shows_no_changes(
    app, client, two_profiles
):
    made = make_list(client)
    pk = two_profiles[0]
    client.post(f"{LISTS}/{made['id']}/members", json={"profile_ids": [pk]})
    assert client.get(f"{LISTS}/{made['id']}").get_json()["members"][0]["changes"] is not None
    with app.app_context():
        db.session.execute(delete(ProfileSnapshot).where(ProfileSnapshot.profile_id == pk))
        db.session.commit()
        assert db.session.get(ListMember, (made["id"], pk)).snapshot_id is None

    member = client.get(f"{LISTS}/{made['id']}").get_json()["members"][0]

    assert member["changes"] is None
    assert member["followers_count"] == 1500, "the profile's own figures still show"


# --- the audit log -----------------------------------------------------------------------------


def test_a_token_s_writes_are_audited_as_its_user_through_the_token(app, anonymous, two_profiles):
    make_user(app, "robot", "analyst")
    headers = {"Authorization": f"Bearer {make_token(app, 'robot')}"}
    made = anonymous.post(LISTS, json={"name": "Robots"}, headers=headers).get_json()
    anonymous.post(
        f"{LISTS}/{made['id']}/members", json={"profile_ids": list(two_profiles)}, headers=headers
    )

    with app.app_context():
        detail = db.session.scalar(
            select(AuditEvent.detail).where(AuditEvent.action == "list-members-added")
        )
    assert audit_trail(app) == [
        ("list-created", "robot", f"list {made['id']}", "token"),
        ("list-members-added", "robot", f"list {made['id']}", "token"),
    ]
    assert detail == f"profiles {two_profiles[0]}, {two_profiles[1]}"


# --- a page of members: filters, sort, paging -------------------------------------------------


@pytest.fixture
def five_members(app, client) -> tuple[int, list[int]]:
    """A list of five TikTok profiles (followers 100 to 500, in that order added) and an
    Instagram one; the first three 'vip', the fourth 'contacted'. The list's id and the
    TikTok ids."""
    ids = [
        store_profile(app, user_id=f"u{n}", username=f"member_{n}", followers_count=n * 100)
        for n in range(1, 6)
    ]
    with app.app_context():
        other = onboarding.submit_payload(
            "instagram", make_payload(user_id="y1", username="gram_member")
        ).profile_id
    made = make_list(client)
    url = f"{LISTS}/{made['id']}/members"
    assert client.post(url, json={"profile_ids": [*ids, other]}).status_code == 200
    for pk in ids[:3]:
        client.patch(f"{url}/{pk}", json={"tags": ["VIP"]})
    client.patch(f"{url}/{ids[3]}", json={"status": "contacted"})
    return made["id"], ids


def test_members_come_in_pages_with_the_total_the_filters_choose(client_as, five_members):
    list_id, ids = five_members
    viewer = client_as("viewer")

    def read(query: str) -> dict:
        response = viewer.get(f"{LISTS}/{list_id}?{query}")
        assert response.status_code == 200, response.text
        return response.get_json()

    pages = [read(f"per_page=4&page={n}") for n in (1, 2, 3)]
    assert [len(page["members"]) for page in pages] == [4, 2, 0]
    assert {(p["total"], p["member_count"], p["per_page"]) for p in pages} == {(6, 6, 4)}
    assert [p["page"] for p in pages] == [1, 2, 3]
    every = [m["profile_id"] for page in pages for m in page["members"]]
    assert every[:5] == ids, "the earliest added first, as before paging"
    assert read("")["per_page"] == 50 and len(read("")["members"]) == 6
    assert read("per_page=5000")["per_page"] == 100, "past the cap is served at the cap"
    vip = read("tag=vip&per_page=2")
    assert (vip["total"], len(vip["members"]), vip["member_count"]) == (3, 2, 6)
    assert read("status=contacted")["total"] == 1
    assert read("platform=instagram")["members"][0]["username"] == "gram_member"
    assert read("q=MEMBER_4")["total"] == 1 and read("q=member")["total"] == 6


@pytest.mark.parametrize(
    "query, expected",
    [
        ("sort=followers", [5, 4, 3, 2, 1]),
        ("sort=followers&order=asc", [1, 2, 3, 4, 5]),
        ("sort=username&order=desc", [5, 4, 3, 2, 1]),
        ("sort=status", [1, 2, 3, 5, 4]),
        ("sort=status&order=desc", [4, 1, 2, 3, 5]),
        ("sort=added&order=desc", [1, 2, 3, 4, 5]),
    ],
)
def test_members_are_sorted_by_the_column_asked(client, five_members, query, expected):
    list_id, ids = five_members
    found = client.get(f"{LISTS}/{list_id}?platform=tiktok&{query}").get_json()["members"]
    assert [m["profile_id"] for m in found] == [ids[n - 1] for n in expected]


@pytest.mark.parametrize(
    "query, loc",
    [
        ("page=0", "page"),
        ("page=x", "page"),
        ("page=1000001", "page"),
        ("per_page=0", "per_page"),
        ("per_page=lots", "per_page"),
        ("sort=name", "sort"),
        ("order=up", "order"),
        ("platform=myspace", "platform"),
        (f"q={'x' * 101}", "q"),
    ],
)
def test_a_bad_page_or_sort_is_refused_by_name(client, query, loc):
    made = make_list(client)
    assert_problem(client.get(f"{LISTS}/{made['id']}?{query}"), 400, loc)


def test_the_document_shows_the_members_parameters(client):
    document = client.get("/api/v1/openapi.json").get_json()
    operation = document["paths"]["/api/v1/lists/{list_id}"]["get"]
    parameters = {
        item["name"]: item for item in operation["parameters"] if item.get("in") == "query"
    }
    assert set(parameters) == {
        "q",
        "platform",
        "status",
        "tag",
        "sort",
        "order",
        "page",
        "per_page",
    }
    assert "change" in str(parameters["sort"]["schema"])
    detail = document["components"]["schemas"]["ListDetail"]
    assert {"members", "page", "per_page", "total", "member_count"} <= set(detail["properties"])
