"""``/api/audit`` (administrators): the change history."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from api.deps import EngineDep, require
from api.geojson import page_links
from api.params import paging
from api.policy import Permission
from api.schemas.common import problem_responses
from api.schemas.users import AuditPage
from api.deps import Principal
from geo import audit

router = APIRouter(prefix="/api/audit", tags=["audit"], responses=problem_responses(401, 403, 422))

Auditor = Annotated[Principal, Depends(require(Permission.READ_AUDIT))]


@router.get("", response_model=AuditPage, summary="Who changed what, when, before and after")
def read_audit(
    request: Request,
    user: Auditor,
    engine: EngineDep,
    page: Annotated[tuple[int, int], Depends(paging(100, 1000))],
    layer: Annotated[str | None, Query(max_length=40, description="e.g. villages, users, api_keys")] = None,
    row_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    user_name: Annotated[str | None, Query(max_length=64, description="who made the change")] = None,
    action: Annotated[str | None, Query(max_length=20, description="create, update, delete, read_pii, revoke")] = None,
) -> AuditPage:
    """Newest first. Personal fields show as ``[redacted]``: the log says that they changed,
    never their values."""
    limit, offset = page
    items, total = audit.read_entries(engine, layer=layer, row_id=row_id, user=user_name, action=action,
                                      limit=limit, offset=offset)
    return AuditPage(items=items, numberMatched=total, numberReturned=len(items),
                     links=page_links(request, limit=limit, offset=offset, matched=total,
                                      returned=len(items), media_type="application/json"))
