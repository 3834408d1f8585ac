"""The list pages: every list and the form to make one, one list's members with their
changes since added, status and tag filters, editing a member in its row with htmx, the
CSV and JSON exports, removing members and lists, and adding a profile from its page."""

import csv
import io
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select

from webapp.extensions import db
from webapp.models import AuditEvent, ListMember, Shortlist
from webapp.services.accounts import audit
from webapp.services.ingestion import onboarding
from webapp.services.team import lists

from ..factories import add_snapshot, make_payload
from ..helpers import html_page, one, store_profile, text_of

TESTER = audit.Actor("tester")


def make_list(app, name="Brief", profile_ids=(), description="") -> int:
    with app.app_context():
        made = lists.create_list(name, TESTER, description)
        if profile_ids:
            lists.add_members(made.id, list(profile_ids), TESTER)
        return made.id


def member(app, list_id: int, profile_id: int) -> ListMember | None:
    with app.app_context():
        found = db.session.get(ListMember, (list_id, profile_id))
        if found is not None:
            db.session.expunge(found)
        return found


def rows(page) -> dict[str, object]:
    """The members table's rows by username."""
    return {text_of(one(row, ".username")): row for row in page.select("#members tbody tr[id]")}


def test_the_nav_links_the_lists_for_every_role(client_as):
    page = html_page(client_as("viewer").get("/profiles"))
    assert one(page, 'nav a[href="/lists"]').get_text() == "Lists"


def test_the_lists_page_shows_each_list_with_its_member_count(app, client_as):
    first = store_profile(app, user_id="a", username="alpha")
    make_list(app, "Zoo", [first])
    make_list(app, "Alpha", description="Q1 brief")

    page = html_page(client_as("viewer").get("/lists"))

    names = [text_of(row.select_one("a")) for row in page.select("#lists tbody tr")]
    assert names == ["Alpha", "Zoo"]
    assert [text_of(cell) for cell in page.select("#lists .member-count")] == ["0", "1"]
    assert "Q1 brief" in text_of(one(page, "#lists"))
    assert page.select("#new-list") == [], "a viewer is not offered the form"


def test_an_analyst_makes_a_list_from_the_form(app, client_as):
    analyst = client_as("analyst", "ana")
    form = one(html_page(analyst.get("/lists")), "form#new-list")
    assert form["action"] == "/lists"

    response = analyst.post("/lists", data={"name": " Gaming ", "description": "TikTok"})

    assert response.status_code == 303
    with app.app_context():
        made = db.session.scalars(select(Shortlist)).one()
        assert (made.name, made.description, made.created_by) == ("Gaming", "TikTok", "ana")
    assert response.headers["Location"] == f"/lists/{made.id}"
    page = html_page(analyst.get(response.headers["Location"]))
    assert text_of(one(page, "#list-name")) == "Gaming"


def test_a_refused_list_shows_the_form_again_with_the_reason(app, client_as):
    analyst = client_as("analyst")
    make_list(app, "Taken")

    empty = html_page(analyst.post("/lists", data={"name": "  "}), 422)
    taken = html_page(analyst.post("/lists", data={"name": "Taken", "description": "d"}), 422)

    assert "must not be empty" in text_of(one(empty, "#new-list-name-error"))
    assert "exists already" in text_of(one(taken, "#new-list-name-error"))
    assert one(taken, "#new-list-name")["value"] == "Taken"
    assert text_of(one(taken, "#new-list-description")) == "d"
    with app.app_context():
        assert db.session.scalars(select(Shortlist.name)).all() == ["Taken"]


def test_a_list_page_shows_members_with_their_changes_since_added(app, client_as):
    pk = store_profile(app, user_id="a", username="alpha")
    add_snapshot(app, pk, datetime(2027, 1, 1, tzinfo=UTC), 1000, 0.02, Music=1.0)
    list_id = make_list(app, "Brief", [pk])
    add_snapshot(app, pk, datetime(2027, 2, 1, tzinfo=UTC), 1500, 0.01, Music=0.6, Gaming=0.8)

    page = html_page(client_as("viewer").get(f"/lists/{list_id}"))

    row = rows(page)["alpha"]
    assert text_of(one(row, ".followers")) == "1,500"
    assert text_of(one(row, ".followers-change")) == "+500 (+50.0 %)"
    assert text_of(one(row, ".engagement-change")) == "2.00 → 1.00 %"
    assert text_of(one(row, ".drift")) == "0.400"
    assert text_of(one(row, ".status")) == "candidate"
    edits = row.select("select, input:not([form=compare-form]), button")
    assert edits == [], "a viewer reads, edits nothing (and ticks members to compare)"


