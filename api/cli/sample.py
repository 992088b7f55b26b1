"""``atlas sample ...``: draw, verify, export, list and show inspection samples (督查抽样)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from api.cli._common import DbOption, echo_json, engine_for
from geo.errors import ValidationError
from geo.inspection.plans import parse_date, parse_start, plan_from_options

__all__ = ["parse_start", "register", "sample_app"]

# geo.services.inspections (SciPy, the road network) is imported inside the commands, so that other
# commands and ``atlas --help`` do not pay for it.

sample_app = typer.Typer(help="Inspection samples: reproducible stratified draws, routes and forms.",
                         no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
# The plan's scope, the same for frame and draw.
YearOption = Annotated[int | None, typer.Option(help="The plan's year ('this year'); default: the file's or the current year.")]
TownshipsOption = Annotated[str | None, typer.Option(help="Comma-separated townships in scope (name, code or id).")]
CategoriesOption = Annotated[str | None, typer.Option(help="Comma-separated village categories in scope.")]
ExcludeOption = Annotated[str | None, typer.Option(help="Comma-separated villages to leave out (name, code or township/name).")]
VillagesOption = Annotated[int | None, typer.Option("--villages", help="Draw K villages (at random unless --select pps).")]
SelectOption = Annotated[str | None, typer.Option(help="Village selection: all, random or pps.")]


@sample_app.command("frame")
def frame(
    preset: Annotated[str, typer.Option("--preset", help="seed003, county-spot, or a YAML/JSON plan file.")],
    db: DbOption = None,
    name: Annotated[str | None, typer.Option(help="Frame name (unique); default from year, preset and frame hash.")] = None,
    year: YearOption = None,
    townships: TownshipsOption = None,
    categories: CategoriesOption = None,
    exclude: ExcludeOption = None,
    villages: VillagesOption = None,
    select: SelectOption = None,
    output: Annotated[str | None, typer.Option("-o", "--output", help="Also write the frame as CSV (villages with PPS weights, households with strata) to publish before the seed.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Record the sampling frame before the seed is announced; draw from it with draw --frame ID."""
    from geo.services import inspections as service

    spec = plan_from_options(preset, year=year, name=name, townships=townships, categories=categories,
                             exclude=exclude, villages=villages, select=select)
    if output and not Path(output).resolve().parent.is_dir():  # refuse before anything is recorded
        raise ValidationError(f"-o {output}: the folder {Path(output).resolve().parent} does not exist")
    engine = engine_for(db)
    report = service.record_frame(engine, spec)
    if output:
        service.export_frame(engine, report.frame_id, output)
    if as_json:
        echo_json(report.as_dict())
        return
    typer.echo(f"frame {report.frame_id}: {report.name}")
    typer.echo(f"  year {report.year}, preset {report.preset}, algorithm {report.algorithm}")
    typer.echo(f"  frame hash {report.frame_hash}")
    typer.echo(f"  {report.villages} villages, {report.households} households in the frame")
    for row in report.strata:
        typer.echo(f"  {row['stratum']} ({row['label']}): {row['households']}")
    outside = "; ".join(f"{o['status']}{' ' + str(o['status_year']) if o['status_year'] is not None else ''}: "
                        f"{o['households']}" for o in report.outside) or "none"
    typer.echo(f"  households outside the frame (in no stratum), by status and year: {outside}")
    if output:
        typer.echo(f"wrote {output}")
    typer.echo(f"Announce the seed, then: atlas sample draw --frame {report.frame_id} --seed '...'")


