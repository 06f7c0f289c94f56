"""reminders and notification choices (issue 21 item 6)

Revision ID: c8d9e0f1a2b3
Revises: b7c8d9e0f1a2
Create Date: 2026-12-07 18:00:00

"Remind me" on a campaign (one mail before its deadline), the record that a campaign's
pledges reached its goal (its backers' mail queued once), and who may read a founder's
update (public, or its backers only).
"""
from alembic import op
import sqlalchemy as sa


revision = 'c8d9e0f1a2b3'
down_revision = 'b7c8d9e0f1a2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('campaign_reminders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_campaign_reminders_project_id_projects'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_campaign_reminders_user_id_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_reminders')),
    sa.UniqueConstraint('user_id', 'project_id', name=op.f('uq_campaign_reminders_user_id_project_id'))
    )
    with op.batch_alter_table('campaign_reminders', schema=None) as batch_op:
        batch_op.create_index('ix_campaign_reminders_unsent', ['project_id'], unique=False,
                              postgresql_where=sa.text('sent_at IS NULL'),
                              sqlite_where=sa.text('sent_at IS NULL'))

    op.create_table('campaign_goal_notices',
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('reached_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('announced_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'],
                            name=op.f('fk_campaign_goal_notices_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('project_id', name=op.f('pk_campaign_goal_notices'))
    )

    with op.batch_alter_table('project_updates', schema=None) as batch_op:
        batch_op.add_column(sa.Column('audience', sa.String(length=10), server_default='public', nullable=False))


def downgrade():
    with op.batch_alter_table('project_updates', schema=None) as batch_op:
        batch_op.drop_column('audience')
    op.drop_table('campaign_goal_notices')
    with op.batch_alter_table('campaign_reminders', schema=None) as batch_op:
        batch_op.drop_index('ix_campaign_reminders_unsent', postgresql_where=sa.text('sent_at IS NULL'),
                            sqlite_where=sa.text('sent_at IS NULL'))
    op.drop_table('campaign_reminders')
