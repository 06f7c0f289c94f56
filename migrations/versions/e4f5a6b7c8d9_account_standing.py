"""accounts: suspension by an admin, deletion (anonymised), profile fields

Revision ID: e4f5a6b7c8d9
Revises: d3e4f5a6b7c8
Create Date: 2026-12-07 12:30:00

An admin's suspension (when, and the reason given) and the owner's deletion of the account.
A deleted account's row stays, anonymised: pledges, the ledger and the share register
point at it.
"""
from alembic import op
import sqlalchemy as sa


revision = 'e4f5a6b7c8d9'
down_revision = 'd3e4f5a6b7c8'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('suspended_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('suspension_reason', sa.Text(), nullable=True))
        batch.add_column(sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('users') as batch:
        batch.drop_column('deleted_at')
        batch.drop_column('suspension_reason')
        batch.drop_column('suspended_at')
