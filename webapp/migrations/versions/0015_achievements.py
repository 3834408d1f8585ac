"""achievements: what each profile earned from its history and standing, once per code

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 04:10:00
"""
import sqlalchemy as sa
from alembic import op


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "achievements",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "profile_id",
            sa.Integer(),
            sa.ForeignKey("profiles.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("awarded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detail", sa.String(200), nullable=False),
        sa.UniqueConstraint("profile_id", "code", name="uq_achievements_profile_code"),
    )
    op.create_index("ix_achievements_awarded_at", "achievements", ["awarded_at", "id"])


def downgrade():
    op.drop_index("ix_achievements_awarded_at", table_name="achievements")
    op.drop_table("achievements")
