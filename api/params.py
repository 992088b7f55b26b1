"""Query parameters shared by the layer, OGC and registry routes, and the version a change is
conditional on (If-Match or the body), parsed once, here."""


import math
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Query

from geo.errors import ValidationError

MAX_LIMIT = 10_000
INT32_MAX = 2**31 - 1

#: A row id in a path: a positive 32-bit integer (what the databases store).
RowId = Annotated[int, Path(ge=1, le=INT32_MAX, description="the row's id")]
MAX_OFFSET = 10_000_000


def bbox_numbers(bbox: str) -> list[float]:
    """The four numbers of a ``bbox`` parameter (a 6-number 3D box loses its heights).

    Raises
    ------
    ValidationError
        Saying what a bbox looks like.
    """
    parts = bbox.split(",")
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        numbers = []
    if len(numbers) == 6:
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    if len(numbers) != 4 or not all(math.isfinite(n) for n in numbers):
        raise ValidationError("bbox must be four numbers minx,miny,maxx,maxy, e.g. 105.0,37.3,105.4,37.6")
    return numbers


def bbox_param(
    bbox: Annotated[
        str | None,
        Query(description="minx,miny,maxx,maxy in WGS 84 degrees (longitude, latitude); a 6-number "
                          "3D box is accepted and its heights ignored",
              examples=["105.0,37.3,105.4,37.6"], max_length=200),
    ] = None,
) -> tuple[float, float, float, float] | None:
    """Parse ``bbox``.

    Raises
    ------
    ValidationError
        Saying what a bbox looks like.
    """
    if bbox is None or bbox == "":
        return None
    numbers = bbox_numbers(bbox)
    minx, miny, maxx, maxy = numbers
    if not (-180 <= minx <= 180 and -180 <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise ValidationError("bbox must be in WGS 84 degrees: longitude -180..180, latitude -90..90, "
                              "miny <= maxy")
    if minx > maxx:
        raise ValidationError("bbox crossing the antimeridian (minx > maxx) is not supported; "
                              "split it in two requests")
    return minx, miny, maxx, maxy


BBoxParam = Annotated[tuple[float, float, float, float] | None, Depends(bbox_param)]


async def properties_param(
    properties: Annotated[
        str | None,
        Query(description="comma-separated property names to return (default: all)",
              examples=["name,category,township_name"], max_length=2000),
    ] = None,
) -> list[str] | None:
    if properties is None:
        return None
    names = [p.strip() for p in properties.split(",") if p.strip()]
    return names


PropertiesParam = Annotated[list[str] | None, Depends(properties_param)]


def paging(default: int, maximum: int = MAX_LIMIT):
    """``limit`` and ``offset`` parameters with the given default page size."""

    def dependency(
        limit: Annotated[int, Query(ge=1, le=maximum, description=f"page size (at most {maximum})")] = default,
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="rows to skip")] = 0,
    ) -> tuple[int, int]:
        return limit, offset

    return dependency


def select_properties(available: list[str], wanted: list[str] | None) -> list[str]:
    """The property names to return, in the order asked.

    Raises
    ------
    ValidationError
        Naming the unknown properties and the ones that exist.
    """
    if wanted is None:
        return available
    unknown = [w for w in wanted if w not in available]
    if unknown:
        raise ValidationError(f"unknown properties {', '.join(unknown)}; properties: {', '.join(available)}")
    return wanted


IF_MATCH_HELP = 'the ETag you read, e.g. "3" (or send "version" in the body)'


def etag(version: int) -> str:
    return f'"{int(version)}"'


def expected_version(if_match: str | None, body_version: int | None) -> int:
    """The version a change is conditional on, from ``If-Match`` or the body.

    Raises
    ------
    HTTPException
        428 when neither is given; 400 when If-Match is not one of our ETags or the two differ.
    """
    header_version = None
    if if_match is not None:
        tag = if_match.split(",")[0].strip()
        tag = tag[2:] if tag.startswith("W/") else tag
        tag = tag.strip('"')
        if not tag.isdigit() or len(tag) > 9:
            raise HTTPException(400, f"If-Match must be the ETag you read, like \"3\"; got {if_match[:20]!r}")
        header_version = int(tag)
    if header_version is not None and body_version is not None and header_version != body_version:
        raise HTTPException(400, "If-Match and the body's version differ; send one of them")
    version = header_version if header_version is not None else body_version
    if version is None:
        raise HTTPException(428, "send the version you read, as If-Match: \"<version>\" or as "
                                 "\"version\" in the body, so a newer change is never overwritten")
    return version
