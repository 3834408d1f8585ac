"""Saved views through the JSON API: saving, reading, renaming, sharing and deleting views,
the caller's default, roles and ownership, located errors for a bad name or query, 404s and
the audit log."""

import pytest
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import AuditEvent, DefaultView, SavedView
from webapp.services.accounts import users

from ..factories import make_token, make_user
from ..helpers import assert_problem, bearer

VIEWS = "/api/v1/views"


def save(client, name="Gaming", query="platform=tiktok&interest=Gaming:0.3", **extra) -> dict:
    response = client.post(VIEWS, json={"name": name, "query": query, **extra})
    assert response.status_code == 201, response.text
    return response.get_json()


def audit_trail(app) -> list[tuple[str, str, str]]:
    """(action, actor, target) of every view event, oldest first."""
    with app.app_context():
        rows = db.session.execute(
            select(AuditEvent.action, AuditEvent.actor, AuditEvent.target)
            .where(AuditEvent.action.like("view-%"))
            .order_by(AuditEvent.id)
        )
        return [tuple(row) for row in rows]


def stored_views(app) -> list[tuple]:
    with app.app_context():
        rows = db.session.execute(
            select(SavedView.name, SavedView.owner, SavedView.shared, SavedView.query).order_by(
                SavedView.id
            )
        )
        return [tuple(row) for row in rows]


def test_a_viewer_saves_reads_renames_and_deletes_a_personal_view(app, client_as):
    viewer = client_as("viewer", "vic")

    response = viewer.post(
        VIEWS,
        json={
            "name": "  Gaming   on TikTok ",
            "query": "?q=&platform=tiktok&page=3&interest=Gaming:0.3&interest=Music&sort=followers",
        },
    )

    assert response.status_code == 201
    made = response.get_json()
    assert response.headers["Location"].endswith(f"{VIEWS}/{made['id']}")
    assert made["name"] == "Gaming on TikTok"
    assert made["owner"]["name"] == "vic" and made["owner"]["id"] >= 1
    assert made["shared"] is False and made["default"] is False
    # No page, no empty value; the repeated interest kept in order.
    assert made["query"] == ("platform=tiktok&interest=Gaming%3A0.3&interest=Music&sort=followers")
    assert made["url"] == "/profiles?" + made["query"]
    assert viewer.get(f"{VIEWS}/{made['id']}").get_json() == made
    assert viewer.get(VIEWS).get_json() == {"items": [made]}

    renamed = viewer.patch(f"{VIEWS}/{made['id']}", json={"name": "TikTok gaming"})
    assert renamed.status_code == 200
    assert renamed.get_json()["name"] == "TikTok gaming"
    assert renamed.get_json()["query"] == made["query"], "a field left out stays"
    requeried = viewer.patch(f"{VIEWS}/{made['id']}", json={"query": "/profiles?platform=x"})
    assert requeried.get_json()["query"] == "platform=x"

    assert viewer.delete(f"{VIEWS}/{made['id']}").status_code == 204
    assert_problem(viewer.get(f"{VIEWS}/{made['id']}"), 404)
    assert stored_views(app) == []
    assert [action for action, _, _ in audit_trail(app)] == [
        "view-created",
        "view-updated",
        "view-updated",
        "view-deleted",
    ]
    assert {actor for _, actor, _ in audit_trail(app)} == {"vic"}


def test_an_empty_query_is_every_profile_and_links_with_view_none(client):
    made = save(client, "Everything", "")

    assert made["query"] == ""
    assert made["url"] == "/profiles?view=none"


