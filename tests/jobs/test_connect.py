"""Bulk connect: lines of accounts read or refused line by line, the list checked whole before
a job starts, each account connected once through the pipeline with its outcome counted, and
the API's bodies, problems and roles."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from webapp.extensions import db
from webapp.models import AuditEvent, Job, Profile, utcnow
from webapp.services import jobs
from webapp.services.accounts import audit
from webapp.services.jobs import queue, runner
from webapp.services.jobs.connect import MAX_ACCOUNTS, BadLines, decode, read_lines

from ..factories import accepted_user_ids, mock_user_id
from ..helpers import assert_problem
from .conftest import read_job, run_in_process, start_connect, store_accounts, stored_accounts

JOBS = "/api/v1/jobs"


def accounts(*pairs: tuple[str, str]) -> list[dict]:
    return [{"platform": platform, "user_id": user_id} for platform, user_id in pairs]


def connect(params: dict) -> dict:
    return {"kind": "connect", "params": params}


def job_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Job))


# --- reading lines ---------------------------------------------------------------------------


def test_lines_are_read_with_a_header_blank_lines_and_spaces_ignored():
    text = 'Platform, User ID\n\n  tiktok ,  123 \n\t\ninstagram,"ab,c"\nX,@someone,\n'

    assert read_lines(text) == accounts(("tiktok", "123"), ("instagram", "ab,c"), ("x", "@someone"))


def test_a_header_is_only_a_header_on_the_first_line():
    with pytest.raises(BadLines) as raised:
        read_lines("tiktok,1\nplatform,user_id\n")

    assert raised.value.messages == [
        "line 2: unknown platform 'platform'; choose one of tiktok, instagram, x"
    ]


@pytest.mark.parametrize(
    "line, message",
    [
        ("tiktk,123", "unknown platform 'tiktk'; choose one of tiktok, instagram, x"),
        ("tiktok", "user id missing"),
        ("tiktok,", "user id missing"),
        ("tiktok,   ", "user id missing"),
        (",123", "platform missing"),
        ("tiktok,1,2", "3 values; expected platform,user_id"),
        ("tiktok," + "9" * 65, "user id has 65 characters; at most 64"),
        ("tiktok,a\x00b", "user id holds a NUL character"),
    ],
)
def test_each_kind_of_bad_line_is_named_with_its_number(line, message):
    with pytest.raises(BadLines) as raised:
        read_lines(f"platform,user_id\ninstagram,1\n\n{line}\n")

    assert raised.value.problems == [(4, message)]
    assert raised.value.messages == [f"line 4: {message}"]


def test_every_bad_line_is_named_at_once_and_a_repeat_names_the_first():
    text = "\n".join(
        [
            "platform,user_id",  # 1
            "tiktok,100",  # 2
            "instagram,200",  # 3
            "tiktk,300",  # 4
            "",  # 5
            "x,400",  # 6
            "x",  # 7
            "x,500",  # 8
            "tiktok, 100 ",  # 9
        ]
    )

    with pytest.raises(BadLines) as raised:
        read_lines(text)

    assert raised.value.messages == [
        "line 4: unknown platform 'tiktk'; choose one of tiktok, instagram, x",
        "line 7: user id missing",
        "line 9: repeats line 2",
    ]


def test_the_same_user_id_on_two_platforms_is_two_accounts():
    assert read_lines("tiktok,7\ninstagram,7\n") == accounts(("tiktok", "7"), ("instagram", "7"))


@pytest.mark.parametrize("text", ["", "\n  \n", "platform,user_id\n"])
def test_lines_that_name_no_account_are_refused(text):
    with pytest.raises(BadLines) as raised:
        read_lines(text)

    assert raised.value.messages == ["no accounts: give lines of platform,user_id"]


def test_more_accounts_than_a_job_takes_are_refused():
    text = "\n".join(f"tiktok,{n}" for n in range(MAX_ACCOUNTS + 1))

    with pytest.raises(BadLines) as raised:
        read_lines(text)

    assert raised.value.messages == ["10,001 accounts; a bulk connect takes at most 10,000"]


def test_an_uploaded_file_is_read_as_utf8_with_or_without_a_byte_order_mark():
    data = "\ufeffplatform,user_id\r\ntiktok,ünïcode\r\n".encode()

    assert read_lines(decode(data)) == accounts(("tiktok", "ünïcode"))
    with pytest.raises(BadLines) as raised:
        decode(b"tiktok,1\n\xff\xfe")
    assert raised.value.messages == ["the file is not UTF-8 text (byte 10)"]


# --- the job ---------------------------------------------------------------------------------


@pytest.fixture
def mixed(app) -> list[tuple[str, str]]:
    """Accounts to connect: one stored already, two new, one the likes minimum rejects."""
    store_accounts(app, 1)  # the first accepted TikTok account
    first, second = accepted_user_ids("tiktok", 2)
    return [
        ("tiktok", second),
        ("tiktok", first),  # stored by store_accounts
        ("instagram", accepted_user_ids("instagram", 1)[0]),
        ("tiktok", mock_user_id("tiktok", accepted=False)),
    ]


def test_a_bulk_connect_stores_updates_and_rejects_each_account_once(app, mixed):
    job_id = start_connect(app, mixed, name="alice")

    run_in_process(app, job_id)

    job = read_job(app, job_id)
    assert (job.status, job.done, job.total, job.runs) == ("done", 4, 4, 1)
    assert job.result["counts"] == {"stored": 2, "updated": 1, "rejected": 1}
    (problem,) = job.result["problems"]
    rejected = mixed[3]
    assert problem["item"] == f"TikTok account {rejected[1]}"
    assert problem["outcome"] == "rejected"
    assert problem["reason"].startswith("not stored: ") and "number_of_likes" in problem["reason"]
    versions = stored_accounts(app)
    assert {key: versions.get(key) for key in mixed} == {
        mixed[0]: 1,
        mixed[1]: 2,
        mixed[2]: 1,
        rejected: None,
    }
    with app.app_context():
        events = db.session.execute(
            select(AuditEvent.action, AuditEvent.actor, AuditEvent.via, AuditEvent.target)
            .where(AuditEvent.actor == "alice")
            .order_by(AuditEvent.id)
        ).all()
        details = db.session.scalars(
            select(AuditEvent.detail).where(AuditEvent.actor == "alice").order_by(AuditEvent.id)
        ).all()
    assert events[0] == ("job-started", "alice", "test", f"job {job_id}")
    assert details[0] == "Connect accounts: 4 items"
    # Each account is audited as the connect page audits one, made by the job for alice.
    assert events[1:] == [("connect", "alice", "job", f"{p}:{u}") for p, u in mixed]
    assert details[1:4] == ["created", "updated", "created"]
    assert details[4].startswith("rejected: ")


def test_a_platform_that_fails_for_now_is_tried_again_by_the_runner(app, mixed, monkeypatch):
    waits = []
    monkeypatch.setattr(runner, "sleep", waits.append)
    # One call per try: the first account times out twice, then every call answers.
    app.config.update(
        TOKER_CONNECTOR_FAULTS="timeout*2", TOKER_CONNECTOR_RETRIES=1, TOKER_JOB_LEASE=300
    )
    job_id = start_connect(app, mixed[:2])

    run_in_process(app, job_id)

    assert read_job(app, job_id).result == {"counts": {"stored": 1, "updated": 1}, "problems": []}
    # The waits of the platform's pace (a call every 0.1 s to TikTok) come between them.
    backoffs = [wait for wait in waits if wait >= runner.ITEM_BACKOFF_SECONDS]
    assert len(backoffs) == 2, "two waits before the third try"
    assert stored_accounts(app)[mixed[0]] == 1


def test_an_account_whose_platform_fails_is_counted_failed_with_the_reason(app, mixed):
    app.config.update(TOKER_CONNECTOR_FAULTS="malformed", TOKER_CONNECTOR_RETRIES=1)
    job_id = start_connect(app, mixed[:2])

    run_in_process(app, job_id)

    job = read_job(app, job_id)
    assert job.result["counts"] == {"failed": 1, "updated": 1}
    (problem,) = job.result["problems"]
    assert problem["item"] == f"TikTok account {mixed[0][1]}" and problem["outcome"] == "failed"
    assert mixed[0] not in stored_accounts(app)


class Killed(BaseException):
    """The worker's process ending in the middle of a transaction (nothing catches it)."""


