"""Rough edges a newcomer hit (issue 12, part 7): each page shows only what the signed-in role
may use, compare says "choose 2 to 4" in place, the map's labels and colours, the labels of the
profile page and of the admin table, /admin, and a demo account that the likes minimum rejects."""

from urllib.parse import urlsplit

import pytest
from flask import Flask

from webapp.models import ROLES
from webapp.security import required_role
from webapp.services import jobs
from webapp.services.accounts import audit, users

from ..helpers import connect_profile, html_page, one, store_profile, text_of

# Pages every role reads, with {profile}, {profile2} and {job} filled in.
PAGES = (
    "/",
    "/profiles",
    "/profiles/{profile}",
    "/profiles/like",
    "/videos",
    "/map",
    "/jobs",
    "/jobs/{job}",
    "/compare?ids={profile},{profile2}",
)


def world(app) -> dict:
    """Two stored profiles and a queued job started from the command line."""
    profile, _ = connect_profile(app)
    profile2 = store_profile(app, user_id="second", username="second_user")
    with app.app_context():
        operator = jobs.Requester(audit.Actor("cli:operator", via="cli"), admin=True)
        job = jobs.start_job("resync", {"profile_ids": [profile]}, operator).id
    return {"profile": profile, "profile2": profile2, "job": job}


def targets(doc) -> list[tuple[str, str]]:
    """(method, path) of every link and form on the page that leads into the app."""
    found = []
    for link in doc.select("a[href]"):
        found.append(("GET", link["href"]))
    for form in doc.select("form[action]"):
        found.append((form.get("method", "get").upper(), form["action"]))
    for element in doc.select("[hx-get], [hx-post]"):
        method = "POST" if element.has_attr("hx-post") else "GET"
        found.append((method, element.get("hx-post") or element.get("hx-get")))
    return [
        (method, urlsplit(url).path)
        for method, url in found
        if url.startswith("/") and not url.startswith("//")
    ]


def endpoint_of(app: Flask, method: str, path: str) -> str | None:
    adapter = app.url_map.bind("localhost")
    try:
        endpoint, _ = adapter.match(path, method=method)
    except Exception:
        return None
    return endpoint


@pytest.mark.parametrize("role", ROLES)
def test_pages_offer_only_what_the_role_may_use(app, client_as, role):
    """No link, button or form on a page leads to "Not allowed" for the signed-in role."""
    ids = world(app)
    client = client_as(role)
    refused = []
    for page in PAGES:
        doc = html_page(client.get(page.format(**ids)))
        for method, path in targets(doc):
            endpoint = endpoint_of(app, method, path)
            if endpoint is None:
                continue
            with app.test_request_context():
                needed = required_role(endpoint)
            if users.role_rank(role) < users.role_rank(needed):
                refused.append(f"{page}: {method} {path} needs {needed}")
    assert refused == []


@pytest.mark.parametrize(("role", "shown"), [("viewer", False), ("analyst", True), ("admin", True)])
def test_connect_an_account_is_offered_to_who_may_connect(app, client_as, role, shown):
    doc = html_page(client_as(role).get("/profiles"))
    buttons = [a for a in doc.select("main a.button") if "Connect an account" in a.get_text()]
    assert bool(buttons) is shown


@pytest.mark.parametrize(("role", "shown"), [("viewer", False), ("analyst", True)])
def test_an_empty_overview_offers_seeding_to_who_may_seed(client_as, role, shown):
    doc = html_page(client_as(role).get("/"))
    assert bool(doc.select("form[action='/seed']")) is shown
    assert bool(doc.select("main a[href='/connect']")) is shown


@pytest.mark.parametrize("ids", ["", "{profile}", "{profile},{profile}", "1,2,3,4,5"])
def test_compare_with_too_few_or_many_profiles_says_what_to_do(app, client, ids):
    """A page in the layout that says to choose 2 to 4 and leads back to the table, not a
    bare Bad Request."""
    profile, _ = connect_profile(app)
    doc = html_page(client.get("/compare", query_string={"ids": ids.format(profile=profile)}))
    problem = text_of(one(doc, "#compare-problem"))
    chosen = len({part for part in ids.format(profile=profile).split(",") if part})
    assert problem.startswith(f"Choose 2 to 4 profiles to compare: {chosen} ")
    assert one(doc, "#compare-choose a.button")["href"] == "/profiles"
    assert doc.select("#error-page") == []


def test_compare_with_one_profile_names_it(app, client):
    profile, _ = connect_profile(app)
    doc = html_page(client.get(f"/compare?ids={profile}"))
    assert [a["href"] for a in doc.select("#compare-choose a.tag")] == [f"/profiles/{profile}"]


def test_the_compare_form_tells_the_script_its_range(app, client):
    doc = html_page(client.get("/profiles"))
    form = one(doc, "form#compare-form")
    assert (form["data-min"], form["data-max"]) == ("2", "4")
    assert one(form, "#compare-message").has_attr("hidden")
