"""Saved views on the pages: the Views menu on /profiles (its links, its save form and what a
role is offered), saving from the menu with the query the page was served with, the /views
page (rename, change, delete, default), the default view /profiles opens with and its
opt-out, and a bad query or name refused where it was typed."""

from urllib.parse import urlsplit

from sqlalchemy import select

from webapp.extensions import db
from webapp.models import AuditEvent, SavedView
from webapp.services.accounts import audit, users
from webapp.services.team import views

from ..helpers import html_page, one, store_profile, text_of


def save(app, who: str, name: str, query: str, shared=False, default=False) -> int:
    """A view saved by the user called `who` (made by client_as first)."""
    with app.app_context():
        user = users.get_user(who)
        person = views.Person(user.id, user.role, audit.Actor(who))
        return views.create_view(person, name, query, shared, default).id


def stored(app) -> list[tuple]:
    with app.app_context():
        return [
            tuple(row)
            for row in db.session.execute(
                select(SavedView.name, SavedView.shared, SavedView.query).order_by(SavedView.id)
            )
        ]


def actions(app) -> list[str]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.action.like("view-%"))
                .order_by(AuditEvent.id)
            )
        )


def test_the_menu_lists_own_and_shared_views_as_links_to_their_query(app, client_as):
    vic = client_as("viewer", "vic")
    client_as("analyst", "ana")
    save(app, "vic", "My TikTok", "platform=tiktok&sort=followers")
    save(app, "ana", "Team gaming", "interest=Gaming:0.3", shared=True)
    save(app, "ana", "Ana alone", "platform=x")

    page = html_page(vic.get("/profiles"))

    menu = one(page, ".page-head #views-menu")
    mine = {text_of(a): a["href"] for a in menu.select("#personal-views a")}
    shared = {text_of(a): a["href"] for a in menu.select("#shared-views a")}
    assert mine == {"My TikTok": "/profiles?platform=tiktok&sort=followers"}
    assert shared == {"Team gaming": "/profiles?interest=Gaming%3A0.3"}
    assert "by ana" in text_of(one(menu, "#shared-views"))
    assert one(menu, "#all-profiles")["href"] == "/profiles?view=none"
    assert one(menu, "#manage-views")["href"] == "/views"


def test_the_save_form_offers_sharing_to_analysts_only(client_as):
    viewer_page = html_page(client_as("viewer").get("/profiles"))
    analyst_page = html_page(client_as("analyst").get("/profiles"))

    assert viewer_page.select("#save-view #save-view-shared") == []
    assert viewer_page.select("#save-view #save-view-default")
    assert analyst_page.select("#save-view #save-view-shared")


def test_the_save_form_carries_the_query_the_page_was_served_with(client_as):
    page = html_page(client_as("viewer").get("/profiles?platform=tiktok&sort=followers&page=2"))

    form = one(page, "#save-view")
    assert form["action"] == "/views" and form["method"] == "post"
    assert one(form, "#save-view-query")["value"] == "platform=tiktok&sort=followers&page=2"
    assert one(form, 'input[name="csrf_token"]')["value"]


def test_saving_from_the_menu_stores_the_query_without_page_and_opens_the_view(app, client_as):
    vic = client_as("viewer", "vic")

    response = vic.post(
        "/views",
        data={"name": "Mine", "query": "q=&platform=tiktok&sort=followers&page=2"},
    )

    assert response.status_code == 303
    assert response.headers["Location"] == "/profiles?platform=tiktok&sort=followers"
    assert stored(app) == [("Mine", False, "platform=tiktok&sort=followers")]
    assert actions(app) == ["view-created"]
    shown = html_page(vic.get(response.headers["Location"]))
    assert "Saved the view Mine." in text_of(one(shown, "#content"))


def test_a_viewer_posting_shared_is_refused(app, client_as):
    response = client_as("viewer").post("/views", data={"name": "Team", "query": "", "shared": "y"})

    assert response.status_code == 403
    assert stored(app) == []


def test_a_bad_query_or_a_taken_name_is_refused_at_its_field(app, client_as):
    vic = client_as("viewer", "vic")
    save(app, "vic", "Taken", "")

    bad = html_page(vic.post("/views", data={"name": "Bad", "query": "platform=myspace"}), 422)
    taken = html_page(vic.post("/views", data={"name": "Taken", "query": ""}), 422)

    assert "platform" in text_of(one(bad, "#new-view-query-error"))
    assert one(bad, "#new-view-query")["value"] == "platform=myspace", "what was typed stays"
    assert "Taken" in text_of(one(taken, "#new-view-name-error"))
    assert stored(app) == [("Taken", False, "")]


