"""saved views: named /profiles queries, personal or shared, and each person's default

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 14:30:00

Two new tables (services/team/views.py): `saved_views`, a named /profiles query string owned by
a person and maybe shared with the team (a person's names unique among their own views), and
`default_views`, the view /profiles opens with for a person (deleting the view or the person
deletes the row). Existing data is untouched.
"""
from alembic import op
import sqlalchemy as sa


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "saved_views",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("name <> ''", name="ck_saved_views_name"),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("owner_id", "name", name="uq_saved_views_owner_name"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_saved_views_shared", "saved_views", ["shared"])
    op.create_table(
        "default_views",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("view_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["view_id"], ["saved_views.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id"),
    )
    op.create_index("ix_default_views_view_id", "default_views", ["view_id"])


def downgrade():
    op.drop_index("ix_default_views_view_id", table_name="default_views")
    op.drop_table("default_views")
    op.drop_index("ix_saved_views_shared", table_name="saved_views")
    op.drop_table("saved_views")
