"""``atlas import``, ``atlas export`` and ``atlas fields``: layers in and out of the registry."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from api.cli._common import DbOption, echo_json, engine_for
from geo.io import FORMATS, export_layer
from geo.services import imports
from geo.io.fields import DBF_NAMES, header_table, label, layer_fields
from geo.io.importer import ImportReport
from geo.layers import LAYERS, get_layer

_MAX_SHOWN = 50


def _progress_bar():
    """A rich progress bar on stderr when it is a terminal; None otherwise (pipes, CI, tests)."""
    if not sys.stderr.isatty():
        return None, None
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    # redrawn after each chunk, not by rich's refresh thread: the import reads a large CSV in a
    # forked process, which it starts only from a process of one thread (geo.io.prefetch)
    progress = Progress(TextColumn("[bold blue]导入"), BarColumn(), MofNCompleteColumn(), TextColumn("rows"),
                        TimeElapsedColumn(), console=Console(stderr=True), transient=True, auto_refresh=False)
    task = progress.add_task("import", total=None)

    def update(done: int, total: int | None) -> None:
        progress.update(task, completed=done, total=total, refresh=True)

    return progress, update


def _print_report(report: ImportReport) -> None:
    spec = LAYERS[report.layer]
    status = ("dry run: nothing was written" if report.dry_run else
              "committed" if report.committed else "nothing was written (--strict: rows were refused)")
    typer.echo(f"{report.file} -> {report.layer} ({spec.label}): {status}")
    details = [f"format {report.format}"]
    if report.layout:
        details.append(f"layout {report.layout}")
    if report.sheet:
        details.append(f"sheet {report.sheet}")
    if report.source_layer:
        details.append(f"layer {report.source_layer}")
    if report.crs:
        details.append(f"CRS {report.crs}")
    if report.encoding:
        details.append(f"encoding {report.encoding}")
    if report.exclusive:
        details.append("独占批量导入 exclusive")
    typer.echo("  " + "; ".join(details))
    verb = "would be " if report.dry_run or not report.committed else ""
    typer.echo(f"  read {report.read}  {verb}inserted {report.inserted}  {verb}updated {report.updated}  "
               f"unchanged {report.unchanged}  repaired {report.repaired_count}  refused {report.refused_count}")
    if len(report.layers) > 1:
        width = max(len(n) for n in report.layers)
        for name, counts in report.layers.items():
            typer.echo(f"    {name:<{width}}  inserted {counts.inserted:>6}  updated {counts.updated:>6}  "
                       f"unchanged {counts.unchanged:>6}")
    if report.ignored_columns:
        typer.echo("  columns not imported: " + ", ".join(report.ignored_columns))
    for title, issues, count in (("refused", report.refused, report.refused_count),
                                 ("repaired", report.repaired, report.repaired_count),
                                 ("notes", report.warnings, len(report.warnings))):
        if not issues:
            continue
        typer.echo(f"  {title}:")
        for issue in issues[:_MAX_SHOWN]:
            where = []
            if issue.sheet:
                where.append(f"sheet {issue.sheet}")
            if issue.row is not None:
                where.append(f"{report.row_numbers} {issue.row}")
            if issue.layer and issue.layer != report.layer:
                where.append(issue.layer)
            prefix = (", ".join(where) + ": ") if where else ""
            typer.echo(f"    {prefix}{issue.reason}")
        if count > _MAX_SHOWN:
            typer.echo(f"    ... and {count - _MAX_SHOWN} more (all of them with --json)")


def import_command(
    file: Annotated[Path, typer.Argument(help="GeoJSON, Shapefile (.shp, folder or .zip), GeoPackage, KML, CSV or "
                                              "XLSX (also seed 000's 附件1-5 forms).", show_default=False)],
    layer: Annotated[str, typer.Option("--layer", help=f"Target layer: {', '.join(LAYERS)}.", show_default=False)],
    sheet: Annotated[str | None, typer.Option("--sheet", help="XLSX sheet, by name or number from 1.")] = None,
    source_layer: Annotated[str | None, typer.Option(
        "--source-layer", help="Layer of a GeoPackage or KML file, or the Shapefile inside a zip.")] = None,
    crs: Annotated[str | None, typer.Option(
        "--crs", help="CRS of the coordinates when the file has none or a wrong one: EPSG:N (4326, 4490, "
                      "4491-4554, UTM 326NN), or gcj02 (Amap/Gaode, Tencent) / bd09 (Baidu), converted to WGS 84.")] = None,
    encoding: Annotated[str | None, typer.Option(
        "--encoding", help="Text encoding of a CSV or Shapefile: gbk or utf-8 (detected when not given).")] = None,
    mapping: Annotated[list[str] | None, typer.Option(
        "--map", help="column=field for a header the importer does not know (repeatable), e.g. --map 村庄=name.")] = None,
    fixed: Annotated[list[str] | None, typer.Option(
        "--set", help="field=value given to every row (repeatable), e.g. --set 设施类型=水井 --set status=working "
                      "for a KML or GeoJSON without attributes.")] = None,
    year: Annotated[int | None, typer.Option(
        "--year", help="Year of a 附件 form whose title names none, or of every row of a table without a 年度 column.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check everything and report; write nothing.")] = False,
    strict: Annotated[bool, typer.Option(
        "--strict", help="Write nothing if any row is refused or any geometry would need repair.")] = False,
    exclusive: Annotated[bool, typer.Option(
        "--exclusive", help="独占批量导入（首次或大批量导入用，PostGIS）：导入期间锁住该图层的表及其引用的表，读写都要等待；"
                            "先去掉空间索引、普通索引和外键，写完后重建并校验。表正被占用时报错、不写入。SpatiaLite 上不起作用。 "
                            "Bulk mode for first or large loads (PostGIS): the layer's table and the tables it refers to "
                            "are locked for the whole import (readers wait); its spatial and plain indexes and foreign "
                            "keys are dropped, then rebuilt and validated before the commit. Fails, writing nothing, if "
                            "the table is in use. No effect on SpatiaLite.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    db: DbOption = None,
) -> None:
    """Import a file into a layer in one transaction: every row checked, upsert by natural key;
    refused rows are listed with the reason and skipped (with --strict nothing is written).

    Exit status: 0 all rows imported (or would be, with --dry-run); 2 imported, but some rows
    were refused (listed); 1 nothing written (an error, every row refused, or refused rows
    with --strict).
    """
    get_layer(layer)
    engine = engine_for(db)
    bar, update = _progress_bar()
    try:
        if bar is not None:
            bar.start()
        report = imports.import_path(engine, file, layer=layer, sheet=sheet, source_layer=source_layer, crs=crs,
                                     encoding=encoding, mapping=mapping, fixed=fixed, year=year, dry_run=dry_run,
                                     strict=strict, exclusive=exclusive, progress=update)
    finally:
        if bar is not None:
            bar.stop()
    if as_json:
        echo_json(report.as_dict())
    else:
        _print_report(report)
    written = report.inserted + report.updated + report.unchanged
    if report.refused_count and (strict or written == 0):
        raise typer.Exit(1)  # nothing written: every row refused, or --strict
    if report.refused_count:
        raise typer.Exit(2)


def export_command(
    layer: Annotated[str, typer.Argument(help=f"Layer to export: {', '.join(LAYERS)}.", show_default=False)],
    output: Annotated[Path, typer.Option("-o", "--output", help="Output file: .gpkg, .geojson, .zip (Shapefile), "
                                                                 ".csv or .xlsx.", show_default=False)],
    township: Annotated[str | None, typer.Option("--township", "--area", help="Only this area: a township (name, code or id) or a county, prefecture or province (six-digit code or name).")] = None,
    format: Annotated[str | None, typer.Option(
        "--format", help=f"One of {', '.join(FORMATS)}; default from the file name.")] = None,
    include_pii: Annotated[bool, typer.Option(
        "--include-pii", help="Include household heads' names and ID numbers (personal data; only for "
                              "users allowed to see them).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print what was written as JSON.")] = False,
    db: DbOption = None,
) -> None:
    """Export a layer with Chinese headers (CSV, XLSX) or field names (GeoPackage, GeoJSON, Shapefile)."""
    spec = get_layer(layer)
    result = export_layer(engine_for(db), layer, output, format=format, township=township, include_pii=include_pii)
    if as_json:
        echo_json(result.as_dict())
        return
    typer.echo(f"wrote {result.rows} row(s) of {layer} ({spec.label}) to {result.path} ({result.format})")
    for warning in result.warnings:
        typer.echo(f"  note: {warning}")


def fields_command(
    layer: Annotated[str, typer.Argument(help=f"Layer: {', '.join(LAYERS)}.", show_default=False)],
    as_json: Annotated[bool, typer.Option("--json", help="Print the table as JSON.")] = False,
) -> None:
    """The fields of a layer: Chinese header, Shapefile (DBF) name and the headers imports accept."""
    get_layer(layer)
    accepted: dict[str, list[str]] = {}
    for text, field in header_table(layer).items():
        accepted.setdefault(field, []).append(text)
    rows = []
    for field in layer_fields(layer):
        if field == get_layer(layer).geometry:
            continue
        rows.append({"field": field, "label": label(layer, field), "dbf": DBF_NAMES.get(field, field),
                     "accepted": sorted(set(accepted.get(field, [])))})
    for field in ("lon", "lat", "x", "y", "wkt"):
        rows.append({"field": field, "label": label(layer, field), "dbf": "", "accepted": sorted(set(accepted.get(field, [])))})
    if as_json:
        echo_json(rows)
        return
    for row in rows:
        typer.echo(f"{row['field']:<28} {row['label']:<16} {row['dbf']:<11} {', '.join(row['accepted'])}")


def register(app: typer.Typer) -> None:
    app.command("import")(import_command)
    app.command("export")(export_command)
    app.command("fields")(fields_command)
