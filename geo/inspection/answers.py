"""Submissions of the phone forms read back: ODK Central exports (CSV, or the zip with the
CSV and ``media/``) and KoboToolbox exports (XLSX or CSV, optionally zipped with the photos),
each row checked against the plan's sample and turned into typed answers.

Both servers' layouts are read: group paths joined by ``/`` (Kobo, ``grp/q``) or ``-``
(Central's CSV, ``grp-q``), the instance id as ``meta/instanceID``, ``meta-instanceID``,
``KEY`` or Kobo's ``_uuid``; the submission time as ``SubmissionDate`` or
``_submission_time``; the GPS point as one ``lat lon alt accuracy`` column or split columns
(Central's ``location-Latitude``, Kobo's ``_location_latitude``); select answers as names or
their Chinese labels (Kobo's "labels" export).

Every refusal names the submission (its instance id, else its row) and the field, and says
what to do; a refused row is never half read. Pure: files and frames in, records out.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import math
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import pandas as pd
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from geo.errors import ValidationError
from geo.inspection import xlsform

#: A submission filled in farther than this from the registered position is flagged [m].
FAR_M = 1000.0
#: The largest photo kept [bytes]: the forms ask phones for 1600 px (~0.5 MB); 5 MiB leaves room.
MAX_PHOTO_BYTES = 5 * 1024 * 1024
#: Image formats a photo may be in (as Pillow names them) and their media types.
#: The largest table of submissions read from a zip once unpacked [bytes] (a zip bomb stops here).
MAX_TABLE_BYTES = 200 * 1024 * 1024
IMAGE_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "HEIF": "image/heif"}
_INSTANCE = ("instanceID", "KEY", "_uuid")
_SUBMITTED = ("SubmissionDate", "_submission_time", "end")


@dataclass
class Problem:
    """A refused submission (or a refused file member): who, which field, why."""

    row: int | None
    instance_id: str | None
    field: str
    message: str

    def text(self) -> str:
        who = f"submission {self.instance_id}" if self.instance_id else f"row {self.row}"
        where = f" (row {self.row})" if self.instance_id and self.row else ""
        return f"{who}{where}, field {self.field}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "instance_id": self.instance_id, "field": self.field, "message": self.message}


@dataclass
class Photo:
    field: str
    filename: str
    media_type: str
    content: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


@dataclass
class Submission:
    """One accepted row: the form, its target and typed answers."""

    row: int
    instance_id: str
    form: str
    form_version: str
    target: str  # household code or village key
    answers: dict[str, Any]
    submitted_at: dt.datetime | None
    position: Point | None
    photos: list[Photo] = field(default_factory=list)
    photos_missing: list[str] = field(default_factory=list)


@dataclass
class SubmissionFile:
    """The rows of an export (header -> text) and, for a zip, its media by file name."""

    name: str
    rows: list[dict[str, str]]
    media: dict[str, Callable[[], bytes]] | None
    media_sizes: dict[str, int]
    unsafe_members: list[str]


# ---------------------------------------------------------------------- reading the file


def _unsafe(name: str) -> bool:
    path = PurePosixPath(name.replace("\\", "/"))
    return name.startswith(("/", "\\")) or ".." in path.parts or bool(re.match(r"^[A-Za-z]:", name))


def _table_rows(data: bytes, suffix: str, name: str) -> list[dict[str, str]]:
    if suffix == ".csv":
        text = data.decode("utf-8-sig", errors="strict") if data else ""
        header = text.split("\n", 1)[0]
        # KoboToolbox writes its CSV with ";" by default; ODK Central with ",".
        delimiter = ";" if header.count(";") > header.count(",") else ","
        try:
            return [{(k or "").strip(): (v if isinstance(v, str) else "") for k, v in row.items() if isinstance(k, str)}
                    for row in csv.DictReader(io.StringIO(text), delimiter=delimiter)]
        except csv.Error as exc:
            raise ValidationError(f"{name}: not a readable CSV ({exc}); export it again from the server") from None
    if suffix in (".xlsx", ".xlsm"):
        try:
            frame = pd.read_excel(io.BytesIO(data), sheet_name=0, dtype=object, engine="openpyxl")
        except (ValueError, KeyError, TypeError, OSError, zipfile.BadZipFile):
            raise ValidationError(f"{name}: not a readable XLSX workbook; export it again from the server") from None
        rows = []
        for record in frame.to_dict("records"):
            rows.append({str(k).strip(): _cell(v) for k, v in record.items()})
        return rows
    raise ValidationError(f"{name}: not a submissions export; give the CSV or XLSX that ODK Central or KoboToolbox "
                          "exports, or Central's zip with the CSV and media/")


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dt.datetime, pd.Timestamp)):
        return value.isoformat()
    return str(value)


def read_submission_file(path: Path, *, name: str | None = None) -> SubmissionFile:
    """The rows of a CSV or XLSX export, or of the table inside a zip (with its media).

    Raises
    ------
    ValidationError
        Not a CSV, XLSX or zip; a zip with no table of submissions; text not in UTF-8.
    """
    path = Path(path)
    name = name or path.name
    suffix = path.suffix.lower()
    try:
        if suffix != ".zip" and not zipfile.is_zipfile(path) or suffix in (".xlsx", ".xlsm"):
            return SubmissionFile(name, _table_rows(path.read_bytes(), suffix, name), None, {}, [])
        archive = zipfile.ZipFile(path)
    except UnicodeDecodeError:
        raise ValidationError(f"{name}: the CSV is not UTF-8 text; export it again from the server") from None
    except zipfile.BadZipFile:
        raise ValidationError(f"{name}: not a readable zip or XLSX file") from None
    unsafe, media, sizes, tables = [], {}, {}, []
    for info in archive.infolist():
        if info.is_dir():
            continue
        if _unsafe(info.filename):
            unsafe.append(info.filename)
            continue
        base = PurePosixPath(info.filename).name
        lower = base.lower()
        folders = PurePosixPath(info.filename).parts[:-1]
        if lower.endswith((".csv", ".xlsx")) and not {"media", "attachments"} & set(folders):
            tables.append(info)
        media.setdefault(base, (lambda i=info: archive.read(i)))
        sizes.setdefault(base, info.file_size)
    for info in sorted(tables, key=lambda i: (i.filename.count("/"), i.filename)):
        if info.file_size > MAX_TABLE_BYTES:
            raise ValidationError(f"{name}: {info.filename} unpacks to {info.file_size / 1048576:.0f} MiB, more than "
                                  f"{MAX_TABLE_BYTES // 1048576} MiB; export fewer submissions at a time")
        data = archive.read(info)
        try:
            rows = _table_rows(data, PurePosixPath(info.filename).suffix.lower(), f"{name}:{info.filename}")
        except UnicodeDecodeError:
            raise ValidationError(f"{name}: {info.filename} is not UTF-8 text") from None
        if rows and any(_lookup(rows[0], key) is not None for key in _INSTANCE):
            return SubmissionFile(name, rows, media, sizes, unsafe)
    raise ValidationError(f"{name}: no table of submissions in the zip (a CSV or XLSX with meta/instanceID, KEY "
                          "or _uuid); give ODK Central's export zip or the Kobo XLSX")


def _segments(header: str) -> list[str]:
    return [p for p in re.split(r"[/\-]", header) if p]


def _lookup(row: dict[str, str], name: str) -> str | None:
    """The value of field ``name`` whatever group path the server put before it."""
    if name in row:
        return row[name]
    for header, value in row.items():
        parts = _segments(header)
        if parts and parts[-1] == name:
            return value
    return None


# ---------------------------------------------------------------------- checking one row


@dataclass(frozen=True)
class Expected:
    """What a submission must match: the plan, the form version, the sample and the area.

    ``households``: household code -> (village key, registered Point or None);
    ``villages``: village key -> registered Point or None; ``area``: the region a GPS point
    must lie in (None: not checked) and its name in messages.
    """

    plan_id: int
    version: str
    households: dict[str, tuple[str, Point | None]]
    villages: dict[str, Point | None]
    area: BaseGeometry | None = None
    area_name: str = "the county"
    max_photo_bytes: int = MAX_PHOTO_BYTES


def _labels(list_name: str) -> dict[str, str]:
    items = xlsform.CHOICE_LISTS.get(list_name, [])
    return {label: name for name, label in items} | {name: name for name, _ in items}


def _plain(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:g}"


def _number(text: str, q: xlsform.Question) -> float | int:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{text!r} is not a finite number")
    if q.kind == "integer":
        if not value.is_integer():
            raise ValueError(f"{text!r} is not a whole number")
        value = int(value)
    if (q.minimum is not None and value < q.minimum) or (q.maximum is not None and value > q.maximum):
        raise ValueError(f"{text} is outside {_plain(q.minimum)} to {_plain(q.maximum)}")
    return value


def _position(row: dict[str, str]) -> tuple[Point | None, str | None]:
    """The GPS point of ``location`` from one ``lat lon alt acc`` column or split columns."""
    whole = _lookup(row, "location")
    lat = lon = None
    if whole and whole.strip():
        parts = whole.split()
        if len(parts) < 2:
            return None, f"{whole!r} is not a GPS point (latitude longitude altitude accuracy)"
        lat, lon = parts[0], parts[1]
    else:
        for header, value in row.items():
            key = header.lower().replace("-", "_").replace("/", "_")
            if key.endswith("location_latitude"):
                lat = value
            elif key.endswith("location_longitude"):
                lon = value
        if not (lat or lon):
            return None, None
    try:
        y, x = float(lat), float(lon)
    except (TypeError, ValueError):
        return None, f"latitude {lat!r}, longitude {lon!r} are not numbers"
    if not (-90 <= y <= 90 and -180 <= x <= 180):
        return None, f"latitude {y}, longitude {x} are outside the globe"
    return Point(x, y), None


def geodesic_m(a: Point, b: Point) -> float:
    """The distance between two WGS 84 points on the ellipsoid [m]."""
    from pyproj import Geod

    return float(Geod(ellps="WGS84").inv(a.x, a.y, b.x, b.y)[2])


def _submitted(row: dict[str, str]) -> dt.datetime | None:
    for key in _SUBMITTED:
        text = _lookup(row, key)
        if text:
            try:
                stamp = pd.Timestamp(text)
            except (ValueError, TypeError):
                continue
            if stamp is pd.NaT:
                continue
            stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
            return stamp.to_pydatetime()
    return None


def _instance_id(row: dict[str, str]) -> str | None:
    for key in _INSTANCE:
        value = (_lookup(row, key) or "").strip()
        if value:
            return value if key != "_uuid" or value.startswith("uuid:") else f"uuid:{value}"
    return None


def check_row(row: dict[str, str], number: int, expected: Expected,
              media: dict[str, Callable[[], bytes]] | None, media_sizes: dict[str, int]
              ) -> tuple[Submission | None, list[Problem]]:
    """One exported row checked against ``expected``: a submission, or the problems that
    refuse it (each naming the instance id and the field)."""
    from PIL import Image, UnidentifiedImageError

    instance = _instance_id(row)
    problems: list[Problem] = []

    def refuse(name: str, message: str) -> None:
        problems.append(Problem(number, instance, name, message))

    if instance is None:
        refuse("meta/instanceID", "no instance id (meta/instanceID, KEY or _uuid); export the submissions with "
                                  "their metadata")
        return None, problems
    form = (_lookup(row, "form") or "").strip()
    plan = (_lookup(row, "plan_id") or "").strip()
    version = (_lookup(row, "form_version") or _lookup(row, "FormVersion") or "").strip()
    if form not in xlsform.FORMS:
        refuse("form", f"{form!r} is not one of the atlas forms ({', '.join(xlsform.FORMS)}); was this exported "
                       "from a form made with atlas sample export --format xlsform?")
        return None, problems
    if plan != str(expected.plan_id):
        refuse("plan_id", f"filled in on the form of plan {plan or '(none)'}, not plan {expected.plan_id}; import it "
                          f"into its own plan")
        return None, problems
    if version != expected.version:
        refuse("form_version", f"form version {version or '(none)'} is not this plan's current version "
                               f"{expected.version}; the sample or the form changed since the form was sent out")
        return None, problems
    fields = xlsform.answered_fields(form)  # type: ignore[arg-type]
    answers: dict[str, Any] = {}
    for name, q in fields.items():
        if q.kind in ("geopoint", "image") or name in ("plan_id", "form_version", "form"):
            continue
        text = (_lookup(row, name) or "").strip()
        if q.kind == "calculate" or not text:
            if text and q.kind == "calculate":
                answers[name] = text
            continue
        list_name = q.list_name
        try:
            if q.kind in ("integer", "decimal"):
                answers[name] = _number(text, q)
            elif list_name in (xlsform.VILLAGE_LIST, xlsform.HOUSEHOLD_LIST):
                answers[name] = text
            elif list_name and q.kind.startswith("select_multiple"):
                labels = _labels(list_name)
                picked = [labels.get(p) for p in text.split()]
                if None in picked:
                    raise ValueError(f"{text!r} is not among {', '.join(n for n, _ in xlsform.CHOICE_LISTS[list_name])}")
                answers[name] = picked
            elif list_name:
                labels = _labels(list_name)
                if text not in labels:
                    raise ValueError(f"{text!r} is not one of "
                                     + ", ".join(f"{n} ({lab})" for n, lab in xlsform.CHOICE_LISTS[list_name]))
                answers[name] = labels[text]
            elif q.kind == "date":
                try:
                    answers[name] = pd.Timestamp(text).date().isoformat()
                except (ValueError, TypeError):
                    raise ValueError(f"{text!r} is not a date (YYYY-MM-DD)") from None
            else:
                answers[name] = text
        except (ValueError, TypeError) as exc:
            refuse(name, str(exc))
    village = answers.get("village")
    if form == "household":
        code = answers.get("household")
        if not code:
            refuse("household", "no household chosen")
        elif code not in expected.households:
            refuse("household", f"household {code} is not in the sample of plan {expected.plan_id}; only sampled "
                                "households are recorded")
        elif village and expected.households[code][0] != village:
            refuse("village", f"household {code} is not in village {village} of the sample")
        target = code
        registered = expected.households.get(code, (None, None))[1] if code else None
    else:
        if not village:
            refuse("village", "no village chosen")
        elif village not in expected.villages:
            refuse("village", f"village {village} is not in the sample of plan {expected.plan_id}")
        target = village
        registered = expected.villages.get(village) if village else None
    position, bad = _position(row)
    if bad:
        refuse("location", bad)
    elif position is not None and expected.area is not None and not expected.area.covers(position):
        refuse("location", f"the GPS point ({position.y:.5f}, {position.x:.5f}) lies outside {expected.area_name}; "
                           "check the phone's position, or that this is the right plan")
    photos, missing = [], []
    for name in xlsform.PHOTOS:
        filename = (_lookup(row, name) or "").strip()
        if not filename:
            continue
        if _unsafe(filename):
            refuse(name, f"photo {filename.removeprefix('../')!r}: its path leaves the export (../); refused, "
                         "never read")
            continue
        base = PurePosixPath(filename.replace("\\", "/")).name
        if media is None:
            missing.append(name)
            continue
        if base not in media:
            missing.append(name)
            continue
        if media_sizes.get(base, 0) > expected.max_photo_bytes:
            refuse(name, f"photo {base} is {media_sizes[base] / 1048576:.1f} MiB, over the limit of "
                         f"{expected.max_photo_bytes / 1048576:.0f} MiB; export with the form's max-pixels, or resize it")
            continue
        content = media[base]()
        try:
            with Image.open(io.BytesIO(content)) as image:
                kind = image.format
                image.verify()
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
            refuse(name, f"{base} is not an image (JPEG, PNG or WebP); photos only")
            continue
        if kind not in IMAGE_TYPES:
            refuse(name, f"{base} is a {kind} image; photos are JPEG, PNG or WebP")
            continue
        photos.append(Photo(name, base, IMAGE_TYPES[kind], content))
    if problems:
        return None, problems
    return Submission(number, instance, form, version, target, answers, _submitted(row), position, photos,
                      missing), []


def check_file(source: SubmissionFile, expected: Expected) -> tuple[list[Submission], list[Problem]]:
    """Every row of an export checked: the accepted submissions (one per instance id, the
    latest submitted when the file repeats one) and the problems of the refused rows, with
    the zip members refused for leaving the zip."""
    accepted: dict[str, Submission] = {}
    problems = [Problem(None, None, member, "zip member whose path leaves the zip (../ or absolute): not read")
                for member in source.unsafe_members]
    unsafe_names = {PurePosixPath(u.replace("\\", "/")).name for u in source.unsafe_members}
    for number, row in enumerate(source.rows, start=2):
        if not any(v.strip() for v in row.values()):
            continue
        for name in xlsform.PHOTOS:
            value = (_lookup(row, name) or "").strip()
            if value and PurePosixPath(value.replace("\\", "/")).name in unsafe_names \
                    and PurePosixPath(value).name not in (source.media or {}):
                row = {**row, name: "../" + value}  # refused below, naming the field
        submission, refused = check_row(row, number, expected, source.media, source.media_sizes)
        problems += refused
        if submission is None:
            continue
        earlier = accepted.get(submission.instance_id)
        if earlier is None or (submission.submitted_at or dt.datetime.min.replace(tzinfo=dt.timezone.utc)) >= \
                (earlier.submitted_at or dt.datetime.min.replace(tzinfo=dt.timezone.utc)):
            accepted[submission.instance_id] = submission
    return list(accepted.values()), problems


def distance_from(position: Point | None, registered: Point | None) -> tuple[float | None, bool]:
    """Geodesic distance from the registered position [m] and whether it is over :data:`FAR_M`."""
    if position is None or registered is None or registered.is_empty:
        return None, False
    metres = geodesic_m(position, registered)
    return round(metres, 1), metres > FAR_M
