"""monitoring: 防止返贫动态监测 cases per household, their leads, measures and dated steps

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 16:44:40
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('monitor_cases',
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('lead', 'checked', 'posted', 'township_reviewed', 'approved', 'assisting', 'removal_posted', 'removed', 'dismissed', name='case_status', native_enum=False, create_constraint=True, length=32), server_default='lead', nullable=False),
    sa.Column('category', sa.Enum('unstable_exited', 'marginal', 'sudden_hardship', name='monitor_category', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('risk_types', sa.String(length=200), nullable=True),
    sa.Column('income_per_person_yuan', sa.Float(), nullable=True),
    sa.Column('out_of_pocket_yuan', sa.Float(), nullable=True),
    sa.Column('assured_education', sa.Boolean(), nullable=True),
    sa.Column('assured_medical', sa.Boolean(), nullable=True),
    sa.Column('assured_housing', sa.Boolean(), nullable=True),
    sa.Column('safe_water', sa.Boolean(), nullable=True),
    sa.Column('opened_on', sa.Date(), nullable=False),
    sa.Column('step_on', sa.Date(), nullable=False),
    sa.Column('posted_until', sa.Date(), nullable=True),
    sa.Column('identified_on', sa.Date(), nullable=True),
    sa.Column('removed_on', sa.Date(), nullable=True),
    sa.Column('cadre_id', sa.Integer(), nullable=True),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['cadre_id'], ['cadres.id'], name=op.f('fk_monitor_cases_cadre_id_cadres'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_monitor_cases_household_id_households'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['unit_id'], ['assistance_units.id'], name=op.f('fk_monitor_cases_unit_id_assistance_units'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_monitor_cases')),
    sa.UniqueConstraint('code', name=op.f('uq_monitor_cases_code'))
    )
    with op.batch_alter_table('monitor_cases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_monitor_cases_cadre_id'), ['cadre_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_monitor_cases_household_id'), ['household_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_monitor_cases_unit_id'), ['unit_id'], unique=False)

    op.create_table('monitor_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('from_status', sa.String(length=32), nullable=True),
    sa.Column('to_status', sa.String(length=32), nullable=True),
    sa.Column('done_on', sa.Date(), nullable=False),
    sa.Column('posted_until', sa.Date(), nullable=True),
    sa.Column('by_whom', sa.String(length=200), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['monitor_cases.id'], name=op.f('fk_monitor_events_case_id_monitor_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_monitor_events'))
    )
    with op.batch_alter_table('monitor_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_monitor_events_case_id'), ['case_id'], unique=False)

    op.create_table('monitor_leads',
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.Enum('department', 'visit', 'self_report', 'linked', name='lead_channel', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('department', sa.String(length=100), nullable=True),
    sa.Column('risk_type', sa.Enum('illness', 'disability', 'schooling', 'disaster', 'employment', 'business', 'accident', 'other', name='risk_type', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('out_of_pocket_yuan', sa.Float(), nullable=True),
    sa.Column('file_name', sa.String(length=200), nullable=True),
    sa.Column('row_number', sa.Integer(), nullable=True),
    sa.Column('fields_json', sa.Text(), server_default='{}', nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['monitor_cases.id'], name=op.f('fk_monitor_leads_case_id_monitor_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_monitor_leads_household_id_households'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_monitor_leads'))
    )
    with op.batch_alter_table('monitor_leads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_monitor_leads_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_monitor_leads_household_id'), ['household_id'], unique=False)

    op.create_table('monitor_measures',
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('industry', 'employment', 'public_post', 'minimum_income', 'medical', 'education', 'housing', 'water', 'other', name='measure_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('done_on', sa.Date(), nullable=False),
    sa.Column('amount_yuan', sa.Float(), nullable=True),
    sa.Column('by_whom', sa.String(length=200), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['monitor_cases.id'], name=op.f('fk_monitor_measures_case_id_monitor_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_monitor_measures'))
    )
    with op.batch_alter_table('monitor_measures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_monitor_measures_case_id'), ['case_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('monitor_measures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_monitor_measures_case_id'))

    op.drop_table('monitor_measures')
    with op.batch_alter_table('monitor_leads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_monitor_leads_household_id'))
        batch_op.drop_index(batch_op.f('ix_monitor_leads_case_id'))

    op.drop_table('monitor_leads')
    with op.batch_alter_table('monitor_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_monitor_events_case_id'))

    op.drop_table('monitor_events')
    with op.batch_alter_table('monitor_cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_monitor_cases_unit_id'))
        batch_op.drop_index(batch_op.f('ix_monitor_cases_household_id'))
        batch_op.drop_index(batch_op.f('ix_monitor_cases_cadre_id'))

    op.drop_table('monitor_cases')
