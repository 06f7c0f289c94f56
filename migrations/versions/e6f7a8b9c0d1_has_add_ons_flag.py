"""projects.has_add_ons: no add-on query for a campaign that offers none

Revision ID: e6f7a8b9c0d1
Revises: d5e6f7a8b9c0
Create Date: 2026-12-07 21:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'e6f7a8b9c0d1'
down_revision = 'd5e6f7a8b9c0'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('projects') as batch:
        batch.add_column(sa.Column('has_add_ons', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.execute("UPDATE projects SET has_add_ons = true WHERE id IN (SELECT project_id FROM reward_add_ons)")


def downgrade():
    with op.batch_alter_table('projects') as batch:
        batch.drop_column('has_add_ons')
