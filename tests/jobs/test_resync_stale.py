"""The re-sync of stale profiles: exactly the profiles last synced more than
TOKER_RESYNC_HOURS ago (as of the app's clock, fixed here), one job at a time whoever starts
it, the schedule included; each platform's calls paced below its rate limit; run end to end
by `toker worker` on SQLite and Redis queues; started from the API, the CLI and /jobs."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from webapp import create_app
from webapp.extensions import db
from webapp.models import AuditEvent, Job, Profile, ProfileSnapshot
from webapp.services import clock, jobs
from webapp.services.accounts import audit
from webapp.services.analytics import achievements
from webapp.services.ingestion import onboarding
from webapp.services.ingestion.connectors.mock import MockConnector
from webapp.services.jobs import pace, queue, resync_stale, runner

from ..factories import accepted_user_ids, app_config
from ..helpers import assert_problem
from .conftest import finished, read_job, run_in_process, versions, wait_for

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
JOBS = "/api/v1/jobs"
STALE = {"kind": "resync-stale", "params": {}}


@pytest.fixture
def fixed(app):
    """The app's clock stopped at NOW."""
    app.config["TOKER_CLOCK"] = NOW.isoformat()
    return app


def connect(app, platform: str, count: int) -> list[int]:
    """Store `count` accounts of the platform; their profile ids."""
    with app.app_context():
        ids = []
        for user_id in accepted_user_ids(platform, count):
            outcome = onboarding.connect_account(platform, user_id)
            assert outcome.accepted
            ids.append(outcome.profile_id)
        return ids


def synced_at(app, moments: dict[int, datetime]) -> None:
    """Set each profile's last sync to a chosen moment."""
    with app.app_context():
        for pk, moment in moments.items():
            db.session.execute(update(Profile).where(Profile.id == pk).values(updated_at=moment))
        db.session.commit()


def start(app, params: dict | None = None, name: str = "admin") -> Job:
    requester = jobs.Requester(audit.Actor(name, via="test"), admin=True)
    with app.app_context():
        job = jobs.start_job("resync-stale", params or {}, requester)
        db.session.expunge(job)
        return job


def stale_ids(job: Job) -> set[int]:
    return {pk for ids in job.params["profiles"].values() for pk in ids}


# --- which profiles ---------------------------------------------------------------------------


def test_the_job_picks_exactly_the_profiles_synced_more_than_the_hours_ago(fixed):
    ids = connect(fixed, "tiktok", 5)
    day = timedelta(hours=24)
    second = timedelta(seconds=1)
    synced_at(
        fixed,
        {
            ids[0]: NOW - day - second,  # just over: stale
            ids[1]: NOW - day,  # exactly 24 hours: not yet stale
            ids[2]: NOW - day + second,
            ids[3]: NOW - 30 * day,
            ids[4]: NOW,
        },
    )

    job = start(fixed)

    assert job.params["profiles"] == {"tiktok": [ids[3], ids[0]], "instagram": [], "x": []}
    assert job.params["hours"] == 24
    assert datetime.fromisoformat(job.params["synced_before"]) == NOW - day
    assert job.total == 2


def test_the_hours_come_from_the_setting_or_the_request(fixed):
    ids = connect(fixed, "tiktok", 2)
    synced_at(fixed, {ids[0]: NOW - timedelta(hours=3), ids[1]: NOW - timedelta(hours=1)})
    fixed.config["TOKER_RESYNC_HOURS"] = 2.5

    assert stale_ids(start(fixed)) == {ids[0]}
    with fixed.app_context():  # let the first end, so that a second may start
        db.session.execute(update(Job).values(status="done"))
        db.session.commit()
    assert stale_ids(start(fixed, {"hours": 0.5})) == set(ids)


