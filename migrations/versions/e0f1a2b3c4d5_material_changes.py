"""material changes and reconfirmation (issue 24 item 3)

Revision ID: e0f1a2b3c4d5
Revises: d9e0f1a2b3c4
Create Date: 2026-12-07 18:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'e0f1a2b3c4d5'
down_revision = 'd9e0f1a2b3c4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('material_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('reconfirm_by', sa.DateTime(timezone=True), nullable=False),
    sa.Column('commitments', sa.Integer(), nullable=False),
    sa.Column('deadline_before', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_material_changes_project_id_projects'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_material_changes_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_material_changes'))
    )
    with op.batch_alter_table('material_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_material_changes_project_id'), ['project_id'], unique=False)
    with op.batch_alter_table('pledges', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reconfirm_by', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('reconfirmed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_pledges_reconfirm_by', ['reconfirm_by'], unique=False)


def downgrade():
    with op.batch_alter_table('pledges', schema=None) as batch_op:
        batch_op.drop_index('ix_pledges_reconfirm_by')
        batch_op.drop_column('reconfirmed_at')
        batch_op.drop_column('reconfirm_by')
    with op.batch_alter_table('material_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_material_changes_project_id'))
    op.drop_table('material_changes')
