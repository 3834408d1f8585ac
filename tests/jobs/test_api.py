"""The jobs API's contract: statuses, Location, the answer's shape, problems naming the field
at fault, pages of jobs, and who may start and cancel a job."""

import pytest
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import AuditEvent, Job
from webapp.services.jobs import queue

from ..helpers import assert_problem
from .conftest import read_job, run_in_process

JOBS = "/api/v1/jobs"


def resync(profile_ids) -> dict:
    return {"kind": "resync", "params": {"profile_ids": profile_ids}}


def post_job(client, profile_ids, **headers):
    return client.post(JOBS, json=resync(profile_ids), headers=headers)


def test_starting_a_job_answers_202_with_the_queued_job_and_its_location(app, client, three):
    response = post_job(client, three)

    assert response.status_code == 202
    job = response.get_json()
    assert response.headers["Location"] == f"{JOBS}/{job['id']}"
    assert job == {
        **job,
        "kind": "resync",
        "label": "Re-sync profiles",
        "status": "queued",
        "params": {"profile_ids": three},
        "progress": {"done": 0, "total": 3},
        "result": {"counts": {}, "problems": []},
        "error": None,
        "runs": 0,
        "started_at": None,
        "finished_at": None,
    }
    assert job["started_by"]["name"] == "admin" and job["started_by"]["id"] >= 1
    assert client.get(response.headers["Location"]).get_json() == job
    with app.app_context():
        assert queue.current().waiting() == {job["id"]}, "the job's id is on the queue"
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "job-started"))
        assert [(e.actor, e.target, e.via) for e in event] == [("admin", f"job {job['id']}", "api")]


def test_the_answer_follows_the_job_as_it_runs(app, client, three):
    job_id = post_job(client, three).get_json()["id"]

    run_in_process(app, job_id)

    job = client.get(f"{JOBS}/{job_id}").get_json()
    assert job["status"] == "done" and job["progress"] == {"done": 3, "total": 3}
    assert job["result"]["counts"] == {"updated": 3}
    assert job["runs"] == 1 and job["started_at"] and job["finished_at"]


@pytest.mark.parametrize(
    "body, loc, words",
    [
        ({}, "kind", "is required"),
        ({**resync([1]), "kind": "nope"}, "kind", "must be one of resync, connect, not 'nope'"),
        ({"kind": 7}, "kind", "must be one of resync"),
        ({"kind": "resync"}, "params", "is required"),
        ({"kind": "resync", "params": {}}, "params.profile_ids", "is required"),
        (resync([]), "params.profile_ids", "at least 1 item"),
        (resync("1,2"), "params.profile_ids", "valid list"),
        (resync([1, "2"]), "params.profile_ids[1]", "valid integer"),
        (resync([1, True]), "params.profile_ids[1]", "valid integer"),
        (resync([0]), "params.profile_ids[0]", "greater than or equal to 1"),
        (resync([1, 2, 1]), "params.profile_ids", "names profile 1 twice"),
        (resync(list(range(1, 10_002))), "params.profile_ids", "at most"),
    ],
)
def test_a_bad_body_is_a_422_naming_the_field(app, client, body, loc, words):
    response = client.post(JOBS, json=body)

    problem = assert_problem(response, 422, loc)
    assert words in problem["errors"][0]["msg"]
    with app.app_context():
        assert db.session.scalar(select(Job.id)) is None, "no job was recorded"


def test_profiles_that_are_not_stored_are_each_named(app, client, three):
    response = post_job(client, [three[0], 999, three[1], 1000])

    problem = assert_problem(response, 422, "params.profile_ids[1]", "params.profile_ids[3]")
    assert problem["errors"] == [
        {"loc": "params.profile_ids[1]", "msg": "no profile has id 999"},
        {"loc": "params.profile_ids[3]", "msg": "no profile has id 1000"},
    ]


@pytest.mark.parametrize(
    "send, status",
    [
        (lambda client: client.post(JOBS, data="kind=resync"), 415),
        (
            lambda client: client.post(
                JOBS, data="{not json", headers={"Content-Type": "application/json"}
            ),
            400,
        ),
        (lambda client: client.post(JOBS, json=[1, 2]), 422),
    ],
    ids=["form", "broken-json", "not-an-object"],
)
def test_a_body_that_is_not_a_json_object_is_refused(client, send, status):
    assert_problem(send(client), status)


