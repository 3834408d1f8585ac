"""Hashtag and trending syncs (seed 003): the platform's videos for each hashtag stored in the
video catalogue, deduplicated across runs, searchable at once; started from the API's sync
routes (202, 404, 422s, roles), POST /jobs, the CLI and the /videos page; run end to end by
`toker worker` on SQLite and Redis queues."""

from datetime import date

import pytest
from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models import AuditEvent, HashtagCount, Job, Video
from webapp.services import jobs
from webapp.services.accounts import audit
from webapp.services.ingestion.connectors import get_connector
from webapp.services.ingestion.onboarding import submit_payload
from webapp.services.live import stamps

from ..factories import make_payload, video
from ..helpers import assert_problem
from .conftest import finished, read_job, run_in_process, wait_for

DAY = date(2026, 12, 7)  # the tests' clock (tests/conftest.py)
SYNC = "/api/v1/jobs/sync"


def start(app, platform: str, hashtags: list[str], max_videos: int = 40) -> int:
    requester = jobs.Requester(audit.Actor("admin", via="test"), admin=True)
    params = {"platform": platform, "hashtags": hashtags, "max_videos": max_videos}
    with app.app_context():
        return jobs.start_job("hashtag-sync", params, requester).id


def expected(platform: str, tag: str, most: int) -> list[dict]:
    """What the platform answers for the hashtag today, the newest `most`."""
    return get_connector(platform).videos_with_hashtag(tag, 0, DAY)["videos"][:most]


def stored_videos(app, platform: str) -> dict[str, Video]:
    with app.app_context():
        found = db.session.scalars(select(Video).where(Video.platform == platform)).all()
        for row in found:
            db.session.expunge(row)
        return {row.video_id: row for row in found}


# --- the job --------------------------------------------------------------------------------


def test_a_sync_stores_each_hashtags_videos_and_a_second_run_stores_nothing_new(app):
    dance = expected("tiktok", "dance", 40)
    food = expected("tiktok", "food", 40)
    distinct = {v["video_id"] for v in dance + food}

    first = start(app, "tiktok", ["dance", "#Food"])
    run_in_process(app, first)

    job = read_job(app, first)
    assert job.status == "done" and job.params["hashtags"] == ["dance", "food"]
    both = len(dance) + len(food) - len(distinct)  # carried by both: the second finds it stored
    assert job.result["counts"] == {
        "synced": 2,
        "new videos": len(distinct),
        "videos already stored": both,
    }
    assert job.result["items"] == {
        "#dance": {"found": 40, "new": 40, "already stored": 0},
        "#food": {"found": 40, "new": 40 - both, "already stored": both},
    }
    stored = stored_videos(app, "tiktok")
    assert set(stored) == distinct
    sample = stored[dance[0]["video_id"]]
    assert (sample.likes, sample.caption) == (dance[0]["likes"], dance[0]["caption"])
    assert "#dance" in sample.hashtags and sample.categories

    second = start(app, "tiktok", ["dance", "food"])
    run_in_process(app, second)

    again = read_job(app, second)
    assert again.result["counts"] == {
        "synced": 2,
        "new videos": 0,
        "videos already stored": len(dance) + len(food),
    }
    assert set(stored_videos(app, "tiktok")) == distinct, "nothing doubled"


def test_a_video_a_profile_stored_is_refreshed_not_doubled(app):
    newest = expected("x", "news", 1)[0]
    old = video(newest["video_id"], categories=["News"], hashtags=["#news"], likes=1)
    with app.app_context():
        payload = make_payload(user_id="u1", liked_videos=[old], shared_videos=[])
        assert submit_payload("x", payload).accepted

    job_id = start(app, "x", ["news"], max_videos=5)
    run_in_process(app, job_id)

    assert read_job(app, job_id).result["items"]["#news"] == {
        "found": 5,
        "new": 4,
        "already stored": 1,
    }
    stored = stored_videos(app, "x")
    assert len(stored) == 5 and stored[newest["video_id"]].likes == newest["likes"]


