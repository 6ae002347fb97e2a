"""The batch manifest: ``case_id,volume,landmarks[,age,sex]``, one case per row, checked line by line.

A manifest is typed by hand or exported from a spreadsheet, so every fault is refused with the
manifest's name and the line: a missing or duplicated header column, a row with more fields than
the header (often a trailing comma), an empty required cell, a repeated case id, an age that is
not a number of years, a sex that is not F, M or O.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

from cbct_osteo.io.errors import LoadError
from cbct_osteo.io.user_files import read_user_text

MANIFEST_REQUIRED: tuple[str, ...] = ("case_id", "volume", "landmarks")
MANIFEST_OPTIONAL: tuple[str, ...] = ("age", "sex")
#: Ages (years) outside this range are typing errors, not patients.
AGE_RANGE_YEARS = (0.0, 130.0)
SEXES: tuple[str, ...] = ("F", "M", "O")


@dataclass(frozen=True)
class CaseSpec:
    """One manifest row; ``volume`` and ``landmarks`` are absolute paths (as the workers see them)."""

    case_id: str
    volume: str
    landmarks: str
    age: str = ""
    sex: str = ""


def read_manifest(path: str | Path) -> list[CaseSpec]:
    """Read ``case_id,volume,landmarks[,age,sex]``; relative paths are relative to the manifest.

    Other columns are ignored (a spreadsheet's notes column does no harm).

    Raises
    ------
    LoadError
        Naming the manifest and the line at fault.
    """
    source = Path(path)
    text = read_user_text(source, "manifest", encoding="utf-8-sig")
    try:
        table = list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        raise LoadError(source, f"is not a readable CSV file ({exc})") from None
    if not table:
        raise LoadError(source, f"is empty (expected the header {','.join(MANIFEST_REQUIRED)}[,age,sex])")
    header = _check_header(table[0], source)
    base = source.resolve().parent
    cases: list[CaseSpec] = []
    seen: set[str] = set()
    for line, fields in enumerate(table[1:], start=2):
        if not any(f.strip() for f in fields):
            continue
        if len(fields) > len(header):
            raise LoadError(
                source,
                f"line {line}: {len(fields)} fields but the header has {len(header)} "
                "(a trailing comma, or a comma inside an unquoted cell?)",
            )
        if any("\x00" in f for f in fields):
            raise LoadError(source, f"line {line}: contains a NUL character (not a text CSV file?)")
        row = {name: (fields[i].strip() if i < len(fields) else "") for i, name in enumerate(header)}
        empty = [c for c in MANIFEST_REQUIRED if not row.get(c)]
        if empty:
            raise LoadError(source, f"line {line}: empty {', '.join(empty)}")
        if row["case_id"] in seen:
            raise LoadError(source, f"line {line}: case_id {row['case_id']!r} appears twice")
        seen.add(row["case_id"])
        cases.append(
            CaseSpec(
                case_id=row["case_id"],
                volume=str(base / row["volume"]),
                landmarks=str(base / row["landmarks"]),
                age=_check_age(row.get("age", ""), source, line),
                sex=_check_sex(row.get("sex", ""), source, line),
            )
        )
    return cases


def _check_header(fields: list[str], source: Path) -> list[str]:
    header = [f.strip() for f in fields]
    absent = [c for c in MANIFEST_REQUIRED if c not in header]
    if absent:
        raise LoadError(
            source,
            f"manifest header lacks {', '.join(absent)} "
            f"(expected {','.join(MANIFEST_REQUIRED)}[,{','.join(MANIFEST_OPTIONAL)}])",
        )
    twice = sorted({name for name in header if name and header.count(name) > 1})
    if twice:
        raise LoadError(source, f"line 1: the header names {', '.join(twice)} more than once")
    return header


def _check_age(text: str, source: Path, line: int) -> str:
    """The age cell as given, if it is empty or a number of years in :data:`AGE_RANGE_YEARS`."""
    if not text:
        return ""
    try:
        years = float(text)
    except ValueError:
        years = math.nan
    low, high = AGE_RANGE_YEARS
    if not (math.isfinite(years) and low <= years <= high):
        raise LoadError(
            source,
            f"line {line}: age {text!r} is not a number of years ({low:g}–{high:g})",
            "write the age in whole years, e.g. 63, or leave the cell empty",
        )
    return text


def _check_sex(text: str, source: Path, line: int) -> str:
    """The sex cell as DICOM writes it (F, M, O), or empty."""
    if not text:
        return ""
    if text.upper() not in SEXES:
        raise LoadError(
            source,
            f"line {line}: sex {text!r} is not one of {', '.join(SEXES)}",
            "use F, M or O as in the DICOM header, or leave the cell empty",
        )
    return text.upper()
