"""Parsers for the registry tables county offices already fill in (seed 000's 附件 layouts).

These read rows of cell text, so the same code serves the committed demo CSV and an XLSX a
clerk uploads (where merged cells arrive as one value followed by blanks).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from geo.enums import UnitKind, UnitLevel, VillageCategory
from geo.errors import ValidationError

#: Header cells of seed 000's 附件1 (帮扶贫困村安排表), whitespace removed.
#: First cells of a total row, which the parser passes over.
TOTAL_LABELS = ("合计", "总计")

PAIRING_TABLE_HEADERS = {
    "seq": "帮扶单位序号",
    "unit": "帮扶部门（单位）",
    "funds": "帮扶任务（万元）",
    "leader": "驻村工作队队长单位",
    "village": "帮扶村",
    "category": "备注",
    "village_seq": "村序号",
}


@dataclass(frozen=True)
class PairingRow:
    row: int
    seq: int
    unit: str
    task_funds_wan_yuan: float | None
    township: str
    village: str


@dataclass(frozen=True)
class VillageRow:
    row: int
    seq: int | None
    township: str
    name: str
    category: VillageCategory
    leader_unit: str | None


@dataclass
class PairingTable:
    """The content of one 附件1 table."""

    townships: list[str] = field(default_factory=list)
    villages: list[VillageRow] = field(default_factory=list)
    pairings: list[PairingRow] = field(default_factory=list)

    @property
    def units(self) -> list[str]:
        """Distinct pairing units, in order of first appearance."""
        return list(dict.fromkeys(p.unit for p in self.pairings))

    @property
    def leader_units(self) -> list[str]:
        return list(dict.fromkeys(v.leader_unit for v in self.villages if v.leader_unit))


def _clean(cell: object) -> str:
    if cell is None:
        return ""
    text = str(cell)
    if text.endswith(".0") and text[:-2].isdigit():
        text = text[:-2]
    return re.sub(r"\s+", "", text)


def _find_header(rows: list[list[str]], source: str) -> tuple[int, dict[str, int]]:
    wanted = {key: re.sub(r"\s+", "", text) for key, text in PAIRING_TABLE_HEADERS.items()}
    for index, row in enumerate(rows[:20]):
        positions = {}
        for key, text in wanted.items():
            for col, cell in enumerate(row):
                if cell == text:
                    positions[key] = col
                    break
        if {"unit", "village"} <= positions.keys():
            missing = [PAIRING_TABLE_HEADERS[k] for k in ("funds", "leader", "category") if k not in positions]
            if missing:
                raise ValidationError(
                    f"{source}: the 附件1 header row {index + 1} lacks the column(s) {', '.join(missing)}"
                )
            return index, positions
    raise ValidationError(
        f"{source}: no 附件1 header found in the first 20 rows; expected the columns "
        + "、".join(PAIRING_TABLE_HEADERS.values())
    )


def parse_pairing_table(
    rows: Iterable[Sequence[object]], *, source: str = "附件1"
) -> PairingTable:
    """Parse a 帮扶贫困村安排表 (seed 000 附件1).

    The layout: a header row; a township name alone on a row opens its section; each row
    names a unit and its task funds; the village, category and work-team leader unit are
    given on the first row of a village and left blank (merged cells) on the rows that
    follow, which belong to the same village.

    Parameters
    ----------
    rows
        Cell values row by row (CSV rows, or XLSX rows with merged cells unmerged to blanks).
    source
        File name for messages.

    Raises
    ------
    ValidationError
        Naming the row: a unit before any village, a bad category or amount, a village
        listed twice in one township, a unit row outside any township section.
    """
    cells = [[_clean(c) for c in row] for row in rows]
    header_index, col = _find_header(cells, source)
    table = PairingTable()
    township: str | None = None
    village: VillageRow | None = None
    seen_villages: set[tuple[str, str]] = set()

    def get(row: list[str], key: str) -> str:
        position = col.get(key)
        return row[position] if position is not None and position < len(row) else ""

    for index in range(header_index + 1, len(cells)):
        row = cells[index]
        number = index + 1
        filled = [c for c in row if c]
        if not filled:
            continue
        unit = get(row, "unit")
        if filled[0] in TOTAL_LABELS and not unit:
            continue  # a 合计 row sums the task funds; it names no pairing
        if len(filled) == 1 and not unit and not filled[0].isdigit():
            township = filled[0]
            if township in table.townships:
                raise ValidationError(f"{source} row {number}: township {township} appears twice")
            table.townships.append(township)
            village = None
            continue
        if not unit:
            raise ValidationError(f"{source} row {number}: no 帮扶部门（单位） on a data row")
        if township is None:
            raise ValidationError(
                f"{source} row {number}: unit {unit} comes before any township section row"
            )
        name = get(row, "village")
        if name:
            try:
                category = VillageCategory.parse(get(row, "category"))
            except ValueError:
                raise ValidationError(
                    f"{source} row {number}: 备注 {get(row, 'category')!r} is not a village category; "
                    f"use {'、'.join(c.label for c in VillageCategory)}"
                ) from None
            if (township, name) in seen_villages:
                raise ValidationError(f"{source} row {number}: village {name} listed twice in {township}")
            seen_villages.add((township, name))
            village_seq = get(row, "village_seq")
            village = VillageRow(
                row=number,
                seq=int(village_seq) if village_seq.isdigit() else None,
                township=township,
                name=name,
                category=category,
                leader_unit=get(row, "leader") or None,
            )
            table.villages.append(village)
        elif village is None:
            raise ValidationError(
                f"{source} row {number}: unit {unit} has no 帮扶村 and no village above it in {township}"
            )
        elif get(row, "leader"):
            raise ValidationError(
                f"{source} row {number}: a second 驻村工作队队长单位 for {village.name}; "
                "a village has one work-team leader unit"
            )
        funds_text = get(row, "funds")
        try:
            funds = float(funds_text) if funds_text else None
        except ValueError:
            raise ValidationError(
                f"{source} row {number}: 帮扶任务 {funds_text!r} is not an amount in 万元"
            ) from None
        seq_text = get(row, "seq")
        table.pairings.append(
            PairingRow(
                row=number,
                seq=int(seq_text) if seq_text.isdigit() else len(table.pairings) + 1,
                unit=unit,
                task_funds_wan_yuan=funds,
                township=township,
                village=village.name,
            )
        )
    if not table.pairings:
        raise ValidationError(f"{source}: the table has a header but no pairing rows")
    return table


def infer_unit_kind(name: str) -> UnitKind:
    """Classify a unit by its name (banks, companies, schools, party and government bodies)."""
    if re.search(r"银行|分行|支行|农发行|人寿|保险|财险|信用社", name):
        return UnitKind.FINANCIAL
    if re.search(r"公司|中石油|电网|烟草", name):
        return UnitKind.STATE_ENTERPRISE
    if re.search(r"学校|中学|小学|学院|医院|调查队|气象局|供销社", name):
        return UnitKind.PUBLIC_INSTITUTION
    return UnitKind.PARTY_GOVERNMENT


def infer_unit_level(name: str) -> UnitLevel:
    """The administrative level a unit's name implies."""
    if re.match(r"国家|中国|中石油|国网|建设银行|农发行|邮政|人民银行|移动公司|招行", name):
        return UnitLevel.CENTRAL
    if name.startswith("自治区") or name.startswith("宁夏"):
        return UnitLevel.REGION
    if name.startswith("沙坡头区"):
        return UnitLevel.DISTRICT
    if name.startswith("市") or name.startswith("中卫"):
        return UnitLevel.CITY
    return UnitLevel.OTHER
