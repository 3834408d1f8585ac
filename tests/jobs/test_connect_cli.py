"""`toker jobs start connect FILE`: a CSV file or lines on standard input started as a bulk
connect, every bad line named on stderr with nothing started, and --follow's progress bar."""

import threading

from sqlalchemy import select

from webapp.extensions import db
from webapp.models import AuditEvent

from ..factories import accepted_user_ids
from .conftest import read_job, run_in_process, stored_accounts


def test_start_connect_reads_a_csv_file(app, runner, tmp_path):
    path = tmp_path / "accounts.csv"
    path.write_bytes(b"\xef\xbb\xbfplatform,user_id\r\ninstagram,21\r\n\r\nx, 22 \r\n")

    result = runner.invoke(args=["jobs", "start", "connect", str(path)])

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Started job 1: Connect accounts, 2 item(s).")
    job = read_job(app, 1)
    assert (job.kind, job.status, job.user_id) == ("connect", "queued", None)
    assert job.params == {
        "accounts": [{"platform": "instagram", "user_id": "21"}, {"platform": "x", "user_id": "22"}]
    }
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "job-started"))
        assert [(e.via, e.detail) for e in events] == [("cli", "Connect accounts: 2 items")]


def test_start_connect_reads_standard_input_for_a_dash(app, runner):
    result = runner.invoke(args=["jobs", "start", "connect", "-"], input="tiktok,5\n")

    assert result.exit_code == 0, result.output
    assert read_job(app, 1).params == {"accounts": [{"platform": "tiktok", "user_id": "5"}]}


def test_bad_lines_are_each_named_on_stderr_and_nothing_starts(runner):
    text = "platform,user_id\ntiktok,1\ntiktk,2\n\nx\ntiktok,1\n"

    result = runner.invoke(args=["jobs", "start", "connect", "-"], input=text)

    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "Error: the job cannot start:",
        "  - line 3: unknown platform 'tiktk'; choose one of tiktok, instagram, x",
        "  - line 5: user id missing",
        "  - line 6: repeats line 2",
    ]
    assert runner.invoke(args=["jobs", "list"]).stdout == "No jobs.\n"


def test_a_file_that_is_not_text_is_refused(runner, tmp_path):
    path = tmp_path / "accounts.xlsx"
    path.write_bytes(b"PK\x03\x04\xff\xfe")

    result = runner.invoke(args=["jobs", "start", "connect", str(path)])

    assert result.exit_code == 1
    assert "  - the file is not UTF-8 text (byte 5)" in result.stderr
    assert runner.invoke(args=["jobs", "list"]).stdout == "No jobs.\n"


def test_a_missing_file_is_a_usage_error(runner, tmp_path):
    result = runner.invoke(args=["jobs", "start", "connect", str(tmp_path / "nope.csv")])

    assert result.exit_code == 2
    assert "No such file or directory" in result.output


def test_follow_shows_a_progress_bar_then_the_outcomes(app, runner):
    user_ids = accepted_user_ids("tiktok", 3)
    text = "".join(f"tiktok,{user_id}\n" for user_id in user_ids)
    worker = threading.Timer(0.3, run_in_process, args=(app, 1))
    worker.start()
    try:
        result = runner.invoke(args=["jobs", "start", "connect", "-", "--follow"], input=text)
    finally:
        worker.join()

    assert result.exit_code == 0, result.output
    assert "Job 1" in result.stderr, "the progress bar's label"
    assert "Status: done (3 of 3 item(s) done)" in result.stdout
    assert "Outcomes: 3 stored" in result.stdout
    assert {key: 1 for key in (("tiktok", u) for u in user_ids)} == stored_accounts(app)
