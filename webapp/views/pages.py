"""Pages: for now a plain overview that points at the API; the dashboard builds on it."""

from flask import Blueprint, render_template

from ..services import profiles
from ..services.taxonomy import CATEGORIES

bp = Blueprint("pages", __name__)


@bp.get("/")
def index():
    """Overview: how many profiles each platform has."""
    counts = profiles.count_by_platform()
    return render_template(
        "index.html", counts=counts, total=sum(counts.values()), categories=CATEGORIES
    )
