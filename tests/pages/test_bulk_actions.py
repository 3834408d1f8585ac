"""Bulk actions on the profiles table's selection (issue 12, part 5): what each role is offered,
the selection page that works without a script, exporting the selection with the table
export's columns, re-syncing it as one job, and deleting it after a confirmation that states
the count, all in one transaction and audited."""

import csv
import io
import json

import pytest
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import AuditEvent, Job, Profile
from webapp.services.catalogue import profiles as profile_service
from webapp.services.jobs import queue
from webapp.views import pages
from webapp.views.pages import BULK_MAX

from ..helpers import html_page, one, store_profile, text_of

BULK_FORMS = ("#bulk-export-form", "#bulk-resync-form", "#bulk-delete-form")


def three_profiles(app) -> list[int]:
    return [store_profile(app, user_id=name, username=name) for name in ("ann", "bob", "cat")]


def stored_ids(app) -> set[int]:
    with app.app_context():
        return set(db.session.scalars(select(Profile.id)))


def audit_events(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        found = db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()
        db.session.expunge_all()
        return list(found)


def form_ids(form) -> list[str]:
    return [field["value"] for field in form.select("input[name=ids]")]


# --- what the table offers ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "offered"),
    [
        ("viewer", ["#bulk-export-form"]),
        ("analyst", ["#bulk-export-form", "#bulk-resync-form"]),
        ("admin", list(BULK_FORMS)),
    ],
)
def test_the_table_offers_each_role_only_the_bulk_actions_it_may_use(app, client_as, role, offered):
    three_profiles(app)
    page = html_page(client_as(role).get("/profiles"))
    bar = one(page, "#selection-bar")

    assert bar.has_attr("hidden"), "shown by the script, which keeps the selection"
    assert text_of(one(bar, "#selection-count")) == "0 selected"
    assert [f"#{form['id']}" for form in bar.select("form")] == offered
    for form in bar.select("form"):
        assert form["method"] == "post"
        assert form.has_attr("data-selection")
        assert form_ids(form) == [], "the script puts the whole selection in"
        assert one(form, "input[name=csrf_token]")["value"]


def test_without_a_script_the_ticked_rows_go_to_the_selection_page(app, client):
    first, second, _ = three_profiles(app)
    page = html_page(client.get("/profiles"))
    button = one(page, "form#compare-form noscript #selected-button")

    # What the compare form sends when two rows are ticked and this button pressed.
    doc = html_page(client.get(button["formaction"], query_string={"ids": [first, second]}))

    assert text_of(one(doc, "h1")) == "2 selected profiles"
    assert [text_of(a) for a in doc.select("#selected-profiles a")] == ["ann", "bob"]
    for selector in BULK_FORMS:
        assert form_ids(one(doc, selector)) == [str(first), str(second)]


@pytest.mark.parametrize(
    ("query", "said"),
    [
        ("ids=", "No profile is selected"),
        ("ids=1,x", "whole numbers, not 'x'"),
        ("ids=999998,999999", "No profiles with ids 999998, 999999"),
    ],
)
def test_the_selection_page_says_what_is_wrong_with_the_ids(app, client, query, said):
    three_profiles(app)
    doc = html_page(client.get(f"/profiles/selected?{query}"), 400)
    assert said in doc.get_text()


# --- export ------------------------------------------------------------------------------------


def test_the_selection_exports_as_csv_with_the_table_export_s_columns(app, client):
    first, _, third = three_profiles(app)

    response = client.post("/profiles/bulk/export?format=csv", data={"ids": [third, first]})
    whole = client.get("/api/v1/profiles/export?format=csv")

    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    table_rows = list(csv.reader(io.StringIO(whole.get_data(as_text=True))))
    assert rows[0] == table_rows[0]
    by_id = {row[0]: row for row in table_rows[1:]}
    assert rows[1:] == [by_id[str(third)], by_id[str(first)]], "the chosen, in their order"
    targets = [event.target for event in audit_events(app, "export")]
    assert targets == ["2 selected profiles as csv", "profiles as csv"]


