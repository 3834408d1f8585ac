"""The "Connect many accounts" page: reached from /connect and /jobs by analysts only, pasted
lines or a CSV file checked whole with every bad line named in place and the text kept, and a
good list started as a job whose page follows it."""

import io

import pytest
from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models import Job

from ..helpers import html_page, one, text_of
from .conftest import read_job

PAGE = "/connect/many"


def job_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Job))


def csv_file(text: str | bytes, name: str = "accounts.csv") -> tuple:
    data = text.encode() if isinstance(text, str) else text
    return (io.BytesIO(data), name, "text/csv")


@pytest.mark.parametrize("path", ["/connect", "/jobs"])
def test_analysts_reach_the_form_from_connect_and_jobs(client_as, path):
    page = html_page(client_as("analyst").get(path))

    link = one(page, "#connect-many-link")
    assert link["href"] == PAGE and text_of(link) == "Connect many accounts"


def test_viewers_neither_see_the_link_nor_reach_the_form(app, client_as):
    viewer = client_as("viewer")

    assert html_page(viewer.get("/jobs")).select("#connect-many-link") == []
    assert viewer.get(PAGE).status_code == 403
    assert viewer.post(PAGE, data={"lines": "x,1"}).status_code == 403
    assert job_count(app) == 0


def test_the_form_takes_pasted_lines_or_a_csv_file(client_as):
    page = html_page(client_as("analyst").get(PAGE))

    form = one(page, "form#bulk-connect")
    assert form["method"] == "post" and form["action"] == PAGE
    assert form["enctype"] == "multipart/form-data"
    assert one(form, "textarea#lines")["name"] == "lines"
    assert one(form, "input#upload")["type"] == "file"
    assert text_of(one(page, "label[for=lines]")).startswith("Accounts, one a line")


def test_pasted_lines_start_a_job_and_lead_to_its_page(app, client_as):
    analyst = client_as("analyst", "alice")

    response = analyst.post(PAGE, data={"lines": "platform,user_id\n tiktok, 11\n\nx,12\n"})

    assert response.status_code == 303
    job_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert response.headers["Location"] == f"/jobs/{job_id}"
    job = read_job(app, job_id)
    assert (job.kind, job.status, job.total, job.started_by) == ("connect", "queued", 2, "alice")
    assert job.params == {
        "accounts": [{"platform": "tiktok", "user_id": "11"}, {"platform": "x", "user_id": "12"}]
    }
    page = html_page(analyst.get(response.headers["Location"]))
    assert f"Started job {job_id}: connecting 2 account(s)." in text_of(one(page, ".flash.success"))
    progress = one(page, "#job-progress")
    assert progress["hx-trigger"] == "every 1s", "the job page follows it while it runs"
    assert [text_of(tag) for tag in page.select("#job-accounts .tag")] == ["TikTok 11", "X 12"]


def test_bad_lines_are_named_in_place_with_the_text_kept_and_nothing_starts(app, client):
    text = "tiktok,1\ntiktk,2\ninstagram\n\ntiktok,1\n"

    page = html_page(client.post(PAGE, data={"lines": text}), 422)

    errors = one(page, "#lines-errors")
    assert [text_of(item) for item in errors.select("li")] == [
        "line 2: unknown platform 'tiktk'; choose one of tiktok, instagram, x",
        "line 3: user id missing",
        "line 5: repeats line 1",
    ]
    assert "3 lines to fix" in text_of(errors)
    textarea = one(page, "textarea#lines")
    # A browser drops the newline that follows <textarea>, never a line of the text.
    assert textarea.get_text() == "\n" + text and textarea["aria-invalid"] == "true"
    assert job_count(app) == 0


def test_nothing_pasted_is_refused(app, client):
    page = html_page(client.post(PAGE, data={"lines": "  \n"}), 422)

    assert text_of(one(page, "#lines-errors li")) == "no accounts: give lines of platform,user_id"
    assert job_count(app) == 0


def test_an_uploaded_csv_starts_a_job(app, client):
    upload = csv_file("\ufeffplatform,user_id\r\ninstagram,31\r\ntiktok,32\r\n")

    response = client.post(PAGE, data={"upload": upload}, content_type="multipart/form-data")

    assert response.status_code == 303
    job = read_job(app, int(response.headers["Location"].rsplit("/", 1)[1]))
    assert [(a["platform"], a["user_id"]) for a in job.params["accounts"]] == [
        ("instagram", "31"),
        ("tiktok", "32"),
    ]


def test_a_csv_with_bad_lines_comes_back_in_the_text_box_to_fix(app, client):
    upload = csv_file("platform,user_id\ninstagram,31\nmyspace,32\n")

    response = client.post(PAGE, data={"upload": upload}, content_type="multipart/form-data")

    page = html_page(response, 422)
    assert [text_of(item) for item in page.select("#lines-errors li")] == [
        "line 3: unknown platform 'myspace'; choose one of tiktok, instagram, x"
    ]
    kept = one(page, "textarea#lines").get_text()
    assert kept == "\nplatform,user_id\ninstagram,31\nmyspace,32\n"
    assert job_count(app) == 0


@pytest.mark.parametrize(
    "data, message",
    [
        ({"upload": csv_file(b"tiktok,1\n\xff")}, "the file is not UTF-8 text (byte 10)"),
        ({"upload": csv_file("x,1"), "lines": "x,2"}, "Paste lines or choose a file, not both."),
    ],
    ids=["not-utf8", "both"],
)
def test_a_file_that_cannot_be_used_is_named_at_the_file_field(app, client, data, message):
    response = client.post(PAGE, data=data, content_type="multipart/form-data")

    page = html_page(response, 422)
    assert text_of(one(page, "#upload-errors")) == message
    assert one(page, "#upload")["aria-invalid"] == "true"
    assert job_count(app) == 0
