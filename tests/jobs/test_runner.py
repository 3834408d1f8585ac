"""The runner in this process, without a consumer: items in order, outcomes and their reasons,
retries with backoff, cancellation, and each item done once however a run ends: killed in the
middle of an item's transaction, or overtaken by another worker."""

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from webapp.extensions import db
from webapp.models import AuditEvent, Job, Profile, utcnow
from webapp.services import jobs
from webapp.services.accounts import audit
from webapp.services.ingestion import onboarding
from webapp.services.jobs import queue, runner

from .conftest import read_job, run_in_process, start, versions


@pytest.fixture
def waits(monkeypatch) -> list[float]:
    """The runner's waits before trying an item again, recorded instead of slept."""
    recorded = []
    monkeypatch.setattr(runner, "sleep", recorded.append)
    return recorded


def set_job(app, job_id: int, **values) -> None:
    """Change the job's row from outside, as another process would."""
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(update(Job.__table__).where(Job.id == job_id).values(**values))


def test_a_job_resyncs_each_profile_once_and_says_how_each_went(app, three):
    job_id = start(app, three, name="alice")

    run_in_process(app, job_id)

    job = read_job(app, job_id)
    assert (job.status, job.done, job.total, job.runs) == ("done", 3, 3, 1)
    assert job.result == {"counts": {"updated": 3}, "problems": []}
    assert job.started_at and job.finished_at and job.claim is None and job.error is None
    assert versions(app, three) == [2, 2, 2]
    with app.app_context():
        events = db.session.execute(
            select(AuditEvent.action, AuditEvent.actor, AuditEvent.via, AuditEvent.detail)
        ).all()
    assert ("job-started", "alice", "test", "Re-sync profiles: 3 items") in events
    # Each write is audited as made for the person who started the job.
    assert [e for e in events if e.action == "resync"] == [
        ("resync", "alice", "job", "updated")
    ] * 3


def test_a_profile_gone_or_rejected_is_reported_and_the_job_goes_on(app, three):
    job_id = start(app, three)
    with app.app_context():
        db.session.execute(Profile.__table__.delete().where(Profile.id == three[0]))
        db.session.commit()
    app.config["TOKER_MIN_LIKES"] = 10**9  # no account passes the rules any more

    run_in_process(app, job_id)

    job = read_job(app, job_id)
    assert job.status == "done"
    assert job.result["counts"] == {"gone": 1, "rejected": 2}
    gone, rejected, _ = job.result["problems"]
    assert gone == {
        "item": f"profile {three[0]}",
        "outcome": "gone",
        "reason": "it was deleted after the job started",
    }
    assert rejected["item"] == f"profile {three[1]}" and rejected["outcome"] == "rejected"
    assert "stored profile is unchanged" in rejected["reason"]
    assert "number_of_likes" in rejected["reason"]
    assert versions(app, three)[1:] == [1, 1]


def test_a_platform_that_fails_for_now_is_tried_again_with_backoff(app, three, waits):
    # One call per try: the first item times out twice, then every call answers.
    app.config.update(
        TOKER_CONNECTOR_FAULTS="timeout*2",
        TOKER_CONNECTOR_RETRIES=1,
        TOKER_JOB_MAX_WAIT=200,
        TOKER_JOB_LEASE=300,
    )
    job_id = start(app, three)

    run_in_process(app, job_id)

    job = read_job(app, job_id)
    assert job.result == {"counts": {"updated": 3}, "problems": []}
    assert versions(app, three) == [2, 2, 2]
    # A timeout says "try again in 60 s", longer than the backoff's 5 then 10 s.
    assert waits == [60.0, 60.0]


def test_waits_are_capped_and_renew_the_claim(app, three, monkeypatch):
    app.config.update(
        TOKER_CONNECTOR_FAULTS="rate_limit:45",
        TOKER_CONNECTOR_RETRIES=1,
        TOKER_JOB_MAX_WAIT=30,
        TOKER_JOB_LEASE=30,
    )
    job_id = start(app, three[:1])
    waits, heartbeats = [], []

    def sleep_and_read_heartbeat(seconds):
        waits.append(seconds)
        heartbeats.append(read_job(app, job_id).heartbeat_at)

    monkeypatch.setattr(runner, "sleep", sleep_and_read_heartbeat)

    run_in_process(app, job_id)

    # 45 s asked, 30 s allowed, slept in thirds of the lease with the claim renewed between.
    assert waits == [10.0, 10.0, 10.0]
    assert len(set(heartbeats)) == 3, "each slice of the wait renewed the claim"
    assert read_job(app, job_id).result["counts"] == {"updated": 1}


def test_an_item_whose_platform_keeps_failing_is_reported_after_its_tries(app, three, waits):
    app.config.update(
        TOKER_CONNECTOR_FAULTS="timeout*3",
        TOKER_CONNECTOR_RETRIES=1,
        TOKER_JOB_ITEM_TRIES=3,
        TOKER_JOB_LEASE=300,
    )
    job_id = start(app, three)

    run_in_process(app, job_id)

    job = read_job(app, job_id)
    assert job.status == "done"
    assert job.result["counts"] == {"failed": 1, "updated": 2}
    (problem,) = job.result["problems"]
    assert problem["item"] == f"profile {three[0]}" and problem["outcome"] == "failed"
    assert "did not answer" in problem["reason"]
    assert len(waits) == 2
    assert versions(app, three) == [1, 2, 2]


