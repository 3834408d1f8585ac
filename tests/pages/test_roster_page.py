"""The roster page: a form like /profiles/like's, and the two rosters side by side."""

import pytest

from webapp.services.analytics import roster

from ..helpers import html_page, one, parse, store_mix, text_of

MIX_ARGS = {"w:Music": "50", "w:Dance": "50", "w:Gaming": "50", "size": "3"}
MIX = {"Music": 50, "Dance": 50, "Gaming": 50}


@pytest.fixture
def stored(app) -> dict[str, list[int]]:
    """Near-copies of one Music-and-Dance mix (the nearest), and Gaming specialists with many
    followers."""
    with app.app_context():
        return {
            "copies": [store_mix(f"copy{i}", {"Music": 4 + i % 2, "Dance": 3}) for i in range(5)],
            "gaming": [
                store_mix(f"gamer{i}", {"Gaming": 4, "Dance": i}, followers=80_000)
                for i in range(3)
            ],
        }


def _ids(doc, table: str) -> list[int]:
    return [int(row["data-id"]) for row in doc.select(f"#{table} tbody tr")]


def test_the_page_shows_the_roster_beside_the_nearest_with_figures_and_reasons(
    app, client_as, stored
):
    doc = html_page(client_as("viewer").get("/roster", query_string=MIX_ARGS))

    with app.app_context():
        answer = roster.build_roster(MIX, 3)
    picks, nearest = _ids(doc, "roster-picks"), _ids(doc, "nearest-picks")
    assert picks == [item["id"] for item in answer["roster"]["items"]]
    assert nearest == [item["id"] for item in answer["nearest"]["items"]]
    assert set(nearest) <= set(stored["copies"]) and set(picks) & set(stored["gaming"])
    for section, key in (("#roster", "roster"), ("#nearest-roster", "nearest")):
        shown = text_of(one(doc, f"{section} .coverage"))
        assert shown == f"{answer[key]['coverage'] * 100:.1f} %"
        shown = text_of(one(doc, f"{section} .redundancy"))
        assert shown == f"{answer[key]['redundancy'] * 100:.1f} %"
    rows = doc.select("#roster-picks tbody tr")
    first, second = answer["roster"]["items"][:2]
    assert "first pick" in text_of(one(rows[0], ".reason"))
    assert text_of(one(rows[1], ".gain")) == f"{second['reason']['gain'] * 100:+.1f} %"
    assert text_of(one(rows[1], ".similar-to")) == first["username"]
    assert text_of(one(rows[1], ".similarity")) == f"{second['reason']['similarity'] * 100:.1f} %"
    links = [a["href"] for a in doc.select("#roster-picks tbody a")]
    assert links == [f"/profiles/{pk}" for pk in picks]


def test_the_form_keeps_what_was_asked(client, stored):
    args = {**MIX_ARGS, "platform": "tiktok", "min_followers": "10", "max_followers": "90000"}

    doc = html_page(client.get("/roster", query_string=args))

    form = one(doc, "form#roster-form")
    assert form["method"] == "get" and form["action"] == "/roster"
    assert one(form, "input[name='w:Music']")["value"] == "50"
    assert one(form, "input[name='w:Comedy']")["value"] == "0"
    assert len(form.select("input[type=range]")) == len(roster.CATEGORIES)
    assert one(form, "input[name=size]")["value"] == "3"
    assert one(form, "select[name=platform] option[selected]")["value"] == "tiktok"
    assert one(form, "input[name=min_followers]")["value"] == "10"
    assert one(form, "input[name=max_followers]")["value"] == "90000"


def test_the_constraints_choose_who_may_be_picked(client, stored):
    args = {**MIX_ARGS, "min_followers": "50000", "size": "5"}

    doc = html_page(client.get("/roster", query_string=args))

    assert sorted(_ids(doc, "roster-picks")) == stored["gaming"]
    assert sorted(_ids(doc, "nearest-picks")) == stored["gaming"]
    assert "Only 3 profiles" in text_of(one(doc, "#roster-short"))
    on_x = html_page(client.get("/roster", query_string={**MIX_ARGS, "platform": "x"}))
    assert not on_x.select("#roster-picks tbody tr")


