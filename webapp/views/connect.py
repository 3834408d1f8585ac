"""The onboarding flow: choose a platform, consent, then watch each pipeline step happen."""

from flask import Blueprint, flash, make_response, render_template, request, url_for

from ..security import current_actor, requires
from ..services.ingestion import onboarding
from ..services.ingestion.platforms import LABELS, PLATFORMS
from ..services.ingestion.validation import MAX_USER_ID

bp = Blueprint("connect", __name__, url_prefix="/connect")


def _form_errors(platform: str, user_id: str) -> dict:
    errors = {}
    if platform not in PLATFORMS:
        errors["platform"] = "Choose TikTok, Instagram or X."
    if len(user_id) > MAX_USER_ID:
        errors["user_id"] = (
            f"A user id has at most {MAX_USER_ID} characters ({len(user_id)} given)."
        )
    return errors


@bp.get("")
@requires("analyst")
def start():
    """Step 1: the platform and an optional user id."""
    form = {"platform": request.args.get("platform", ""), "user_id": ""}
    return render_template("connect.html", section="connect", form=form, errors={})


@bp.post("/consent")
@requires("analyst")
def consent():
    """Step 2: what Toker will read, and the user's go-ahead."""
    platform = request.form.get("platform", "")
    user_id = request.form.get("user_id", "").strip()
    errors = _form_errors(platform, user_id)
    if errors:
        form = {"platform": platform, "user_id": user_id}
        body = render_template("connect.html", section="connect", form=form, errors=errors)
        return body, 422
    if not user_id:
        user_id = onboarding.new_user_id(platform)
    return render_template(
        "connect_consent.html",
        section="connect",
        platform=platform,
        user_id=user_id,
        label=LABELS[platform],
    )


def _checked(platform: str, user_id: str):
    errors = _form_errors(platform, user_id)
    if errors or not user_id:
        return None
    return platform


@bp.post("/progress")
@requires("analyst")
def progress():
    """Step 3: the progress view; htmx then runs the pipeline one step per request."""
    platform = request.form.get("platform", "")
    user_id = request.form.get("user_id", "").strip()
    if not _checked(platform, user_id):
        form = {"platform": platform, "user_id": user_id}
        errors = _form_errors(platform, user_id) or {"user_id": "Enter a user id."}
        return render_template("connect.html", section="connect", form=form, errors=errors), 422
    report = onboarding.StepReport(platform, user_id)
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
    platform = request.form.get("platform", "")
    user_id = request.form.get("user_id", "").strip()
    try:
        upto = min(4, max(1, int(request.form.get("step", "1"))))
    except ValueError:
        upto = 1
    if not _checked(platform, user_id):
        return make_response("Unknown platform or bad user id.", 400)
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
