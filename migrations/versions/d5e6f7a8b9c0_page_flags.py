"""campaign page flags: has_changes, has_stretch_goals (no query for what a campaign lacks)

Revision ID: d5e6f7a8b9c0
Revises: c4d5e6f7a8b9
Create Date: 2026-12-07 19:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'd5e6f7a8b9c0'
down_revision = 'c4d5e6f7a8b9'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('projects') as batch:
        batch.add_column(sa.Column('has_changes', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch.add_column(sa.Column('has_stretch_goals', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.execute("UPDATE projects SET has_changes = true WHERE id IN (SELECT project_id FROM project_edits)")
    op.execute("UPDATE projects SET has_stretch_goals = true WHERE id IN (SELECT project_id FROM stretch_goals)")


def downgrade():
    with op.batch_alter_table('projects') as batch:
        batch.drop_column('has_stretch_goals')
        batch.drop_column('has_changes')