def test_without_a_mix_the_page_asks_for_one(client, stored):
    doc = html_page(client.get("/roster"))

    assert one(doc, "#roster-empty")
    assert not doc.select("#roster-picks")
    assert one(doc, "input[name=size]")["value"] == str(10)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ({"size": "1"}, "Size must be a whole number from 2 to 50"),
        ({"size": "many"}, "Size must be a whole number"),
        ({"min_followers": "10", "max_followers": "5"}, "Maximum followers must not be below"),
        ({"min_followers": "-3"}, "Minimum followers must be a whole number"),
        ({"platform": "myspace"}, "Platform must be one of"),
        ({"w:Music": "120"}, "The weight of Music must be a number from 0 to 100"),
    ],
)
def test_a_bad_field_is_said_in_place_and_the_form_kept(client, stored, args, words):
    response = client.get("/roster", query_string={**MIX_ARGS, **args})

    doc = html_page(response, 422)
    assert words in text_of(one(doc, "#roster-problem"))
    assert one(doc, "form#roster-form")
    partial = client.get(
        "/roster", query_string={**MIX_ARGS, **args}, headers={"HX-Request": "true"}
    )
    assert partial.status_code == 200
    assert words in text_of(one(parse(partial.text), "#roster-problem"))


def test_htmx_gets_the_results_alone(client, stored):
    response = client.get("/roster", query_string=MIX_ARGS, headers={"HX-Request": "true"})

    doc = parse(response.text)
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    assert doc.select("#roster-picks") and doc.select("#nearest-picks")
    assert not doc.select("form#roster-form") and not doc.select("nav")


def test_the_nav_links_to_the_roster_for_every_role(client_as):
    for role in ("viewer", "analyst", "admin"):
        doc = html_page(client_as(role, f"{role}-nav").get("/roster"))
        link = one(doc, "nav a[href='/roster']")
        assert link["aria-current"] == "page" and text_of(link) == "Roster"


def test_an_analyst_saves_the_roster_as_a_list_in_its_order(app, client_as, stored):
    from webapp.models import AuditEvent
    from webapp.services.team import lists

    analyst = client_as("analyst")
    doc = html_page(analyst.get("/roster", query_string=MIX_ARGS))
    form = one(doc, "form#roster-save")
    ids = [int(field["value"]) for field in form.select("input[name=ids]")]
    assert ids == _ids(doc, "roster-picks") and len(ids) == 3
    back = one(form, "input[name=back]")["value"]
    assert back.startswith("/roster?")

    answer = analyst.post("/lists/from-roster", data={"name": "Brief A", "ids": ids, "back": back})
    assert answer.status_code == 303
    with app.app_context():
        (saved,) = [found for found in lists.all_lists()[0] if found["name"] == "Brief A"]
        assert answer.headers["Location"].endswith(f"/lists/{saved['id']}")
        members = lists.members(saved["id"])
        assert sorted(member["profile_id"] for member in members) == sorted(ids)
        assert {member["status"] for member in members} == {"candidate"}
        actions = [event.action for event in AuditEvent.query.all()]
        assert actions.count("list-created") == 1 and actions.count("list-members-added") == 1


def test_a_refused_roster_save_goes_back_with_the_reason_and_writes_nothing(app, client_as, stored):
    from webapp.services.team import lists

    analyst = client_as("analyst")
    ids = stored["copies"][:2]
    back = "/roster?w:Music=50&size=2"
    with app.app_context():
        lists.create_list("Taken", lists.audit.Actor("someone"))
    for data in (
        {"name": "Taken", "ids": ids, "back": back},  # the name is taken
        {"name": "New one", "ids": [*ids, 999_999], "back": back},  # a profile is not stored
        {"name": "   ", "ids": ids, "back": back},  # no name
    ):
        answer = analyst.post("/lists/from-roster", data=data)
        assert answer.status_code == 303 and answer.headers["Location"].endswith(back)
        shown = text_of(one(html_page(analyst.get(back)), ".flash.error"))
        assert shown.startswith("Not saved:")
    with app.app_context():
        assert [found["name"] for found in lists.all_lists()[0]] == ["Taken"]
    # Elsewhere than the roster page is not where it goes back to.
    answer = analyst.post(
        "/lists/from-roster", data={"name": "Taken", "ids": ids, "back": "https://x.example/"}
    )
    assert answer.headers["Location"].endswith("/roster")


def test_a_viewer_is_not_offered_to_save_a_roster(client_as, stored):
    doc = html_page(client_as("viewer").get("/roster", query_string=MIX_ARGS))
    assert not doc.select("form#roster-save")