@pytest.mark.parametrize(
    "setting, value",
    [
        ("TOKER_RESYNC_HOURS", 0),
        ("TOKER_RESYNC_HOURS", -3),
        ("TOKER_RESYNC_HOURS", "24"),
        ("TOKER_RESYNC_EVERY_MINUTES", -1),
        ("TOKER_RESYNC_EVERY_MINUTES", 1.5),
        ("TOKER_PLATFORM_RATE_LIMITS", "tiktok=0/60"),
        ("TOKER_PLATFORM_RATE_LIMITS", "myspace=5/1"),
        ("TOKER_PLATFORM_RATE_LIMITS", "tiktok=fast"),
    ],
)
def test_a_bad_setting_stops_the_app_with_its_name(database_url, setting, value):
    with pytest.raises(RuntimeError, match=setting):
        create_app(app_config(database_url, **{setting: value}))


def test_items_spread_each_platform_over_the_whole_job():
    params = {
        "synced_before": "2026-12-06T12:00:00Z",
        "profiles": {"tiktok": [1, 2, 3, 4], "instagram": [5, 6], "x": []},
    }

    order = [pk for _platform, pk, _before in resync_stale.items(params)]

    assert order == [1, 5, 2, 3, 6, 4]
    assert resync_stale.items(params) == resync_stale.items(params), "the same in every run"


def test_a_profile_synced_after_the_job_began_is_left_fresh(fixed, monkeypatch):
    ids = connect(fixed, "tiktok", 2)
    synced_at(fixed, {pk: NOW - timedelta(days=2) for pk in ids})
    job = start(fixed)
    synced_at(fixed, {ids[1]: NOW})  # re-synced by someone meanwhile
    ranked = []
    standing = achievements.standing
    monkeypatch.setattr(
        achievements,
        "standing",
        lambda session, pk, row: ranked.append(pk) or standing(session, pk, row),
    )

    run_in_process(fixed, job.id)

    done = read_job(fixed, job.id)
    assert done.status == "done" and done.result["counts"] == {"updated": 1, "fresh": 1}
    assert versions(fixed, ids) == [2, 1]
    assert ranked == [ids[0]], "the re-synced profile's achievements were checked"
    with fixed.app_context():
        snapshots = db.session.scalar(
            select(func.count(ProfileSnapshot.id)).where(ProfileSnapshot.profile_id == ids[0])
        )
    assert snapshots == 2, "the re-sync added a snapshot to the history"


# --- one at a time, the schedule ----------------------------------------------------------------


def test_a_second_start_is_refused_while_one_is_queued_or_running(fixed):
    ids = connect(fixed, "tiktok", 1)
    synced_at(fixed, {ids[0]: NOW - timedelta(days=2)})
    first = start(fixed)

    with pytest.raises(jobs.AlreadyActive) as refused:
        start(fixed)
    assert refused.value.job_id == first.id
    with fixed.app_context():
        db.session.execute(update(Job).where(Job.id == first.id).values(status="running"))
        db.session.commit()
    with pytest.raises(jobs.AlreadyActive):
        start(fixed)

    with fixed.app_context():
        db.session.execute(update(Job).where(Job.id == first.id).values(status="done"))
        db.session.commit()
    assert start(fixed).id != first.id


def test_the_schedule_starts_one_as_the_system_and_never_a_duplicate(fixed):
    ids = connect(fixed, "tiktok", 2)
    synced_at(fixed, {pk: NOW - timedelta(days=2) for pk in ids})

    with fixed.app_context():
        first = resync_stale.start_on_schedule()
        again = resync_stale.start_on_schedule()
        job = db.session.get(Job, first)
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "job-started"))
        audited = [(e.actor, e.via, e.target) for e in events]

    assert first is not None and again is None
    assert (job.kind, job.started_by, job.user_id, job.total) == ("resync-stale", "system", None, 2)
    assert audited == [("system", "schedule", f"job {first}")]


def test_the_schedule_starts_nothing_when_no_profile_is_stale(fixed):
    connect(fixed, "tiktok", 1)
    with fixed.app_context():
        assert resync_stale.start_on_schedule() is None
        assert db.session.scalars(select(Job)).all() == []


