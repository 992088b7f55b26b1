"""Import a file into a layer: read in chunks, check every row, write all-or-nothing.

:func:`import_file` is what ``atlas import`` and the HTTP API's ``POST /api/imports`` call.
One import runs in one transaction (a savepoint when the caller passes its own connection):

1. open the file (zip extracted safely, Shapefile encoding decided, sheet or layer chosen);
2. recognise seed 000's form layouts (附件1-5) or map the columns to the layer's fields;
3. per chunk: coordinates to WGS 84 and inside China, geometry type and validity, field
   types and enums, parents resolved by code or name, required fields of new rows,
   natural keys repeated in the file;
4. upsert the rows that pass: loaded into a staging table and matched to the stored rows
   by natural key in one join before the required-field check, then written by one
   ``UPDATE ... FROM`` and one ``INSERT ... SELECT`` (PostGIS) or one ``INSERT ... ON
   CONFLICT (id) DO UPDATE`` (SpatiaLite) (:func:`geo.storage.stage_rows`), in a background
   thread while the next chunk is read and checked (:class:`.writer.Writer`; a large CSV is
   read in a forked process meanwhile, :mod:`geo.io.prefetch`); areas,
   townships and villages, whose hierarchy rules need the rows, with
   :func:`geo.storage.write_layer`.

Rows that fail are *refused* and listed with their row number and reason; the others are
written. With ``strict`` any refused row (and any geometry that would need repair) rolls the
whole import back; ``dry_run`` always rolls back, so its report says exactly what an import
would do. Errors that concern the whole file (unreadable, no usable columns, every point
outside China) raise :class:`~geo.errors.ValidationError` and write nothing.

The parts, one concern each:

- :mod:`.report`: :class:`ImportReport` (rows read, written, repaired and refused);
- :mod:`.keys`: natural keys repeated in the file, remembered across chunks;
- :mod:`.checks`: row checks (field types and enums, geometries, parents, required fields);
- :mod:`.headers`: the header row and the columns' fields;
- :mod:`.geometry`: geometry from 经度/纬度, X/Y or WKT columns;
- :mod:`.placement`: the CRS, WGS 84 and the China check;
- :mod:`.writer`: the writer (checks, staging, then upsert);
- :mod:`.context`: one import's state and the writing of one chunk;
- pipelines, one per file family: :mod:`.vectors` (GIS files), :mod:`.tables` (CSV, XLSX),
  :mod:`.forms` (seed 000's 附件1-5);
- :mod:`.core`: :func:`import_file`, which opens the file and picks the pipeline.
"""

from __future__ import annotations

from geo.io.importer.core import import_file
from geo.io.importer.report import MAX_LISTED, ImportReport, LayerCounts, Progress, RowIssue

__all__ = ["MAX_LISTED", "ImportReport", "LayerCounts", "Progress", "RowIssue", "import_file"]
