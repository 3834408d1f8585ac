"""Rough edges a newcomer hit (issue 12, part 7): each page shows only what the signed-in role
may use, compare says "choose 2 to 4" in place, the map's labels and colours, the labels of the
profile page and of the admin table, /admin, and a demo account that the likes minimum rejects."""

import itertools
import json
import math
from urllib.parse import urlsplit

import pytest
from flask import Flask

from webapp.models import ROLES
from webapp.security import required_role
from webapp.services import jobs
from webapp.services.accounts import audit, users
from webapp.services.ingestion import onboarding
from webapp.services.ingestion.taxonomy import CATEGORIES

from ..factories import make_payload, signed_in_client, video
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
    doc = html_page(client.get("/compare", query_string={"ids": ids.format(profile=profile)}), 400)
    problem = text_of(one(doc, "#compare-problem"))
    chosen = len({part for part in ids.format(profile=profile).split(",") if part})
    assert problem.startswith(f"Choose 2 to 4 profiles to compare: {chosen} ")
    assert one(doc, "#compare-choose a.button")["href"] == "/profiles"
    assert doc.select("#error-page") == []


def test_compare_with_one_profile_names_it(app, client):
    profile, _ = connect_profile(app)
    doc = html_page(client.get(f"/compare?ids={profile}"), 400)
    assert [a["href"] for a in doc.select("#compare-choose a.tag")] == [f"/profiles/{profile}"]


def test_the_compare_form_tells_the_script_its_range(app, client):
    doc = html_page(client.get("/profiles"))
    form = one(doc, "form#compare-form")
    assert (form["data-min"], form["data-max"]) == ("2", "4")
    assert one(form, "#compare-message").has_attr("hidden")


# --- the map ----------------------------------------------------------------------------------


def test_every_category_has_a_colour_of_its_own_on_the_map(client):
    """32 distinct colours keyed by taxonomy position, far enough apart to tell apart."""
    doc = html_page(client.get("/map?color=dominant"))
    palette = json.loads(one(doc, "#population-map")["data-palette"])
    colours = palette["categories"]
    assert set(colours) == {*CATEGORIES, "Unclassified"}
    assert len(set(colours.values())) == len(CATEGORIES) + 1  # and grey for Unclassified
    assert [colours[name] for name in CATEGORIES] == palette["ordered"][: len(CATEGORIES)]
    rgb = [tuple(int(c[i : i + 2], 16) for i in (1, 3, 5)) for c in colours.values()]
    closest = min(math.dist(a, b) for a, b in itertools.combinations(rgb, 2))
    assert closest > 40, "two colours of the map are hard to tell apart"


def test_the_map_redraws_without_a_button_when_scripts_run(client):
    doc = html_page(client.get("/map"))
    assert doc.select("#map-form noscript button[type=submit]")
    assert [b for b in doc.select("#map-form button") if not b.find_parent("noscript")] == []


def test_the_map_answer_says_how_much_variance_each_axis_explains(app, client):
    """Points that vary along one direction only: the first component explains it all."""
    with app.app_context():
        for i in range(6):
            liked = [video(f"m{i}-{j}", categories=["Music"]) for j in range(i + 1)]
            liked += [video(f"g{i}-{j}", categories=["Gaming"]) for j in range(6 - i)]
            payload = make_payload(user_id=f"u{i}", username=f"user{i}", liked_videos=liked)
            assert onboarding.submit_payload("tiktok", payload).accepted
    data = client.get("/api/v1/map?k=2").get_json()
    first, second = data["explained"]
    assert first == pytest.approx(1.0, abs=1e-3) and second == pytest.approx(0.0, abs=1e-3)


def test_an_empty_map_explains_nothing(client):
    assert client.get("/api/v1/map").get_json()["explained"] == [0, 0]


# --- the profile table on a phone -------------------------------------------------------------


