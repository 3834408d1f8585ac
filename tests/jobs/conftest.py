"""Fixtures of the jobs' tests: stored profiles to re-sync, accounts to connect, reading jobs
and profile versions back, and `toker worker` run as a process of its own on the test's
database and queue."""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import redis
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import Job, Profile
from webapp.services import jobs
from webapp.services.accounts import audit
from webapp.services.ingestion import onboarding
from webapp.services.jobs import queue

from ..factories import accepted_user_ids

ROOT = Path(__file__).resolve().parents[2]
TOKER = Path(sys.executable).parent / "toker"
REDIS_URL = "redis://127.0.0.1:6379/0"
# The machine may be busy: waits are long, polls short.
WAIT_SECONDS = 90


def store_accounts(app, count: int) -> list[int]:
    """Connect `count` mock TikTok accounts through the pipeline; their profile ids."""
    with app.app_context():
        ids = []
        for user_id in accepted_user_ids("tiktok", count):
            outcome = onboarding.connect_account("tiktok", user_id)
            assert outcome.accepted
            ids.append(outcome.profile_id)
        return ids


@pytest.fixture
def three(app) -> list[int]:
    """Three stored profiles, each at version 1."""
    return store_accounts(app, 3)


def versions(app, ids: list[int]) -> list[int]:
    """Each profile's version (1 when stored, one more per re-sync), in the order of `ids`."""
    with app.app_context():
        found = dict(db.session.execute(select(Profile.id, Profile.version)).all())
        return [found.get(pk) for pk in ids]


def read_job(app, job_id: int) -> Job:
    """The job's row as it is now (detached: read its columns freely)."""
    with app.app_context():
        job = db.session.get(Job, job_id)
        db.session.expunge(job)
        return job


def start(app, profile_ids: list[int], name: str = "admin", user_id: int | None = None) -> int:
    """Start a re-sync job through the service, as `name`; its id."""
    requester = jobs.Requester(audit.Actor(name, via="test"), user_id=user_id, admin=True)
    with app.app_context():
        return jobs.start_job("resync", {"profile_ids": profile_ids}, requester).id


def start_connect(app, accounts: list[tuple[str, str]], name: str = "admin") -> int:
    """Start a bulk connect of (platform, user id) accounts through the service; its id."""
    requester = jobs.Requester(audit.Actor(name, via="test"), admin=True)
    params = {"accounts": [{"platform": p, "user_id": u} for p, u in accounts]}
    with app.app_context():
        return jobs.start_job("connect", params, requester).id


def stored_accounts(app) -> dict[tuple[str, str], int]:
    """Every stored profile's (platform, user id) and its version (1 when stored, one more per
    update)."""
    with app.app_context():
        rows = db.session.execute(select(Profile.platform, Profile.user_id, Profile.version))
        return {(platform, user_id): version for platform, user_id, version in rows}


def run_in_process(app, job_id: int) -> None:
    """Run the job here, as a worker would."""
    from webapp.services.jobs import runner

    with app.app_context():
        runner.run_job(job_id, queue.current())


def wait_for(app, job_id: int, until, what: str, process=None) -> Job:
    """Read the job until `until(job)` holds; fails after WAIT_SECONDS, or when `process` (a
    worker) exits meanwhile."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        job = read_job(app, job_id)
        if until(job):
            return job
        if process is not None:
            assert process.poll() is None, f"the worker exited:\n{process.output()}"
        assert time.monotonic() < deadline, f"job {job_id} never {what}: {job.status}, {job.done}"
        time.sleep(0.1)


def finished(job: Job) -> bool:
    return job.status not in ("queued", "running")


# --- the queue and the worker process -------------------------------------------------------


def redis_url() -> str:
    """Redis at 127.0.0.1:6379, or the test is skipped saying what is missing."""
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1, socket_timeout=1).ping()
    except redis.RedisError as error:
        pytest.skip(f"Redis is not answering at 127.0.0.1:6379 ({error}): Redis queue untested")
    return REDIS_URL


class WorkerProcess:
    """`toker worker` in a process of its own; stopped by its own PID."""

    def __init__(self, env: dict, log: Path):
        self.log = log
        with open(log, "ab") as out:
            self.process = subprocess.Popen(
                [TOKER, "worker", "--workers", "1"],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def poll(self):
        return self.process.poll()

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGKILL) -> None:
        """Send `sig` to this process alone and wait until it has exited."""
        if self.process.poll() is None:
            os.kill(self.process.pid, sig)
        try:
            self.process.wait(timeout=WAIT_SECONDS)
        except subprocess.TimeoutExpired:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait()


@pytest.fixture
def queue_at(app, tmp_path):
    """Point the app's queue at a real one, the worker processes' too: "sqlite" (the default
    file in the workers' instance folder) or "redis" (skipped when Redis does not answer).
    Returns the environment for `toker worker`; the Redis queue is emptied afterwards."""
    chosen = []

    def point(backend: str, **settings) -> dict:
        instance = tmp_path / "instance"
        instance.mkdir(exist_ok=True)
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith("TOKER_") and key != "DATABASE_URL"
        }
        env.update(
            DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
            SECRET_KEY="test",
            TOKER_ENV="development",
            TOKER_ASSETS="local",
            TOKER_INSTANCE_PATH=str(instance),
            TOKER_MIN_LIKES=str(app.config["TOKER_MIN_LIKES"]),
            **{key: str(value) for key, value in settings.items()},
        )
        if backend == "redis":
            url = env["TOKER_QUEUE_URL"] = redis_url()
            name = env["TOKER_QUEUE_NAME"] = f"toker-test-{uuid.uuid4().hex}"
            app.config.update(TOKER_QUEUE_URL=url, TOKER_QUEUE_NAME=name)
        else:  # the worker's default: queue.sqlite in its instance folder
            app.config["TOKER_QUEUE_URL"] = f"sqlite:///{instance / queue.QUEUE_FILE}"
        chosen.append(backend)
        return env

    yield point
    if chosen == ["redis"]:
        with app.app_context():
            queue.current().huey.flush()


@pytest.fixture
def worker(tmp_path):
    """Start `toker worker` processes with an environment; each is killed at the end."""
    started = []

    def start_worker(env: dict) -> WorkerProcess:
        process = WorkerProcess(env, tmp_path / f"worker-{len(started) + 1}.log")
        started.append(process)
        return process

    yield start_worker
    for process in started:
        process.stop()
