"""Layer import and export: the files county offices have, in and out of the registry.

- :func:`import_file` reads GeoJSON, Shapefile (folder or zip), GeoPackage, KML, CSV and XLSX
  (including seed 000's 附件1-5 forms), checks every row and upserts all-or-nothing,
  returning an :class:`ImportReport`.
- :func:`export_layer` and :func:`write_frame` write layers and analysis results to
  GeoPackage, GeoJSON, zipped Shapefile, CSV and XLSX (Chinese headers).
- :func:`safe_extract_zip` and :func:`check_file_size` guard uploads.
"""

from geo.io.export import FORMATS, ExportResult, dbf_field_names, export_frame, export_layer, write_frame
from geo.io.importer import ImportReport, LayerCounts, RowIssue, import_file
from geo.io.uploads import ExtractLimits, check_file_size, safe_extract_zip

__all__ = [
    "FORMATS",
    "ExportResult",
    "ExtractLimits",
    "ImportReport",
    "LayerCounts",
    "RowIssue",
    "check_file_size",
    "dbf_field_names",
    "export_frame",
    "export_layer",
    "import_file",
    "safe_extract_zip",
    "write_frame",
]
