"""profile ids are never reused on SQLite

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 11:40:00

SQLite gives a new row the largest id plus one, so deleting the newest profile freed its id
for the next account: a late DELETE or an old link then named someone else. AUTOINCREMENT
keeps every id ever used. PostgreSQL sequences never reuse ids; nothing changes there.
"""
from alembic import op


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table(
        "profiles", recreate="always", table_kwargs={"sqlite_autoincrement": True}
    ):
        pass


def downgrade():
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table(
        "profiles", recreate="always", table_kwargs={"sqlite_autoincrement": False}
    ):
        pass
