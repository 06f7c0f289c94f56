"""payout accounts made by onboarding; firm change requests and the log of firm edits

Revision ID: d3a5c1f0b2e7
Revises: c7e2d9a4f618
Create Date: 2026-12-07 07:10:00

A firm's payout destination was a free-text `firms.payout_account_ref` its founder typed.
It is now a `payout_accounts` row made by the processor's onboarding, with the status the
processor reports. Each existing firm gets one from its old reference, which is then
dropped:

- `acct_sandbox_...` (made up by the sandbox when the founder left the field empty):
  verified, and entered in the sandbox's own book, since no person chose it;
- anything else (typed by a founder): pending. Nothing ever proved such an account is the
  firm's, so it pays nothing until the processor, asked again (the founder's "Continue
  setup", or an `account.updated` event), says it is a verified connected account of
  ours. The same reference typed by two firms goes to the first firm only.
"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


revision = 'd3a5c1f0b2e7'
down_revision = 'c7e2d9a4f618'
branch_labels = None
depends_on = None

SANDBOX_PREFIX = 'acct_sandbox_'


def upgrade():
    op.create_table('sandbox_accounts',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('idempotency_key', sa.String(length=150), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('extra', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sandbox_accounts')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_sandbox_accounts_idempotency_key'))
    )
    op.create_table('payout_accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('firm_id', sa.Integer(), nullable=False),
    sa.Column('processor', sa.String(length=20), nullable=False),
    sa.Column('processor_ref', sa.String(length=100), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('role', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status_changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('verified_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['firm_id'], ['firms.id'], name=op.f('fk_payout_accounts_firm_id_firms'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payout_accounts')),
    sa.UniqueConstraint('processor_ref', name=op.f('uq_payout_accounts_processor_ref'))
    )
    with op.batch_alter_table('payout_accounts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payout_accounts_firm_id'), ['firm_id'], unique=False)
        batch_op.create_index('uq_payout_accounts_current', ['firm_id'], unique=True,
                              postgresql_where=sa.text("role = 'current'"), sqlite_where=sa.text("role = 'current'"))
    op.create_table('firm_change_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('firm_id', sa.Integer(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.Column('previous', sa.JSON(), nullable=False),
    sa.Column('payout_account_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_firm_change_requests_decided_by_id_users')),
    sa.ForeignKeyConstraint(['firm_id'], ['firms.id'], name=op.f('fk_firm_change_requests_firm_id_firms'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['payout_account_id'], ['payout_accounts.id'],
                            name=op.f('fk_firm_change_requests_payout_account_id_payout_accounts')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'],
                            name=op.f('fk_firm_change_requests_requested_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_firm_change_requests'))
    )
    with op.batch_alter_table('firm_change_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_firm_change_requests_firm_id'), ['firm_id'], unique=False)
    op.create_table('firm_edits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('firm_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('field', sa.String(length=50), nullable=False),
    sa.Column('old_value', sa.Text(), nullable=False),
    sa.Column('new_value', sa.Text(), nullable=False),
    sa.Column('change_request_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['change_request_id'], ['firm_change_requests.id'],
                            name=op.f('fk_firm_edits_change_request_id_firm_change_requests')),
    sa.ForeignKeyConstraint(['firm_id'], ['firms.id'], name=op.f('fk_firm_edits_firm_id_firms'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_firm_edits_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_firm_edits'))
    )
    with op.batch_alter_table('firm_edits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_firm_edits_firm_id'), ['firm_id'], unique=False)

    _accounts_from_typed_refs()
    if op.get_bind().dialect.name == 'sqlite':
        # Not batch mode: rebuilding `firms` drops the old table, and with foreign keys on
        # (crowdfund/database.py; the PRAGMA cannot change inside this transaction) SQLite
        # deletes every row that references it first: firm members, payout accounts, and
        # projects would refuse. SQLite 3.35+ drops a plain column in place.
        _require_sqlite_drop_column()
        op.execute('ALTER TABLE firms DROP COLUMN payout_account_ref')
    else:
        op.drop_column('firms', 'payout_account_ref')


def _require_sqlite_drop_column():
    import sqlite3

    if sqlite3.sqlite_version_info < (3, 35, 0):
        raise RuntimeError(f"This migration needs SQLite 3.35 or later (ALTER TABLE ... DROP COLUMN); this Python "
                           f"has {sqlite3.sqlite_version}.")


def _now():
    now = datetime.now(timezone.utc)
    # SQLite keeps naive UTC (crowdfund/models/base.py, UTCDateTime).
    return now if op.get_bind().dialect.name == 'postgresql' else now.replace(tzinfo=None)


def _accounts_from_typed_refs():
    bind, now = op.get_bind(), _now()
    firms = bind.execute(sa.text('SELECT id, country, payout_account_ref FROM firms ORDER BY id')).all()
    accounts, sandbox, seen = [], [], set()
    for firm_id, country, ref in firms:
        ref = (ref or '').strip()
        if not ref or ref in seen:
            continue
        seen.add(ref)
        made_up = ref.startswith(SANDBOX_PREFIX)
        accounts.append({'firm_id': firm_id, 'processor': 'sandbox' if made_up else 'stripe', 'processor_ref': ref,
                         'status': 'verified' if made_up else 'pending', 'role': 'current', 'created_at': now,
                         'status_changed_at': now, 'verified_at': now if made_up else None})
        if made_up:
            sandbox.append({'id': ref, 'idempotency_key': f'migrated-{ref}', 'status': 'verified', 'country': country,
                            'email': None, 'extra': {'metadata': {'firm_id': str(firm_id)}}, 'created_at': now,
                            'updated_at': now})
    if accounts:
        op.bulk_insert(sa.table('payout_accounts', *(sa.column(name) for name in accounts[0])), accounts)
    if sandbox:
        op.bulk_insert(sa.table('sandbox_accounts', *(sa.column(name) for name in sandbox[0] if name != 'extra'),
                                sa.column('extra', sa.JSON())), sandbox)


def downgrade():
    # Added in place with a default (no rebuild of `firms`: see upgrade), then filled.
    op.execute("ALTER TABLE firms ADD COLUMN payout_account_ref VARCHAR(100) NOT NULL DEFAULT ''")
    op.execute("UPDATE firms SET payout_account_ref = COALESCE((SELECT processor_ref FROM payout_accounts "
               "WHERE payout_accounts.firm_id = firms.id AND payout_accounts.role = 'current'), '')")
    # A firm that never set up payouts gets a sandbox-style placeholder, as the old form did.
    op.execute("UPDATE firms SET payout_account_ref = 'acct_sandbox_none_' || CAST(id AS VARCHAR(20)) "
               "WHERE payout_account_ref = ''")
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE firms ALTER COLUMN payout_account_ref DROP DEFAULT')
    with op.batch_alter_table('firm_edits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_firm_edits_firm_id'))
    op.drop_table('firm_edits')
    with op.batch_alter_table('firm_change_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_firm_change_requests_firm_id'))
    op.drop_table('firm_change_requests')
    with op.batch_alter_table('payout_accounts', schema=None) as batch_op:
        batch_op.drop_index('uq_payout_accounts_current')
        batch_op.drop_index(batch_op.f('ix_payout_accounts_firm_id'))
    op.drop_table('payout_accounts')
    op.drop_table('sandbox_accounts')
