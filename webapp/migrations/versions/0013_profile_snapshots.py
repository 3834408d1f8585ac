"""profile snapshots: every sync's statistics, engagement rate and interest weights

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 04:00:00

Every stored profile gets its first snapshot from its row as it is, taken at its last update,
so history starts with what is already known.
"""
import sqlalchemy as sa
from alembic import op


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

STATS = (
    "followers_count",
    "following_count",
    "likes_count",
    "videos_count",
    "number_of_comments",
    "number_of_likes_on_own_videos",
    "number_of_likes",
    "number_of_shares",
)


def upgrade():
    op.create_table(
        "profile_snapshots",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "profile_id",
            sa.Integer(),
            sa.ForeignKey("profiles.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        *(sa.Column(name, sa.BigInteger(), nullable=False) for name in STATS),
        sa.Column("engagement_rate", sa.Float(), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
    )
    op.create_index(
        "ix_profile_snapshots_profile_taken", "profile_snapshots", ["profile_id", "taken_at"]
    )
    # The engagement rate as services/ingestion/scores.engagement_rate computes it.
    rate = (
        "(1.0 * (number_of_likes_on_own_videos + number_of_comments)"
        " / (CASE WHEN videos_count > 1 THEN videos_count ELSE 1 END)"
        " / (CASE WHEN followers_count > 1 THEN followers_count ELSE 1 END))"
    )
    columns = ", ".join(STATS)
    op.execute(
        f"INSERT INTO profile_snapshots (profile_id, taken_at, {columns}, engagement_rate, vector) "
        f"SELECT id, updated_at, {columns}, {rate}, vector FROM profiles ORDER BY id"
    )


def downgrade():
    op.drop_index("ix_profile_snapshots_profile_taken", table_name="profile_snapshots")
    op.drop_table("profile_snapshots")