def test_synced_videos_are_searchable_counted_and_seen_by_every_process_at_once(app, client):
    first = expected("instagram", "travel", 3)[0]
    word = max(first["caption"].split(), key=len).lower()
    with app.app_context():
        version = stamps.current(db.session)
        db.session.commit()
    job_id = start(app, "instagram", ["travel"], max_videos=3)

    run_in_process(app, job_id)

    found = client.get(f"/api/v1/videos?q={word}&platform=instagram").get_json()["items"]
    assert first["video_id"] in [item["video_id"] for item in found]
    tagged = client.get("/api/v1/videos?hashtag=travel").get_json()
    assert tagged["total"] == 3
    with app.app_context():
        assert stamps.current(db.session) > version, "the data version moved"
        count = db.session.get(HashtagCount, "#travel")
        assert count is not None and count.videos == 3
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "hashtag-sync"))
        assert [(e.actor, e.target, e.detail, e.via) for e in events] == [
            ("admin", "instagram:#travel", "3 new, 0 already stored", "job")
        ]


def test_a_platform_failure_is_retried_then_the_hashtag_is_stored(app, monkeypatch):
    from webapp.services.jobs import runner

    monkeypatch.setattr(runner, "sleep", lambda seconds: None)
    app.config.update(TOKER_CONNECTOR_FAULTS="timeout*2", TOKER_CONNECTOR_RETRIES=1)
    job_id = start(app, "tiktok", ["pets"], max_videos=3)

    run_in_process(app, job_id)

    job = read_job(app, job_id)
    assert job.result["counts"]["synced"] == 1 and job.result["counts"]["new videos"] == 3


# --- the API -----------------------------------------------------------------------------------


def test_the_sync_route_answers_202_with_the_job(app, client):
    response = client.post(f"{SYNC}/tiktok", json={"hashtags": ["#Dance", "food", "dance"]})

    assert response.status_code == 202
    job = response.get_json()
    assert response.headers["Location"] == f"/api/v1/jobs/{job['id']}"
    assert job["kind"] == "hashtag-sync" and job["status"] == "queued"
    assert job["params"] == {"platform": "tiktok", "hashtags": ["dance", "food"], "max_videos": 200}
    assert job["progress"] == {"done": 0, "total": 2}
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "job-started"))
        assert [(e.actor, e.via) for e in events] == [("admin", "api")]


def test_the_trending_route_fixes_the_platforms_trending_hashtags(client):
    trending = get_connector("x").trending_hashtags(DAY)

    response = client.post(f"{SYNC}/x/trending")

    assert response.status_code == 202, response.text
    job = response.get_json()
    assert job["kind"] == "trending-sync" and job["params"]["hashtags"] == trending
    assert job["progress"]["total"] == len(trending) == 10
    smaller = client.post(f"{SYNC}/x/trending", json={"count": 3, "max_videos": 5}).get_json()
    assert smaller["params"]["hashtags"] == trending[:3] and smaller["params"]["max_videos"] == 5


def test_a_trending_sync_the_platform_fails_is_a_platform_problem(app, client):
    app.config.update(TOKER_CONNECTOR_FAULTS="timeout*5", TOKER_CONNECTOR_RETRIES=2)
    response = client.post(f"{SYNC}/tiktok/trending")
    assert_problem(response, 504)
    with app.app_context():
        assert db.session.scalar(select(func.count(Job.id))) == 0


@pytest.mark.parametrize("path", [f"{SYNC}/myspace", f"{SYNC}/myspace/trending"])
def test_an_unknown_platform_is_a_404(client, path):
    problem = assert_problem(client.post(path, json={"hashtags": ["x"]}), 404)
    assert "tiktok, instagram, x" in problem["detail"]


@pytest.mark.parametrize(
    "body, loc, words",
    [
        ({}, "hashtags", "is required"),
        ({"hashtags": []}, "hashtags", "at least 1"),
        ({"hashtags": "dance"}, "hashtags", "valid list"),
        ({"hashtags": ["dance", ""]}, "hashtags[1]", "not be empty"),
        ({"hashtags": ["#"]}, "hashtags[0]", "not be empty"),
        ({"hashtags": ["two words"]}, "hashtags[0]", "one word"),
        ({"hashtags": [7]}, "hashtags[0]", "must be a string"),
        ({"hashtags": ["a" * 101]}, "hashtags[0]", "too long"),
        ({"hashtags": [f"t{i}" for i in range(21)]}, "hashtags", "at most 20"),
        ({"hashtags": ["dance"], "max_videos": 0}, "max_videos", "greater than or equal to 1"),
    ],
)
def test_bad_hashtags_are_a_422_naming_them(client, body, loc, words):
    problem = assert_problem(client.post(f"{SYNC}/tiktok", json=body), 422, loc)
    assert words in problem["errors"][0]["msg"]


