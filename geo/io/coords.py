"""Coordinates of imported files: which CRSs are accepted, reprojection to WGS 84, and the
China-extent check that explains what went wrong when a point lands outside China.

Accepted: any geographic or projected CRS on the WGS 84 or CGCS2000 datum (EPSG:4326, 4490,
the CGCS2000 Gauss-Krüger zones EPSG:4491-4554 with and without zone prefix, UTM zones,
Web Mercator, local transverse Mercator grids on those datums). GCJ-02 and BD-09 cannot be
recognised from a file; the caller names them (``gcj02`` / ``bd09``) and the coordinates are
converted with :mod:`geo.chinacrs` (iterative inverse of the published formula). Beijing 1954
and Xi'an 1980 are refused: they need a locally published 7-parameter transformation, and
PROJ's ballpark substitute is off by tens to hundreds of metres.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError

from geo import chinacrs
from geo.errors import ValidationError

WebCRS = Literal["gcj02", "bd09"]

#: China's extent [degrees]: longitude 73.4-135.1 E, latitude 3.8-53.6 N (Nansha to Mohe).
CHINA_BOUNDS = (73.4, 3.8, 135.1, 53.6)

_WEB = {"gcj02": "gcj02", "gcj-02": "gcj02", "gcj": "gcj02", "amap": "gcj02", "gaode": "gcj02",
        "高德": "gcj02", "火星坐标": "gcj02", "bd09": "bd09", "bd-09": "bd09", "baidu": "bd09", "百度": "bd09"}
_ALIASES = {"wgs84": "EPSG:4326", "wgs 84": "EPSG:4326", "cgcs2000": "EPSG:4490"}
_REFUSED_DATUMS = ("beijing 1954", "xian 1980", "xi'an 1980", "new beijing", "d_beijing_1954",
                   "d_xian_1980", "beijing_1954", "xian_1980")
_GRID_FILES = re.compile(r"nadgrids|geoidgrids|grids=", re.I)
_CRS_HELP = ("give EPSG:N (e.g. EPSG:4326 WGS 84, EPSG:4490 CGCS2000, EPSG:4544 CGCS2000 3-degree "
             "Gauss-Kruger CM 105E, EPSG:32648 UTM 48N), gcj02 (Amap/Gaode, Tencent) or bd09 (Baidu)")


def parse_crs(text: str | int | CRS) -> CRS | WebCRS:
    """Parse a ``--crs`` value: ``EPSG:N``, ``N``, ``gcj02``, ``bd09``, ``wgs84`` or ``cgcs2000``
    (WKT or PROJ text only when it is exactly an EPSG definition; see :func:`_known_epsg`).

    Raises
    ------
    ValidationError
        Unknown CRS, or one this importer refuses (see :func:`check_crs`).
    """
    if isinstance(text, CRS):
        crs = text
    else:
        key = str(text).strip()
        web = _WEB.get(key.lower())
        if web is not None:
            return web  # type: ignore[return-value]
        key = _ALIASES.get(key.lower(), key)
        if re.fullmatch(r"\d{4,5}", key):
            key = f"EPSG:{key}"
        crs = _known_epsg(key, text)
    check_crs(crs)
    return crs


def _known_epsg(key: str, text: object) -> CRS:
    """The EPSG definition ``key`` names: ``EPSG:N`` (or an OGC URN of one), or WKT/PROJ text
    that *is* an EPSG CRS exactly. Anything else (a custom PROJ string, a ``+towgs84`` of its
    own, a ``+nadgrids`` grid file) is refused: only EPSG's own definitions are used, never
    parameters or file names from the command line or a form field."""
    try:
        parsed = CRS.from_user_input(key)
        code = parsed.to_epsg(min_confidence=100)
    except CRSError:
        raise ValidationError(f"--crs {text!r} is not a coordinate reference system; {_CRS_HELP}") from None
    if code is None or parsed.to_authority(min_confidence=100) != ("EPSG", str(code)):
        shown = str(text) if len(str(text)) <= 60 else str(text)[:57] + "..."
        raise ValidationError(f"--crs {shown!r} is a custom definition, not an EPSG code; custom PROJ strings and "
                              f"WKT are refused (they can name grid files and datum shifts of their own); {_CRS_HELP}")
    return CRS.from_epsg(code)


def datum_family(crs: CRS) -> str:
    """``'wgs84'``, ``'cgcs2000'``, ``'beijing1954'``, ``'xian1980'`` or ``'other'``."""
    geodetic = crs.geodetic_crs or crs
    names = " ".join(filter(None, [getattr(geodetic.datum, "name", ""), geodetic.ellipsoid.name if geodetic.ellipsoid else "",
                                   geodetic.name])).lower()
    if "china" in names and "2000" in names or "cgcs2000" in names or "cgcs_2000" in names:
        return "cgcs2000"
    if "beijing" in names:
        return "beijing1954"
    if "xian" in names or "xi'an" in names:
        return "xian1980"
    if "world geodetic system 1984" in names or "wgs 84" in names or "wgs_1984" in names or "wgs84" in names:
        return "wgs84"
    return "other"


def check_crs(crs: CRS) -> None:
    """Refuse CRSs whose datum cannot be converted to WGS 84 accurately here.

    Raises
    ------
    ValidationError
        Beijing 1954, Xi'an 1980 or a datum outside the WGS 84 / CGCS2000 family.
    """
    if _GRID_FILES.search(crs.to_wkt() or ""):
        raise ValidationError(
            f"{describe(crs)} names grid files of its own (nadgrids/geoidgrids); such custom definitions are "
            "refused: reproject the data to EPSG:4326 or EPSG:4490 (or a CGCS2000 Gauss-Kruger zone) and import again"
        )
    family = datum_family(crs)
    if family in ("wgs84", "cgcs2000"):
        return
    if family in ("beijing1954", "xian1980"):
        datum = "Beijing 1954" if family == "beijing1954" else "Xi'an 1980"
        raise ValidationError(
            f"{describe(crs)} is on the {datum} datum, which has no public accurate transformation to "
            "WGS 84 (errors of tens to hundreds of metres); convert the data to CGCS2000 with your "
            "survey office's 7-parameter transformation first, then import it"
        )
    raise ValidationError(
        f"{describe(crs)} is not on the WGS 84 or CGCS2000 datum; reproject the data to EPSG:4326 or "
        "EPSG:4490 (or a CGCS2000 Gauss-Kruger zone, EPSG:4491-4554) and import again"
    )


def describe(crs: CRS | str | None) -> str:
    """``EPSG:4544 (CGCS2000 / 3-degree Gauss-Kruger CM 105E)`` or the CRS's name."""
    if crs is None:
        return "no CRS"
    if isinstance(crs, str):
        return {"gcj02": "GCJ-02 (Amap/Gaode, Tencent)", "bd09": "BD-09 (Baidu)"}.get(crs, crs)
    code = crs.to_epsg(min_confidence=70)
    return f"EPSG:{code} ({crs.name})" if code else crs.name