def test_the_views_page_renames_changes_shares_and_deletes(app, client_as):
    ana = client_as("analyst", "ana")
    view_id = save(app, "ana", "Old", "platform=tiktok")

    page = html_page(ana.get("/views"))
    assert one(page, f"#edit-view-{view_id}")
    renamed = ana.post(
        f"/views/{view_id}/edit",
        data={"name": "New", "query": "platform=x", "sharing": "1", "shared": "y"},
    )
    assert renamed.status_code == 303
    assert stored(app) == [("New", True, "platform=x")]
    bad = html_page(
        ana.post(f"/views/{view_id}/edit", data={"name": "New", "query": "sort=bogus"}), 422
    )
    assert "sort" in text_of(one(bad, f"#edit-view-{view_id} .error"))
    assert ana.post(f"/views/{view_id}/delete").status_code == 303
    assert stored(app) == []
    assert actions(app) == ["view-created", "view-updated", "view-deleted"]


def test_the_views_page_offers_only_what_the_role_and_ownership_allow(app, client_as):
    vic = client_as("viewer", "vic")
    admin = client_as("admin", "root")
    client_as("analyst", "ana")
    own = save(app, "vic", "Own", "")
    team = save(app, "ana", "Team", "", shared=True)

    vic_page = html_page(vic.get("/views"))
    admin_page = html_page(admin.get("/views"))

    assert vic_page.select(f"#edit-view-{own}") and vic_page.select(f"#delete-view-{own}")
    assert not vic_page.select(f"#edit-view-{team}") and not vic_page.select(f"#delete-view-{team}")
    assert vic_page.select(f"#default-view-{team}"), "anyone may choose a shared default"
    assert not admin_page.select(f"#edit-view-{team}")
    assert admin_page.select(f"#delete-view-{team}"), "an admin deletes any shared view"
    assert vic.post(f"/views/{team}/delete").status_code == 403
    assert vic.post(f"/views/{team}/edit", data={"name": "Mine", "query": ""}).status_code == 403
    assert admin.post(f"/views/{team}/delete").status_code == 303
    assert [name for name, *_ in stored(app)] == ["Own"]


# --- the default view ---------------------------------------------------------------------------


def test_profiles_without_a_query_opens_the_default_view(app, client_as):
    store_profile(app, user_id="t1", username="on_tiktok")
    vic = client_as("viewer", "vic")
    save(app, "vic", "Mine", "platform=tiktok&sort=username", default=True)

    response = vic.get("/profiles")

    assert response.status_code == 302
    assert response.headers["Location"] == "/profiles?platform=tiktok&sort=username"
    page = html_page(vic.get(response.headers["Location"]))
    assert one(page, "#platform option[selected]")["value"] == "tiktok"


def test_view_none_shows_every_profile_and_a_query_is_never_redirected(app, client_as):
    vic = client_as("viewer", "vic")
    save(app, "vic", "Mine", "platform=tiktok", default=True)

    assert vic.get("/profiles?view=none").status_code == 200
    assert vic.get("/profiles?platform=x").status_code == 200
    partial = vic.get("/profiles", headers={"HX-Request": "true"})
    assert partial.status_code == 200, "htmx's table requests are answered, not redirected"
    assert client_as("viewer", "other").get("/profiles").status_code == 200, "theirs alone"


def test_a_default_is_chosen_and_cleared_on_the_views_page(app, client_as):
    vic = client_as("viewer", "vic")
    view_id = save(app, "vic", "Mine", "platform=x")

    assert vic.post(f"/views/{view_id}/default", data={"default": "yes"}).status_code == 303
    assert urlsplit(vic.get("/profiles").headers["Location"]).query == "platform=x"
    page = html_page(vic.get("/views"))
    assert "default" in text_of(one(page, f"#default-view-{view_id}"))
    assert vic.post(f"/views/{view_id}/default", data={"default": "no"}).status_code == 303
    assert vic.get("/profiles").status_code == 200
    assert actions(app) == ["view-created", "view-default-set", "view-default-set"]


def test_an_empty_default_view_opens_every_profile_without_a_loop(app, client_as):
    vic = client_as("viewer", "vic")
    save(app, "vic", "All", "", default=True)

    response = vic.get("/profiles")

    assert response.headers["Location"] == "/profiles?view=none"
    assert vic.get(response.headers["Location"]).status_code == 200


def test_deleting_the_default_view_sends_profiles_back_to_every_profile(app, client_as):
    vic = client_as("viewer", "vic")
    view_id = save(app, "vic", "Mine", "platform=x", default=True)

    vic.post(f"/views/{view_id}/delete")

    assert vic.get("/profiles").status_code == 200
