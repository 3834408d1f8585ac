"""Bulk connects run end to end by `toker worker` processes: started through the API, run on
the SQLite queue and on Redis, and a worker killed mid-job with the next one finishing it and
no account stored twice."""

import signal

import pytest

from ..factories import accepted_user_ids, mock_user_id
from .conftest import finished, read_job, store_accounts, stored_accounts, wait_for

# Slow platform calls, so that a job is still running when the test acts on it.
SLOW = {"TOKER_CONNECTOR_LATENCY": 0.4}


def start_through_api(client, accounts: list[tuple[str, str]]) -> int:
    params = {"accounts": [{"platform": p, "user_id": u} for p, u in accounts]}
    response = client.post("/api/v1/jobs", json={"kind": "connect", "params": params})
    assert response.status_code == 202, response.text
    return response.get_json()["id"]


@pytest.mark.parametrize("backend", ["sqlite", "redis"])
def test_a_worker_connects_stores_updates_and_rejects(app, client, queue_at, worker, backend):
    env = queue_at(backend)
    store_accounts(app, 1)  # the first accepted TikTok account
    first, second, third = accepted_user_ids("tiktok", 3)
    rejected = ("x", mock_user_id("x", accepted=False))
    accounts = [("tiktok", second), ("tiktok", first), rejected, ("tiktok", third)]
    job_id = start_through_api(client, accounts)
    process = worker(env)

    job = wait_for(app, job_id, finished, "finished", process)

    assert (job.status, job.done, job.total, job.runs) == ("done", 4, 4, 1)
    assert job.result["counts"] == {"stored": 2, "updated": 1, "rejected": 1}
    (problem,) = job.result["problems"]
    assert problem["item"] == f"X account {rejected[1]}" and problem["outcome"] == "rejected"
    stored = stored_accounts(app)
    assert rejected not in stored
    assert [stored[account] for account in accounts if account != rejected] == [1, 2, 1]


def test_a_worker_killed_mid_job_stores_no_account_twice(app, client, queue_at, worker):
    env = queue_at("sqlite", TOKER_JOB_LEASE=2, **SLOW)
    accounts = [("instagram", user_id) for user_id in accepted_user_ids("instagram", 6)]
    job_id = start_through_api(client, accounts)
    first = worker(env)
    wait_for(app, job_id, lambda job: job.done >= 2, "reached item 2", first)

    first.stop(signal.SIGKILL)

    killed = read_job(app, job_id)
    assert killed.status == "running" and killed.claim, "the dead worker's claim is left"
    assert 2 <= killed.done < 6
    # Exactly the accounts counted done were stored; the one in flight was undone with its mark.
    assert sorted(stored_accounts(app)) == sorted(accounts[: killed.done])

    second = worker(env)
    job = wait_for(app, job_id, finished, "finished after the restart", second)

    assert (job.status, job.done, job.runs) == ("done", 6, 2)
    # An account stored twice would be counted updated the second time, at version 2.
    assert job.result["counts"] == {"stored": 6}
    assert stored_accounts(app) == {account: 1 for account in accounts}
