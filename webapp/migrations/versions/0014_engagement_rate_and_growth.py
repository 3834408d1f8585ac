"""profiles' engagement rate and 30-day follower growth, to sort and filter by

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 04:00:00

The engagement rate is computed for every stored profile from its row; the growth starts
empty (a profile's history so far is the one snapshot 0013 gave it).
"""
import sqlalchemy as sa
from alembic import op


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def _profiles_batch():
    # The table keeps AUTOINCREMENT on SQLite (0003) wherever a batch copies it.
    return op.batch_alter_table("profiles", table_kwargs={"sqlite_autoincrement": True})


def upgrade():
    # Columns added in place (no copy of the table), the default filling existing rows.
    op.add_column(
        "profiles",
        sa.Column("engagement_rate", sa.Float(), nullable=False, server_default="0"),
    )
    op.add_column("profiles", sa.Column("growth_30d", sa.Float(), nullable=True))
    # As services/ingestion/scores.engagement_rate computes it.
    op.execute(
        "UPDATE profiles SET engagement_rate = "
        "1.0 * (number_of_likes_on_own_videos + number_of_comments)"
        " / (CASE WHEN videos_count > 1 THEN videos_count ELSE 1 END)"
        " / (CASE WHEN followers_count > 1 THEN followers_count ELSE 1 END)"
    )
    op.create_index("ix_profiles_engagement_rate", "profiles", ["engagement_rate", "id"])
    op.create_index("ix_profiles_growth_30d", "profiles", ["growth_30d", "id"])


def downgrade():
    op.drop_index("ix_profiles_growth_30d", table_name="profiles")
    op.drop_index("ix_profiles_engagement_rate", table_name="profiles")
    with _profiles_batch() as batch:
        batch.drop_column("growth_30d")
        batch.drop_column("engagement_rate")
