"""Stack geometry: order the slices of one series and check that they form a regular grid.

A CT series is a pile of 2D images that each carry their own position
(ImagePositionPatient) and orientation (ImageOrientationPatient). Only those, never file
names or InstanceNumber, say where a slice is. This module sorts the slices along the slice
normal, finds duplicated positions, missing slices and uneven spacing, and builds the
index -> patient (LPS) affine from the positions themselves, so a gantry tilt or an oblique
stack keeps its true geometry.

Policy for uneven spacing (missing slices or a change of spacing): the loader resamples the
stack to a uniform step (the smallest step found) by linear interpolation between the two
neighbouring slices, and says so in the volume's warnings; it refuses when one gap is
larger than ``MAX_GAP_FACTOR`` times the usual step (nothing sensible can be interpolated
there) or, with ``policy="strict"``, whenever the spacing is uneven at all.

All distances are in mm; "d" is the position of a slice along the unit normal
row x column of its orientation.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from cbct_osteo.io import limits
from cbct_osteo.io.dicom_header import FrameRef

#: Two slices closer than this along the normal (mm) share a position: a duplicate.
DUPLICATE_TOLERANCE_MM = 0.01
#: Steps within this fraction of each other (plus 0.01 mm) count as uniform.
UNIFORM_TOLERANCE = 0.01
#: A single gap larger than this multiple of the usual step is refused, not interpolated.
MAX_GAP_FACTOR = 5.0
#: Orientation used when a file has none (with a problem reported), as for a plain axial image.
DEFAULT_ORIENTATION = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)


@dataclass
class StackPlan:
    """How to turn a group of frames into a regular (z, y, x) grid.

    Attributes
    ----------
    frames
        The frames to decode, sorted along the slice normal, duplicates removed.
    dropped
        Frames left out because another frame has the same position.
    positions_mm
        Position of each kept frame along the slice normal (mm), ascending.
    target_mm
        Positions of the output slices along the normal; equals ``positions_mm`` for a
        uniform stack, otherwise the uniform grid the loader interpolates onto.
    affine
        4x4 (z, y, x, 1) -> LPS (x, y, z, 1) of the OUTPUT grid.
    spacing
        (z, y, x) mm of the output grid; z is the length of the step between slice centres.
    problems
        Sentences describing what was found (duplicates, gaps, tilt, ...).
    needs_resampling
        True when the spacing is uneven and ``target_mm`` differs from ``positions_mm``.
    refusal
        Why the stack cannot be made regular (absurd gap), or "".
    defects
        The subset of ``problems`` that ``policy="strict"`` refuses (duplicates, uneven
        spacing, missing geometry); tilt, obliquity and non-square pixels are facts, not defects.
    facts
        (code, sentence) for what limits measurement on the scan, free of file names (see
        :mod:`~cbct_osteo.io.scan_warnings` for the codes).
    """

    frames: list[FrameRef]
    dropped: list[FrameRef]
    positions_mm: np.ndarray
    target_mm: np.ndarray
    affine: np.ndarray
    spacing: tuple[float, float, float]
    problems: list[str] = field(default_factory=list)
    needs_resampling: bool = False
    refusal: str = ""
    defects: list[str] = field(default_factory=list)
    facts: list[tuple[str, str]] = field(default_factory=list)

    @property
    def n_slices(self) -> int:
        return int(len(self.target_mm))


def unit_orientation(orientation: Sequence[float] | None) -> tuple[np.ndarray, np.ndarray] | None:
    """Row and column direction cosines normalised, or None when degenerate/absent."""
    if orientation is None:
        return None
    values = np.asarray(orientation, dtype=float)
    if not np.all(np.isfinite(values)):
        return None
    row, col = values[:3], values[3:]
    norm_r, norm_c = np.linalg.norm(row), np.linalg.norm(col)
    if norm_r < 1e-6 or norm_c < 1e-6:
        return None
    row, col = row / norm_r, col / norm_c
    if abs(float(row @ col)) > 0.01 or np.linalg.norm(np.cross(row, col)) < 0.5:
        return None
    return row, col


@lru_cache(maxsize=256)
def orientation_key(orientation: tuple[float, ...] | None) -> tuple[float, ...] | None:
    """A hashable orientation rounded to ~0.06 degrees, for grouping frames into one stack.

    Cached: the frames of a series share a handful of orientations.
    """
    axes = unit_orientation(orientation)
    if axes is None:
        return None
    return tuple(float(v) for v in np.round(np.concatenate(axes), 3) + 0.0)


def plan_stack(frames: Sequence[FrameRef]) -> StackPlan:
    """Sort ``frames`` (one orientation, one size) along the normal and check their spacing.

    Never raises for geometry problems: it describes them in ``problems`` and, when the
    stack cannot be made regular, in ``refusal``; the loader applies the strict/lenient
    policy to that description.
    """
    problems: list[str] = []
    defects: list[str] = []
    first = frames[0]
    axes = unit_orientation(first.orientation)
    if axes is None:
        axes = (np.asarray(DEFAULT_ORIENTATION[:3]), np.asarray(DEFAULT_ORIENTATION[3:]))
        _defect(problems, defects, "no valid ImageOrientationPatient: assumed an axial image (rows = left-right)")
    row, col = axes
    normal = np.cross(row, col)
    pixel = _pixel_spacing(frames, problems, defects)
    implausible = _implausible(frames, pixel)
    if implausible:
        return _refused(list(frames), implausible, problems, defects)

    have_positions = all(f.position is not None for f in frames)
    if not have_positions or len(frames) == 1:
        return _plan_without_positions(list(frames), row, col, normal, pixel, problems, defects, have_positions)

    points = np.array([f.position for f in frames], dtype=float)
    along = points @ normal
    order = np.argsort(along, kind="stable")
    sorted_frames = [frames[i] for i in order]
    points, along = points[order], along[order]

    keep = np.ones(len(frames), dtype=bool)
    keep[1:] = np.diff(along) > DUPLICATE_TOLERANCE_MM
    dropped = [f for f, k in zip(sorted_frames, keep, strict=True) if not k]
    if dropped:
        examples = ", ".join(_short(f) for f in dropped[:3])
        _defect(
            problems,
            defects,
            f"{len(dropped)} slice(s) duplicate the position of another slice and were left out ({examples})",
        )
    kept = [f for f, k in zip(sorted_frames, keep, strict=True) if k]
    points, along = points[keep], along[keep]
    if len(kept) == 1:
        return _plan_without_positions(kept, row, col, normal, pixel, problems, defects, True, dropped)

    steps = np.diff(along)
    base = regular_step(steps)
    uniform = bool(np.all(np.abs(steps - base) <= UNIFORM_TOLERANCE * base + 0.01))
    if base > limits.MAX_VOXEL_MM:
        return _refused(
            kept,
            f"slices are {base:g} mm apart: not a tomographic volume (limit {limits.MAX_VOXEL_MM:g} mm)",
            problems,
            defects,
            dropped,
        )
    refusal = ""
    target = along
    facts: list[tuple[str, str]] = []
    if not uniform:
        for text in _describe_uneven(steps, along, kept, facts):
            _defect(problems, defects, text)
        worst = float(steps.max())
        usual = float(np.median(steps))
        n_out = round((along[-1] - along[0]) / base) + 1
        if worst > MAX_GAP_FACTOR * usual:
            refusal = (
                f"a gap of {worst:.4g} mm between slices ({worst / usual:.3g} x the usual {usual:.2f} mm step) "
                "is too large to interpolate"
            )
        elif n_out > limits.MAX_SLICES:
            refusal = (
                f"resampling to a uniform {base:.3g} mm step would give {n_out:.0f} slices (limit {limits.MAX_SLICES})"
            )
        if refusal:
            return _refused(kept, refusal, problems, defects, dropped)
        target = np.linspace(along[0], along[-1], int(n_out))
        problems.append(
            f"resampled to a uniform {float(target[1] - target[0]):.3f} mm step by linear interpolation "
            f"between neighbouring slices ({len(kept)} -> {n_out} slices)"
        )
        facts.append(("interpolated_slices", problems[-1]))
    # True step vector: patient displacement per mm along the normal, times the output step.
    per_mm = (points[-1] - points[0]) / (along[-1] - along[0])
    step_mm = float(target[1] - target[0]) if len(target) > 1 else base
    step_vector = per_mm * step_mm
    _check_line(points, along, per_mm, pixel, problems, defects)
    tilt = math.degrees(math.acos(min(1.0, abs(float(per_mm @ normal)) / float(np.linalg.norm(per_mm)))))
    if tilt > 0.05:
        problems.append(
            f"slices are sheared by {tilt:.1f} degrees (gantry tilt): the affine keeps the true slice positions"
        )
        facts.append(("gantry_tilt", problems[-1]))
    _describe_pixels(row, col, pixel, problems, facts)
    affine = _affine(points[0], row, col, step_vector, pixel)
    spacing = (float(np.linalg.norm(step_vector)), pixel[0], pixel[1])
    return StackPlan(
        kept, dropped, along, np.asarray(target, float), affine, spacing, problems, not uniform, refusal, defects, facts
    )


def _implausible(frames: Sequence[FrameRef], pixel: tuple[float, float]) -> str:
    """Why positions or pixel spacing are not those of a scanner ("" when plausible).

    Checked before any arithmetic on them: 1e300 mm positions would make every step infinite.
    """
    for frame in frames:
        for label, values in (
            ("ImagePositionPatient (0020,0032)", frame.position),
            ("PixelSpacing (0028,0030)", frame.pixel_spacing),
        ):
            if values is not None and not all(math.isfinite(v) for v in values):
                return f"{label} of {_short(frame)} holds a non-finite value ({', '.join(f'{v:g}' for v in values)})"
    spacings = {pixel} | {f.pixel_spacing for f in frames if f.pixel_spacing is not None and min(f.pixel_spacing) > 0}
    for spacing in sorted(spacings):
        if not all(limits.MIN_VOXEL_MM <= p <= limits.MAX_VOXEL_MM for p in spacing):
            return (
                f"PixelSpacing {spacing[0]:g} x {spacing[1]:g} mm is not a CT pixel "
                f"({limits.MIN_VOXEL_MM:g} to {limits.MAX_VOXEL_MM:g} mm)"
            )
    for frame in frames:
        if frame.position is not None and max(abs(v) for v in frame.position) > limits.MAX_ABS_POSITION_MM:
            shown = ", ".join(f"{v:.4g}" for v in frame.position)
            return (
                f"ImagePositionPatient ({shown}) mm of {_short(frame)} is not a position in a scanner "
                f"(limit {limits.MAX_ABS_POSITION_MM:g} mm)"
            )
    return ""


def _refused(
    frames: list[FrameRef], reason: str, problems: list[str], defects: list[str], dropped: list[FrameRef] | None = None
) -> StackPlan:
    """A plan that says why the frames cannot form a volume (nothing sized from the bad geometry)."""
    along = np.arange(len(frames), dtype=float)
    return StackPlan(
        frames,
        dropped or [],
        along,
        along.copy(),
        np.eye(4),
        (1.0, 1.0, 1.0),
        problems,
        refusal=reason,
        defects=defects,
    )


def regular_step(steps: np.ndarray) -> float:
    """The stack's regular slice step (mm): the smallest step shared by several slices.

    The smallest step that recurs (at least twice and in at least 10 % of the steps) is the
    scanner's step; a lone short step where two acquisitions meet (as in the GE tilt data,
    4 mm, one 1.1 mm, then 7 mm) is not, and must not set the resampling grid.
    """
    tolerance = UNIFORM_TOLERANCE * steps + 0.01
    for step in np.sort(steps):
        similar = int(np.sum(np.abs(steps - step) <= tolerance))
        if similar >= 2 and similar >= 0.1 * len(steps):
            return float(np.median(steps[np.abs(steps - step) <= tolerance]))
    return float(np.median(steps))


def _plan_without_positions(
    frames: list[FrameRef],
    row: np.ndarray,
    col: np.ndarray,
    normal: np.ndarray,
    pixel: tuple[float, float],
    problems: list[str],
    defects: list[str],
    have_positions: bool,
    dropped: list[FrameRef] | None = None,
) -> StackPlan:
    """A single slice, or a stack whose frames lack positions (ordered by InstanceNumber)."""
    thickness = next(
        (f.slice_thickness for f in frames if f.slice_thickness and 0 < f.slice_thickness <= limits.MAX_VOXEL_MM), None
    )
    step = float(thickness or 1.0)
    if not have_positions:
        frames = sorted(frames, key=lambda f: (f.instance_number is None, f.instance_number or 0, f.frame))
        _defect(
            problems,
            defects,
            "no ImagePositionPatient: slices ordered by InstanceNumber/frame, "
            f"{step:g} mm apart (from SliceThickness, else 1 mm), origin unknown",
        )
    origin = np.asarray(frames[0].position if frames[0].position is not None else (0.0, 0.0, 0.0), float)
    facts: list[tuple[str, str]] = []
    _describe_pixels(row, col, pixel, problems, facts)
    along = np.arange(len(frames), dtype=float) * step
    affine = _affine(origin, row, col, normal * step, pixel)
    return StackPlan(
        frames,
        dropped or [],
        along,
        along.copy(),
        affine,
        (step, pixel[0], pixel[1]),
        problems,
        defects=defects,
        facts=facts,
    )


def _defect(problems: list[str], defects: list[str], text: str) -> None:
    problems.append(text)
    defects.append(text)


def _pixel_spacing(frames: Sequence[FrameRef], problems: list[str], defects: list[str]) -> tuple[float, float]:
    spacings = {f.pixel_spacing for f in frames if f.pixel_spacing is not None}
    valid = sorted(s for s in spacings if s[0] > 0 and s[1] > 0)
    if not valid:
        _defect(problems, defects, "no valid PixelSpacing: assumed 1 mm pixels")
        return (1.0, 1.0)
    if len(valid) > 1:
        _defect(
            problems,
            defects,
            f"PixelSpacing differs between slices ({len(valid)} values): used {valid[0][0]:g} x {valid[0][1]:g} mm",
        )
    return (float(valid[0][0]), float(valid[0][1]))


def _describe_pixels(
    row: np.ndarray, col: np.ndarray, pixel: tuple[float, float], problems: list[str], facts: list[tuple[str, str]]
) -> None:
    if abs(pixel[0] - pixel[1]) > 1e-4 * max(pixel):
        problems.append(
            f"non-square pixels: {pixel[0]:g} mm between rows x {pixel[1]:g} mm between columns (kept, not resampled)"
        )
        facts.append(("non_square_pixels", problems[-1]))
    if not all(np.isclose(np.abs(v).max(), 1.0, atol=1e-4) for v in (row, col)):
        problems.append("oblique orientation (image axes not aligned with the patient axes): the affine keeps it")
        facts.append(("oblique", problems[-1]))


def _describe_uneven(
    steps: np.ndarray, along: np.ndarray, frames: list[FrameRef], facts: list[tuple[str, str]]
) -> list[str]:
    """Name the missing slices (steps that are whole multiples of the smallest) and other spacing changes.

    The texts name the files around each gap (for ``info``); the fact added to ``facts`` gives
    only counts and positions.
    """
    base = regular_step(steps)
    missing, changes = [], []
    n_missing = 0
    gaps: list[tuple[float, float]] = []  # (before, after) along the normal, mm
    for i, step in enumerate(steps):
        ratio = step / base
        if abs(ratio - 1) <= UNIFORM_TOLERANCE + 0.01 / base:
            continue
        if round(ratio) >= 2 and abs(ratio - round(ratio)) < 0.1:
            n_missing += round(ratio) - 1
            gaps.append((along[i], along[i + 1]))
            missing.append(
                f"{round(ratio) - 1} between {along[i]:.2f} and {along[i + 1]:.2f} mm "
                f"({_short(frames[i])}, {_short(frames[i + 1])})"
            )
        else:
            changes.append(step)
    text = []
    if missing:
        shown = "; ".join(missing[:3]) + ("; ..." if len(missing) > 3 else "")
        text.append(f"missing slices: {shown}")
        first_gap = gaps[0]
        facts.append(
            (
                "missing_slices",
                f"{n_missing} slice(s) missing in {len(missing)} gap(s), the first between "
                f"{first_gap[0]:.1f} and {first_gap[1]:.1f} mm along the slice normal: interpolated across",
            )
        )
    if changes:
        values, counts = np.unique(np.round(steps, 2), return_counts=True)
        summary = ", ".join(f"{v:g} mm x {c}" for v, c in zip(values, counts, strict=True))
        text.append(f"slice spacing is not uniform (steps: {summary})")
    return text


def _check_line(
    points: np.ndarray,
    along: np.ndarray,
    per_mm: np.ndarray,
    pixel: tuple[float, float],
    problems: list[str],
    defects: list[str],
) -> None:
    predicted = points[0] + np.outer(along - along[0], per_mm)
    deviation = float(np.linalg.norm(points - predicted, axis=1).max())
    if deviation > 0.5 * min(pixel):
        _defect(
            problems,
            defects,
            f"slice positions do not lie on one line (up to {deviation:.2f} mm off): "
            "the affine follows the first and last slice",
        )


def _affine(
    origin: np.ndarray, row: np.ndarray, col: np.ndarray, step: np.ndarray, pixel: tuple[float, float]
) -> np.ndarray:
    """(z, y, x, 1) -> LPS in mm.

    The z column is the true slice step, y = column direction * row spacing, x = row direction * column spacing.
    """
    affine = np.eye(4)
    affine[:3, 0] = step
    affine[:3, 1] = col * pixel[0]
    affine[:3, 2] = row * pixel[1]
    affine[:3, 3] = origin
    return affine


def _short(frame: FrameRef) -> str:
    name = frame.path.replace("\\", "/").rsplit("/", 1)[-1]
    return f"{name}#{frame.frame + 1}" if frame.frame else name