@pytest.mark.parametrize(
    "every, minute, due",
    [
        (60, datetime(2026, 12, 7, 13, 0), True),
        (60, datetime(2026, 12, 7, 13, 1), False),
        (15, datetime(2026, 12, 7, 13, 45), True),
        (15, datetime(2026, 12, 7, 13, 50), False),
        (1, datetime(2026, 12, 7, 13, 7), True),
    ],
)
def test_the_period_falls_on_whole_multiples_of_its_minutes(every, minute, due):
    assert queue.on_period(minute, every) is due


@pytest.mark.parametrize("every, registered", [(60, True), (0, False)])
def test_the_worker_registers_the_schedule_unless_it_is_off(make_app, every, registered):
    app = make_app(TOKER_RESYNC_EVERY_MINUTES=every)
    huey = app.extensions[queue.EXTENSION].huey

    def due(minute: datetime) -> set[str]:
        return {task.name for task in huey.read_periodic(minute)}

    assert due(datetime(2026, 12, 7, 13, 0)) == (
        {"recover_jobs_every_minute", "resync_stale"}
        if registered
        else {"recover_jobs_every_minute"}
    )
    assert due(datetime(2026, 12, 7, 13, 1)) == {"recover_jobs_every_minute"}


# --- pacing ---------------------------------------------------------------------------------------


class FakeTime:
    """A clock that moves only when the runner sleeps."""

    def __init__(self):
        self.now = 0.0

    def sleep(self, seconds: float) -> None:
        self.now += seconds

    def monotonic(self) -> float:
        return self.now


def test_pace_spreads_calls_one_interval_apart():
    fake = FakeTime()
    paced = pace.Pace({"x": pace.RateLimit(2, 1.0)}, fake.monotonic)
    moments = []
    for _ in range(5):
        fake.sleep(paced.delay("x"))
        paced.take("x")
        moments.append(fake.now)
    assert moments == [0.0, 0.5, 1.0, 1.5, 2.0]
    assert paced.delay("tiktok") == 0, "a platform without a limit never waits"


def test_a_stale_resync_keeps_each_platform_within_its_rate_limit(fixed, monkeypatch):
    """Every platform call is noted at the fake time it is made: no window of a limit's length
    holds more calls than the limit, and the platforms go on beside each other."""
    tiktok = connect(fixed, "tiktok", 6)
    x = connect(fixed, "x", 3)
    synced_at(fixed, {pk: NOW - timedelta(days=3) for pk in tiktok + x})
    fixed.config["TOKER_PLATFORM_RATE_LIMITS"] = "tiktok=2/1,x=1/2"
    fake = FakeTime()
    monkeypatch.setattr(runner, "sleep", fake.sleep)
    monkeypatch.setattr(runner, "monotonic", fake.monotonic)
    calls = []
    fetch = MockConnector.fetch_account

    def noted(self, user_id=None, as_of=None):
        calls.append((self.platform, fake.now))
        return fetch(self, user_id, as_of)

    monkeypatch.setattr(MockConnector, "fetch_account", noted)
    job = start(fixed)

    run_in_process(fixed, job.id)

    assert read_job(fixed, job.id).result["counts"] == {"updated": 9}
    for platform, (most, window) in (("tiktok", (2, 1.0)), ("x", (1, 2.0))):
        moments = [at for name, at in calls if name == platform]
        assert len(moments) == len(tiktok if platform == "tiktok" else x)
        for at in moments:
            assert sum(at <= other < at + window for other in moments) <= most, (platform, at)
    # Sequentially 6 / 2 + 3 / 0.5 = 9 s; side by side the busier platform sets the pace.
    assert fake.now <= 6.0


# --- from the API, the CLI and the page; end to end -----------------------------------------------