def test_the_caller_sees_their_own_views_then_the_shared_ones_but_not_anothers_personal(
    app, client_as
):
    ana = client_as("analyst", "ana")
    bob = client_as("analyst", "bob")
    mine = save(bob, "Zed mine")
    shared = save(ana, "Alpha shared", shared=True)
    hidden = save(ana, "Ana's own")

    listed = bob.get(VIEWS).get_json()["items"]

    assert [item["id"] for item in listed] == [mine["id"], shared["id"]]
    assert listed[1]["shared"] is True and listed[1]["owner"]["name"] == "ana"
    assert_problem(bob.get(f"{VIEWS}/{hidden['id']}"), 404)
    assert_problem(bob.patch(f"{VIEWS}/{hidden['id']}", json={"default": True}), 404)
    assert_problem(bob.delete(f"{VIEWS}/{hidden['id']}"), 404)


def test_names_are_unique_among_a_persons_own_views_only(client_as):
    ana = client_as("analyst", "ana")
    bob = client_as("viewer", "bob")
    first = save(ana, "Gaming")
    save(bob, "Gaming")  # another person's view may have the same name

    taken = ana.post(VIEWS, json={"name": " Gaming ", "query": ""})
    assert_problem(taken, 409, "name")
    other = save(ana, "Music")
    renamed = ana.patch(f"{VIEWS}/{other['id']}", json={"name": "Gaming"})
    assert_problem(renamed, 409, "name")
    assert ana.patch(f"{VIEWS}/{first['id']}", json={"name": "Gaming"}).status_code == 200


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("platform=myspace", "platform"),
        ("sort=nonsense", "sort"),
        ("interest=NotACategory:0.3", "interest"),
        ("interest=Gaming:2", "interest"),
        ("per_page=zero", "per_page"),
        ("interest_category=Gaming&interest_min=lots", "interest_min"),
    ],
)
def test_a_query_the_profiles_page_refuses_is_refused_located(app, client, query, param):
    response = client.post(VIEWS, json={"name": "Bad", "query": query})

    problem = assert_problem(response, 422, "query")
    assert param in problem["errors"][0]["msg"]
    assert client.get(f"/profiles?{query}").status_code == 400, "the page refuses it too"
    assert stored_views(app) == []


def test_a_change_to_a_bad_query_is_refused_and_the_view_stays(app, client):
    made = save(client)

    assert_problem(client.patch(f"{VIEWS}/{made['id']}", json={"query": "page=1&order=up"}), 422)

    assert client.get(f"{VIEWS}/{made['id']}").get_json()["query"] == made["query"]


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"query": ""}, "name"),
        ({"name": "", "query": ""}, "name"),
        ({"name": "x" * 101, "query": ""}, "name"),
        ({"name": 7, "query": ""}, "name"),
        ({"name": "A", "query": 7}, "query"),
        ({"name": "A", "shared": "yes"}, "shared"),
        ({"name": "A", "default": 1}, "default"),
        ({"name": "A", "query": "q=" + "a" * 2_100}, "query"),
    ],
)
def test_a_bad_body_is_refused_at_its_field(app, client, body, loc):
    assert_problem(client.post(VIEWS, json=body), 422, loc)
    assert stored_views(app) == []


# --- the default ------------------------------------------------------------------------------


def test_a_default_is_set_on_save_moved_by_patch_and_cleared(app, client_as):
    vic = client_as("viewer", "vic")
    first = save(vic, "First", "platform=tiktok", default=True)
    assert first["default"] is True
    second = save(vic, "Second", "platform=x")

    moved = vic.patch(f"{VIEWS}/{second['id']}", json={"default": True})

    assert moved.get_json()["default"] is True
    assert [item["default"] for item in vic.get(VIEWS).get_json()["items"]] == [False, True]
    # Clearing another view's default flag leaves the default where it is.
    vic.patch(f"{VIEWS}/{first['id']}", json={"default": False})
    assert vic.get(f"{VIEWS}/{second['id']}").get_json()["default"] is True
    vic.patch(f"{VIEWS}/{second['id']}", json={"default": False})
    assert not any(item["default"] for item in vic.get(VIEWS).get_json()["items"])
    assert [action for action, _, _ in audit_trail(app)].count("view-default-set") == 3


