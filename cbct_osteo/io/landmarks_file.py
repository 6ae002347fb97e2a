"""The landmarks file (``landmarks.json``), also the heart of a session file.

Format (see docs/developer-guide.md and ../shared/DESIGN.md), coordinates in patient LPS mm::

    {"format": "cbct-osteo-landmarks", "version": 1,
     "series_uid": "...", "volume_fingerprint": "...",
     "arch": {"points": [[x, y, z], ...]},
     "sides": {"left": {"foramen_centre": [x, y, z], ...,
                        "trab_roi": {"centre": [...], "size_mm": 5.0, "shape": "square"}},
               "right": {...}},
     "grades": {"left": {"CTCI": "C1"}, "right": {...}}}

Any landmark may be absent. Readers accept older versions and refuse newer ones; unknown
keys (at any level we parse) are kept and written back unchanged, so a newer tool's extras
survive a round trip through this one.

The reader refuses, naming the file and the landmark, what no measurement can use: a point
that is not three finite numbers within :data:`MAX_COORDINATE_MM` of the origin, an arch
whose ``points`` is not a list or has two consecutive points at the same place (the arch curve
has no direction there), a cortical line whose two ends coincide (it would "measure" a width
where there is none; sessions accept it, see :meth:`LandmarkSet.from_json`), a trabecular ROI
outside :data:`ROI_SIZE_RANGE_MM` (below 2 mm the fractal box counting has fewer than four box
sizes), and grades that are not ``{side: {id: text}}``.
Whether a grade is a valid CTCI grade is the catalogue's to say (the index is then "not computable").
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cbct_osteo.io.atomic import write_json_atomic
from cbct_osteo.io.errors import LoadError
from cbct_osteo.io.user_files import check_format_header, read_user_json

FORMAT_NAME = "cbct-osteo-landmarks"
FORMAT_VERSION = 1
SIDES: tuple[str, ...] = ("left", "right")
#: Point landmarks per side, as defined in INDICES.md ("Common geometry").
POINT_KINDS: tuple[str, ...] = (
    "foramen_centre",
    "foramen_superior",
    "foramen_inferior",
    "border_outer",
    "border_inner",
)
ROI_SHAPES: tuple[str, ...] = ("square", "circle")
DEFAULT_ROI_SIZE_MM = 5.0
#: Smallest and largest trabecular ROI (side or diameter, mm). The ROI is resampled at 0.1 mm and
#: box-counted with boxes of 2 … side/4 pixels (INDICES.md): 2 mm gives 4 box sizes, 1.1 mm only 1.
ROI_SIZE_RANGE_MM = (2.0, 30.0)
#: Patient coordinates beyond this (mm) are not on any scanner table (and would overflow squares).
MAX_COORDINATE_MM = 1e4
#: Two landmarks closer than this (mm) are the same point (the reformat code's arch tolerance).
COINCIDENT_MM = 1e-3
#: Point pairs whose distance is a measurement line: they must not coincide.
MEASUREMENT_LINES: tuple[tuple[str, str, str], ...] = (
    ("border_outer", "border_inner", "the cortical line (lower border to inner cortical margin) has no length"),
    ("border_outer", "foramen_centre", "the measurement line (lower border to foramen centre) has no length"),
)

Point = tuple[float, float, float]


@dataclass
class TrabecularRoi:
    """The trabecular region of interest: centre in LPS mm, side (or diameter) in mm, shape."""

    centre: Point
    size_mm: float = DEFAULT_ROI_SIZE_MM
    shape: str = "square"
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class SideLandmarks:
    """The landmarks of one side of the mandible (``left`` = patient's left, +x in LPS)."""

    points: dict[str, Point] = field(default_factory=dict)
    trab_roi: TrabecularRoi | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class LandmarkSet:
    """Everything the user placed on one scan. Plain data: the undoable model lives in ``measure``."""

    series_uid: str = ""
    volume_fingerprint: str = ""
    arch_points: list[Point] = field(default_factory=list)
    arch_extra: dict[str, Any] = field(default_factory=dict)
    sides: dict[str, SideLandmarks] = field(default_factory=lambda: {s: SideLandmarks() for s in SIDES})
    grades: dict[str, dict[str, str]] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def point(self, side: str, kind: str) -> Point | None:
        return self.sides.get(side, SideLandmarks()).points.get(kind)

    def copy(self) -> LandmarkSet:
        return copy.deepcopy(self)

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = dict(self.extra)
        document.update(
            {
                "format": FORMAT_NAME,
                "version": FORMAT_VERSION,
                "series_uid": self.series_uid,
                "volume_fingerprint": self.volume_fingerprint,
                "arch": {**self.arch_extra, "points": [list(p) for p in self.arch_points]},
                "sides": {},
                "grades": copy.deepcopy(self.grades),
            }
        )
        for side, marks in self.sides.items():
            entry: dict[str, Any] = dict(marks.extra)
            for kind, pt in marks.points.items():
                entry[kind] = list(pt)
            if marks.trab_roi is not None:
                roi = dict(marks.trab_roi.extra)
                roi.update(
                    {
                        "centre": list(marks.trab_roi.centre),
                        "size_mm": marks.trab_roi.size_mm,
                        "shape": marks.trab_roi.shape,
                    }
                )
                entry["trab_roi"] = roi
            document["sides"][side] = entry
        return document

    @classmethod
    def from_json(
        cls, document: Any, source: str | Path = "<landmarks>", *, refuse_degenerate: bool = True
    ) -> LandmarkSet:
        """Parse a landmarks document; raise :class:`LoadError` naming ``source`` on any fault.

        ``refuse_degenerate=False`` accepts measurement lines whose ends coincide (sessions: the
        GUI's autosave of a double click must reopen; :mod:`cbct_osteo.measure.validation` then
        treats such a landmark as not placed and says why).
        """
        if not isinstance(document, dict):
            raise LoadError(source, "is not a landmarks file (expected a JSON object)")
        check_format_header(document, source, FORMAT_NAME, FORMAT_VERSION, "landmarks file", "landmarks format")
        known = {"format", "version", "series_uid", "volume_fingerprint", "arch", "sides", "grades"}
        result = cls(
            series_uid=str(document.get("series_uid", "")),
            volume_fingerprint=str(document.get("volume_fingerprint", "")),
            extra={k: v for k, v in document.items() if k not in known},
        )
        arch = document.get("arch") or {}
        if not isinstance(arch, dict):
            raise LoadError(source, "'arch' must be an object with 'points'")
        points = arch.get("points", [])
        if not isinstance(points, list):
            raise LoadError(source, f"arch 'points' must be a list of [x, y, z] points in mm, got {_short(points)}")
        result.arch_points = [_point(p, source, f"arch point {i + 1}") for i, p in enumerate(points)]
        _check_arch_spacing(result.arch_points, source)
        result.arch_extra = {k: v for k, v in arch.items() if k != "points"}
        sides = document.get("sides") or {}
        if not isinstance(sides, dict):
            raise LoadError(source, "'sides' must be an object with 'left' and/or 'right'")
        for side, entry in sides.items():
            if side not in SIDES:
                raise LoadError(source, f"unknown side {side!r} (expected 'left' or 'right')")
            result.sides[side] = _parse_side(entry, source, side)
            if refuse_degenerate:
                _check_measurement_lines(result.sides[side], source, side)
        result.grades = _parse_grades(document.get("grades") or {}, source)
        return result


def _short(value: Any, limit: int = 60) -> str:
    """``repr(value)`` cut to ``limit`` characters (a hostile file can hold megabytes in one value)."""
    try:
        text = repr(value)
    except ValueError:  # an integer too long to print
        return f"a {type(value).__name__} too long to show"
    return text if len(text) <= limit else text[:limit] + "…"


def _point(value: Any, source: str | Path, what: str) -> Point:
    if not (isinstance(value, (list, tuple)) and len(value) == 3):
        raise LoadError(source, f"{what} must be [x, y, z] in mm, got {_short(value)}")
    if any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in value):
        raise LoadError(source, f"{what} must be [x, y, z] numbers in mm, got {_short(value)}")
    pt: Point
    try:
        pt = (float(value[0]), float(value[1]), float(value[2]))
    except OverflowError:  # an integer beyond any float
        pt = (2 * MAX_COORDINATE_MM,) * 3
    if not all(math.isfinite(v) for v in pt):
        raise LoadError(source, f"{what} has a non-finite coordinate: {_short(value)}")
    if any(abs(v) > MAX_COORDINATE_MM for v in pt):
        raise LoadError(
            source,
            f"{what} is more than {MAX_COORDINATE_MM:g} mm from the scanner's origin: {_short(value)}",
            "coordinates are patient millimetres (LPS)",
        )
    return pt