def test_post_jobs_starts_them_too_with_errors_under_params(client):
    started = client.post(
        "/api/v1/jobs",
        json={"kind": "hashtag-sync", "params": {"platform": "x", "hashtags": ["news"]}},
    )
    assert started.status_code == 202
    for params, loc in (
        ({"platform": "nope", "hashtags": ["a"]}, "params.platform"),
        ({"platform": "x", "hashtags": ["a", "b c"]}, "params.hashtags[1]"),
    ):
        refused = client.post("/api/v1/jobs", json={"kind": "hashtag-sync", "params": params})
        assert_problem(refused, 422, loc)


@pytest.mark.parametrize("role, status", [("viewer", 403), ("analyst", 202)])
def test_starting_a_sync_needs_the_analyst_role(client_as, role, status):
    assert client_as(role).post(f"{SYNC}/tiktok", json={"hashtags": ["a"]}).status_code == status


# --- the CLI and the page ------------------------------------------------------------------------


def test_the_cli_starts_both_syncs(app, runner):
    result = runner.invoke(args=["jobs", "start", "hashtag-sync", "tiktok", "#dance", "food"])
    assert result.exit_code == 0, result.output
    assert "Sync hashtags' videos, 2 item(s)" in result.output
    result = runner.invoke(args=["jobs", "start", "trending-sync", "instagram", "--count", "4"])
    assert result.exit_code == 0, result.output
    assert "4 item(s)" in result.output
    bad = runner.invoke(args=["jobs", "start", "hashtag-sync", "tiktok", "two words"])
    assert bad.exit_code == 1 and "hashtags[0]" in bad.output
    with app.app_context():
        kinds = db.session.scalars(select(Job.kind).order_by(Job.id)).all()
    assert kinds == ["hashtag-sync", "trending-sync"]


def test_the_videos_page_offers_the_syncs_to_analysts_only(client_as):
    assert 'id="video-sync"' not in client_as("viewer", "v").get("/videos").get_data(as_text=True)
    analyst = client_as("analyst", "a")
    page = analyst.get("/videos").get_data(as_text=True)
    assert 'id="sync-hashtags"' in page and "Sync trending on Instagram" in page

    response = analyst.post("/jobs/sync", data={"platform": "x", "hashtags": "news, #tech"})

    assert response.status_code == 303
    job_page = analyst.get(response.headers["Location"]).get_data(as_text=True)
    assert 'id="job-hashtags"' in job_page and "#tech" in job_page
    trending = analyst.post("/jobs/sync/trending", data={"platform": "tiktok"})
    assert trending.status_code == 303 and "/jobs/" in trending.headers["Location"]
    refused = analyst.post("/jobs/sync", data={"platform": "x", "hashtags": "a-b"})
    assert refused.status_code == 303 and refused.headers["Location"].endswith("/videos")


def test_a_finished_sync_shows_each_hashtags_figures(app, client):
    job_id = start(app, "x", ["tech"], max_videos=4)
    run_in_process(app, job_id)
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert 'data-item="#tech"' in page and "4 new" in page


# --- end to end ----------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["sqlite", "redis"])
def test_a_worker_runs_a_sync_started_through_the_api(app, client, queue_at, worker, backend):
    env = queue_at(backend, TOKER_CLOCK=DAY.isoformat())
    response = client.post(f"{SYNC}/tiktok", json={"hashtags": ["comedy"], "max_videos": 150})
    assert response.status_code == 202, response.text
    process = worker(env)

    job = wait_for(app, response.get_json()["id"], finished, "finished", process)

    assert job.status == "done" and job.result["counts"]["new videos"] == 150
    assert len(stored_videos(app, "tiktok")) == 150
    first = expected("tiktok", "comedy", 1)[0]
    found = client.get("/api/v1/videos?hashtag=comedy&sort=posted").get_json()["items"][0]
    assert found["video_id"] == first["video_id"]