def test_the_selection_exports_as_json_as_the_table_export_has_it(app, client):
    first, second, _ = three_profiles(app)

    response = client.post("/profiles/bulk/export?format=json", data={"ids": f"{first},{second}"})
    whole = client.get("/api/v1/profiles/export?format=json").get_json()

    assert response.mimetype == "application/json"
    by_id = {item["id"]: item for item in whole}
    assert json.loads(response.get_data()) == [by_id[first], by_id[second]]


@pytest.mark.parametrize(
    ("form", "status", "said"),
    [
        ({}, 400, "No profile is selected"),
        ({"ids": "1,two"}, 400, "not 'two'"),
        ({"ids": " ".join(str(n) for n in range(1, BULK_MAX + 2))}, 400, "At most 1,000"),
    ],
)
def test_an_export_of_no_bad_or_too_many_ids_is_refused(app, client, form, status, said):
    three_profiles(app)
    response = client.post("/profiles/bulk/export?format=csv", data=form)
    assert said in html_page(response, status).get_text()
    assert audit_events(app, "export") == []


def test_an_export_naming_an_unknown_profile_names_it_and_exports_nothing(app, client):
    first, _, _ = three_profiles(app)
    response = client.post("/profiles/bulk/export?format=json", data={"ids": [first, 999999]})
    assert "No profile with id 999999" in html_page(response, 400).get_text()


def test_as_many_ids_as_the_bound_allows_export(app, client):
    """The bound counts distinct ids: a thousand are taken, ticked twice or not."""
    first, _, _ = three_profiles(app)
    response = client.post("/profiles/bulk/export?format=json", data={"ids": [first] * 1500})
    assert [item["id"] for item in response.get_json()] == [first]


# --- re-sync -----------------------------------------------------------------------------------


def test_an_analyst_re_syncs_the_selection_as_one_job(app, client_as):
    ids = three_profiles(app)
    analyst = client_as("analyst")

    response = analyst.post("/profiles/bulk/resync", data={"ids": [ids[2], ids[0]]})

    with app.app_context():
        [job] = db.session.scalars(select(Job)).all()
        kind, params = job.kind, job.params
    assert response.status_code == 303
    assert response.headers["Location"] == f"/jobs/{job.id}"
    assert (kind, params) == ("resync", {"profile_ids": [ids[2], ids[0]]})
    page = html_page(analyst.get(response.headers["Location"]))
    assert f"Re-syncing 2 profiles: job {job.id}." in text_of(one(page, ".flash.success"))


def test_a_re_sync_naming_unknown_profiles_names_them_and_starts_nothing(app, client_as):
    first, _, _ = three_profiles(app)
    response = client_as("analyst").post(
        "/profiles/bulk/resync", data={"ids": [first, 999998, 999999]}
    )
    assert "No profiles with ids 999998, 999999" in html_page(response, 400).get_text()
    with app.app_context():
        assert db.session.scalars(select(Job)).all() == []


def test_a_viewer_may_not_re_sync_a_selection(app, client_as):
    ids = three_profiles(app)
    response = client_as("viewer").post("/profiles/bulk/resync", data={"ids": ids})
    assert response.status_code == 403
    with app.app_context():
        assert db.session.scalars(select(Job)).all() == []


# --- delete ------------------------------------------------------------------------------------


def test_delete_asks_first_stating_the_count_and_naming_each(app, client):
    ids = three_profiles(app)

    page = html_page(client.post("/profiles/bulk/delete", data={"ids": ids}))

    assert text_of(one(page, "h1")) == "Delete 3 profiles?"
    assert [text_of(a) for a in page.select("#delete-profiles a")] == ["ann", "bob", "cat"]
    form = one(page, "form#bulk-delete-confirm")
    assert form_ids(form) == [str(pk) for pk in ids]
    assert one(form, "input[name=confirm]")["value"] == "yes"
    assert text_of(one(form, "button")) == "Delete 3 profiles"
    assert stored_ids(app) == set(ids), "asking deletes nothing"