def test_the_api_starts_one_and_refuses_a_second_with_a_409(fixed, client):
    ids = connect(fixed, "instagram", 2)
    synced_at(fixed, {pk: NOW - timedelta(days=2) for pk in ids})

    response = client.post(JOBS, json=STALE)

    assert response.status_code == 202
    job = response.get_json()
    assert job["kind"] == "resync-stale" and job["label"] == "Re-sync stale profiles"
    assert job["params"]["profiles"]["instagram"] == ids
    assert response.headers["Location"] == f"{JOBS}/{job['id']}"
    again = client.post(JOBS, json={"kind": "resync-stale"})
    problem = assert_problem(again, 409)
    assert problem["job_id"] == job["id"] and again.headers["Location"] == f"{JOBS}/{job['id']}"


@pytest.mark.parametrize(
    "params, loc",
    [
        ({"hours": 0}, "params.hours"),
        ({"hours": "12"}, "params.hours"),
        ({"hours": True}, "params.hours"),
        ({"hours": 9000}, "params.hours"),
        ([], "params"),
    ],
)
def test_bad_hours_are_a_422_naming_them(fixed, client, params, loc):
    response = client.post(JOBS, json={"kind": "resync-stale", "params": params})
    assert_problem(response, 422, loc)


def test_a_viewer_may_not_start_one(fixed, client_as):
    assert client_as("viewer").post(JOBS, json=STALE).status_code == 403


def test_the_cli_starts_one(fixed, runner):
    ids = connect(fixed, "x", 1)
    synced_at(fixed, {ids[0]: NOW - timedelta(days=2)})

    result = runner.invoke(args=["jobs", "start", "resync-stale", "--hours", "12"])

    assert result.exit_code == 0, result.output
    assert "Re-sync stale profiles, 1 item(s)" in result.output
    again = runner.invoke(args=["jobs", "start", "resync-stale"])
    assert again.exit_code == 1 and "already re-syncing stale profiles" in again.output


def test_the_jobs_page_has_a_button_for_analysts_that_starts_one(fixed, client_as):
    ids = connect(fixed, "tiktok", 1)
    synced_at(fixed, {ids[0]: NOW - timedelta(days=2)})
    viewer = client_as("viewer", "viewer")
    assert "start-resync-stale" not in viewer.get("/jobs").get_data(as_text=True)
    analyst = client_as("analyst", "analyst")
    assert 'id="start-resync-stale"' in analyst.get("/jobs").get_data(as_text=True)

    response = analyst.post("/jobs/resync-stale")

    assert response.status_code == 303
    with fixed.app_context():
        job = db.session.scalars(select(Job)).one()
    assert response.headers["Location"].endswith(f"/jobs/{job.id}")
    page = analyst.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert 'id="job-stale"' in page
    again = analyst.post("/jobs/resync-stale")
    assert again.status_code == 303 and again.headers["Location"].endswith(f"/jobs/{job.id}")


@pytest.mark.parametrize("backend", ["sqlite", "redis"])
def test_a_worker_resyncs_exactly_the_stale_profiles(fixed, client, queue_at, worker, backend):
    env = queue_at(backend, TOKER_CLOCK=NOW.isoformat())
    tiktok = connect(fixed, "tiktok", 3)
    x = connect(fixed, "x", 2)
    stale = [tiktok[0], tiktok[2], x[1]]
    synced_at(fixed, {pk: NOW - timedelta(hours=30) for pk in stale})
    synced_at(fixed, {pk: NOW - timedelta(hours=2) for pk in (tiktok[1], x[0])})
    response = client.post(JOBS, json=STALE)
    assert response.status_code == 202, response.text
    job_id = response.get_json()["id"]
    process = worker(env)

    job = wait_for(fixed, job_id, finished, "finished", process)

    assert (job.status, job.done, job.total) == ("done", 3, 3)
    assert job.result == {"counts": {"updated": 3}, "problems": []}
    assert versions(fixed, tiktok + x) == [2, 1, 2, 1, 2]
    with fixed.app_context():
        synced = db.session.scalars(select(Profile.updated_at).where(Profile.id.in_(stale)))
        assert all(clock.parse(at) == NOW for at in synced), "synced as of the worker's clock"
