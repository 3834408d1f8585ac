"""The profile page's history: the changes over 7, 30 and 90 days with their chart, and the
interest drift with its chart, once a profile has two snapshots."""

import json
from datetime import timedelta

from sqlalchemy import update

from webapp.extensions import db
from webapp.models import ProfileSnapshot
from webapp.services.ingestion.onboarding import submit_payload

from ..factories import make_payload
from ..helpers import html_page, one, text_of


def test_one_snapshot_says_history_grows_with_each_sync(client, app):
    with app.app_context():
        pk = submit_payload("tiktok", make_payload(followers_count=100)).profile_id
    page = html_page(client.get(f"/profiles/{pk}"))
    assert "One snapshot so far" in text_of(one(page, "#history"))
    assert not page.select("#history-growth") and not page.select("#interest-drift")


def test_two_snapshots_show_changes_charts_and_drift(client, app):
    with app.app_context():
        pk = submit_payload("tiktok", make_payload(followers_count=100)).profile_id
        # The first sync moved back 40 days: the 7 and 30 day changes start from it.
        first = db.session.query(ProfileSnapshot).filter_by(profile_id=pk).one()
        db.session.execute(
            update(ProfileSnapshot)
            .where(ProfileSnapshot.id == first.id)
            .values(taken_at=first.taken_at - timedelta(days=40))
        )
        db.session.commit()
        submit_payload("tiktok", make_payload(followers_count=150))
    page = html_page(client.get(f"/profiles/{pk}"))
    rows = [text_of(row) for row in page.select("#history-changes tbody tr")]
    assert rows[0].startswith("7 days") and "+50 (+50.0 %)" in rows[0]
    assert "+50 (+50.0 %)" in rows[1]
    assert rows[2].startswith("90 days") and "+50" not in rows[2]
    growth = json.loads(one(page, "#history-growth")["data-figure"])
    assert [trace["y"] for trace in growth["data"]][0] == [100, 150]
    drift = json.loads(one(page, "#interest-drift")["data-figure"])
    assert drift["data"] and all(len(trace["y"]) == 2 for trace in drift["data"])
    summary = text_of(one(page, "#drift-summary"))
    assert "cosine distance 0.000" in summary and "Gained: none" in summary
