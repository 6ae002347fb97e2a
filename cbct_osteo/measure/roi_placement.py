"""Is the trabecular ROI in trabecular bone? Soft tissue beside the bone, roots and cortex, from the image.

INDICES.md: the ROI lies "in the cancellous bone of the cross-section, between the mandibular canal
and the endosteal cortex, avoiding roots, canal and cortex". The geometric checks of
:mod:`cbct_osteo.measure.validation` use the landmarks (the ROI below the endosteal margin or
above the foramen's lower margin); these two look at the image around the ROI:

* **Outside the bone** (soft tissue beside the mandible, below its border, or the buccal opening
  of the foramen): trabecular bone is enclosed by cortex on every side in the cross-section,
  soft tissue beside the bone is not. From each ROI point, rays in 16 directions of the
  cross-section look for compact bone within 12 mm; a point where fewer than 3/4 of them find
  it lies outside the bone. Enclosure, not gray level, because osteoporotic trabecular bone can be
  as dark as soft tissue (phantom BV/TV 0.15: its smoothed gray value is at soft-tissue level
  over a fifth of the ROI, yet it is enclosed everywhere).
* **Compact bone inside the ROI** (a tooth root, the cortex): the ROI cube, smoothed at 0.5 mm,
  at or above 3/4 of the way from soft tissue to the cortex. Trabecular bone at CBCT resolution
  stays far below (phantom: peaks at 40 % of the way), dentin and cortex above.

Both need the scan's own levels (:func:`tissue_levels`): the cortex between the placed border
markers and the soft tissue just outside the bone. Without both borders, or when the contrast
between them is too small, nothing is claimed.
The fractions were checked on the phantom's truth (ROI on a root, in soft tissue beside the body,
below the border, over the buccal plate) at BV/TV 0.15 and 0.35 and 0.3-0.5 mm voxels, where the
true ROI scores 0 on both, and on the real head CT (tests/measure/test_roi_placement.py).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy import ndimage

from cbct_osteo.io.landmarks_file import SideLandmarks, TrabecularRoi
from cbct_osteo.measure.quantity import NOT_MEASURABLE, UNCERTAIN, Measurement
from cbct_osteo.measure.sampling import sample_points
from cbct_osteo.reformat.arch import ArchCurve
from cbct_osteo.volume import Volume

#: Sampling step of the ROI's neighbourhood, mm.
STEP_MM = 0.25
#: Rays per ROI point, and how far (mm) each looks for compact bone.
RAYS, RAY_MM = 16, 12.0
#: A point is enclosed by bone when at least this fraction of its rays meets compact bone.
ENCLOSED_FRACTION = 0.75
#: "Compact" for the rays: half-way from soft tissue to the cortex; for the ROI's content: 3/4 of the way.
RAY_COMPACT_LEVEL, ROI_COMPACT_LEVEL = 0.5, 0.75
#: More than this fraction of the ROI outside the bone, or in compact bone, makes it misplaced.
MAX_OUTSIDE_FRACTION, MAX_COMPACT_FRACTION = 0.10, 0.10
#: Below this cortex - soft tissue contrast (in units of the soft tissue's noise) the levels mean nothing.
MIN_CONTRAST_SDS = 5.0


@dataclass(frozen=True)
class RoiPlacement:
    """How much of the ROI lies outside the bone (cross-section) and in compact bone (cube), 0-1."""

    outside_fraction: float
    compact_fraction: float
    soft_level: float
    cortex_level: float

    def problems(self, side: str = "") -> tuple[str, ...]:
        """Sentences for the user (prefixed "Right side: " when ``side`` is given), empty when all is well."""
        label = f"{side.capitalize()} side: " if side else ""
        found = []
        if self.outside_fraction > MAX_OUTSIDE_FRACTION:
            found.append(
                f"{label}{self.outside_fraction:.0%} of the trabecular region lies outside the bone "
                "(soft tissue beside the mandible or the foramen's opening): move it into the cancellous bone."
            )
        if self.compact_fraction > MAX_COMPACT_FRACTION:
            found.append(
                f"{label}{self.compact_fraction:.0%} of the trabecular region is as dense as the cortex "
                "(a tooth root or the cortex): move it into the cancellous bone, clear of roots and cortex."
            )
        return tuple(found)


def _inside(volume: Volume, points: np.ndarray) -> bool:
    index = volume.patient_to_index(points)
    return bool(np.all(index >= 0) and np.all(index <= np.asarray(volume.shape) - 1))


def tissue_levels(volume: Volume, marks: SideLandmarks, arch: ArchCurve | None = None) -> tuple[float, float] | None:
    """(soft tissue, cortex) gray levels of this scan from the landmarks, or None without them.

    The cortex: the middle of the placed outer-inner border segment. The soft tissue: 1.5-3 mm
    below the outer border along the same line, or, where the scan ends just under the border
    (dental fields of view often do), 2-4 mm buccal of the foramen centre (the cheek).
    """
    if not {"border_outer", "border_inner"} <= set(marks.points):
        return None
    outer, inner = np.asarray(marks.points["border_outer"], float), np.asarray(marks.points["border_inner"], float)
    segment = inner - outer
    length = float(np.linalg.norm(segment))
    if length < 0.5:
        return None
    cortex = sample_points(volume, outer + np.linspace(0.3, 0.7, 9)[:, None] * segment)
    candidates = [outer - np.linspace(1.5, 3.0, 7)[:, None] * segment / length]
    if arch is not None and "foramen_centre" in marks.points:
        foramen = np.asarray(marks.points["foramen_centre"], float)
        buccal = np.asarray(arch.normal(arch.closest_arc_position(foramen)), float)
        candidates.append(foramen + np.linspace(2.0, 4.0, 7)[:, None] * buccal)
    points = next((c for c in candidates if _inside(volume, c)), None)
    if points is None:
        return None
    soft = sample_points(volume, points)
    soft_level, cortex_level = float(np.median(soft)), float(np.median(cortex))
    noise = max(float(np.std(soft)), 1e-6 * max(abs(cortex_level), 1.0))
    if cortex_level - soft_level < MIN_CONTRAST_SDS * noise:
        return None
    return soft_level, cortex_level


def roi_placement(volume: Volume, arch: ArchCurve, roi: TrabecularRoi, marks: SideLandmarks) -> RoiPlacement | None:
    """Where the ROI lies (see the module notes), or None when the scan's levels cannot be read."""
    levels = tissue_levels(volume, marks, arch)
    if levels is None:
        return None
    soft, cortex = levels
    centre = np.asarray(roi.centre, float)
    s = arch.closest_arc_position(centre)
    tangent, normal, up = np.asarray(arch.tangent(s)), np.asarray(arch.normal(s)), np.asarray(arch.up)
    half = roi.size_mm / 2.0
    # the cross-section around the ROI (rows down, columns buccal), lightly smoothed against noise
    reach = half + RAY_MM
    r = np.arange(-reach, reach + 1e-9, STEP_MM)
    plane = centre - r[:, None, None] * up + r[None, :, None] * normal
    image = ndimage.gaussian_filter(sample_points(volume, plane), 0.25 / STEP_MM)
    grid = np.linspace(-half, half, 11)
    rows, cols = np.meshgrid(grid, grid, indexing="ij")
    if roi.shape == "circle":
        keep = rows**2 + cols**2 <= half**2 + 1e-9
        rows, cols = rows[keep], cols[keep]
    angles = np.linspace(0.0, 2.0 * np.pi, RAYS, endpoint=False)
    steps = np.arange(1, int(RAY_MM / STEP_MM) + 1) * STEP_MM
    middle = (len(r) - 1) / 2.0
    ray_rows = (rows[..., None, None] + np.sin(angles)[:, None] * steps) / STEP_MM + middle
    ray_cols = (cols[..., None, None] + np.cos(angles)[:, None] * steps) / STEP_MM + middle
    along = ndimage.map_coordinates(image, [ray_rows.ravel(), ray_cols.ravel()], order=1).reshape(ray_rows.shape)
    hits = (along >= soft + RAY_COMPACT_LEVEL * (cortex - soft)).any(axis=-1).sum(axis=-1)
    outside = float(np.mean(hits < ENCLOSED_FRACTION * RAYS))
    # the ROI's cube, smoothed at 0.5 mm: compact bone (cortex, dentin) in it
    g = np.arange(-half, half + 1e-9, STEP_MM)
    cube = centre + g[:, None, None, None] * tangent - g[None, :, None, None] * up + g[None, None, :, None] * normal
    smooth = ndimage.gaussian_filter(sample_points(volume, cube), 0.5 / STEP_MM)
    dense = smooth >= soft + ROI_COMPACT_LEVEL * (cortex - soft)
    if roi.shape == "circle":
        ss, rr, cc = np.meshgrid(g, g, g, indexing="ij")
        dense = dense[ss**2 + rr**2 + cc**2 <= half**2 + 1e-9]
    return RoiPlacement(outside, float(np.mean(dense)), soft, cortex)


def mark_misplaced(measured: dict[str, Measurement], problems: tuple[str, ...]) -> dict[str, Measurement]:
    """The trabecular measurements of a misplaced ROI kept, but "uncertain", with the reasons in their notes."""
    if not problems:
        return measured
    return {
        key: m
        if m.value is None or m.quality == NOT_MEASURABLE
        else replace(m, quality=UNCERTAIN, notes=(*m.notes, *problems))
        for key, m in measured.items()
    }
