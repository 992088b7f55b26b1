"""SQL of the inspection tables (plans, draws, sampled villages and households, findings).

The SQL lives in :mod:`geo.storage.inspection`; this module re-exports its names so that
``from geo.inspection import store`` keeps working.
"""

from __future__ import annotations

from geo.storage.inspection import (
    ASSIGNMENTS,
    DRAWS,
    FINDINGS,
    FRAMES,
    HOUSEHOLDS,
    PLANS,
    VILLAGES,
    assign_inspector,
    count_findings,
    find_plan,
    find_seed,
    insert_draw,
    insert_finding,
    insert_frame,
    insert_plan,
    insert_sampled_households,
    insert_sampled_villages,
    last_record_hash,
    read_chain,
    plan_assignees,
    read_assignments,
    read_draw,
    read_findings,
    read_frame,
    read_plans,
    read_sampled_households,
    read_sampled_villages,
    unassign_inspector,
    update_finding,
)

__all__ = [
    "ASSIGNMENTS", "DRAWS", "FINDINGS", "FRAMES", "HOUSEHOLDS", "PLANS", "VILLAGES", "assign_inspector",
    "count_findings", "find_plan", "find_seed", "insert_draw", "insert_finding", "insert_frame", "insert_plan",
    "insert_sampled_households", "insert_sampled_villages", "last_record_hash", "read_chain", "plan_assignees", "read_assignments",
    "read_draw", "read_findings", "read_frame", "read_plans", "read_sampled_households", "read_sampled_villages",
    "unassign_inspector", "update_finding",
]