def _check_arch_spacing(points: list[Point], source: str | Path) -> None:
    """Refuse consecutive arch points at the same place in the axial plane (the curve has no direction there)."""
    for i in range(1, len(points)):
        (x0, y0, _), (x1, y1, _) = points[i - 1], points[i]
        if math.hypot(x1 - x0, y1 - y0) < COINCIDENT_MM:
            raise LoadError(
                source,
                f"arch points {i} and {i + 1} are at the same place "
                f"(closer than {COINCIDENT_MM:g} mm in the axial plane)",
                "remove one of them",
            )


def degenerate_line(marks: SideLandmarks, end: str) -> str | None:
    """Why the measurement line ending at landmark ``end`` has no length, or ``None`` when it has one."""
    for start, line_end, problem in MEASUREMENT_LINES:
        a, b = marks.points.get(start), marks.points.get(line_end)
        if line_end == end and a is not None and b is not None and math.dist(a, b) < COINCIDENT_MM:
            return f"{start} and {end} are the same point: {problem}"
    return None


def _check_measurement_lines(marks: SideLandmarks, source: str | Path, side: str) -> None:
    for _, end, _ in MEASUREMENT_LINES:
        problem = degenerate_line(marks, end)
        if problem is not None:
            raise LoadError(source, f"{side} {problem}", f"place {end} where it belongs, or remove it")