def test_anyone_may_choose_a_shared_view_as_default_and_its_deletion_clears_it(app, client_as):
    ana = client_as("analyst", "ana")
    vic = client_as("viewer", "vic")
    shared = save(ana, "Team", "platform=tiktok", shared=True)

    chosen = vic.patch(f"{VIEWS}/{shared['id']}", json={"default": True})

    assert chosen.status_code == 200 and chosen.get_json()["default"] is True
    assert ana.get(f"{VIEWS}/{shared['id']}").get_json()["default"] is False, "vic's alone"
    assert ana.delete(f"{VIEWS}/{shared['id']}").status_code == 204
    with app.app_context():
        assert db.session.scalars(select(DefaultView)).all() == []


# --- roles and ownership ----------------------------------------------------------------------


def test_a_viewer_cannot_share_a_view(app, client_as):
    vic = client_as("viewer", "vic")

    assert_problem(vic.post(VIEWS, json={"name": "Team", "query": "", "shared": True}), 403)
    made = save(vic, "Mine")
    assert_problem(vic.patch(f"{VIEWS}/{made['id']}", json={"shared": True}), 403)

    assert stored_views(app) == [("Mine", "vic", False, "platform=tiktok&interest=Gaming%3A0.3")]
    assert [action for action, _, _ in audit_trail(app)] == ["view-created"]


def test_only_the_owner_changes_a_shared_view_and_an_admin_deletes_any(app, client_as):
    ana = client_as("analyst", "ana")
    bob = client_as("analyst", "bob")
    vic = client_as("viewer", "vic")
    admin = client_as("admin", "root")
    shared = save(ana, "Team", shared=True)
    path = f"{VIEWS}/{shared['id']}"

    for other in (bob, vic, admin):
        assert_problem(other.patch(path, json={"name": "Taken over"}), 403)
    for other in (bob, vic):
        assert_problem(other.delete(path), 403)
    assert stored_views(app)[0][0] == "Team"

    unshared = ana.patch(path, json={"shared": False})
    assert unshared.get_json()["shared"] is False
    assert_problem(bob.get(path), 404)
    ana.patch(path, json={"shared": True})
    assert admin.delete(path).status_code == 204
    assert stored_views(app) == []
    assert audit_trail(app)[-1] == ("view-deleted", "root", f"view {shared['id']}")


def test_a_viewer_cannot_change_their_own_view_once_shared(app, client_as, anonymous):
    """An analyst shared a view, then became a viewer: the shared view is out of their hands,
    their personal one is not."""
    ana = client_as("analyst", "ana")
    shared = save(ana, "Team", shared=True)
    personal = save(ana, "Mine")
    with app.app_context():
        users.set_role(users.get_user("ana"), "viewer")
    as_ana = bearer(make_token(app, "ana"))

    renamed = anonymous.patch(f"{VIEWS}/{shared['id']}", json={"name": "X"}, headers=as_ana)
    deleted = anonymous.delete(f"{VIEWS}/{shared['id']}", headers=as_ana)
    kept = anonymous.patch(f"{VIEWS}/{personal['id']}", json={"name": "Y"}, headers=as_ana)

    assert_problem(renamed, 403)
    assert_problem(deleted, 403)
    assert kept.status_code == 200
    assert [name for name, *_ in stored_views(app)] == ["Team", "Y"]


def test_an_api_token_saves_views_for_its_user(app, anonymous):
    make_user(app, "robot", "viewer")
    token = make_token(app, "robot")

    response = anonymous.post(VIEWS, json={"name": "Robot's"}, headers=bearer(token))

    assert response.status_code == 201
    assert response.get_json()["owner"]["name"] == "robot"
    assert_problem(anonymous.get(VIEWS), 401)


def test_an_unknown_view_is_a_404(client):
    for response in (
        client.get(f"{VIEWS}/999"),
        client.patch(f"{VIEWS}/999", json={"name": "x"}),
        client.delete(f"{VIEWS}/999"),
    ):
        assert_problem(response, 404)
