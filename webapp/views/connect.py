"""The onboarding flow: choose a platform, consent, then watch each pipeline step happen; or
connect many accounts at once as a job."""

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for

from ..security import current_actor, current_requester, requires
from ..services import jobs
from ..services.ingestion import onboarding
from ..services.ingestion.platforms import LABELS
from ..services.jobs.connect import MAX_ACCOUNTS, BadLines, decode
from .forms import BulkConnectForm, ConnectForm

bp = Blueprint("connect", __name__, url_prefix="/connect")


@bp.get("")
@requires("analyst")
def start():
    """Step 1: the platform and an optional user id (both may come filled in, as the links
    to the demo accounts that will be rejected fill them)."""
    form = ConnectForm(
        formdata=None,
        platform=request.args.get("platform", ""),
        user_id=request.args.get("user_id", ""),
    )
    return render_template("connect.html", section="connect", form=form, **_demo_context())


def _demo_context() -> dict:
    """An account per platform that the likes minimum rejects, for trying a rejection."""
    demos = [onboarding.rejected_demo_account(platform) for platform in LABELS]
    return {"rejected_demos": [demo for demo in demos if demo is not None]}


@bp.post("/consent")
@requires("analyst")
def consent():
    """Step 2: what Toker will read, and the user's go-ahead."""
    form = ConnectForm()
    if not form.validate():
        return render_template("connect.html", section="connect", form=form, **_demo_context()), 422
    platform = form.platform.data
    user_id = form.user_id.data or onboarding.new_user_id(platform)
    return render_template(
        "connect_consent.html",
        section="connect",
        platform=platform,
        user_id=user_id,
        label=LABELS[platform],
    )


@bp.post("/progress")
@requires("analyst")
def progress():
    """Step 3: the progress view; htmx then runs the pipeline one step per request."""
    form = ConnectForm()
    if not form.validate() or not form.user_id.data:
        if not form.errors:
            form.user_id.errors = ["Enter a user id."]
        return render_template("connect.html", section="connect", form=form, **_demo_context()), 422
    platform = form.platform.data
    report = onboarding.StepReport(platform, form.user_id.data)
    return render_template(
        "connect_progress.html",
        section="connect",
        report=report,
        steps=onboarding.STEPS,
        label=LABELS[platform],
    )


@bp.post("/step")
@requires("analyst")
def step():
    """Run the pipeline up to the requested step and show where it stands."""
    form = ConnectForm()
    try:
        upto = min(4, max(1, int(request.form.get("step", "1"))))
    except ValueError:
        upto = 1
    if not form.validate() or not form.user_id.data:
        return make_response("Unknown platform or bad user id.", 400)
    platform, user_id = form.platform.data, form.user_id.data
    report = onboarding.run_steps(platform, user_id, upto, onboarding.Audit(current_actor()))
    if report.outcome is not None:
        verb = "Connected" if report.outcome.status == "created" else "Updated"
        flash(
            f"{verb} {LABELS[platform]} account {user_id}"
            f"{'' if verb == 'Connected' else ': it was already stored and is now re-synced'}.",
            "success",
        )
        response = make_response("", 200)
        response.headers["HX-Redirect"] = url_for(
            "pages.profile", profile_id=report.outcome.profile_id
        )
        return response
    return render_template("partials/_progress.html", report=report, steps=onboarding.STEPS)


@bp.route("/many", methods=["GET", "POST"])
@requires("analyst")
def many():
    """Connect many accounts as a job, from pasted lines or a CSV file; then its page."""
    form = BulkConnectForm()
    if request.method == "GET":
        return _many_page(form)
    text = form.lines.data or ""
    upload = form.upload.data
    if upload is not None and upload.filename:
        if text.strip():
            form.upload.errors = ["Paste lines or choose a file, not both."]
            return _many_page(form, 422)
        try:
            text = decode(upload.read())
        except BadLines as error:
            form.upload.errors = error.messages
            return _many_page(form, 422)
        form.lines.data = text  # shown in the text box, to be fixed in place if need be
    try:
        job = jobs.start_job("connect", {"lines": text}, current_requester())
    except jobs.InvalidParams as error:
        form.lines.errors = [message for _, message in error.errors]
        return _many_page(form, 422)
    except jobs.QueueUnavailable as error:
        flash(f"{error}. Try again shortly.", "error")
        return _many_page(form, 503)
    flash(f"Started job {job.id}: connecting {job.total:,} account(s).", "success")
    return redirect(url_for("jobs.detail", job_id=job.id), code=303)


def _many_page(form: BulkConnectForm, status: int = 200):
    page = render_template(
        "connect_many.html", section="connect", form=form, max_accounts=MAX_ACCOUNTS
    )
    return page, status