@sample_app.command("draw")
def draw(
    seed: Annotated[str, typer.Option("--seed", help="The seed string announced for this draw.")],
    preset: Annotated[str | None, typer.Option("--preset", help="seed003, county-spot, or a YAML/JSON plan file.")] = None,
    frame_id: Annotated[int | None, typer.Option("--frame", help="Draw from this recorded frame (atlas sample frame) instead of --preset.")] = None,
    as_recorded: Annotated[bool, typer.Option("--as-recorded", help="With --frame: draw from the recorded frame even if the registry has changed since (says what changed).")] = False,
    db: DbOption = None,
    name: Annotated[str | None, typer.Option(help="Plan name (unique); default from year, preset and seed.")] = None,
    year: YearOption = None,
    townships: TownshipsOption = None,
    categories: CategoriesOption = None,
    exclude: ExcludeOption = None,
    villages: VillagesOption = None,
    select: SelectOption = None,
    teams: Annotated[int, typer.Option(help="Number of inspection teams.")] = 1,
    start: Annotated[str | None, typer.Option(help="Start LON,LAT; default the county seat (中卫城区 105.19,37.51).")] = None,
    return_to_start: Annotated[bool, typer.Option("--return", help="Routes end back at the start.")] = False,
    date: Annotated[str | None, typer.Option(help="Inspection date YYYY-MM-DD, for the record.")] = None,
    straight: Annotated[bool, typer.Option("--straight", help="Ignore roads; straight-line distances.")] = False,
    hours_per_day: Annotated[float, typer.Option("--hours-per-day", help="A team's working day [h]: driving and visits.")] = 8.0,
    days: Annotated[int | None, typer.Option("--days", help="Days each team may use; default as many as the villages need.")] = None,
    visit_village_min: Annotated[float, typer.Option("--visit-village-min", help="Time at each village besides its households [min].")] = 30.0,
    visit_household_min: Annotated[float, typer.Option("--visit-household-min", help="Time at each sampled household [min].")] = 15.0,
    day_start: Annotated[str, typer.Option("--day-start", help="When each day starts, HH:MM (arrival times).")] = "08:00",
    as_json: JsonOption = False,
) -> None:
    """Draw a stratified sample, plan the teams' routes in days and record the draw (never replaced)."""
    from geo.inspection.tours import DayRules
    from geo.services import inspections as service

    rules = DayRules(hours_per_day=hours_per_day, days=days, village_min=visit_village_min,
                     household_min=visit_household_min, day_start=day_start)
    if frame_id is not None:
        given = [o for o, v in (("--preset", preset), ("--year", year), ("--townships", townships),
                                ("--categories", categories), ("--exclude", exclude), ("--villages", villages),
                                ("--select", select)) if v is not None]
        if given:
            raise ValidationError(f"--frame takes the plan from the recorded frame; drop {', '.join(given)}")
        spec = None
    elif preset is None:
        raise ValidationError("give --preset (a preset or plan file) or --frame ID (a recorded frame)")
    else:
        spec = plan_from_options(preset, year=year, name=name, townships=townships, categories=categories,
                                 exclude=exclude, villages=villages, select=select)
    report = service.draw_plan(engine_for(db), spec, seed=seed, teams=teams, start=parse_start(start),
                               return_to_start=return_to_start, planned_on=parse_date(date),
                               use_roads=not straight, frame_id=frame_id, name=name, rules=rules,
                               as_recorded=as_recorded)
    if as_json:
        echo_json(report.as_dict())
        return
    typer.echo(f"plan {report.plan_id}: {report.name}")
    if report.as_recorded:
        typer.echo(f"  drawn from recorded frame {report.frame_id} as recorded; "
                   + (f"the registry has changed since ({len(report.registry_changes)} change(s)):"
                      if report.registry_changes else "the registry still gives it"))
        for line in report.registry_changes[:20]:
            typer.echo(f"    {line}")
        if len(report.registry_changes) > 20:
            typer.echo(f"    … {len(report.registry_changes) - 20} more")
    typer.echo(f"  seed {report.seed!r}, algorithm {report.algorithm}")
    typer.echo(f"  frame   {report.frame_hash}")
    typer.echo(f"  result  {report.result_hash}")
    typer.echo(f"  sampled {report.villages} villages, {report.households} households")
    for team in report.teams:
        typer.echo(f"  team {team['team']}: {team['villages']} villages in {len(team.get('days') or [])} day(s), "
                   f"{team['length_km']:.1f} km, {team['hours']:.1f} h driving ({team['method']}), "
                   f"{team['walk_km']:.1f} km on foot in villages, longest day {team.get('longest_day_hours', 0):.1f} h")
        for day in team.get("days") or []:
            stops = ", ".join(f"{s['stop']}. {s['village']} {s['arrive']}" for s in day["stops"])
            typer.echo(f"    day {day['day']} ({day['start']}-{day['end']}, {day['hours']:.1f} h): {stops or 'back to the start'}")
    typer.echo(f"  record  {report.record_hash} (chain)")
    outside = "; ".join(f"{o['status']}{' ' + str(o['status_year']) if o['status_year'] is not None else ''}: "
                        f"{o['households']}" for o in report.outside) or "none"
    typer.echo(f"  households outside the frame (in no stratum), by status and year: {outside}")
    short = report.shortfalls()
    if len(short):
        typer.echo(f"  shortfalls ({len(short)}): " + "; ".join(
            f"{r.unit} {r.stratum} {r.drawn + r.filled}/{r.wanted}" for r in short.itertuples()))
    typer.echo(f"Verify with: atlas sample verify {report.plan_id}")


