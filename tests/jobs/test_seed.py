"""Demo seeding as a job: accounts stored a batch at a time with their weekly history, the
run fixed when the job starts, a batch never stored twice when the job is taken up again,
and the job started from the API, the command line and a real worker."""

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models import Profile, ProfileSnapshot, utcnow
from webapp.services import jobs
from webapp.services.accounts import audit
from webapp.services.jobs import queue, runner, seed

from ..helpers import assert_problem
from .conftest import finished, read_job, run_in_process, wait_for
from .test_runner import Killed, set_job

JOBS = "/api/v1/jobs"


def start_seed(app, **params) -> int:
    requester = jobs.Requester(audit.Actor("admin", via="test"), admin=True)
    with app.app_context():
        return jobs.start_job("seed", params, requester).id


def snapshots_per_profile(app) -> Counter:
    """How many profiles have 1, 2, ... snapshots."""
    with app.app_context():
        per_profile = db.session.execute(
            select(ProfileSnapshot.profile_id, func.count()).group_by(ProfileSnapshot.profile_id)
        ).all()
        return Counter(n for _pk, n in per_profile)


def profile_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Profile))


def test_a_seed_job_stores_demo_accounts_a_batch_at_a_time_with_weekly_history(app, monkeypatch):
    monkeypatch.setattr(seed, "BATCH", 10)
    job_id = start_seed(app, count=25, weeks=2)
    queued = read_job(app, job_id)
    # 3 batches (10, 10, 5) for each of 3 weeks, oldest first, then the ranking.
    assert queued.total == 10
    assert {"seed", "as_of", "min_likes"} <= set(queued.params), "the run is fixed at start"

    run_in_process(app, job_id)

    job = read_job(app, job_id)
    assert (job.status, job.done) == ("done", 10)
    counts = job.result["counts"]
    stored = profile_count(app)
    assert stored > 0 and counts["created"] == stored
    assert counts["created"] + counts.get("updated", 0) + counts.get("rejected", 0) == 3 * 25
    assert "profiles in their band's top 1 %" in counts
    # Stored from the first week: a snapshot a week; an account that passed the likes minimum
    # only later has fewer.
    per_profile = snapshots_per_profile(app)
    assert max(per_profile) == 3 and set(per_profile) <= {1, 2, 3}
    with app.app_context():
        as_of = max(db.session.scalars(select(ProfileSnapshot.taken_at)))
        first = min(db.session.scalars(select(ProfileSnapshot.taken_at)))
    assert as_of - first == timedelta(weeks=2)


def test_a_seed_job_taken_up_again_after_its_worker_died_stores_no_account_twice(app, monkeypatch):
    """The worker dies after the second batch is written and marked, before the commit: that
    batch is undone with its mark and stored once by the run that takes the job over, the
    same accounts as the run fixed them."""
    monkeypatch.setattr(seed, "BATCH", 10)
    job_id = start_seed(app, count=30, weeks=0)
    with app.app_context():
        queue.current().huey.flush()  # the worker took the job's message
    real_stage = runner._Run._stage

    def die_after_marking_the_second_batch(run, session, done):
        real_stage(run, session, done)
        if run.done == 1:
            raise Killed

    monkeypatch.setattr(runner._Run, "_stage", die_after_marking_the_second_batch)
    with pytest.raises(Killed):
        run_in_process(app, job_id)
    dead = read_job(app, job_id)
    assert (dead.status, dead.done) == ("running", 1)
    after_first_batch = profile_count(app)
    assert 0 < after_first_batch <= 10

    monkeypatch.setattr(runner._Run, "_stage", real_stage)
    set_job(app, job_id, heartbeat_at=utcnow() - timedelta(seconds=61))
    with app.app_context():
        assert runner.recover_jobs(queue.current()) == [job_id]
    run_in_process(app, job_id)

    job = read_job(app, job_id)
    assert (job.status, job.done, job.runs) == ("done", 4, 2)
    counts = job.result["counts"]
    assert counts["created"] + counts.get("rejected", 0) == 30, "each account once"
    assert "updated" not in counts, "no batch was stored twice"
    assert profile_count(app) == counts["created"]
    assert set(snapshots_per_profile(app)) == {1}


@pytest.mark.parametrize(
    "params, loc",
    [
        ({"count": 0}, "params.count"),
        ({"count": 100_001}, "params.count"),
        ({"count": "5"}, "params.count"),
        ({"weeks": 53}, "params.weeks"),
        ({"platform": "myspace"}, "params.platform"),
    ],
)
def test_a_seed_job_with_bad_parameters_is_a_422_naming_the_field(client, params, loc):
    response = client.post(JOBS, json={"kind": "seed", "params": params})

    assert_problem(response, 422, loc)


def test_a_seed_job_from_the_api_takes_defaults(app, client):
    response = client.post(JOBS, json={"kind": "seed"})

    assert response.status_code == 202, response.text
    job = response.get_json()
    assert job["kind"] == "seed" and job["progress"] == {"done": 0, "total": 2}
    params = read_job(app, job["id"]).params
    assert (params["count"], params["weeks"], params["platform"]) == (200, 0, None)


def test_a_seed_job_from_the_command_line(app, runner):
    result = runner.invoke(
        args=["jobs", "start", "seed", "--count", "12", "--weeks", "1", "--platform", "x"]
    )

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Started job 1: Seed demo accounts, 3 item(s).")
    run_in_process(app, 1)
    with app.app_context():
        assert set(db.session.scalars(select(Profile.platform))) == {"x"}
    assert runner.invoke(args=["jobs", "start", "seed", "--count", "0"]).exit_code == 2


@pytest.mark.parametrize("backend", ["sqlite", "redis"])
def test_a_worker_runs_a_seed_job_started_through_the_api(app, client, queue_at, worker, backend):
    env = queue_at(backend)
    response = client.post(JOBS, json={"kind": "seed", "params": {"count": 20, "weeks": 1}})
    assert response.status_code == 202, response.text
    job_id = response.get_json()["id"]
    process = worker(env)

    job = wait_for(app, job_id, finished, "finished", process)

    assert (job.status, job.done, job.total) == ("done", 3, 3)
    assert job.result["counts"]["created"] == profile_count(app) > 0
    assert max(snapshots_per_profile(app)) == 2
