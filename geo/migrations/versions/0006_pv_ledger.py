"""pv_ledger: the stations' yearly ledgers (电站收益台账), one row per PV project and year

Written by ``atlas pv ledger FILE --record`` once the whole file was checked; recording a
project's year again replaces the row with its version bumped.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 15:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('pv_ledger',
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('generation_kwh', sa.Float(), nullable=False),
    sa.Column('income_yuan', sa.Float(), nullable=False),
    sa.Column('households_yuan', sa.Float(), nullable=False),
    sa.Column('public_posts_yuan', sa.Float(), nullable=False),
    sa.Column('posts', sa.Integer(), nullable=False),
    sa.Column('public_works_yuan', sa.Float(), nullable=False),
    sa.Column('operator_yuan', sa.Float(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['pv_projects.id'], name=op.f('fk_pv_ledger_project_id_pv_projects'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pv_ledger')),
    sa.UniqueConstraint('project_id', 'year', name=op.f('uq_pv_ledger_project_id_year'))
    )
    with op.batch_alter_table('pv_ledger', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pv_ledger_project_id'), ['project_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('pv_ledger', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pv_ledger_project_id'))
    op.drop_table('pv_ledger')
