"""chain the inspection draws: prev_hash and record_hash

Every draw record's hash covers the record before it, so deleting or reordering a plan is
detected by ``atlas sample verify --all``. Draws recorded before this revision are chained
here, in plan id order, with the same formula as :func:`geo.inspection.draw.record_hash`
(written out again so this revision never changes when the code does).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 11:45:00
"""

from __future__ import annotations

import hashlib
import json

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

GENESIS = "0" * 64


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _record_hash(row, prev_hash: str) -> str:
    body = {
        "plan_id": int(row.plan_id), "name": row.name, "seed": row.seed, "algorithm": row.algorithm,
        "spec_sha256": _sha(row.spec_json), "frame_hash": row.frame_hash, "result_hash": row.result_hash,
        "frame_json_sha256": _sha(row.frame_json), "result_json_sha256": _sha(row.result_json),
        "prev_hash": prev_hash,
    }
    return _sha(json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")))


def upgrade() -> None:
    with op.batch_alter_table('inspection_draws', schema=None) as batch_op:
        batch_op.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('record_hash', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_inspection_draws_prev_hash'), ['prev_hash'])
    conn = op.get_bind()
    rows = conn.execute(sa.text(
        "SELECT d.id, d.plan_id, p.name, d.seed, d.algorithm, p.spec_json, d.frame_hash, d.result_hash, "
        "d.frame_json, d.result_json FROM inspection_draws d JOIN inspection_plans p ON p.id = d.plan_id "
        "ORDER BY d.plan_id")).all()
    prev = GENESIS
    for row in rows:
        current = _record_hash(row, prev)
        conn.execute(sa.text("UPDATE inspection_draws SET prev_hash = :prev, record_hash = :rec WHERE id = :id"),
                     {"prev": prev, "rec": current, "id": row.id})
        prev = current


def downgrade() -> None:
    with op.batch_alter_table('inspection_draws', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_inspection_draws_prev_hash'), type_='unique')
        batch_op.drop_column('record_hash')
        batch_op.drop_column('prev_hash')
