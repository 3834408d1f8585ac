"""`toker jobs` and `toker worker` through the CLI runner."""

import threading

import pytest
from sqlalchemy import select

from webapp import create_app
from webapp.extensions import db
from webapp.models import AuditEvent

from .conftest import read_job, run_in_process, start, versions


def test_start_queues_a_resync_and_says_how_to_follow_it(app, runner, three):
    args = ["jobs", "start", "resync"] + [f"--profile-id={pk}" for pk in three]

    result = runner.invoke(args=args)

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Started job 1: Re-sync profiles, 3 item(s).")
    assert "toker jobs show 1" in result.stdout
    job = read_job(app, 1)
    assert (job.status, job.params, job.user_id) == ("queued", {"profile_ids": three}, None)
    assert job.started_by.startswith("cli")
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "job-started"))
        assert [e.via for e in event] == ["cli"]


def test_start_names_each_profile_that_is_not_stored(app, runner, three):
    result = runner.invoke(
        args=["jobs", "start", "resync", "--profile-id", str(three[0]), "--profile-id", "77"]
    )

    assert result.exit_code == 1
    assert "profile_ids[1]: no profile has id 77" in result.stderr
    assert runner.invoke(args=["jobs", "list"]).stdout == "No jobs.\n"


def test_start_needs_a_profile_id(runner):
    result = runner.invoke(args=["jobs", "start", "resync"])

    assert result.exit_code == 2
    assert "--profile-id" in result.output


def test_list_shows_the_latest_jobs_with_their_progress(app, runner, three):
    first = start(app, three)
    second = start(app, three[:1], name="alice")
    run_in_process(app, first)

    result = runner.invoke(args=["jobs", "list"])

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "2 job(s); the latest 2:"
    assert lines[1].split()[:5] == [str(second), "resync", "queued", "0/1", "alice"]
    assert lines[2].split()[:5] == [str(first), "resync", "done", "3/3", "admin"]
    only_done = runner.invoke(args=["jobs", "list", "--status", "done"]).stdout.splitlines()
    assert [line.split()[0] for line in only_done[1:]] == [str(first)]


def test_show_prints_a_finished_job_with_its_outcomes_and_problems(app, runner, three):
    job_id = start(app, three)
    app.config["TOKER_MIN_LIKES"] = 10**9
    run_in_process(app, job_id)

    result = runner.invoke(args=["jobs", "show", str(job_id)])

    assert result.exit_code == 0, result.output
    assert f"Job {job_id}: Re-sync profiles" in result.stdout
    assert "Status: done (3 of 3 item(s) done)" in result.stdout
    assert "Outcomes: 3 rejected" in result.stdout
    assert f"- profile {three[0]}: rejected: " in result.stdout


def test_show_follows_a_running_job_with_a_progress_bar_until_it_ends(app, runner, three):
    job_id = start(app, three)
    worker = threading.Timer(0.3, run_in_process, args=(app, job_id))
    worker.start()
    try:
        result = runner.invoke(args=["jobs", "show", str(job_id)])
    finally:
        worker.join()

    assert result.exit_code == 0, result.output
    assert "Waiting for a worker" in result.stderr
    assert f"Job {job_id}" in result.stderr, "the progress bar's label"
    assert "Status: done (3 of 3 item(s) done)" in result.stdout
    assert versions(app, three) == [2, 2, 2]


def test_show_without_following_prints_a_queued_job_at_once(app, runner, three):
    job_id = start(app, three)

    result = runner.invoke(args=["jobs", "show", str(job_id), "--no-follow"])

    assert result.exit_code == 0
    assert "Status: queued (0 of 3 item(s) done)" in result.stdout


def test_show_an_unknown_job_exits_1(runner):
    result = runner.invoke(args=["jobs", "show", "42"])

    assert result.exit_code == 1
    assert "No job has id 42." in result.stderr


def test_cancel_stops_anyones_job_from_the_command_line(app, runner, three):
    job_id = start(app, three, name="alice")

    result = runner.invoke(args=["jobs", "cancel", str(job_id)])

    assert result.exit_code == 0, result.output
    assert result.stdout == f"Cancelled job {job_id} after 0 of 3 item(s).\n"
    assert read_job(app, job_id).status == "cancelled"
    again = runner.invoke(args=["jobs", "cancel", str(job_id)])
    assert again.exit_code == 1
    assert "has ended (cancelled)" in again.stderr


def test_worker_says_what_it_runs(runner):
    result = runner.invoke(args=["worker", "--help"])

    assert result.exit_code == 0
    assert "Run the worker that runs queued jobs" in result.stdout
    assert "--workers" in result.stdout


@pytest.mark.parametrize(
    "args", [["worker"], ["jobs", "list"], ["jobs", "show", "1"], ["users", "list"]]
)
def test_commands_on_an_unmigrated_database_say_how_to_fix_it(tmp_path, args):
    bare = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'bare.sqlite'}",
            "TOKER_QUEUE_URL": "memory://",
        }
    )

    result = bare.test_cli_runner().invoke(args=args)

    assert result.exit_code == 1
    assert "no such table" in result.stderr
    assert "toker db upgrade" in result.stderr
