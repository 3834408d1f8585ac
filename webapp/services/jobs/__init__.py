"""Jobs: work that outlives a request, run by queue workers (`toker worker`).

- `records.py`: start a job (checked, recorded, audited, queued), read, list and cancel jobs;
- `queue.py`: the task queue (Huey over SQLite in the instance folder, or Redis);
- `runner.py`: a worker's run of a job: items in order, each done once, progress, retries,
  cancellation, and taking over the jobs of a worker that died;
- `base.py` and `kinds.py`: what a kind of job is, and every kind; `resync.py`: re-sync of
  chosen profiles; `resync_stale.py`: re-sync of every stale profile, also on a schedule;
  `hashtag_sync.py`: the videos of chosen or trending hashtags stored in the catalogue;
  `connect.py`: bulk connect of many accounts, from a list or from lines of text (a CSV
  file); `seed.py`: demo seeding, with weekly history;
- `pace.py`: a job's platform calls paced below each platform's rate limit.
"""

from .base import AlreadyActive, InvalidParams
from .kinds import KINDS
from .records import (
    JobFinished,
    JobNotFound,
    NotYourJob,
    QueueUnavailable,
    Requester,
    cancel_job,
    get_job,
    is_active,
    job_detail,
    list_jobs,
    may_cancel,
    start_job,
)

__all__ = [
    "KINDS",
    "AlreadyActive",
    "InvalidParams",
    "JobFinished",
    "JobNotFound",
    "NotYourJob",
    "QueueUnavailable",
    "Requester",
    "cancel_job",
    "get_job",
    "is_active",
    "job_detail",
    "list_jobs",
    "may_cancel",
    "start_job",
]
