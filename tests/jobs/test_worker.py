"""Jobs run end to end by `toker worker` processes: started through the API, run on the SQLite
queue in the instance folder and on Redis, a worker killed mid-job and another one finishing
it with no item done twice, a worker stopped and its job handed back, a job cancelled."""

import signal

import pytest

from .conftest import finished, read_job, store_accounts, versions, wait_for

# Slow platform calls, so that a job is still running when the test acts on it.
SLOW = {"TOKER_CONNECTOR_LATENCY": 0.4}


def start_through_api(client, profile_ids: list[int]) -> int:
    response = client.post(
        "/api/v1/jobs", json={"kind": "resync", "params": {"profile_ids": profile_ids}}
    )
    assert response.status_code == 202, response.text
    return response.get_json()["id"]


@pytest.mark.parametrize("backend", ["sqlite", "redis"])
def test_a_worker_runs_a_job_started_through_the_api(app, client, queue_at, worker, backend):
    env = queue_at(backend)
    ids = store_accounts(app, 3)
    job_id = start_through_api(client, ids)
    process = worker(env)

    job = wait_for(app, job_id, finished, "finished", process)

    assert (job.status, job.done, job.total) == ("done", 3, 3)
    assert job.result == {"counts": {"updated": 3}, "problems": []}
    assert job.runs == 1 and job.claim is None
    assert versions(app, ids) == [2, 2, 2]
    answer = client.get(f"/api/v1/jobs/{job_id}").get_json()
    assert answer["status"] == "done" and answer["progress"] == {"done": 3, "total": 3}


def test_a_worker_killed_mid_job_loses_nothing_and_no_item_is_done_twice(
    app, client, queue_at, worker
):
    env = queue_at("sqlite", TOKER_JOB_LEASE=2, **SLOW)
    ids = store_accounts(app, 6)
    job_id = start_through_api(client, ids)
    first = worker(env)
    wait_for(app, job_id, lambda job: job.done >= 2, "reached item 2", first)

    first.stop(signal.SIGKILL)

    killed = read_job(app, job_id)
    assert killed.status == "running" and killed.claim, "the dead worker's claim is left"
    assert 2 <= killed.done < 6
    # Exactly the items counted done were stored; the one in flight was undone with its mark.
    assert sorted(versions(app, ids)) == [1] * (6 - killed.done) + [2] * killed.done

    second = worker(env)
    job = wait_for(app, job_id, finished, "finished after the restart", second)

    assert (job.status, job.done, job.runs) == ("done", 6, 2)
    assert job.result["counts"] == {"updated": 6}
    assert versions(app, ids) == [2] * 6, "each profile re-synced exactly once"


def test_a_stopped_worker_hands_its_job_back_for_the_next_one(app, client, queue_at, worker):
    """TERM stops a worker at once; its job is queued again right away, not after the lease."""
    env = queue_at("sqlite", TOKER_JOB_LEASE=600, **SLOW)
    ids = store_accounts(app, 5)
    job_id = start_through_api(client, ids)
    first = worker(env)
    wait_for(app, job_id, lambda job: job.done >= 1, "started", first)

    first.stop(signal.SIGTERM)

    handed = read_job(app, job_id)
    assert handed.status == "queued" and handed.claim is None
    second = worker(env)
    job = wait_for(app, job_id, finished, "finished by the next worker", second)
    assert (job.status, job.done, job.runs) == ("done", 5, 2)
    assert versions(app, ids) == [2] * 5


def test_a_job_cancelled_while_it_runs_stops_between_items(app, client, queue_at, worker):
    env = queue_at("sqlite", **SLOW)
    ids = store_accounts(app, 6)
    job_id = start_through_api(client, ids)
    process = worker(env)
    wait_for(app, job_id, lambda job: job.done >= 1, "started", process)

    response = client.post(f"/api/v1/jobs/{job_id}/cancel")

    assert response.status_code == 200, response.text
    assert response.get_json()["status"] == "cancelled"
    # The worker finishes the item in hand, then lets the job go.
    job = wait_for(app, job_id, lambda job: job.claim is None, "let go", process)
    assert job.status == "cancelled" and job.done < 6
    assert sorted(versions(app, ids)) == [1] * (6 - job.done) + [2] * job.done
