"""lists: shortlists of profiles with each member's note, tags and status

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 12:00:00

Two new tables (services/team/lists.py): `lists`, named and shared with the team, and
`list_members`, a profile on a list with the team's note, tags and status and the profile's
latest snapshot when it was added. Existing data is untouched.
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def _json():
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade():
    op.create_table(
        "lists",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("name <> ''", name="ck_lists_name"),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_lists_created_by_id", "lists", ["created_by_id"])
    op.create_table(
        "list_members",
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("profile_id", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("tags", _json(), nullable=False),
        sa.Column(
            "status", sa.String(length=16), server_default="candidate", nullable=False
        ),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("added_by", sa.String(length=64), nullable=False),
        sa.Column("snapshot_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "status IN ('candidate', 'contacted', 'in talks', 'agreed', 'declined')",
            name="ck_list_members_status",
        ),
        sa.ForeignKeyConstraint(["list_id"], ["lists.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["profile_id"], ["profiles.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["snapshot_id"], ["profile_snapshots.id"], ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("list_id", "profile_id"),
    )
    op.create_index("ix_list_members_profile_id", "list_members", ["profile_id"])


def downgrade():
    op.drop_index("ix_list_members_profile_id", table_name="list_members")
    op.drop_table("list_members")
    op.drop_index("ix_lists_created_by_id", table_name="lists")
    op.drop_table("lists")
