"""video_stats without the index on profile_count

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 21:00:00

No query reads video_stats by its count: the catalogue's "profiles" sort orders by
COALESCE(profile_count, 0) over the outer join of every video, which no index serves. Every
write of a profile changes the counts of the videos it links, and with the index each changed
count was a new index entry and a new row version, never updated in place (PostgreSQL's HOT):
on PostgreSQL it was about a twelfth of the server's work for a connect.
"""
from alembic import op


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.drop_index("ix_video_stats_profile_count", table_name="video_stats")


def downgrade():
    op.create_index(
        "ix_video_stats_profile_count", "video_stats", ["profile_count", "video_pk"]
    )