def _parse_grades(grades: Any, source: str | Path) -> dict[str, dict[str, str]]:
    """``{side: {index id: grade}}`` with text ids and grades; the catalogue judges the grade itself."""
    if not isinstance(grades, dict):
        raise LoadError(source, f"'grades' must map a side to {{index id: grade}}, got {_short(grades)}")
    parsed: dict[str, dict[str, str]] = {}
    for side, by_id in grades.items():
        if side not in SIDES:
            raise LoadError(source, f"grades for unknown side {_short(side)} (expected 'left' or 'right')")
        if not isinstance(by_id, dict):
            raise LoadError(source, f"grades of the {side} side must map an index id to a grade, got {_short(by_id)}")
        for index_id, grade in by_id.items():
            if not isinstance(grade, str) or not grade.strip() or len(grade) > 16:
                raise LoadError(
                    source, f'{side} {index_id} grade must be a short text such as "C1", got {_short(grade)}'
                )
        parsed[side] = {str(k): v.strip() for k, v in by_id.items()}
    return parsed


def _parse_side(entry: Any, source: str | Path, side: str) -> SideLandmarks:
    if not isinstance(entry, dict):
        raise LoadError(source, f"side {side!r} must be an object of landmarks")
    marks = SideLandmarks()
    for key, value in entry.items():
        if key in POINT_KINDS:
            if value is not None:
                marks.points[key] = _point(value, source, f"{side} {key}")
        elif key == "trab_roi":
            if value is None:
                continue
            if not isinstance(value, dict) or "centre" not in value:
                raise LoadError(source, f"{side} trab_roi must have a 'centre'")
            shape = str(value.get("shape", "square"))
            if shape not in ROI_SHAPES:
                raise LoadError(source, f"{side} trab_roi shape {shape!r} is not one of {ROI_SHAPES}")
            size_value = value.get("size_mm", DEFAULT_ROI_SIZE_MM)
            if isinstance(size_value, bool) or not isinstance(size_value, (int, float)):
                raise LoadError(source, f"{side} trab_roi size_mm must be a number of mm, got {_short(size_value)}")
            try:
                size = float(size_value)
            except OverflowError:
                size = math.inf
            low, high = ROI_SIZE_RANGE_MM
            if not (low <= size <= high):
                raise LoadError(
                    source,
                    f"{side} trab_roi size_mm {size:g} is outside {low:g}–{high:g} mm",
                    "smaller regions hold too few trabeculae to measure",
                )
            marks.trab_roi = TrabecularRoi(
                centre=_point(value["centre"], source, f"{side} trab_roi centre"),
                size_mm=size,
                shape=shape,
                extra={k: v for k, v in value.items() if k not in {"centre", "size_mm", "shape"}},
            )
        else:
            marks.extra[key] = value
    return marks


def read_landmarks(path: str | Path) -> LandmarkSet:
    """Read a landmarks file. Raises :class:`LoadError` naming the file on any problem."""
    return LandmarkSet.from_json(read_user_json(path, "landmarks file"), Path(path))


def write_landmarks(landmarks: LandmarkSet, path: str | Path) -> Path:
    """Write a landmarks file atomically (temp file, fsync, rename)."""
    return write_json_atomic(path, landmarks.to_json())