# --------------------------------------------------------------------------------------
# Gauss-Krüger zones of CGCS2000 (EPSG:4491-4554)
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GKZone:
    epsg: int
    central_meridian: float
    width: int  # 3 or 6 [degrees]
    zone: int
    prefixed: bool  # false easting carries the zone number (zone * 1e6 + 500000)


@lru_cache(maxsize=1)
def gk_zones() -> tuple[GKZone, ...]:
    """Every CGCS2000 Gauss-Krüger CRS of EPSG:4491-4554, read from the EPSG database."""
    zones = []
    for code in range(4491, 4555):
        crs = CRS.from_epsg(code)
        params = {p.name: p.value for p in crs.coordinate_operation.params}
        cm = float(params["Longitude of natural origin"])
        easting = float(params["False easting"])
        width = 3 if "3-degree" in crs.name else 6
        zone = int(round(cm / 3)) if width == 3 else int(round((cm + 3) / 6))
        zones.append(GKZone(code, cm, width, zone, easting > 1e6))
    return tuple(zones)


def gk_zone(*, central_meridian: float | None = None, zone: int | None = None, width: int,
            prefixed: bool) -> GKZone | None:
    """The CGCS2000 Gauss-Krüger CRS with this zone or central meridian [degrees]."""
    for z in gk_zones():
        if z.width == width and z.prefixed == prefixed and (
            (zone is not None and z.zone == zone) or (central_meridian is not None and z.central_meridian == central_meridian)
        ):
            return z
    return None