def test_a_queue_that_does_not_answer_is_a_503_and_the_job_is_failed(app, client, three):
    app.config["TOKER_QUEUE_URL"] = "redis://127.0.0.1:9/0"  # nothing listens there

    response = post_job(client, three)

    assert_problem(response, 503)
    assert response.headers["Retry-After"] == "30"
    with app.app_context():
        (job,) = db.session.scalars(select(Job)).all()
        assert job.status == "failed" and job.error.startswith("not queued: ")


def test_jobs_are_listed_newest_first_in_pages(app, client, three):
    ids = [post_job(client, three[: n + 1]).get_json()["id"] for n in range(3)]
    run_in_process(app, ids[0])

    first = client.get(f"{JOBS}?per_page=2").get_json()
    second = client.get(f"{JOBS}?per_page=2&page=2").get_json()
    done = client.get(f"{JOBS}?status=done").get_json()

    assert [job["id"] for job in first["items"]] == ids[:0:-1]
    assert (first["page"], first["per_page"], first["total"]) == (1, 2, 3)
    assert [job["id"] for job in second["items"]] == ids[:1]
    assert [job["id"] for job in done["items"]] == ids[:1] and done["total"] == 1
    assert client.get(f"{JOBS}?per_page=1000").get_json()["per_page"] == 100


@pytest.mark.parametrize(
    "query, param",
    [
        ("status=finished", "status"),
        ("kind=seed", "kind"),
        ("page=0", "page"),
        ("per_page=x", "per_page"),
    ],
)
def test_a_bad_list_parameter_is_a_400_naming_it(client, query, param):
    assert_problem(client.get(f"{JOBS}?{query}"), 400, param)


@pytest.mark.parametrize("path", [f"{JOBS}/12345", f"{JOBS}/{2**40}"])
def test_an_unknown_job_is_a_404(client, path):
    assert_problem(client.get(path), 404)
    assert_problem(client.post(f"{path}/cancel"), 404)


# --- roles -----------------------------------------------------------------------------------


def test_a_viewer_reads_jobs_but_may_not_start_or_cancel_one(app, client, client_as, three):
    job_id = post_job(client, three).get_json()["id"]
    viewer = client_as("viewer")

    assert viewer.get(JOBS).status_code == 200
    assert viewer.get(f"{JOBS}/{job_id}").status_code == 200
    assert_problem(post_job(viewer, three), 403)
    assert_problem(viewer.post(f"{JOBS}/{job_id}/cancel"), 403)
    assert read_job(app, job_id).status == "queued"


def test_an_analyst_cancels_their_own_job_but_not_another_persons(app, client_as, three):
    alice, bob = client_as("analyst", "alice"), client_as("analyst", "bob")
    job_id = post_job(alice, three).get_json()["id"]

    refused = bob.post(f"{JOBS}/{job_id}/cancel")
    problem = assert_problem(refused, 403)
    assert "started by alice" in problem["detail"]
    assert read_job(app, job_id).status == "queued"

    cancelled = alice.post(f"{JOBS}/{job_id}/cancel")
    assert cancelled.status_code == 200
    assert cancelled.get_json()["status"] == "cancelled"
    assert cancelled.get_json()["finished_at"]


def test_an_admin_cancels_anyones_job_and_it_is_audited(app, client, client_as, three):
    job_id = post_job(client_as("analyst", "alice"), three).get_json()["id"]

    response = client.post(f"{JOBS}/{job_id}/cancel")

    assert response.status_code == 200
    job = read_job(app, job_id)
    assert job.status == "cancelled"
    with app.app_context():
        event = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "job-cancelled")
        ).one()
        assert (event.actor, event.target, event.detail) == (
            "admin",
            f"job {job_id}",
            "0 of 3 done",
        )


def test_a_finished_job_cannot_be_cancelled(app, client, three):
    job_id = post_job(client, three).get_json()["id"]
    run_in_process(app, job_id)

    problem = assert_problem(client.post(f"{JOBS}/{job_id}/cancel"), 409)

    assert "has ended (done)" in problem["detail"]
    assert read_job(app, job_id).status == "done"


def test_a_token_starts_jobs_with_its_users_role(anonymous, auth_headers, three):
    response = post_job(anonymous, three, **auth_headers)

    assert response.status_code == 202
    assert response.get_json()["started_by"]["name"] == "api-admin"