def test_a_worker_killed_inside_an_items_transaction_stores_nothing_of_it(app, monkeypatch):
    """The second account is stored and marked done, then the process dies before the commit:
    neither stays. Taken over once its claim is stale, the job connects that account again,
    and each account is stored exactly once."""
    accounts = [("tiktok", user_id) for user_id in accepted_user_ids("tiktok", 3)]
    job_id = start_connect(app, accounts)
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

    assert (read_job(app, job_id).status, read_job(app, job_id).done) == ("running", 1)
    assert stored_accounts(app) == {accounts[0]: 1}, "the second account's write was undone"

    monkeypatch.setattr(runner._Run, "_stage", real_stage)
    with app.app_context(), db.engine.begin() as connection:
        stale = utcnow() - timedelta(seconds=61)
        connection.execute(update(Job.__table__).values(heartbeat_at=stale))
    with app.app_context():
        assert runner.recover_jobs(queue.current()) == [job_id]
    run_in_process(app, job_id)

    job = read_job(app, job_id)
    assert (job.status, job.done, job.runs) == ("done", 3, 2)
    assert job.result["counts"] == {"stored": 3}
    assert stored_accounts(app) == {account: 1 for account in accounts}


def test_repeated_accounts_are_refused_naming_both_places_and_nothing_starts(app):
    requester = jobs.Requester(audit.Actor("admin"), admin=True)
    params = {"accounts": accounts(("tiktok", "1"), ("x", "2"), ("tiktok", " 1 "), ("x", "2"))}

    with app.app_context(), pytest.raises(jobs.InvalidParams) as raised:
        jobs.start_job("connect", params, requester)

    assert raised.value.errors == [
        ("accounts[2]", "repeats accounts[0] (TikTok account 1)"),
        ("accounts[3]", "repeats accounts[1] (X account 2)"),
    ]
    assert job_count(app) == 0