def test_status_and_tag_filters_narrow_the_members(app, client_as):
    first = store_profile(app, user_id="a", username="alpha")
    second = store_profile(app, user_id="b", username="beta")
    list_id = make_list(app, "Brief", [first, second])
    with app.app_context():
        lists.update_member(list_id, first, TESTER, status="contacted", tags=["vip"])
        lists.update_member(list_id, second, TESTER, tags=["vip", "late"])
    viewer = client_as("viewer")

    def shown(query: str) -> list[str]:
        return sorted(rows(html_page(viewer.get(f"/lists/{list_id}?{query}"))))

    assert shown("") == ["alpha", "beta"]
    assert shown("status=contacted") == ["alpha"]
    assert shown("tag=VIP") == ["alpha", "beta"]
    assert shown("tag=late") == ["beta"]
    assert shown("tag=late&status=contacted") == []
    page = html_page(viewer.get(f"/lists/{list_id}?status=contacted&tag=vip"))
    assert one(page, "#member-status option[selected]")["value"] == "contacted"
    assert "status=contacted" in one(page, "#export-csv")["href"]
    assert viewer.get(f"/lists/{list_id}?status=maybe").status_code == 400


def test_a_member_is_edited_in_its_row_with_htmx(app, client_as):
    pk = store_profile(app, user_id="a", username="alpha")
    list_id = make_list(app, "Brief", [pk])
    analyst = client_as("analyst", "ana")
    row = rows(html_page(analyst.get(f"/lists/{list_id}")))["alpha"]
    save = one(row, "button.save-member")
    assert save["hx-include"] == "closest tr" and save["hx-swap"] == "outerHTML"

    response = analyst.post(
        save["hx-post"],
        data={"status": "in talks", "tags": "VIP, gaming league ,vip", "note": "Replied"},
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200
    returned = html_page(response)
    assert one(returned, "tr")["id"] == f"member-{pk}"
    assert one(returned, "select[name=status] option[selected]")["value"] == "in talks"
    assert one(returned, "input[name=tags]")["value"] == "vip, gaming league"
    stored = member(app, list_id, pk)
    assert stored.status == "in talks" and stored.note == "Replied"
    assert stored.tags == ["vip", "gaming league"]
    with app.app_context():
        assert (
            db.session.scalar(
                select(AuditEvent.actor).where(AuditEvent.action == "list-member-updated")
            )
            == "ana"
        )


def test_a_refused_edit_says_why_in_the_row_and_changes_nothing(app, client_as):
    pk = store_profile(app, user_id="a", username="alpha")
    list_id = make_list(app, "Brief", [pk])

    response = client_as("analyst").post(
        f"/lists/{list_id}/members/{pk}",
        data={"status": "agreed", "tags": "x" * 40, "note": ""},
        headers={"HX-Request": "true"},
    )

    assert "at most 32 characters" in text_of(one(html_page(response), ".error"))
    assert member(app, list_id, pk).status == "candidate"


def test_a_plain_form_edit_goes_back_to_the_list_and_keeps_what_it_leaves_out(app, client_as):
    pk = store_profile(app, user_id="a", username="alpha")
    list_id = make_list(app, "Brief", [pk])
    with app.app_context():
        lists.update_member(list_id, pk, TESTER, note="keep", tags=["kept"])

    response = client_as("analyst").post(
        f"/lists/{list_id}/members/{pk}", data={"status": "agreed"}
    )

    assert response.status_code == 303
    assert response.headers["Location"] == f"/lists/{list_id}"
    stored = member(app, list_id, pk)
    assert (stored.status, stored.note, stored.tags) == ("agreed", "keep", ["kept"])


def test_the_members_export_as_csv_and_json_with_the_filters(app, client_as):
    first = store_profile(app, user_id="a", username="alpha")
    second = store_profile(app, user_id="b", username="=beta")
    list_id = make_list(app, "Brief", [first, second])
    with app.app_context():
        lists.update_member(list_id, first, TESTER, status="agreed", tags=["vip", "q1"])
    viewer = client_as("viewer", "vic")

    exported = viewer.get(f"/lists/{list_id}/export?format=csv")
    agreed = viewer.get(f"/lists/{list_id}/export?format=json&status=agreed")

    assert exported.mimetype == "text/csv"
    assert "attachment" in exported.headers["Content-Disposition"]
    table = list(csv.DictReader(io.StringIO(exported.text)))
    assert [line["username"] for line in table] == ["alpha", "'=beta"]
    assert table[0]["tags"] == "vip, q1" and table[0]["status"] == "agreed"
    assert table[0]["followers_count"] == "1500" and table[0]["followers_change"] == "0"
    assert agreed.mimetype == "application/json"
    assert [item["profile_id"] for item in agreed.get_json()] == [first]
    assert viewer.get(f"/lists/{list_id}/export?format=xml").status_code == 400
    with app.app_context():
        targets = db.session.scalars(
            select(AuditEvent.target).where(
                AuditEvent.action == "export", AuditEvent.actor == "vic"
            )
        ).all()
    assert targets == [f"list {list_id} as csv", f"list {list_id} as json"]


def test_an_analyst_removes_a_member_and_deletes_a_list(app, client_as):
    first = store_profile(app, user_id="a", username="alpha")
    second = store_profile(app, user_id="b", username="beta")
    list_id = make_list(app, "Brief", [first, second])
    analyst = client_as("analyst")
    page = html_page(analyst.get(f"/lists/{list_id}"))
    remove = one(rows(page)["alpha"], "form.remove-member")["action"]

    assert analyst.post(remove).status_code == 303
    assert member(app, list_id, first) is None
    assert sorted(rows(html_page(analyst.get(f"/lists/{list_id}")))) == ["beta"]

    deleted = analyst.post(one(page, "form#delete-list")["action"])
    assert deleted.status_code == 303 and deleted.headers["Location"] == "/lists"
    assert analyst.get(f"/lists/{list_id}").status_code == 404
    assert member(app, list_id, second) is None


def test_a_viewer_may_not_change_a_list(app, client_as):
    pk = store_profile(app, user_id="a", username="alpha")
    list_id = make_list(app, "Brief", [pk])
    viewer = client_as("viewer")

    refused = [
        viewer.post("/lists", data={"name": "Mine"}),
        viewer.post(f"/lists/{list_id}/members/{pk}", data={"status": "agreed"}),
        viewer.post(f"/lists/{list_id}/members/{pk}/remove"),
        viewer.post(f"/lists/{list_id}/delete"),
        viewer.post("/lists/add", data={"list_id": list_id, "profile_id": pk}),
    ]

    assert [response.status_code for response in refused] == [403] * 5
    assert member(app, list_id, pk).status == "candidate"
    with app.app_context():
        assert db.session.scalars(select(Shortlist.name)).all() == ["Brief"]


def test_a_profile_is_added_to_a_list_from_its_page(app, client_as):
    pk = store_profile(app, user_id="a", username="alpha")
    on = make_list(app, "Already", [pk])
    target = make_list(app, "Target")
    analyst = client_as("analyst")
    page = html_page(analyst.get(f"/profiles/{pk}"))
    form = one(page, "form#add-to-list")
    choices = [option["value"] for option in form.select("select[name=list_id] option")]
    assert choices == [str(target)], "only the lists the profile is not on yet"
    assert [a["href"] for a in page.select("#on-lists a")] == [f"/lists/{on}"]

    response = analyst.post(
        form["action"], data={"list_id": target, "profile_id": pk, "back": "profile"}
    )

    assert response.status_code == 303 and response.headers["Location"] == f"/profiles/{pk}"
    assert member(app, target, pk).status == "candidate"
    again = html_page(analyst.get(f"/profiles/{pk}"))
    assert again.select("form#add-to-list") == []
    assert len(again.select("#on-lists a")) == 2
    viewer_page = html_page(client_as("viewer").get(f"/profiles/{pk}"))
    assert viewer_page.select("form#add-to-list") == []


def test_adding_an_unknown_profile_from_a_form_is_refused(app, client_as):
    list_id = make_list(app, "Brief")

    response = client_as("analyst").post("/lists/add", data={"list_id": list_id, "profile_id": 999})

    assert response.status_code == 400
    with app.app_context():
        assert db.session.scalars(select(ListMember)).all() == []


def test_an_analyst_renames_and_describes_a_list_from_its_page(app, client_as):
    list_id = make_list(app, "Brief", description="Old")
    make_list(app, "Taken")
    analyst = client_as("analyst", "ana")
    form = one(html_page(analyst.get(f"/lists/{list_id}")), "form#edit-list-form")
    assert one(form, "#edit-list-name")["value"] == "Brief"
    assert text_of(one(form, "#edit-list-description")) == "Old"

    saved = analyst.post(form["action"], data={"name": "Gaming", "description": "New"})
    taken = html_page(analyst.post(form["action"], data={"name": "Taken", "description": ""}), 422)

    assert saved.status_code == 303 and saved.headers["Location"] == f"/lists/{list_id}"
    assert "exists already" in text_of(one(taken, "#edit-list-name-error"))
    assert one(taken, "#edit-list-name")["value"] == "Taken"
    with app.app_context():
        found = lists.get_list(list_id)
        assert (found.name, found.description) == ("Gaming", "New")
    viewer_page = html_page(client_as("viewer").get(f"/lists/{list_id}"))
    assert viewer_page.select("#edit-list-form") == []


def test_the_profiles_table_s_selection_is_added_to_a_list_with_htmx(app, client_as):
    first = store_profile(app, user_id="a", username="alpha")
    second = store_profile(app, user_id="b", username="beta")
    list_id = make_list(app, "Brief", [second])
    analyst = client_as("analyst")
    page = html_page(analyst.get("/profiles"))
    button = one(page, "#bulk-add-button")
    assert [o["value"] for o in page.select("#bulk-list option")] == [str(list_id)]
    assert button["hx-include"] == "#bulk-list, #profiles-table input[name=ids]:checked"
    ticked = {text_of(one(row, "a")): row for row in page.select("#profiles-table tbody tr")}
    assert one(ticked["alpha"], "input[name=ids]")["value"] == str(first)

    response = analyst.post(
        button["hx-post"],
        data={"list_id": list_id, "ids": [first, second]},
        headers={"HX-Request": "true"},
    )
    refused = analyst.post(
        button["hx-post"], data={"list_id": list_id, "ids": [999]}, headers={"HX-Request": "true"}
    )
    nothing = analyst.post(
        button["hx-post"], data={"list_id": list_id}, headers={"HX-Request": "true"}
    )

    assert text_of(one(html_page(response), "#list-added")).startswith(
        "Added 1 to Brief; 1 on it already."
    )
    assert "999" in text_of(one(html_page(refused), "#list-added.error"))
    assert "Tick the profiles" in text_of(one(html_page(nothing), "#list-added.error"))
    with app.app_context():
        assert {m["profile_id"] for m in lists.members(list_id)} == {first, second}
    assert html_page(client_as("viewer").get("/profiles")).select("#bulk-add") == []


# --- the table features of /profiles ----------------------------------------------------------


def _five(app) -> tuple[int, list[int]]:
    """A list of five profiles added in order, followers 100 to 500; the last two 'vip'."""
    ids = [
        store_profile(app, user_id=f"u{n}", username=f"member_{n}", followers_count=n * 100)
        for n in range(1, 6)
    ]
    list_id = make_list(app, "Brief", ids)
    with app.app_context():
        for pk in ids[3:]:
            lists.update_member(list_id, pk, TESTER, tags=["vip"])
    return list_id, ids


def _shown(page) -> list[str]:
    return [text_of(one(row, ".username")) for row in page.select("#members tbody tr[id]")]


def test_the_column_headers_sort_the_members_and_say_how(app, client_as):
    list_id, _ = _five(app)
    viewer = client_as("viewer")
    page = html_page(viewer.get(f"/lists/{list_id}"))
    links = {a["data-sort"]: a for a in page.select("#members thead a[data-sort]")}
    assert set(links) == set(lists.MEMBER_SORTS) - {"added"}, "when added is under the change"
    control = one(page, "select#member-sort[form=member-filters]")
    assert [option["value"] for option in control.select("option")] == list(lists.MEMBER_SORTS)
    assert control["hx-include"] == "#member-filters"
    assert links["followers"]["hx-get"] == links["followers"]["href"]
    assert links["followers"]["hx-push-url"] == "true"

    by_followers = html_page(viewer.get(links["followers"]["href"]))
    header = one(by_followers, "#members th[aria-sort]")
    again = one(by_followers, "#members thead a[data-sort=followers]")["href"]

    assert "sort=followers" in links["followers"]["href"]
    assert _shown(by_followers) == [f"member_{n}" for n in (5, 4, 3, 2, 1)]
    assert header["aria-sort"] == "descending" and "Followers" in text_of(header)
    assert _shown(html_page(viewer.get(again))) == [f"member_{n}" for n in range(1, 6)]
    kept = one(by_followers, "select[name=sort][form=member-filters] option[selected]")
    assert kept["value"] == "followers", "a filter change keeps the sort"
    assert one(by_followers, "#member-order option[selected]")["value"] == "desc"


def test_htmx_gets_the_table_alone_and_the_address_keeps_every_choice(app, client_as):
    list_id, _ = _five(app)
    viewer = client_as("viewer")
    page = html_page(viewer.get(f"/lists/{list_id}"))
    form = one(page, "form#member-filters")
    assert form["hx-get"] == f"/lists/{list_id}" and form["hx-push-url"] == "true"
    assert form["hx-target"] == "#members-table"
    assert {field["name"] for field in form.select("[name]")} == {"q", "platform", "status", "tag"}

    response = viewer.get(
        f"/lists/{list_id}?tag=vip&sort=followers&order=asc&per_page=1",
        headers={"HX-Request": "true"},
    )

    assert "HX-Request" in response.headers["Vary"]
    part = html_page(response)
    assert part.select("html, #member-filters, h1") == []
    assert _shown(part) == ["member_4"]
    assert text_of(one(part, "#member-total")) == "2 of 5 members"
    following = one(part, 'nav.pagination a[rel="next"]')
    assert following["hx-push-url"] == "true"
    assert parse_qs(urlsplit(following["href"]).query) == {
        "tag": ["vip"],
        "sort": ["followers"],
        "order": ["asc"],
        "per_page": ["1"],
        "page": ["2"],
    }
    second = html_page(viewer.get(following["href"]))
    assert _shown(second) == ["member_5"]
    assert "Page 2 of 2" in text_of(one(second, "nav.pagination"))


def test_search_and_platform_narrow_the_members(app, client_as):
    list_id, ids = _five(app)
    with app.app_context():
        other = onboarding.submit_payload(
            "instagram", make_payload(user_id="g1", username="gram_star")
        ).profile_id
        lists.add_members(list_id, [other], TESTER)
    viewer = client_as("viewer")

    def shown(query: str) -> list[str]:
        return sorted(_shown(html_page(viewer.get(f"/lists/{list_id}?{query}"))))

    assert shown("q=MEMBER_2") == ["member_2"]
    assert shown("q=star") == ["gram_star"]
    assert shown("platform=instagram") == ["gram_star"]
    assert shown("platform=tiktok&tag=vip") == ["member_4", "member_5"]
    empty = html_page(viewer.get(f"/lists/{list_id}?q=nobody"))
    assert "No member matches" in text_of(one(empty, "#members .empty"))
    assert viewer.get(f"/lists/{list_id}?sort=nope").status_code == 400
    assert viewer.get(f"/lists/{list_id}?platform=myspace").status_code == 400


def test_the_export_takes_the_search_filters_and_sort_of_the_page(app, client_as):
    list_id, _ = _five(app)
    viewer = client_as("viewer")
    page = html_page(viewer.get(f"/lists/{list_id}?tag=vip&sort=followers&per_page=1"))
    href = one(page, "#export-json")["href"]
    assert "per_page" not in href, "the file holds every page"

    exported = viewer.get(href).get_json()

    assert [item["username"] for item in exported] == ["member_5", "member_4"]


def test_ticked_members_go_to_compare_and_every_role_may_tick(app, client_as):
    list_id, ids = _five(app)
    for role in ("viewer", "analyst"):
        page = html_page(client_as(role).get(f"/lists/{list_id}"))
        form = one(page, "form#compare-form")
        assert form["action"] == "/compare" and form["method"] == "get"
        assert (form["data-min"], form["data-max"]) == ("2", "4")
        ticks = page.select("#members tbody input[type=checkbox][name=ids][form=compare-form]")
        assert [int(tick["value"]) for tick in ticks] == ids

    compared = client_as("viewer").get(f"/compare?ids={ids[0]}&ids={ids[1]}")
    assert compared.status_code == 200
    assert "Compare 2 profiles" in text_of(one(html_page(compared), "h1"))


def test_a_page_past_the_end_offers_the_last(app, client_as):
    list_id, _ = _five(app)
    page = html_page(client_as("viewer").get(f"/lists/{list_id}?per_page=2&page=9"))
    last = one(page, "#members .empty a")
    assert "Page 9 is past the end" in text_of(one(page, "#members .empty"))
    assert parse_qs(urlsplit(last["href"]).query)["page"] == ["3"]
