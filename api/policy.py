"""Who may do what: one table from roles to permissions, and the personal-data rules.

Routes ask for a permission (``require(Permission.WRITE)``), never for a role, so a new role
or a changed rule is one edit here.
"""

from __future__ import annotations

from collections.abc import Collection
from enum import StrEnum

from geo.enums import Role


class Permission(StrEnum):
    READ_PUBLIC = "read:public"      # the public layers (no households, cadres, unit inputs)
    READ_ALL = "read:all"            # every layer and record, never personal fields
    WRITE = "write:registry"         # create, change and delete registry records
    PII_ALL = "pii:all"              # household heads' names and ID numbers, every household
    PII_ASSIGNED = "pii:assigned"    # ... only of households sampled in plans assigned to you
    INSPECT = "inspect"              # draw samples and record findings (inspection plans)
    INSPECT_ANY = "inspect:any"      # ... findings of every plan, assigned or not
    MANAGE_USERS = "users:manage"
    READ_AUDIT = "audit:read"


_READ = {Permission.READ_PUBLIC, Permission.READ_ALL}

PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.VIEWER: frozenset({Permission.READ_PUBLIC}),
    Role.LEADER: frozenset(_READ),
    Role.INSPECTOR: frozenset(_READ | {Permission.PII_ASSIGNED, Permission.INSPECT}),
    Role.PLANNER: frozenset(_READ | {Permission.WRITE, Permission.PII_ALL}),
    Role.ADMIN: frozenset(Permission),
}

#: Layers a viewer (and, when settings allow, an anonymous reader) may read.
PUBLIC_LAYERS = frozenset({
    "areas", "townships", "villages", "settlements", "units", "pairings", "work_teams", "roads",
    "water_facilities", "pv_projects", "projects",
})


def permissions_of(role: Role | str) -> frozenset[Permission]:
    return PERMISSIONS[Role.parse(role)]


def may_read_layer(permissions: Collection[Permission], layer: str) -> bool:
    """True when these permissions let one read ``layer`` (without personal fields)."""
    if Permission.READ_ALL in permissions:
        return True
    return Permission.READ_PUBLIC in permissions and layer in PUBLIC_LAYERS


def can_see_names(
    permissions: Collection[Permission],
    *,
    user_id: int | None,
    plan_assignees: Collection[int] = (),
) -> bool:
    """May this caller see household heads' names and ID numbers?

    Parameters
    ----------
    permissions
        The caller's permissions.
    user_id
        The caller's user id (None when anonymous).
    plan_assignees
        For households of an inspection sample: the ids of the users the plan is assigned to.
        Empty for any other household.

    Everyone with :attr:`Permission.PII_ALL` may; an inspector
    (:attr:`Permission.PII_ASSIGNED`) only for households sampled in a plan assigned to them;
    nobody else, ever.
    """
    if Permission.PII_ALL in permissions:
        return True
    return (
        Permission.PII_ASSIGNED in permissions
        and user_id is not None
        and user_id in set(plan_assignees)
    )


def may_record_findings(
    permissions: Collection[Permission],
    *,
    user_id: int | None,
    plan_assignees: Collection[int] = (),
) -> bool:
    """May this caller add, change or close findings of a plan? Inspectors assigned to the
    plan (:attr:`Permission.INSPECT`) and administrators (:attr:`Permission.INSPECT_ANY`)."""
    if Permission.INSPECT_ANY in permissions:
        return True
    return Permission.INSPECT in permissions and user_id is not None and user_id in set(plan_assignees)