def test_lines_become_the_list_the_job_stores(app):
    requester = jobs.Requester(audit.Actor("admin"), admin=True)

    with app.app_context():
        job = jobs.start_job("connect", {"lines": "x, 5\ntiktok,6\n"}, requester)

    assert (job.params, job.total) == ({"accounts": accounts(("x", "5"), ("tiktok", "6"))}, 2)


# --- the API ---------------------------------------------------------------------------------


def test_the_api_starts_a_bulk_connect_with_202_and_its_location(app, client):
    body = connect({"accounts": accounts(("tiktok", "11"), ("instagram", " 12 "))})

    response = client.post(JOBS, json=body)

    assert response.status_code == 202, response.text
    job = response.get_json()
    assert response.headers["Location"] == f"{JOBS}/{job['id']}"
    assert (job["kind"], job["label"], job["status"]) == ("connect", "Connect accounts", "queued")
    assert job["params"] == {"accounts": accounts(("tiktok", "11"), ("instagram", "12"))}
    assert job["progress"] == {"done": 0, "total": 2}
    run_in_process(app, job["id"])
    done = client.get(response.headers["Location"]).get_json()
    assert done["status"] == "done" and sum(done["result"]["counts"].values()) == 2


def test_the_api_takes_lines_too(client):
    response = client.post(JOBS, json=connect({"lines": "platform,user_id\nx,1\n"}))

    assert response.status_code == 202, response.text
    assert response.get_json()["params"] == {"accounts": accounts(("x", "1"))}


@pytest.mark.parametrize(
    "params, loc, words",
    [
        ({}, "params", "give accounts or lines, one of the two"),
        ({"accounts": [], "lines": "x,1"}, "params.accounts", "at least 1 item"),
        ({"accounts": accounts(("x", "1")), "lines": "x,2"}, "params", "one of the two"),
        ({"accounts": "x,1"}, "params.accounts", "valid list"),
        ({"accounts": [{"platform": "x"}]}, "params.accounts[0].user_id", "is required"),
        (
            {"accounts": accounts(("x", "1"), ("x", "2"), ("x", "3"), ("tiktk", "4"))},
            "params.accounts[3].platform",
            "unknown platform 'tiktk'",
        ),
        (
            {"accounts": accounts(("x", "1"), ("x", "2"), ("x", "3"), ("x", " "))},
            "params.accounts[3].user_id",
            "user id missing",
        ),
        (
            {"accounts": [{"platform": "x", "user_id": 5}]},
            "params.accounts[0].user_id",
            "must be a string",
        ),
        (
            {"accounts": accounts(("x", "a" * 65))},
            "params.accounts[0].user_id",
            "user id has 65 characters",
        ),
        (
            {"accounts": accounts(*[("x", str(n)) for n in range(MAX_ACCOUNTS + 1)])},
            "params.accounts",
            "at most 10000 items",
        ),
        ({"lines": 5}, "params.lines", "valid string"),
    ],
)
def test_a_bad_list_is_a_422_naming_the_place(app, client, params, loc, words):
    problem = assert_problem(client.post(JOBS, json=connect(params)), 422, loc)

    assert words in problem["errors"][0]["msg"]
    assert job_count(app) == 0


def test_repeated_accounts_are_each_a_located_422(app, client):
    body = connect({"accounts": accounts(("x", "1"), ("x", "2"), ("x", "1"))})

    problem = assert_problem(client.post(JOBS, json=body), 422)

    assert problem["errors"] == [
        {"loc": "params.accounts[2]", "msg": "repeats accounts[0] (X account 1)"}
    ]
    assert job_count(app) == 0


def test_bad_lines_are_each_a_located_422_with_their_numbers(app, client):
    body = connect({"lines": "tiktok,1\ntiktk,2\n\ntiktok,1\nx\n"})

    problem = assert_problem(client.post(JOBS, json=body), 422, "params.lines")

    assert problem["errors"] == [
        {
            "loc": "params.lines",
            "msg": "line 2: unknown platform 'tiktk'; choose one of tiktok, instagram, x",
        },
        {"loc": "params.lines", "msg": "line 4: repeats line 1"},
        {"loc": "params.lines", "msg": "line 5: user id missing"},
    ]
    assert job_count(app) == 0


def test_a_viewer_may_not_start_a_bulk_connect(app, client_as):
    viewer = client_as("viewer")

    response = viewer.post(JOBS, json=connect({"accounts": accounts(("x", "1"))}))

    assert_problem(response, 403)
    assert job_count(app) == 0


def test_an_analyst_may(app, client_as):
    analyst = client_as("analyst", "alice")

    response = analyst.post(JOBS, json=connect({"lines": "x,1"}))

    assert response.status_code == 202
    assert response.get_json()["started_by"]["name"] == "alice"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Profile)) == 0, "only queued"
