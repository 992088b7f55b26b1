"""inspection assignments

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 17:37:45.752029
"""

from __future__ import annotations

import geoalchemy2
import sqlalchemy as sa
from alembic import op


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('inspection_assignments',
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('team', sa.Integer(), nullable=True),
    sa.Column('assigned_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['plan_id'], ['inspection_plans.id'], name=op.f('fk_inspection_assignments_plan_id_inspection_plans'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_inspection_assignments_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('plan_id', 'user_id', name=op.f('pk_inspection_assignments'))
    )


def downgrade() -> None:
    op.drop_table('inspection_assignments')
