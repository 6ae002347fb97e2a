"""The measurement frame at a mental foramen, and the arch directions it needs.

INDICES.md ("Common geometry"): the cross-section is the plane perpendicular to the dental arch
through the foramen; the measurement line lies in it, perpendicular to the inferior border
line, through the foramen centre.

Definition used here (robust to the user's clicks and to head tilt): the measurement direction
``d`` is the unit vector from ``border_outer`` toward ``foramen_centre``, with its component
along the arch tangent removed (projected into the cross-section). The inferior border line is
the line through ``border_outer`` perpendicular to ``d`` in that plane. On a scan with the
occlusal plane horizontal and the foramen above the border this is the vertical; a 0.5 mm
sideways click error over a ~12 mm foramen height tilts it by ~2°, which changes a 5 mm width
by 0.003 mm.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from cbct_osteo.reformat.arch import ArchCurve

#: Fewer arch points than this cannot define a smooth arch (ArchCurve's minimum).
MIN_ARCH_POINTS = 3
#: Consecutive arch points closer than this (mm) are a double click, not a direction.
MIN_ARCH_SPACING_MM = 0.1


def arch_from_points(points: Sequence[Sequence[float]] | npt.NDArray[np.floating[Any]]) -> ArchCurve | None:
    """The arch curve through the user's points, or ``None`` when too few are placed.

    Raises
    ------
    ValueError
        When consecutive points coincide (closer than ``MIN_ARCH_SPACING_MM``): the arch's
        direction between them, and so every cross-section there, would be undefined.
    """
    if len(points) < MIN_ARCH_POINTS:
        return None
    pts = np.asarray(points, dtype=float)
    gaps = np.linalg.norm(np.diff(pts, axis=0), axis=1)
    if np.any(gaps < MIN_ARCH_SPACING_MM):
        first = int(np.argmax(gaps < MIN_ARCH_SPACING_MM))
        raise ValueError(
            f"arch points {first} and {first + 1} coincide (less than {MIN_ARCH_SPACING_MM:g} mm apart); "
            "remove the duplicate click"
        )
    return ArchCurve.from_points(pts)


def arch_tangent_at(arch: ArchCurve, xyz: np.ndarray) -> np.ndarray:
    """Unit tangent (3,) of the arch at the arc position closest to ``xyz`` (patient mm)."""
    tangent = np.asarray(arch.tangent(arch.closest_arc_position(np.asarray(xyz, float))), float)
    unit: npt.NDArray[np.float64] = tangent / np.linalg.norm(tangent)
    return unit


@dataclass(frozen=True)
class MeasurementFrame:
    """Orthonormal frame of the measurement line at one foramen, in patient LPS mm.

    Attributes
    ----------
    origin
        The foramen centre (x, y, z); positions along the line are ``origin + t * direction``.
    direction
        Unit vector of the measurement line, pointing from the inferior border toward the foramen.
    across
        Unit vector in the cross-section perpendicular to ``direction`` (buccolingual).
    tangent
        Unit vector normal to the cross-section (along the arch); ``across`` when no arch exists.
    in_plane
        Whether an arch was available, so ``direction`` is truly in the cross-section plane.
    """

    origin: np.ndarray
    direction: np.ndarray
    across: np.ndarray
    tangent: np.ndarray
    in_plane: bool

    def position(self, xyz: npt.ArrayLike) -> float:
        """Signed position (mm) of a point projected onto the measurement line."""
        return float(np.dot(np.asarray(xyz, float) - self.origin, self.direction))

    def point(self, t: float) -> np.ndarray:
        """The patient point at signed position ``t`` (mm) on the measurement line."""
        return self.origin + float(t) * self.direction


def measurement_frame(
    foramen_centre: npt.ArrayLike, border_outer: npt.ArrayLike, arch: ArchCurve | None
) -> MeasurementFrame:
    """Build the frame of the measurement line from two landmarks and (optionally) the arch.

    Raises
    ------
    ValueError
        If the border point coincides with the foramen centre along the cross-section.
    """
    origin = np.asarray(foramen_centre, float)
    raw = origin - np.asarray(border_outer, float)
    if arch is not None:
        tangent = arch_tangent_at(arch, origin)
        raw = raw - np.dot(raw, tangent) * tangent
    norm = np.linalg.norm(raw)
    if norm < 1e-6:
        raise ValueError("the inferior border point lies at the foramen centre; the measurement line is undefined")
    direction = raw / norm
    if arch is None:
        # Any perpendicular pair will do for averaging parallel profiles.
        helper = np.array([0.0, 1.0, 0.0]) if abs(direction[1]) < 0.9 else np.array([1.0, 0.0, 0.0])
        across = np.cross(direction, helper)
        across /= np.linalg.norm(across)
        tangent = np.cross(across, direction)
        return MeasurementFrame(origin, direction, across, tangent, False)
    across = np.cross(direction, tangent)
    across /= np.linalg.norm(across)
    return MeasurementFrame(origin, direction, across, tangent, True)