def test_a_confirmed_delete_removes_them_all_audits_each_and_returns_to_the_table(app, client):
    ids = three_profiles(app)
    confirm = one(
        html_page(client.post("/profiles/bulk/delete", data={"ids": ids[:2]})),
        "form#bulk-delete-confirm",
    )
    fields = {"confirm": "yes", "ids": form_ids(confirm)}

    response = client.post(confirm["action"], data=fields)

    assert response.status_code == 303
    assert response.headers["Location"] == "/profiles"
    assert stored_ids(app) == {ids[2]}
    details = sorted(event.detail for event in audit_events(app, "delete"))
    assert details == [f"profile {ids[0]} (ann)", f"profile {ids[1]} (bob)"]
    table = html_page(client.get("/profiles"))
    assert text_of(one(table, ".flash.success")) == "Deleted 2 profiles."
    assert [text_of(one(row, "td a")) for row in table.select("#profiles tbody tr")] == ["cat"]


def test_a_delete_naming_an_unknown_profile_deletes_none(app, client):
    ids = three_profiles(app)
    response = client.post("/profiles/bulk/delete", data={"ids": [*ids, 999999], "confirm": "yes"})
    assert "No profile with id 999999" in html_page(response, 400).get_text()
    assert stored_ids(app) == set(ids)
    assert audit_events(app, "delete") == []


def test_a_delete_that_fails_part_way_leaves_every_profile(app, client, monkeypatch):
    ids = three_profiles(app)
    done = []
    real = profile_service._delete_locked

    def fail_on_the_third(profile_id, found, actor):
        if len(done) == 2:
            raise RuntimeError("the database went away")
        done.append(profile_id)
        return real(profile_id, found, actor)

    monkeypatch.setattr(profile_service, "_delete_locked", fail_on_the_third)
    client.application.config["PROPAGATE_EXCEPTIONS"] = False

    response = client.post("/profiles/bulk/delete", data={"ids": ids, "confirm": "yes"})

    assert response.status_code == 500
    assert len(done) == 2, "two were deleted in the transaction before it failed"
    assert stored_ids(app) == set(ids)
    assert audit_events(app, "delete") == []


@pytest.mark.parametrize("role", ["viewer", "analyst"])
@pytest.mark.parametrize("confirm", ["", "yes"])
def test_only_an_admin_may_delete_a_selection(app, client_as, role, confirm):
    ids = three_profiles(app)
    response = client_as(role).post("/profiles/bulk/delete", data={"ids": ids, "confirm": confirm})
    assert response.status_code == 403
    assert stored_ids(app) == set(ids)


def _sync_counts(client, ids) -> list[int]:
    return [client.get(f"/api/v1/profiles/{pk}").get_json()["sync_count"] for pk in ids]


def test_a_re_sync_the_queue_does_not_take_runs_in_the_request(app, client_as, monkeypatch):
    ids = three_profiles(app)

    def refuse(self, job_id):
        raise ConnectionError("the queue is down")

    monkeypatch.setattr(queue.JobQueue, "enqueue", refuse)
    analyst = client_as("analyst")
    before = _sync_counts(analyst, ids)

    response = analyst.post("/profiles/bulk/resync", data={"ids": ids})

    assert response.status_code == 303
    assert response.headers["Location"] == "/profiles"
    flashed = text_of(one(html_page(analyst.get("/profiles")), ".flash.success"))
    assert "The job queue is not answering: re-synced 3 profiles now." in flashed
    assert _sync_counts(analyst, ids) == [count + 1 for count in before]
    with app.app_context():
        assert [job.status for job in db.session.scalars(select(Job))] == ["failed"]


def test_too_many_for_one_request_without_the_queue_says_so_and_re_syncs_none(
    app, client_as, monkeypatch
):
    ids = three_profiles(app)

    def refuse(self, job_id):
        raise ConnectionError("the queue is down")

    monkeypatch.setattr(queue.JobQueue, "enqueue", refuse)
    monkeypatch.setattr(pages, "INLINE_RESYNC_MAX", 2)
    analyst = client_as("analyst")
    before = _sync_counts(analyst, ids)

    response = analyst.post("/profiles/bulk/resync", data={"ids": ids})

    assert response.headers["Location"] == "/profiles"
    flashed = text_of(one(html_page(analyst.get("/profiles")), ".flash.error"))
    assert "did not take the job: the queue is down" in flashed
    assert "at most 2 profiles are re-synced at once" in flashed
    assert _sync_counts(analyst, ids) == before
