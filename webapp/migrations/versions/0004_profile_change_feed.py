"""the profile change feed

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 23:00:00

Every write records which profiles it created, updated or deleted under its data version, so
each process catches up on exactly what changed instead of reloading every profile. Existing
profiles need no rows: the feed starts at the current version (the floor), and a process whose
state is older than the floor builds it in full, as every process does when it starts.
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "profile_changes",
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("profile_id", sa.Integer(), nullable=False),
        sa.Column("change", sa.String(length=8), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("version", "profile_id"),
        sqlite_with_rowid=False,
    )
    # Changes before this migration are not in the feed: state from before it rebuilds.
    op.execute(
        "INSERT INTO data_versions (name, version) "
        "SELECT 'profiles-feed-floor', coalesce(max(version), 0) FROM data_versions "
        "WHERE name = 'profiles'"
    )


def downgrade():
    op.drop_table("profile_changes")
    op.execute("DELETE FROM data_versions WHERE name = 'profiles-feed-floor'")