@sample_app.command("verify")
def verify(
    plan: Annotated[str | None, typer.Argument(help="Plan id or name (or --all).")] = None,
    all_plans: Annotated[bool, typer.Option("--all", help="Every recorded plan, and the chain of records from its start.")] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Check a recorded plan: the stored result, sampled rows and frame against their hashes, the
    redraw, the chain of records, then today's registry. Exit code 1 if not verified."""
    from geo.services import inspections as service

    if (plan is None) == (not all_plans):
        raise ValidationError("give a plan id or name, or --all (not both)")
    if all_plans:
        chain = service.verify_all(engine_for(db))
        if as_json:
            echo_json(chain.as_dict())
        else:
            for result in chain.plans:
                typer.echo(f"plan {result.plan_id}: {result.name}: {'VERIFIED' if result.ok else 'NOT VERIFIED'}")
                for line in result.differences:
                    typer.echo(f"  {line}")
            if chain.head_hash:
                typer.echo(f"chain head: plan {chain.head_plan}, record {chain.head_hash} "
                           "(keep it: only it reveals a deleted last plan)")
            else:
                typer.echo("no recorded draws")
            typer.echo("VERIFIED" if chain.ok else "NOT VERIFIED")
        if not chain.ok:
            raise typer.Exit(1)
        return
    result = service.verify_plan(engine_for(db), plan)
    if as_json:
        echo_json(result.as_dict())
    else:
        typer.echo(f"plan {result.plan_id}: {result.name}")
        for line in result.describe():
            typer.echo(line)
        typer.echo("VERIFIED" if result.ok else "NOT VERIFIED")
    if not result.ok:
        raise typer.Exit(1)


@sample_app.command("export")
def export(
    plan: Annotated[str, typer.Argument(help="Plan id or name.")],
    fmt: Annotated[str, typer.Option("--format", help="xlsx, csv, geojson or gpx; the field kit: xlsform, xform (ODK/Kobo forms), package (a team's zip) or mbtiles (offline map).")],
    output: Annotated[str, typer.Option("-o", "--output", help="File to write.")],
    db: DbOption = None,
    show_names: Annotated[bool, typer.Option("--show-names", help="Household heads' names and ID numbers in full (authorised inspectors only); masked otherwise.")] = False,
    table: Annotated[str, typer.Option(help="For csv: households, villages, strata or frame.")] = "households",
    team: Annotated[int | None, typer.Option(help="For gpx, package and mbtiles: only this team (mbtiles: its area).")] = None,
    form: Annotated[str, typer.Option("--form", help="For xlsform and xform: household (附件1 农户调查表) or village (附件2 村级调查表).")] = "household",
    raster: Annotated[bool, typer.Option("--raster", help="For mbtiles: PNG tiles with the names drawn in, for apps "
                                                          "that read only raster maps (default: vector tiles).")] = False,
    as_json: JsonOption = False,
) -> None:
    """Write the sample as printable forms (XLSX/CSV), GeoJSON, GPX, phone forms (XLSForm/XForm), a team's package or an offline map (MBTiles)."""
    if fmt == "mbtiles":
        from geo.services import field_maps

        result = field_maps.export_mbtiles(engine_for(db), plan, output, team=team, raster=raster)
        if as_json:
            echo_json(result)
        else:
            zooms = ", ".join(f"{z}: {n}" for z, n in result["tiles_per_zoom"].items())
            typer.echo(f"wrote {result['path']} ({result['tile_format']} tiles {result['tiles']} ({zooms}), "
                       f"{result['bytes'] / 1e6:.1f} MB, layers {', '.join(result['layers'])})")
        return
    if raster:
        raise ValidationError("--raster is an option of --format mbtiles only")
    from geo.services import inspections as service

    result = service.export_plan(engine_for(db), plan, output, fmt=fmt, show_names=show_names, table=table, team=team,
                                 form=form)
    if as_json:
        echo_json(result)
    else:
        typer.echo(f"wrote {result['path']} ({', '.join(f'{k} {v}' for k, v in result.items() if k != 'path')})")


@sample_app.command("list")
def list_(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Every recorded plan, newest first."""
    from geo.services import inspections as service

    plans = service.list_plans(engine_for(db))
    if as_json:
        echo_json(plans.to_dict("records"))
        return
    if plans.empty:
        typer.echo("no plans yet; draw one with: atlas sample draw --preset seed003 --seed '...'")
    for p in plans.itertuples():
        typer.echo(f"{p.id:>4}  {p.name}  year {p.year}  {p.villages} villages  {p.households} households  "
                   f"{(p.route_km or 0):.1f} km  drawn {p.drawn_at}")


@sample_app.command("show")
def show(
    plan: Annotated[str, typer.Argument(help="Plan id or name.")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """The plan, its draw, the teams' routes and the 表4 sample summary (names never shown)."""
    from geo.services import inspections as service

    record = service.load_record(engine_for(db), plan)
    summary = service.plan_summary(record)
    if as_json:
        echo_json(summary)
        return
    for key, value in service.plan_notes(record, show_names=False):
        typer.echo(f"{key}: {value}")
    typer.echo("")
    for t in record.teams:
        typer.echo(f"第{t['team']}组: {t['villages']}个村 {t['length_km']:.1f}公里 {t['hours']:.1f}小时 ({t['method']})")
        ours = [v for v in summary["villages"] if v["team"] == t["team"]]
        typer.echo("  " + " → ".join(f"{v['visit_order']}.{v['village_name']}({v['households_sampled']}户)" for v in ours))
        for day in t.get("days") or []:
            typer.echo(f"  第{day['day']}天 {day['start']}-{day['end']}（{day['hours']:.1f}小时）: "
                       + "，".join(f"{s['stop']}.{s['village']} {s['arrive']}到" for s in day["stops"]))
    typer.echo("")
    for row in summary["table4"]:
        typer.echo(f"{row['项目']} {row['数量']}{row['单位']}")
    if summary["unmet"]:
        typer.echo(f"未达标 ({len(summary['unmet'])}):")
        for row in summary["unmet"]:
            typer.echo(f"  {row['抽样单元']} {row['抽样层']} 已抽{row['已抽(户)']}/{row['应抽(户)']}户")


@sample_app.command("assign")
def assign(
    plan: Annotated[str, typer.Argument(help="Plan id or name.")],
    user: Annotated[str, typer.Option("--user", help="Login name of the inspector.")],
    team: Annotated[int | None, typer.Option(help="The team (检查组) they join; default every team.")] = None,
    remove: Annotated[bool, typer.Option("--remove", help="Take the user off the plan instead.")] = False,
    db: DbOption = None,
) -> None:
    """Assign an inspector to a plan: they record its findings and see its households' names."""
    from geo.services import inspections as service

    result = service.assign_inspector(engine_for(db), plan, user, team=team, remove=remove)
    label = f"{result['plan_id']} {result['plan_name']}"
    if remove:
        typer.echo(f"{user} {'removed from' if result['changed'] else 'was not assigned to'} plan {label}")
        return
    where = f"team {team}" if team else "every team"
    typer.echo(f"{user} {'assigned to' if result['changed'] else 'now in'} plan {label} ({where})")


answers_app = typer.Typer(help="Answers of the phone forms (ODK Central / KoboToolbox exports): import, list, results, proposals.",
                          no_args_is_help=True)
sample_app.add_typer(answers_app, name="answers")


@answers_app.command("import")
def answers_import(
    plan: Annotated[str, typer.Argument(help="Plan id or name.")],
    file: Annotated[Path, typer.Argument(help="ODK Central export (CSV, or its zip with media/) or KoboToolbox export (XLSX or CSV, or a zip with the photos).")],
    strict: Annotated[bool, typer.Option("--strict", help="Write nothing when any row is refused.")] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Import submissions: accepted rows written, refused rows listed (exit code 1 when any is refused)."""
    from api.cli._common import cli_actor
    from geo.services import answers as service

    if not file.is_file():
        raise ValidationError(f"{file}: no such file")
    report = service.import_answers(engine_for(db), plan, file, strict=strict, source=f"file:{file.name}"[:200],
                                    actor=cli_actor())
    if as_json:
        echo_json(report.as_dict())
    else:
        state = "written" if report.written else "NOT written (--strict and rows refused)"
        typer.echo(f"plan {report.plan_id}: {report.file}: {report.accepted} accepted ({len(report.inserted)} new, "
                   f"{len(report.updated)} changed, {len(report.unchanged)} unchanged), {len(report.refused)} refused; "
                   f"{state}; {report.photos} photo(s) kept")
        for far in report.far:
            typer.echo(f"  far: submission {far['instance_id']} ({far['target']}) was filled in "
                       f"{far['distance_m'] / 1000:.1f} km from the registered position")
        if report.photos_missing:
            typer.echo(f"  {len(report.photos_missing)} photo(s) named but not in the file (import the zip with media)")
        for problem in report.refused:
            typer.echo(f"  refused: {problem.text()}")
    if report.refused:
        raise typer.Exit(1)


@answers_app.command("list")
def answers_list(
    plan: Annotated[str, typer.Argument(help="Plan id or name.")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """A plan's submissions: instance id, household or village, submitted, distance from the registry."""
    from geo.services import answers as service

    frame = service.list_answers(engine_for(db), plan)
    if as_json:
        echo_json(frame.to_dict("records"))
        return
    if frame.empty:
        typer.echo("no answers yet; import an export with: atlas sample answers import PLAN FILE")
    for r in frame.itertuples():
        where = r.household_code if isinstance(r.household_code, str) else r.village_name
        distance = "" if r.distance_m is None or pd_isna(r.distance_m) else f" {r.distance_m / 1000:.2f} km"
        typer.echo(f"{r.instance_id}  {r.form}  {where}  {r.submitted_at}{distance}{'  FAR' if r.far else ''}"
                   f"{'' if r.current else '  (superseded)'}  photos {r.photos}")


def pd_isna(value) -> bool:
    import math

    return isinstance(value, float) and math.isnan(value)


@answers_app.command("results")
def answers_results(
    plan: Annotated[str, typer.Argument(help="Plan id or name.")],
    output: Annotated[str | None, typer.Option("-o", "--output", help="Also write 表4 and 表5 as XLSX.")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """表4 with its result blocks filled from the answers, and 表5's spot check."""
    from geo.services import answers as service

    result = service.answer_results(engine_for(db), plan)
    if output:
        service.write_results(result, output)
    if as_json:
        echo_json({"households": result["households"], "villages": result["villages"],
                   "table4": result["table4"].to_dict("records"), "table5": result["table5"].to_dict("records")})
        return
    typer.echo(f"答卷：{result['households']}户，{result['villages']}个村")
    for r in result["table4"].itertuples():
        value = "" if r.数量 is None or pd_isna(r.数量) else r.数量
        typer.echo(f"{r.类别} | {r.项目} {value}{r.单位}  {r.备注}")
    if output:
        typer.echo(f"wrote {output}")


@answers_app.command("proposals")
def answers_proposals(
    plan: Annotated[str, typer.Argument(help="Plan id or name.")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Findings the answers suggest, not yet confirmed; confirm one with atlas finding add --from-answer KEY."""
    from geo.services import answers as service

    items = service.answer_proposals(engine_for(db), plan)
    if as_json:
        echo_json(items)
        return
    if not items:
        typer.echo("no proposals")
    for p in items:
        typer.echo(f"{p['key']}  {p['category_label']}/{p['kind_label']}  {p['description']}")


def register(app: typer.Typer) -> None:
    app.add_typer(sample_app, name="sample")