def test_the_table_has_a_sort_control_besides_its_headers(app, client):
    connect_profile(app)
    doc = html_page(client.get("/profiles?sort=followers&order=asc"))
    sort = one(doc, "#sort-control select#sort[name=sort][form=filters]")
    assert [o["value"] for o in sort.select("option")] == [
        "username",
        "platform",
        "verified",
        "followers",
        "likes",
        "engagement",
        "growth",
        "updated",
    ]
    assert one(sort, "option[selected]")["value"] == "followers"
    assert one(doc, "select#order option[selected]")["value"] == "asc"
    assert sort["hx-get"] == "/profiles" and sort["hx-include"] == "#filters"
    cells = doc.select("#profiles tbody tr")[0].select("td[data-label]")
    assert [td["data-label"] for td in cells] == [
        "Followers",
        "Likes given",
        "Engagement",
        "Interest",
    ]


# --- labels and /admin --------------------------------------------------------------------------


def test_likes_given_and_liked_videos_say_what_they_count(app, client):
    profile = store_profile(app)
    doc = html_page(client.get(f"/profiles/{profile}"))
    likes = one(doc, '.stat[data-stat="number_of_likes"]')
    assert text_of(one(likes, ".label")) == "Likes given"
    assert text_of(one(likes, ".hint")) == "on the platform, all time"
    note = text_of(one(doc, "#liked-note"))
    assert note.startswith("The 2 most recent videos the account liked, as the platform sent")
    assert note.endswith("its likes given on the platform, all time: 6,000.")
    assert text_of(one(doc, "#shared-note")).endswith("its shares on the platform, all time: 800.")


def test_admin_leads_to_the_users_page(client):
    doc = html_page(client.get("/admin"))
    assert text_of(one(doc, "h1")) == "Users"
    assert one(doc, "#users")
    assert text_of(one(doc, ".tabs a[aria-current=page]")) == "Users"


@pytest.mark.parametrize("role", ["viewer", "analyst"])
def test_admin_is_not_allowed_for_other_roles(client_as, role):
    doc = html_page(client_as(role).get("/admin"), 403)
    assert text_of(one(doc, "#error-page h1")) == "Not allowed"


# --- a demo account that is rejected ------------------------------------------------------------


def _demo_forms(client) -> dict[str, dict[str, str]]:
    """Per platform, the connect form's fields as the demo link fills them in."""
    doc = html_page(client.get("/connect"))
    forms = {}
    for link in doc.select("#demo-rejected a[data-platform]"):
        filled = html_page(client.get(link["href"]))
        form = one(filled, "form[action='/connect/consent']")
        forms[link["data-platform"]] = {
            "platform": one(form, "input[name=platform][checked]")["value"],
            "user_id": one(form, "input[name=user_id]")["value"],
        }
    return forms


@pytest.mark.parametrize("minimum", [100, 1000])
def test_the_connect_page_offers_an_account_per_platform_that_is_rejected(make_app, minimum):
    """Going through the flow with the offered account ends in the rejection, with its
    reason, and stores nothing, whatever the likes minimum."""
    app = make_app(TOKER_MIN_LIKES=minimum)
    client = signed_in_client(app, "analyst")
    forms = _demo_forms(client)
    assert sorted(forms) == ["instagram", "tiktok", "x"]
    for platform, fields in forms.items():
        assert fields["platform"] == platform and fields["user_id"]
        consent = html_page(client.post("/connect/consent", data=fields))
        assert one(consent, "input[name=user_id]")["value"] == fields["user_id"]
        html_page(client.post("/connect/progress", data=fields))
        done = client.post(
            "/connect/step", data={**fields, "step": "4"}, headers={"HX-Request": "true"}
        )
        assert "HX-Redirect" not in done.headers
        rejection = text_of(one(html_page(done), "#rejection"))
        assert f"at least {minimum} are needed" in rejection
    with app.app_context():
        assert onboarding.rejected_demo_account("tiktok").likes_given < minimum
    assert client.get("/api/v1/profiles").get_json()["total"] == 0


def test_the_rejected_demo_account_is_chosen_for_the_day(app):
    """The same account all day; the platform's accounts change from day to day, so another
    day may need another one, and the one chosen then is rejected then."""
    with app.app_context():
        first = onboarding.rejected_demo_account("x")
        assert onboarding.rejected_demo_account("x") == first
        outcome = onboarding.connect_account("x", first.user_id)
        assert outcome.status == "rejected" and outcome.reason == first.reason
        app.config["TOKER_CLOCK"] = "2027-03-01"
        later = onboarding.rejected_demo_account("x")
        assert onboarding.connect_account("x", later.user_id).status == "rejected"
