"""File downloads: ``Content-Disposition`` with an ASCII name and its Chinese form (RFC 6266 /
RFC 8187), and the media types of the formats the API writes."""

from __future__ import annotations

import re
from urllib.parse import quote

from fastapi.responses import Response

MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "gpkg": "application/geopackage+sqlite3",
    "geojson": "application/geo+json",
    "shp": "application/zip",
    "zip": "application/zip",
    "pdf": "application/pdf",
}

#: What download responses look like in the OpenAPI document.
DOWNLOAD_CONTENT = {
    "text/csv": {"schema": {"type": "string"}},
    MEDIA_TYPES["xlsx"]: {"schema": {"type": "string", "format": "binary"}},
}


def content_disposition(filename: str, label: str | None = None) -> str:
    """``attachment`` with an ASCII ``filename`` and, when given, the Chinese ``filename*``.

    Parameters
    ----------
    filename
        ASCII file name, e.g. ``roads_villages.csv`` (other characters become ``_``).
    label
        The name people read, e.g. ``道路通达分析_行政村.csv``.
    """
    ascii_name = re.sub(r"[^A-Za-z0-9._-]", "_", filename)
    value = f'attachment; filename="{ascii_name}"'
    if label:
        value += f"; filename*=UTF-8''{quote(label, safe='')}"
    return value


def attachment(content: bytes, *, format: str, filename: str, label: str | None = None) -> Response:
    """A download response of ``content`` written in ``format`` (a key of :data:`MEDIA_TYPES`)."""
    return Response(content, media_type=MEDIA_TYPES[format],
                    headers={"Content-Disposition": content_disposition(filename, label)})