def gk_zone_of(crs: CRS) -> GKZone | None:
    code = crs.to_epsg(min_confidence=70)
    return next((z for z in gk_zones() if z.epsg == code), None)


def prefixed_zone(easting: float) -> GKZone | None:
    """The zone an easting with a zone prefix names (``35500000`` -> 3-degree zone 35), if any.

    6-degree zones in China are 13-23 and 3-degree zones 25-45, so the prefix is unambiguous.
    """
    if not np.isfinite(easting):
        return None
    zone, rest = divmod(float(easting), 1e6)
    if not 0 < rest < 1e6:
        return None
    zone = int(zone)
    if 13 <= zone <= 23:
        return gk_zone(zone=zone, width=6, prefixed=True)
    if 25 <= zone <= 45:
        return gk_zone(zone=zone, width=3, prefixed=True)
    return None


# --------------------------------------------------------------------------------------
# The China-extent check and its explanations
# --------------------------------------------------------------------------------------


def in_china(lon, lat) -> np.ndarray:
    """True where a longitude/latitude [degrees] lies in :data:`CHINA_BOUNDS`."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    minx, miny, maxx, maxy = CHINA_BOUNDS
    with np.errstate(invalid="ignore"):
        return (lon >= minx) & (lon <= maxx) & (lat >= miny) & (lat <= maxy)


def _fmt(value: float) -> str:
    return f"{value:.6f}".rstrip("0").rstrip(".") if abs(value) < 1000 else f"{value:.0f}"


def explain_outside(x: float, y: float, crs: CRS | None, *, crs_from: str = "file") -> str:
    """Why the point ``(x, y)`` (as read, in ``crs``) falls outside China: the likely cause
    and what to do.

    ``crs_from`` says where ``crs`` came from (``file``, ``option`` or ``assumed``) so the
    advice fits (an assumed WGS 84 for a table without a CRS).
    """
    point = f"({_fmt(x)}, {_fmt(y)})"
    geographic = crs is None or crs.is_geographic
    if geographic:
        if bool(in_china(y, x)):
            return (f"{point} is outside China, but swapped it is inside: latitude and longitude look "
                    "swapped; put the longitude (73-135 in China) first, or swap the 经度/纬度 columns")
        if abs(x) > 180 or abs(y) > 90:
            zone = prefixed_zone(x) or prefixed_zone(y)
            if zone is not None:
                if crs_from == "option":
                    return (f"{point} are projected metres, not degrees: the easting carries the Gauss-Kruger "
                            f"zone prefix {zone.zone}; use --crs EPSG:{zone.epsg} (CGCS2000, {zone.width}-degree "
                            f"zone {zone.zone}, CM {zone.central_meridian:g}E)")
                return (f"{point} are projected metres read as degrees: the easting carries the Gauss-Kruger "
                        f"zone prefix {zone.zone}, and the file has no projected CRS; import with --crs "
                        f"EPSG:{zone.epsg} (CGCS2000 {zone.width}-degree zone {zone.zone}, CM "
                        f"{zone.central_meridian:g}E) if the survey is CGCS2000")
            if 1e4 <= abs(x) < 1e6 or 1e4 <= abs(y) < 1e6:
                return (f"{point} are projected metres read as degrees (an easting/northing without a zone "
                        "prefix) and the file has no projected CRS; import with --crs giving the grid, e.g. "
                        "EPSG:4544 for CGCS2000 3-degree Gauss-Kruger CM 105E (EPSG:4534-4554 by central "
                        "meridian; 6-degree: EPSG:4502-4512) or EPSG:32648 for UTM 48N")
            return (f"{point} are not longitude/latitude degrees; give the file's CRS with --crs "
                    "(e.g. EPSG:4544 or EPSG:32648)")
        return (f"{point} is outside China (longitude {CHINA_BOUNDS[0]}-{CHINA_BOUNDS[2]}, latitude "
                f"{CHINA_BOUNDS[1]}-{CHINA_BOUNDS[3]}); check the coordinates and the CRS")
    zone = gk_zone_of(crs)
    if zone is not None and zone.prefixed and abs(x) < 1e6:
        plain = gk_zone(central_meridian=zone.central_meridian, width=zone.width, prefixed=False)
        return (f"{point}: missing zone prefix: {describe(crs)} expects eastings with the zone prefix "
                f"{zone.zone} (e.g. {zone.zone}500000) but this easting has none; import with --crs "
                f"EPSG:{plain.epsg} ({plain.width}-degree CM {plain.central_meridian:g}E, no prefix)")
    if zone is not None and not zone.prefixed and prefixed_zone(x) is not None:
        found = prefixed_zone(x)
        return (f"{point}: the easting carries the zone prefix {found.zone} but {describe(crs)} has none; "
                f"import with --crs EPSG:{found.epsg} ({found.width}-degree zone {found.zone})")
    if _inside_after_transform(y, x, crs):
        return (f"{point}: X and Y look swapped (in Chinese surveying X is the northing and Y the "
                "easting); swap the columns or map them with --map")
    if abs(x) < 1000 and abs(y) < 1000:
        return (f"{point} look like degrees, but the CRS is {describe(crs)} (metres); if they are "
                "longitude/latitude, import with --crs EPSG:4326")
    return (f"{point} in {describe(crs)} lands outside China; check that the CRS ({crs_from}) is the "
            "one the coordinates were surveyed in")


def _inside_after_transform(x: float, y: float, crs: CRS) -> bool:
    from pyproj import Transformer

    try:
        lon, lat = Transformer.from_crs(crs, 4326, always_xy=True).transform(x, y)
    except Exception:  # a point outside the projection's domain is simply not inside
        return False
    return bool(np.isfinite(lon) and np.isfinite(lat) and in_china(lon, lat))


# --------------------------------------------------------------------------------------
# Reprojection
# --------------------------------------------------------------------------------------


def to_wgs84(geoms: gpd.GeoSeries, *, web: WebCRS | None = None) -> gpd.GeoSeries:
    """Geometries in WGS 84 (EPSG:4326; CGCS2000 kept as is, it agrees to centimetres).

    ``geoms`` carries its CRS; ``web`` converts GCJ-02 / BD-09 longitude/latitude to WGS 84.

    Raises
    ------
    ValidationError
        ``web`` given for projected coordinates.
    """
    crs = geoms.crs
    if web is not None:
        if crs is not None and not crs.is_geographic:
            raise ValidationError(
                f"{describe(web)} coordinates are longitude/latitude, but the file's CRS is "
                f"{describe(crs)} (metres); drop --crs {web} or fix the file's CRS"
            )
        converted = chinacrs.geometries_to_wgs84(np.asarray(geoms.values, dtype=object), web)
        return gpd.GeoSeries(converted, index=geoms.index, crs=4326)
    if crs is None:
        return geoms.set_crs(4326)
    if crs.to_epsg(min_confidence=70) in (4326, 4490):
        return geoms.set_crs(crs.to_epsg(min_confidence=70), allow_override=True)
    return geoms.to_crs(4326)


def first_coordinates(geoms) -> tuple[np.ndarray, np.ndarray]:
    """The first vertex of each geometry (NaN for missing or empty), to explain a failure."""
    array = np.asarray(geoms, dtype=object)
    xs = np.full(len(array), np.nan)
    ys = np.full(len(array), np.nan)
    present = ~(shapely.is_missing(array) | shapely.is_empty(array))
    if present.any():
        coords, index = shapely.get_coordinates(array[present], return_index=True)
        first = np.unique(index, return_index=True)[1]
        xs[np.flatnonzero(present)] = coords[first, 0]
        ys[np.flatnonzero(present)] = coords[first, 1]
    return xs, ys


def outside_china(geoms) -> np.ndarray:
    """True for each geometry with any vertex outside China (False for missing or empty)."""
    array = np.asarray(geoms, dtype=object)
    out = np.zeros(len(array), dtype=bool)
    present = ~(shapely.is_missing(array) | shapely.is_empty(array))
    if present.any():
        coords, index = shapely.get_coordinates(array[present], return_index=True)
        bad = ~in_china(coords[:, 0], coords[:, 1]) | ~np.isfinite(coords).all(axis=1)
        hits = np.zeros(int(present.sum()), dtype=bool)
        np.logical_or.at(hits, index, bad)
        out[np.flatnonzero(present)] = hits
    return out
