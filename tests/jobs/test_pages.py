"""The /jobs pages: the list and a job's page, polling every second only while a job is queued
or runs, and cancelling from the page."""

from webapp.services.accounts import users

from ..helpers import html_page, one, parse, text_of
from .conftest import read_job, run_in_process, start


def polls(element) -> bool:
    return element.get("hx-trigger") == "every 1s"


def user_id(app, name: str) -> int:
    with app.app_context():
        return users.get_user(name).id


def test_the_navigation_links_the_jobs_page(client_as):
    page = html_page(client_as("viewer").get("/jobs"))

    link = one(page, 'nav a[aria-current="page"]')
    assert link["href"] == "/jobs" and text_of(link) == "Jobs"


def test_only_the_rows_of_jobs_still_running_poll(app, client, three):
    done, queued = start(app, three), start(app, three[:1])
    run_in_process(app, done)

    page = html_page(client.get("/jobs"))

    finished_row, waiting_row = one(page, f"#job-{done}"), one(page, f"#job-{queued}")
    assert not polls(finished_row) and finished_row["data-status"] == "done"
    assert polls(waiting_row) and waiting_row["hx-get"] == f"/jobs/{queued}/row"
    assert waiting_row["hx-swap"] == "outerHTML"
    assert one(finished_row, "progress")["value"] == "3"
    assert "3 updated" in text_of(finished_row)
    assert text_of(one(page, "#job-total")) == "2 jobs"


def test_a_polled_row_stops_polling_once_its_job_ends(app, client, three):
    job_id = start(app, three)
    before = parse(client.get(f"/jobs/{job_id}/row", headers={"HX-Request": "true"}))
    run_in_process(app, job_id)

    after = parse(client.get(f"/jobs/{job_id}/row", headers={"HX-Request": "true"}))

    assert polls(one(before, "tr")) and not polls(one(after, "tr"))
    assert one(after, "tr")["data-status"] == "done"
    assert text_of(one(after, ".job-count")) == "3 / 3"


def test_a_jobs_page_follows_it_while_it_runs_then_shows_how_it_went(app, client, three):
    job_id = start(app, three)
    page = html_page(client.get(f"/jobs/{job_id}"))
    progress = one(page, "#job-progress")
    assert polls(progress) and progress["hx-get"] == f"/jobs/{job_id}"
    assert "Waiting for a worker" in text_of(progress)
    assert [a["href"] for a in page.select("#job-profiles a")] == [
        f"/profiles/{pk}" for pk in three
    ]

    app.config["TOKER_MIN_LIKES"] = 10**9
    run_in_process(app, job_id)
    partial = client.get(f"/jobs/{job_id}", headers={"HX-Request": "true"})

    assert "HX-Request" in partial.headers["Vary"]
    fragment = parse(partial)
    assert fragment.select("html, nav") == [], "htmx gets the progress card alone"
    card = one(fragment, "#job-progress")
    assert not polls(card) and card["data-status"] == "done"
    assert text_of(one(card, "#job-count")) == "3 of 3 done"
    assert len(card.select("#job-problems tbody tr")) == 3
    assert card.select("#cancel-job") == [], "nothing left to cancel"


def test_the_cancel_button_shows_for_who_may_cancel(app, client_as, three):
    alice = client_as("analyst", "alice")
    job_id = start(app, three, name="alice", user_id=user_id(app, "alice"))

    assert one(html_page(alice.get(f"/jobs/{job_id}")), "#cancel-job")
    assert not html_page(client_as("analyst", "bob").get(f"/jobs/{job_id}")).select("#cancel-job")
    assert not html_page(client_as("viewer").get(f"/jobs/{job_id}")).select("#cancel-job")
    assert one(html_page(client_as("admin").get(f"/jobs/{job_id}")), "#cancel-job")


def test_cancelling_from_the_page(app, client, client_as, three):
    job_id = start(app, three)

    refused = client_as("analyst", "bob").post(f"/jobs/{job_id}/cancel")
    assert refused.status_code == 403
    assert read_job(app, job_id).status == "queued"

    response = client.post(f"/jobs/{job_id}/cancel")

    assert response.status_code == 303 and response.headers["Location"] == f"/jobs/{job_id}"
    assert read_job(app, job_id).status == "cancelled"
    page = html_page(client.get(f"/jobs/{job_id}"))
    assert "Job 1 cancelled after 0 of 3 items" in text_of(one(page, ".flash.success"))
    assert not polls(one(page, "#job-progress"))


def test_an_unknown_job_is_a_404_page(client):
    page = html_page(client.get("/jobs/999"), 404)

    assert one(page, "#error-page")["data-status"] == "404"
