"""The task queue that carries jobs to the workers: Huey, over a SQLite file in the instance
folder by default (no service to run beside the app), or over Redis (TOKER_QUEUE_URL=redis://)
so that workers on many machines share it. A message carries only a job's id; the jobs table
holds everything else, so that a lost message costs nothing but a re-send (runner.py).

Each app has one JobQueue (app.extensions), made when the factory runs and opening its
storage at the first use, so that a process that never queues anything opens nothing.
"""

import logging
import os
import threading
from datetime import UTC, datetime

from flask import Flask, current_app
from huey import MemoryHuey, RedisHuey, SqliteHuey, crontab
from huey.api import Huey
from redis import ConnectionPool
from sqlalchemy import make_url

from . import resync_stale, runner

EXTENSION = "toker_queue"
QUEUE_FILE = "queue.sqlite"
REDIS_SCHEMES = ("redis", "rediss", "unix")
# A Redis that does not answer fails a start within seconds instead of holding the request;
# reads wait longer than the consumer's blocking read (1 s).
REDIS_CONNECT_TIMEOUT = 5
REDIS_READ_TIMEOUT = 10
log = logging.getLogger(__name__)


def backend(url: str | None) -> str:
    """Which storage a TOKER_QUEUE_URL names: sqlite (also when empty), redis or memory (this
    process alone, for tests); ValueError for anything else."""
    if not url:
        return "sqlite"
    scheme = url.partition("://")[0].lower()
    if scheme in REDIS_SCHEMES:
        return "redis"
    if scheme == "sqlite" and make_url(url).database:
        return "sqlite"
    if url == "memory://":
        return "memory"
    raise ValueError(
        f"{url!r} is not a queue: use redis://host:port/db, sqlite:///path/to/file or leave it "
        "empty for a SQLite file in the instance folder"
    )


class JobQueue:
    """The app's queue: Huey with the job tasks registered on it."""

    def __init__(self, app: Flask):
        self.app = app
        self._huey: Huey | None = None
        self._made = threading.Lock()
        # The tasks registered on the Huey, once it is made.
        self._run = self._recover = None
        # Set when this process's worker stops: its running jobs are handed back between items.
        self.stopping = threading.Event()

    @property
    def huey(self) -> Huey:
        with self._made:
            if self._huey is None:
                self._huey = self._make()
        return self._huey

    def _make(self) -> Huey:
        config = self.app.config
        name, url = config["TOKER_QUEUE_NAME"], config["TOKER_QUEUE_URL"]
        kind = backend(url)
        if kind == "redis":
            pool = ConnectionPool.from_url(
                url, socket_connect_timeout=REDIS_CONNECT_TIMEOUT, socket_timeout=REDIS_READ_TIMEOUT
            )
            huey = RedisHuey(name, connection_pool=pool, results=False)
        elif kind == "memory":
            huey = MemoryHuey(name, results=False)
        else:
            huey = SqliteHuey(name, filename=self._sqlite_path(), results=False)
        self._run = huey.task(name="run_job")(self._run_job)
        self._recover = huey.task(name="recover_jobs")(self._recover_jobs)
        huey.periodic_task(crontab(), name="recover_jobs_every_minute")(self._recover_jobs)
        every = int(config["TOKER_RESYNC_EVERY_MINUTES"])
        if every > 0:
            huey.periodic_task(lambda moment: on_period(moment, every), name="resync_stale")(
                self._resync_stale
            )
        return huey

    def describe(self) -> str:
        """Where the queue lives, for people (a password in the URL is hidden)."""
        url = self.app.config["TOKER_QUEUE_URL"]
        kind = backend(url)
        if kind == "redis":
            return f"Redis at {make_url(url).render_as_string(hide_password=True)}"
        if kind == "memory":
            return "memory (this process only)"
        return f"SQLite file {self._sqlite_path()}"

    def _sqlite_path(self) -> str:
        url = self.app.config["TOKER_QUEUE_URL"]
        return make_url(url).database if url else os.path.join(self.app.instance_path, QUEUE_FILE)

    def enqueue(self, job_id: int) -> None:
        """Send the job to a worker."""
        huey = self.huey
        huey.enqueue(self._run.s(job_id))

    def waiting(self) -> set[int]:
        """The ids of the jobs the queue holds a message for, now or scheduled."""
        huey = self.huey
        tasks = huey.pending() + huey.scheduled()
        return {task.args[0] for task in tasks if isinstance(task, self._run.task_class)}

    def consume(self, workers: int) -> None:
        """Run the consumer in this process until it is stopped: INT lets each job finish its
        item and hands it back, TERM stops at once (the items in flight are undone)."""
        consumer = self.huey.create_consumer(
            workers=workers,
            worker_type="thread",
            # Ask an idle SQLite queue every second at most: a job starts within a second.
            initial_delay=0.1,
            max_delay=1.0,
        )
        self.stopping = consumer.stop_flag
        with self.app.app_context():
            runner.recover_jobs(self)
            # Jobs whose claims were still fresh just now are taken back once they go stale.
            self._recover.schedule(delay=runner.lease_seconds() + 1)
        try:
            consumer.run()
        finally:
            with self.app.app_context():
                runner.hand_back(runner.worker_name(), self)

    def _run_job(self, job_id: int) -> None:
        with self.app.app_context():
            runner.run_job(job_id, self)

    def _recover_jobs(self) -> None:
        with self.app.app_context():
            runner.recover_jobs(self)

    def _resync_stale(self) -> None:
        with self.app.app_context():
            resync_stale.start_on_schedule()


def on_period(moment: datetime, minutes: int) -> bool:
    """Whether a periodic task due every `minutes` runs at this minute (Huey asks each
    minute, with the time in UTC): when the minutes since the epoch are a multiple of it, so
    hourly means on the hour, on every worker alike."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() // 60) % minutes == 0


def init_app(app: Flask) -> None:
    """Give the app its queue."""
    app.extensions[EXTENSION] = JobQueue(app)


def current() -> JobQueue:
    """The current app's queue."""
    return current_app.extensions[EXTENSION]
