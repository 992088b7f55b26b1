"""A village's dossier (一村一档) over HTTP: ``/api/villages/{id}/dossier.pdf``.

Any reader of the public layers; a user limited to some townships gets only their villages
(others answer 404, as if absent). Household heads' and cadres' names only for roles that
may see names (that read is audited).
The handler calls :func:`geo.services.dossier.village_dossier` and prints the page as
``atlas dossier`` does.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi import Path as PathParam
from fastapi.responses import Response

from api.deps import EngineDep, Reader
from geo.services.dossier import village_dossier
from maps.chromium import print_pdf
from maps.dossier import dossier_html

router = APIRouter(prefix="/api/villages", tags=["villages"])


@router.get("/{village_id}/dossier.pdf", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}}, 404: {"description": "unknown village"}})
def dossier_pdf(user: Reader, engine: EngineDep,
                village_id: Annotated[int, PathParam(ge=1, description="行政村 id")],
                year: Annotated[int | None, Query(ge=1990, le=2100, description="年度 (default: the "
                                                  "village's latest year with pairings)")] = None) -> Response:
    """一村一档: the village's dossier as PDF (map, pairing units with funds and inputs, work
    team, cadres' load, road and water status, exit-standard scorecard, PV, projects)."""
    d = village_dossier(engine, village_id, township=user.township_filter(None), year=year,
                        show_names=user.can_see_names() and user.can_read_layer("cadres") and user.can_read_layer("households"),
                        actor=user.actor)
    with tempfile.TemporaryDirectory(prefix="atlas-dossier-") as tmp:
        pdf = Path(tmp) / "dossier.pdf"
        print_pdf(dossier_html(d), pdf, offline=True)
        body = pdf.read_bytes()
    return Response(body, media_type="application/pdf",
                    headers={"Content-Disposition": f"inline; filename=\"dossier-{village_id}.pdf\""})
