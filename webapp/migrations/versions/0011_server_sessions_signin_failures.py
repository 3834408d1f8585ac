"""sessions kept on the server, and sign-in failures counted per account

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 08:45:00

A session was only a signed cookie: signing out cleared the browser's copy, and a copied
cookie went on working until it expired. `user_sessions` holds one row per signed-in session
(the hash of the random key its cookie carries), so sign-out, a password or role change and an
admin end sessions at once; it replaces the per-user `session_version` (sessions signed in
before this migration end: their users sign in again). `users.failed_signins` and
`users.signin_locked_until` count wrong passwords per account in the database, for every worker
alike.
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def _users_table():
    # On SQLite this rebuilds the table: keep its AUTOINCREMENT (ids are never reused).
    return op.batch_alter_table("users", table_kwargs={"sqlite_autoincrement": True})


def upgrade():
    op.create_table(
        "user_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key_hash"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_user_sessions_user_id", "user_sessions", ["user_id"])
    op.create_index("ix_user_sessions_expires_at", "user_sessions", ["expires_at"])
    with _users_table() as batch:
        batch.add_column(
            sa.Column("failed_signins", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(
            sa.Column("signin_locked_until", sa.DateTime(timezone=True), nullable=True)
        )
        batch.drop_column("session_version")


def downgrade():
    with _users_table() as batch:
        batch.add_column(
            sa.Column("session_version", sa.Integer(), nullable=False, server_default="1")
        )
        batch.drop_column("signin_locked_until")
        batch.drop_column("failed_signins")
    op.drop_index("ix_user_sessions_expires_at", table_name="user_sessions")
    op.drop_index("ix_user_sessions_user_id", table_name="user_sessions")
    op.drop_table("user_sessions")