def test_a_platform_error_that_cannot_pass_is_not_tried_again(app, three, waits):
    app.config.update(TOKER_CONNECTOR_FAULTS="malformed", TOKER_CONNECTOR_RETRIES=1)
    job_id = start(app, three)

    run_in_process(app, job_id)

    job = read_job(app, job_id)
    assert job.result["counts"] == {"failed": 1, "updated": 2}
    assert waits == []


def test_a_job_cancelled_while_queued_never_runs(app, three):
    job_id = start(app, three)
    with app.app_context():
        jobs.cancel_job(job_id, jobs.Requester(audit.Actor("admin"), admin=True))

    run_in_process(app, job_id)

    job = read_job(app, job_id)
    assert (job.status, job.done, job.runs) == ("cancelled", 0, 0)
    assert versions(app, three) == [1, 1, 1]


def test_a_job_cancelled_mid_item_finishes_that_item_and_stops(app, three, monkeypatch):
    job_id = start(app, three)
    real_connect = onboarding.connect_account
    calls = []

    def connect_then_cancel(*args, **kwargs):
        calls.append(args)
        if len(calls) == 2:  # while the second item is in hand
            set_job(app, job_id, status="cancelled", finished_at=utcnow())
        return real_connect(*args, **kwargs)

    monkeypatch.setattr(onboarding, "connect_account", connect_then_cancel)

    run_in_process(app, job_id)

    job = read_job(app, job_id)
    assert (job.status, job.done, job.claim) == ("cancelled", 2, None)
    assert versions(app, three) == [2, 2, 1]


class Killed(BaseException):
    """The worker's process ending in the middle of a transaction (nothing catches it)."""


def test_a_worker_killed_inside_an_items_transaction_leaves_nothing_of_it(app, three, monkeypatch):
    """The second item's profile is written and marked done, then the process dies before the
    commit: neither stays. The job, taken over once its claim is stale, does that item again,
    and each profile is re-synced exactly once."""
    job_id = start(app, three)
    with app.app_context():
        queue.current().huey.flush()  # the worker took the job's message
    real_stage = runner._Run._stage

    def die_after_marking_the_second_item(run, session, done):
        real_stage(run, session, done)
        if run.done == 1:
            raise Killed

    monkeypatch.setattr(runner._Run, "_stage", die_after_marking_the_second_item)
    with pytest.raises(Killed):
        run_in_process(app, job_id)

    dead = read_job(app, job_id)
    assert (dead.status, dead.done) == ("running", 1)
    assert versions(app, three) == [2, 1, 1]

    monkeypatch.setattr(runner._Run, "_stage", real_stage)
    run_in_process(app, job_id)  # a live claim: another worker leaves the job alone
    assert read_job(app, job_id).runs == 1
    set_job(app, job_id, heartbeat_at=utcnow() - timedelta(seconds=61))
    with app.app_context():
        assert runner.recover_jobs(queue.current()) == [job_id]
    run_in_process(app, job_id)

    job = read_job(app, job_id)
    assert (job.status, job.done, job.runs) == ("done", 3, 2)
    assert versions(app, three) == [2, 2, 2]


def test_a_worker_overtaken_mid_job_cannot_store_its_item(app, three, monkeypatch):
    """Another worker took the job over (this one looked dead): this one's next write is undone
    with its mark, and it leaves the job to the other."""
    job_id = start(app, three)
    real_connect = onboarding.connect_account
    calls = []

    def taken_over_at_the_second_item(*args, **kwargs):
        calls.append(args)
        if len(calls) == 2:
            set_job(app, job_id, claim="elsewhere:1:abcd", heartbeat_at=utcnow())
        return real_connect(*args, **kwargs)

    monkeypatch.setattr(onboarding, "connect_account", taken_over_at_the_second_item)

    run_in_process(app, job_id)

    job = read_job(app, job_id)
    assert (job.status, job.done, job.claim) == ("running", 1, "elsewhere:1:abcd")
    assert versions(app, three) == [2, 1, 1]


def test_recovery_requeues_only_what_no_worker_will_finish(app, three):
    stale, fresh, lost, waiting = (start(app, three) for _ in range(4))
    long_ago = utcnow() - timedelta(hours=1)
    set_job(app, stale, status="running", claim="dead:1:x", heartbeat_at=long_ago)
    set_job(app, fresh, status="running", claim="live:1:x", heartbeat_at=utcnow())
    set_job(app, lost, created_at=long_ago)
    set_job(app, waiting, created_at=long_ago)
    with app.app_context():
        jobs_queue = queue.current()
        jobs_queue.huey.flush()  # the queue lost every message...
        jobs_queue.enqueue(waiting)  # ...but this one's

        assert runner.recover_jobs(jobs_queue) == [stale, lost]
        assert jobs_queue.waiting() == {stale, lost, waiting}


def test_a_stopping_worker_hands_its_job_back_between_items(app, three, monkeypatch):
    job_id = start(app, three)
    real_connect = onboarding.connect_account

    def connect_then_stop(*args, **kwargs):
        with app.app_context():
            queue.current().stopping.set()
        return real_connect(*args, **kwargs)

    monkeypatch.setattr(onboarding, "connect_account", connect_then_stop)
    with app.app_context():
        queue.current().huey.flush()

    run_in_process(app, job_id)

    job = read_job(app, job_id)
    assert (job.status, job.done, job.claim) == ("queued", 1, None)
    with app.app_context():
        assert queue.current().waiting() == {job_id}
