"""household_partial_indexes: households' settlement and cadre indexes hold only the rows that
name one (most name neither), so a bulk import does not write an index entry per NULL

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 19:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

COLUMNS = ('settlement_id', 'cadre_id')


def upgrade() -> None:
    with op.batch_alter_table('households', schema=None) as batch_op:
        for column in COLUMNS:
            batch_op.drop_index(f'ix_households_{column}')
            batch_op.create_index(f'ix_households_{column}', [column], unique=False,
                                  postgresql_where=sa.text(f'{column} IS NOT NULL'),
                                  sqlite_where=sa.text(f'{column} IS NOT NULL'))


def downgrade() -> None:
    with op.batch_alter_table('households', schema=None) as batch_op:
        for column in COLUMNS:
            batch_op.drop_index(f'ix_households_{column}')
            batch_op.create_index(f'ix_households_{column}', [column], unique=False)
