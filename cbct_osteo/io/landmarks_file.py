"""The landmarks file (``landmarks.json``), also the heart of a session file.

Format (see docs/developer-guide.md and ../shared/DESIGN.md), coordinates in patient LPS mm::

    {"format": "cbct-osteo-landmarks", "version": 1,
     "series_uid": "...", "volume_fingerprint": "...",
     "arch": {"points": [[x, y, z], ...]},
     "sides": {"left": {"foramen_centre": [x, y, z], ..., "trab_roi": {"centre": [...], "size_mm": 5.0, "shape": "square"}},
               "right": {...}},
     "grades": {"left": {"CTCI": "C1"}, "right": {...}}}

Any landmark may be absent. Readers accept older versions and refuse newer ones; unknown
keys (at any level we parse) are kept and written back unchanged, so a newer tool's extras
survive a round trip through this one.
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

    def copy(self) -> "LandmarkSet":
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
                    {"centre": list(marks.trab_roi.centre), "size_mm": marks.trab_roi.size_mm, "shape": marks.trab_roi.shape}
                )
                entry["trab_roi"] = roi
            document["sides"][side] = entry
        return document

    @classmethod
    def from_json(cls, document: Any, source: str | Path = "<landmarks>") -> "LandmarkSet":
        """Parse a landmarks document; raise :class:`LoadError` naming ``source`` on any fault."""
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
        result.arch_points = [_point(p, source, "arch point") for p in arch.get("points", [])]
        result.arch_extra = {k: v for k, v in arch.items() if k != "points"}
        sides = document.get("sides") or {}
        if not isinstance(sides, dict):
            raise LoadError(source, "'sides' must be an object with 'left' and/or 'right'")
        for side, entry in sides.items():
            if side not in SIDES:
                raise LoadError(source, f"unknown side {side!r} (expected 'left' or 'right')")
            result.sides[side] = _parse_side(entry, source, side)
        grades = document.get("grades") or {}
        if not isinstance(grades, dict) or not all(isinstance(v, dict) for v in grades.values()):
            raise LoadError(source, "'grades' must map a side to {index id: grade}")
        result.grades = {side: {str(k): str(v) for k, v in g.items()} for side, g in grades.items()}
        return result


def _point(value: Any, source: str | Path, what: str) -> Point:
    if not (isinstance(value, (list, tuple)) and len(value) == 3):
        raise LoadError(source, f"{what} must be [x, y, z] in mm, got {value!r}")
    try:
        pt = tuple(float(v) for v in value)
    except (TypeError, ValueError):
        raise LoadError(source, f"{what} must be [x, y, z] numbers in mm, got {value!r}") from None
    if not all(math.isfinite(v) for v in pt):
        raise LoadError(source, f"{what} has a non-finite coordinate: {value!r}")
    return pt  # type: ignore[return-value]


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
            try:
                size = float(value.get("size_mm", DEFAULT_ROI_SIZE_MM))
            except (TypeError, ValueError):
                raise LoadError(source, f"{side} trab_roi size_mm must be a number") from None
            if not (0.5 <= size <= 30.0):
                raise LoadError(source, f"{side} trab_roi size_mm {size} is outside 0.5–30 mm")
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
